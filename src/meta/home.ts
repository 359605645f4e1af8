import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { SYSTEM_DIRS } from '../topology/path-rules.js';

/** mup's home: `--home`, else `$MUP_HOME`, else `~/.mup`. */
export function resolveMupHome(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = explicit ?? env.MUP_HOME;
  if (chosen && chosen.length > 0)
    return resolve(chosen.startsWith('~/') ? join(homedir(), chosen.slice(2)) : chosen);
  return join(homedir(), '.mup');
}

/** Why `home` cannot be mup's home dir; undefined when it can. Checked before anything is created there. */
export function mupHomeProblem(home: string): string | undefined {
  if (home === '') return 'is empty';
  const control = [...home].find((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
  if (control !== undefined) return 'contains a control character';
  const path = resolve(home.startsWith('~/') ? join(homedir(), home.slice(2)) : home);
  if (path === '/') return 'is the root of the file system';
  const system = SYSTEM_DIRS.find((dir) => path === dir || path.startsWith(`${dir}/`));
  if (system !== undefined) return `is inside the system dir ${system}`;
  // The first existing ancestor must be a directory, or mkdir fails (ENOTDIR) after partial work.
  let current = '/';
  for (const part of path.split('/').filter((p) => p !== '')) {
    current = join(current, part);
    let isDir: boolean;
    try {
      isDir = statSync(current).isDirectory();
    } catch {
      return undefined;
    }
    if (!isDir) return `cannot be a directory: ${current} is a file`;
  }
  return undefined;
}
