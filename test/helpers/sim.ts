// Simulated MongoDB binaries for end-to-end tests: a temp bin dir with mongod/mongos wrappers for a version.
// Needs the simulator compiled (`npm run build`).
import { join } from 'node:path';
import { writeSimBinaries } from '../../sim/src/install.js';
import { tempDir } from './cli.js';

/** A directory holding bin/mongod and bin/mongos emulating `version`; returns the bin dir. */
export async function simBinaryDir(version: string): Promise<string> {
  const bin = join(await tempDir('mup-sim-bin-'), 'bin');
  await writeSimBinaries(bin, version);
  return bin;
}
