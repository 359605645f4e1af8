// Writes the simulator's `mongod` / `mongos` executables for one emulated MongoDB version into a bin dir.
// Each is a thin shell wrapper that `exec`s node on the compiled simulator, so supervisord, `ps` and
// signals see exactly one process per server, as with the real binaries. The emulated version and the
// program are stamped into the wrapper; nothing else (mup included) ever sets these variables.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Compiled simulator entry point (built by `npm run build` into dist/sim/src/main.js), from source or from dist. */
export const simEntryPoint = import.meta.url.endsWith('.ts')
  ? resolve(import.meta.dirname, '..', '..', 'dist', 'sim', 'src', 'main.js')
  : resolve(import.meta.dirname, 'main.js');

export type SimProgram = 'mongod' | 'mongos';

export function wrapperScript(program: SimProgram, version: string, nodePath = process.execPath): string {
  return [
    '#!/bin/sh',
    // MONGOD_SIM_ARGV0 lets option errors name the binary as invoked ("try '/x/bin/mongod --help'").
    `MONGOD_SIM_VERSION='${version}' MONGOD_SIM_PROGRAM='${program}' MONGOD_SIM_ARGV0="$0" exec '${nodePath}' '${simEntryPoint}' "$@"`,
    '',
  ].join('\n');
}

/** Creates `<binDir>/mongod` and `<binDir>/mongos` (mode 0755) emulating `version` (e.g. "7.0.14"). */
export async function writeSimBinaries(binDir: string, version: string): Promise<void> {
  await mkdir(binDir, { recursive: true });
  for (const program of ['mongod', 'mongos'] as const) {
    const path = join(binDir, program);
    await writeFile(path, wrapperScript(program, version));
    await chmod(path, 0o755);
  }
}
