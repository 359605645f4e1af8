import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** mup's home: `--home`, else `$MUP_HOME`, else `~/.mup`. */
export function resolveMupHome(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = explicit ?? env.MUP_HOME;
  if (chosen && chosen.length > 0)
    return resolve(chosen.startsWith('~/') ? join(homedir(), chosen.slice(2)) : chosen);
  return join(homedir(), '.mup');
}
