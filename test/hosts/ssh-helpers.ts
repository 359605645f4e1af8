// Shared set-up of the SSH executor tests: a control machine's home (known_hosts, keys) and MUP_HOME in
// temp dirs, so the tests never read or write the real ~/.ssh.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ConnectOptions, ExecutorPool } from '../../src/hosts/pool.js';
import type { SshExecutor } from '../../src/hosts/ssh.js';
import type { Fleet, FleetHost } from '../fleet/fleet.js';
import { tempDir } from '../helpers/cli.js';

export interface ControlMachine {
  /** Stands in for ~ on the control machine: .ssh/known_hosts, .ssh/id_* */
  localHome: string;
  mupHome: string;
}

/** A control machine whose ~/.ssh/known_hosts holds `knownHosts` (default: every fleet host's key). */
export async function controlMachine(fleet: Fleet, knownHosts = fleet.knownHosts): Promise<ControlMachine> {
  const localHome = await tempDir('mup-ssh-home-');
  const mupHome = await tempDir('mup-ssh-muphome-');
  await mkdir(join(localHome, '.ssh'), { mode: 0o700 });
  await writeFile(join(localHome, '.ssh', 'known_hosts'), knownHosts);
  return { localHome, mupHome };
}

/** A pool logging in as the fleet's user with its key, no agent, no system known_hosts. */
export function fleetPool(
  fleet: Fleet,
  control: ControlMachine,
  options: Partial<ConnectOptions> = {},
): ExecutorPool {
  return new ExecutorPool({
    mupHome: control.mupHome,
    localHome: control.localHome,
    identityFile: fleet.identityFile,
    agentSocket: undefined,
    globalKnownHosts: join(control.localHome, 'no-global-known-hosts'),
    connectTimeoutMs: 5000,
    ...options,
  });
}

export function sshTo(pool: ExecutorPool, fleet: Fleet, host: FleetHost): SshExecutor {
  return pool.executorFor({
    host: host.address,
    local: false,
    user: fleet.user,
    sshPort: host.port,
  }) as SshExecutor;
}
