// Steps over a host's boot entry: installed at deploy (unless --no-boot-start), removed by destroy.
import type { Step } from '../../plan/types.js';
import type { BootSpec } from '../../render/boot.js';
import { installBootEntry, removeBootEntry } from '../../supervisor/boot.js';
import { locateSupervisord } from '../../supervisor/locate.js';
import type { ClusterRuntime } from '../runtime.js';

export async function bootSpecFor(rt: ClusterRuntime, host: string): Promise<BootSpec> {
  const daemon = rt.daemon(host);
  return {
    cluster: rt.meta.name,
    supervisord: await locateSupervisord(rt.executor(host)),
    iniPath: daemon.iniPath,
    pidFile: daemon.pidPath,
  };
}

/** After a reboot the host starts the cluster's supervisord, which starts the programs marked autostart. */
export function installBootStep(rt: ClusterRuntime, host: string): Step {
  return {
    id: `boot:${host}`,
    title: `start supervisord at boot on ${host}`,
    host,
    run: async () => {
      const status = await installBootEntry(rt.executor(host), await bootSpecFor(rt, host));
      return `${status.method}: ${status.detail ?? ''}`;
    },
  };
}

export function removeBootStep(rt: ClusterRuntime, host: string, removed: string[]): Step {
  return {
    id: `remove-boot:${host}`,
    title: `remove the boot entry on ${host}`,
    host,
    run: async () => {
      const gone = await removeBootEntry(rt.executor(host), {
        cluster: rt.meta.name,
        iniPath: rt.daemon(host).iniPath,
      });
      removed.push(...gone.map((what) => `${host}:${what}`));
      return gone.length === 0 ? 'none' : gone.join(', ');
    },
  };
}
