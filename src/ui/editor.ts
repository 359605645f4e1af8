// Opens the user's editor on a text, as git and kubectl do: $VISUAL, else $EDITOR, else vi, run through the
// shell (an editor setting may carry arguments, e.g. `code --wait`), on a private temp file the editor owns
// the terminal for. The file keeps its name until `done` removes it, so messages can point into it.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, MupError } from '../errors.js';

export interface EditSession {
  /** The temp file the editor works on (0600, in a 0700 dir). */
  file: string;
  /** Writes `text`, runs the editor on it and returns what was saved. */
  edit(text: string): Promise<string>;
  /** Removes the temp file and its dir. */
  done(): Promise<void>;
}

export function editorCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env.VISUAL?.trim() || env.EDITOR?.trim() || 'vi';
}

export async function openEditSession(fileName: string): Promise<EditSession> {
  const dir = await mkdtemp(join(tmpdir(), 'mup-edit-'));
  const file = join(dir, fileName);
  return {
    file,
    edit: async (text) => {
      await writeFile(file, text, { mode: 0o600 });
      const editor = editorCommand();
      // "$0" keeps the editor setting's own words; the file is one more argument, never split by the shell.
      const result = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'mup-editor', file], { stdio: 'inherit' });
      if (result.error)
        throw new MupError(`cannot run the editor (${editor}): ${result.error.message}`, {
          hint: 'set $VISUAL or $EDITOR to an editor command',
        });
      if (result.status !== 0)
        throw new MupError(
          `the editor (${editor}) exited ${result.status ?? result.signal}; nothing was changed`,
          {
            exitCode: ExitCode.usage,
            hint: 'save and quit the editor normally to apply an edit',
          },
        );
      return readFile(file, 'utf8');
    },
    done: () => rm(dir, { recursive: true, force: true }),
  };
}
