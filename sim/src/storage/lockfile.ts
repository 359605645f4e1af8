// <dbPath>/mongod.lock: holds the owner's pid while running, emptied on clean shutdown, left non-empty
// by SIGKILL. Node has no flock(2), so "held" means: the file names a live process that is a server
// (checked through /proc). Source: reference/mongod-behavior.md §5.4.
import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'mongod.lock';

export type LockOutcome = { kind: 'acquired'; uncleanShutdown: boolean } | { kind: 'inUse'; pid: number };

function isLiveServer(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // A zombie (state Z) has exited already; it only waits to be reaped.
    if (/\) Z /.test(stat)) return false;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /mongo|sim\/src\/main/.test(cmdline);
  } catch {
    return true;
  }
}

export class DbPathLock {
  private fd: number | undefined;
  readonly path: string;

  constructor(dbPath: string) {
    this.path = join(dbPath, LOCK_FILE);
  }

  /** Takes the lock or reports the live owner (DBPathInUse). */
  acquire(): LockOutcome {
    // Without flock(2), two servers starting at the same moment could both find the file free; an
    // exclusively created guard file serialises the check-and-write (a guard left by a crash in this
    // millisecond window is considered stale after 2 s).
    const guard = `${this.path}.guard`;
    const deadline = Date.now() + 3000;
    for (;;) {
      try {
        closeSync(openSync(guard, 'wx'));
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        try {
          if (Date.now() - statSync(guard).mtimeMs > 2000) unlinkSync(guard);
        } catch {
          // the other process removed it meanwhile
        }
        if (Date.now() > deadline) throw err;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      }
    }
    try {
      return this.acquireUnderGuard();
    } finally {
      try {
        unlinkSync(guard);
      } catch {
        // already gone
      }
    }
  }

  private acquireUnderGuard(): LockOutcome {
    const fd = openSync(this.path, 'a+');
    const previous = readFileSync(this.path, 'utf8').trim();
    if (previous !== '') {
      const pid = Number(previous);
      if (isLiveServer(pid)) {
        closeSync(fd);
        return { kind: 'inUse', pid };
      }
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
    fsyncSync(fd);
    this.fd = fd;
    return { kind: 'acquired', uncleanShutdown: previous !== '' };
  }

  /** Clean shutdown: the file stays, emptied (as mongod leaves it). */
  release(): void {
    if (this.fd === undefined) return;
    try {
      ftruncateSync(this.fd, 0);
      fsyncSync(this.fd);
      closeSync(this.fd);
    } finally {
      this.fd = undefined;
    }
  }
}
