// Colour only where a person reads it: on a terminal, unless NO_COLOR or TERM=dumb says otherwise;
// FORCE_COLOR decides either way when set (0 or false: never). picocolors' own default also turns colour on
// whenever `CI` is set, which would put escape codes into logs and piped output.
import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

export function colorsFor(tty: boolean, env: NodeJS.ProcessEnv = process.env): Colors {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return pc.createColors(force !== '0' && force !== 'false');
  const disabled = (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || env.TERM === 'dumb';
  return pc.createColors(tty && !disabled);
}

/** Colours for what mup writes on stderr (progress, warnings, errors). */
export function stderrColors(): Colors {
  return colorsFor(Boolean(process.stderr.isTTY));
}
