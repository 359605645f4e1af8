// The one place that decides how a host is reached: a local executor for this machine's names and addresses,
// an SSH one for everything else. Operations ask here and never construct executors themselves. A run (one
// CLI command) shares one pool, so every step reaching a host uses that host's single connection; the CLI
// configures the pool from its flags and closes it when the command ends.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Executor } from './executor.js';
import { type ConnectOptions, ExecutorPool, type HostAddress } from './pool.js';

export type { HostAddress } from './pool.js';

/** How hosts are reached in this run (the SSH part of the CLI's flags); mupHome defaults to $MUP_HOME or ~/.mup. */
export type RemoteHostOptions = Omit<ConnectOptions, 'mupHome'> & { mupHome?: string };

let configured: RemoteHostOptions = {};
let pool: ExecutorPool | undefined;

/** Sets how remote hosts are reached from now on; executors already handed out are closed (in the background). */
export function configureHosts(options: RemoteHostOptions): void {
  const previous = pool;
  pool = undefined;
  configured = { ...options };
  previous?.closeAll().catch(() => undefined);
}

/** The executor of a host: the same object (one SSH connection) for every step of the run. */
export function executorFor(host: HostAddress): Executor {
  pool ??= new ExecutorPool({
    ...configured,
    mupHome: configured.mupHome ?? process.env.MUP_HOME ?? join(homedir(), '.mup'),
  });
  return pool.executorFor(host);
}

/** Closes every connection of the run (tunnels included); a later `executorFor` connects again. */
export async function closeHosts(): Promise<void> {
  const current = pool;
  pool = undefined;
  await current?.closeAll();
}
