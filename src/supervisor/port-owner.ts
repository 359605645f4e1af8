// Who listens on a TCP port of a host: used to name the owner of a taken supervisor port and to find
// orphaned mongods. Uses `ss` (Linux) or `lsof` (macOS, BSD) through the executor, so it works over SSH.
import type { Executor } from '../hosts/executor.js';

export interface PortOwner {
  pid: number;
  /** Command line of the process, when it could be read. */
  command: string | undefined;
}

export async function findPortOwner(executor: Executor, port: number): Promise<PortOwner | undefined> {
  const pid = (await pidFromSs(executor, port)) ?? (await pidFromLsof(executor, port));
  if (pid === undefined && (await ssListsListener(executor, port))) {
    // ss found the socket but not its process: it maps sockets to processes by walking every process's
    // open files, which a busy host changes under it. One more look.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const again = await pidFromSs(executor, port);
    return again === undefined ? undefined : { pid: again, command: await processCommand(executor, again) };
  }
  if (pid === undefined) return undefined;
  return { pid, command: await processCommand(executor, pid) };
}

export function describeOwner(owner: PortOwner | undefined): string | undefined {
  if (owner === undefined) return undefined;
  return owner.command === undefined ? `pid ${owner.pid}` : `pid ${owner.pid} (${owner.command})`;
}

export async function processCommand(executor: Executor, pid: number): Promise<string | undefined> {
  const ps = await executor
    .run('ps', ['-o', 'args=', '-p', String(pid)], { timeoutMs: 10_000 })
    .catch(() => undefined);
  const command = ps?.exitCode === 0 ? ps.stdout.trim() : '';
  return command === '' ? undefined : command;
}

async function pidFromSs(executor: Executor, port: number): Promise<number | undefined> {
  const ss = await executor
    .run('ss', ['-ltnpH', `sport = :${port}`], { timeoutMs: 10_000 })
    .catch(() => undefined);
  if (ss === undefined || ss.exitCode !== 0) return undefined;
  // users:(("node",pid=9159,fd=19)) — processes of other users show no users:() part unless root.
  const match = /pid=(\d+)/.exec(ss.stdout);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

async function ssListsListener(executor: Executor, port: number): Promise<boolean> {
  const ss = await executor
    .run('ss', ['-ltnH', `sport = :${port}`], { timeoutMs: 10_000 })
    .catch(() => undefined);
  return ss?.exitCode === 0 && ss.stdout.trim() !== '';
}

async function pidFromLsof(executor: Executor, port: number): Promise<number | undefined> {
  const lsof = await executor
    .run('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-t'], { timeoutMs: 10_000 })
    .catch(() => undefined);
  if (lsof === undefined || lsof.exitCode !== 0) return undefined;
  const first = lsof.stdout.trim().split('\n')[0];
  return first === undefined || first === '' ? undefined : Number(first);
}
