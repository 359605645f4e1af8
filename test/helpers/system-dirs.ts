// The example topologies with absolute system dirs (/opt/mongodb, /data/mongodb, ...) share those dirs and
// their supervisor dir, so the end-to-end tests that deploy them must not run at the same time. This lock,
// one file created with O_EXCL and holding the holder's pid, serializes them across test processes. The test
// runner, when root, runs such files in a private mount namespace instead (scripts/run-tests.mjs): no lock.
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from './processes.js';

const LOCK = join(tmpdir(), 'mup-e2e-system-dirs.lock');

/** Waits (bounded) to hold the system-dirs lock; returns its release. A dead holder's lock is taken over. */
export async function lockSystemDirs(timeoutMs = 15 * 60_000): Promise<() => Promise<void>> {
  // scripts/run-tests.mjs gave this process private overlays of those dirs: nobody else sees its writes.
  if (process.env.MUP_TEST_ISOLATED_ROOT === '1') return async () => {};
  const deadline = Date.now() + timeoutMs;
  const mine = String(process.pid);
  for (;;) {
    try {
      await writeFile(LOCK, mine, { flag: 'wx' });
      return async () => {
        if ((await readFile(LOCK, 'utf8').catch(() => '')) === mine) await unlink(LOCK).catch(() => {});
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(await readFile(LOCK, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder > 0 && !isAlive(holder)) {
      await unlink(LOCK).catch(() => {});
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`${LOCK} is still held by pid ${holder} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
