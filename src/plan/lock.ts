// The per-cluster lock: one mutating command at a time. The holder (pid, host, command, start time) is written
// to a temp file which is then hard-linked to the lock path: link(2) fails when the path exists, so two
// commands can never both take it, and the lock appears complete or not at all (a full disk fails the temp
// write, never leaves an empty lock). A lock whose holder pid is gone on this machine is stale and taken over.
// Our own small lock rather than a mkdir/mtime lock library: staleness here is "holder process is dead",
// which mtime cannot tell.
import { randomBytes } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
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

  constructor(cluster: string, holder: LockHolder, path: string) {
    super(
      `cluster '${cluster}' is locked by '${holder.command}' (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}); lock file ${path}`,
      {
        exitCode: ExitCode.locked,
        hint: `wait for that command to finish; if it was killed on another machine, remove ${path} by hand`,
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
    // Lock files are linked complete, so an unreadable one was cut short by a crash of an older mup (or a
    // full disk under it): nobody holds it.
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
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(temp, `${JSON.stringify(holder)}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw new MupError(`cannot write the lock file ${path}: ${(error as Error).message}`, {
      hint: 'free space or fix permissions in the mup home, then run the command again',
    });
  }
  try {
    return await takeLock(path, temp, cluster, holder);
  } finally {
    await unlink(temp).catch(() => {});
  }
}

async function takeLock(
  path: string,
  temp: string,
  cluster: string,
  holder: LockHolder,
): Promise<ClusterLock> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await link(temp, path);
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
    const unreadable = current.pid === 0;
    const stale =
      unreadable || (current.host === holder.host && current.pid !== process.pid && !isPidAlive(current.pid));
    if (!stale) throw new ClusterLockedError(cluster, current, path);
    await unlink(path).catch(() => {});
  }
  const current = await readHolder(path);
  throw new ClusterLockedError(cluster, current ?? holder, path);
}
