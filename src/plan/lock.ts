// The per-cluster lock: one mutating command at a time (PRODUCT.md §2.2). The lock file is created with
// O_EXCL so two commands can never both take it, and it records who holds it so a refused command can say
// so. A lock whose holder pid is gone on this machine is stale and taken over. Our own small lock rather
// than a mkdir/mtime lock library: staleness here is "holder process is dead", which mtime cannot tell.
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { ExitCode, MupError } from '../errors.js';

export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
}

export class ClusterLockedError extends MupError {
  readonly holder: LockHolder;

  constructor(cluster: string, holder: LockHolder) {
    super(
      `cluster '${cluster}' is locked by '${holder.command}' (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt})`,
      {
        exitCode: ExitCode.locked,
        hint: 'wait for that command to finish; if it was killed on another machine, remove the lock file by hand',
      },
    );
    this.holder = holder;
  }
}

export interface ClusterLock {
  readonly path: string;
  readonly holder: LockHolder;
  release(): Promise<void>;
}

/** Whether a process with this pid exists on this machine. */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockHolder;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // A lock file cut short by a crash between create and write: treat as held by nobody we can name.
    return { pid: 0, host: 'unknown', command: 'unknown (unreadable lock file)', startedAt: 'unknown' };
  }
}

/** Takes the lock at `path` or throws ClusterLockedError (exit 3) naming the holder. */
export async function acquireClusterLock(
  path: string,
  cluster: string,
  command: string,
): Promise<ClusterLock> {
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    command,
    startedAt: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(path, `${JSON.stringify(holder)}\n`, { flag: 'wx', mode: 0o600 });
      return {
        path,
        holder,
        release: async () => {
          const current = await readHolder(path);
          if (current?.pid === holder.pid && current.startedAt === holder.startedAt)
            await unlink(path).catch(() => {});
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const current = await readHolder(path);
    if (current === undefined) continue; // released meanwhile
    const stale = current.host === holder.host && current.pid !== process.pid && !isPidAlive(current.pid);
    if (!stale) throw new ClusterLockedError(cluster, current);
    await unlink(path).catch(() => {});
  }
  const current = await readHolder(path);
  throw new ClusterLockedError(cluster, current ?? holder);
}
