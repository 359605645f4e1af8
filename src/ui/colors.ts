// Colour only where a person reads it: on a terminal, unless NO_COLOR says otherwise, or when FORCE_COLOR
// asks for it. picocolors' own default also turns colour on whenever `CI` is set, which would put escape
// codes into logs and piped output.
import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

export function colorsFor(tty: boolean, env: NodeJS.ProcessEnv = process.env): Colors {
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  const disabled = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return pc.createColors(forced || (tty && !disabled));
}

/** Colours for what mup writes on stderr (progress, warnings, errors). */
export function stderrColors(): Colors {
  return colorsFor(Boolean(process.stderr.isTTY));
}
