// Orphaned mongod/mongos processes: when supervisord is SIGKILLed its children survive (reparented to pid 1),
// and a new daemon neither adopts them nor sees them — it shows STOPPED while the orphan still holds the port
// and the dbPath. They are found by the program's port and by the pid in mongod.lock — that pid only when its
// process really is the server of that dbPath: a lock left by a kill -9 or a reboot names a pid that another,
// unrelated process may have by now (pids wrap at 32768 on many hosts), and stopping it would be a disaster.
import { join } from 'node:path';
import type { Executor } from '../hosts/executor.js';
import { findPortOwner, processCommand } from './port-owner.js';

/** What identifies a program's process on the host besides supervisord. */
export interface OrphanProbe {
  program: string;
  port: number;
  /** dbPath of a mongod (holds mongod.lock); absent for mongos. */
  dataDir?: string | undefined;
}

export interface Orphan {
  program: string;
  port: number;
  pid: number;
  command: string | undefined;
  /** How it was found: listening on the program's port, holding mongod.lock, or both. */
  foundBy: Array<'port' | 'lock'>;
}

export async function findOrphans(executor: Executor, probes: readonly OrphanProbe[]): Promise<Orphan[]> {
  const orphans: Orphan[] = [];
  for (const probe of probes) {
    const found = new Map<number, Array<'port' | 'lock'>>();
    if (!(await executor.isPortFree(probe.port))) {
      const owner = await findPortOwner(executor, probe.port);
      if (owner !== undefined) found.set(owner.pid, ['port']);
    }
    if (probe.dataDir !== undefined) {
      const lockPid = await readLockPid(executor, join(probe.dataDir, 'mongod.lock'));
      if (
        lockPid !== undefined &&
        (await executor.isPidAlive(lockPid)) &&
        (await servesDataDir(executor, lockPid, probe.dataDir))
      ) {
        found.set(lockPid, [...(found.get(lockPid) ?? []), 'lock']);
      }
    }
    for (const [pid, foundBy] of found) {
      orphans.push({
        program: probe.program,
        port: probe.port,
        pid,
        command: await processCommand(executor, pid),
        foundBy,
      });
    }
  }
  return orphans;
}

/**
 * Whether `pid` is the server of `dataDir`: it holds `<dataDir>/mongod.lock` open (mongod keeps it open and
 * locked while it runs), or its command line names the dbPath (`mongod --dbpath DIR`). Where its open files
 * cannot be read (no /proc, or another user's process) a mongod/mongos binary is taken at its word.
 */
async function servesDataDir(executor: Executor, pid: number, dataDir: string): Promise<boolean> {
  const holds = await executor
    .run('sh', ['-c', HOLDS_FILE_SCRIPT, 'sh', String(pid), join(dataDir, 'mongod.lock')], {
      timeoutMs: 10_000,
    })
    .catch(() => undefined);
  if (holds?.exitCode === 0) return true;
  const command = await processCommand(executor, pid);
  if (command === undefined) return false;
  if (command.includes(dataDir)) return true;
  const program = command.split(/\s+/)[0] ?? '';
  return holds?.exitCode !== 1 && /(^|\/)mongo[ds]$/.test(program);
}

/** Exit 0: $1 has the file $2 open; 1: it has not; 3: its open files cannot be read here. */
const HOLDS_FILE_SCRIPT = [
  '[ -r "/proc/$1/fd" ] && [ -x "/proc/$1/fd" ] || exit 3',
  'target=$(readlink -f "$2") || exit 1',
  'for f in /proc/"$1"/fd/*; do [ "$(readlink "$f" 2>/dev/null)" = "$target" ] && exit 0; done',
  'exit 1',
].join('\n');

/** mongod writes its pid into `<dbPath>/mongod.lock` and truncates it on a clean shutdown. */
async function readLockPid(executor: Executor, path: string): Promise<number | undefined> {
  if (!(await executor.exists(path))) return undefined;
  const text = (await executor.readFile(path)).toString('utf8').trim();
  const pid = Number(text);
  return text !== '' && Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export interface StopOrphanOptions {
  /** How long to wait for a clean exit after SIGTERM (mongod shuts down cleanly on TERM). */
  timeoutMs?: number;
  /** Send SIGKILL when it is still alive after the timeout (forces recovery on the next mongod start). */
  kill?: boolean;
  pollMs?: number;
}

/** Stops one orphan by pid; resolves true once it is gone. */
export async function stopOrphan(
  executor: Executor,
  pid: number,
  options: StopOrphanOptions = {},
): Promise<boolean> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const pollMs = options.pollMs ?? 100;
  if (!(await executor.isPidAlive(pid))) return true;
  await executor.run('kill', ['-TERM', String(pid)], { timeoutMs: 10_000 });
  if (await waitForPidExit(executor, pid, timeoutMs, pollMs)) return true;
  if (!options.kill) return false;
  await executor.run('kill', ['-KILL', String(pid)], { timeoutMs: 10_000 });
  return waitForPidExit(executor, pid, 10_000, pollMs);
}

export async function waitForPidExit(
  executor: Executor,
  pid: number,
  timeoutMs: number,
  pollMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await executor.isPidAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return true;
}
