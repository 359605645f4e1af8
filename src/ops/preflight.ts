// Checks that a new cluster (or new processes) fit on their hosts before anything is written: hosts
// reachable, supervisord present, ports free, supervisor and data dirs not another cluster's. Deploy runs
// them (also for --dry-run); scale-out will run them for the processes it adds. Everything here only reads.
import { UsageError } from '../errors.js';
import { executorFor, RemoteHostsNotSupportedError } from '../hosts/connect.js';
import type { ClusterStore, SupervisorEndpoint } from '../meta/store.js';
import { allocateSupervisorPort } from '../supervisor/daemon.js';
import { locateSupervisord } from '../supervisor/locate.js';
import type { UsedEndpoint } from '../topology/rules.js';
import type { ResolvedHost, ResolvedTopology } from '../topology/types.js';

export function checkHostsReachable(hosts: readonly ResolvedHost[]): void {
  const remote = hosts.filter((h) => !h.local).map((h) => h.host);
  if (remote.length > 0) throw new RemoteHostsNotSupportedError(remote);
}

const SUPERVISOR_DIR_HINT =
  'give this cluster another global deploy_dir: each cluster runs its own supervisord from <deploy_dir>/supervisor';

/**
 * Each cluster runs its own supervisord from `<global deploy_dir>/supervisor` on each host: a second cluster
 * with the same global deploy dir on a host would overwrite the first one's supervisor.ini, pid file and log.
 */
export async function checkSupervisorDirsFree(
  store: ClusterStore,
  topology: ResolvedTopology,
  except: string,
): Promise<void> {
  for (const entry of await store.readAll()) {
    if (entry.name === except || !entry.meta) continue;
    for (const host of topology.hosts) {
      const taken = entry.meta.topology.hosts.some(
        (h) => h.supervisorDir === host.supervisorDir && (h.host === host.host || (h.local && host.local)),
      );
      if (taken)
        throw new UsageError(
          `${host.supervisorDir} on ${host.host} is the supervisor dir of cluster "${entry.name}"`,
          SUPERVISOR_DIR_HINT,
        );
    }
  }
  // A cluster of another MUP_HOME is not in this store, but its supervisor.ini is on disk.
  for (const host of topology.hosts) {
    const ini = `${host.supervisorDir}/supervisor.ini`;
    if (await executorFor(host).exists(ini))
      throw new UsageError(
        `${ini} on ${host.host} already exists: another cluster (of another MUP_HOME?) runs its supervisord there`,
        `${SUPERVISOR_DIR_HINT}; if no supervisord runs from ${host.supervisorDir}, remove that dir`,
      );
  }
}

export async function checkPortsFree(topology: ResolvedTopology): Promise<void> {
  const busy: string[] = [];
  for (const instance of topology.instances) {
    if (!(await executorFor(instance).isPortFree(instance.port))) busy.push(instance.id);
  }
  if (busy.length > 0) {
    throw new UsageError(
      `port${busy.length > 1 ? 's' : ''} already in use: ${busy.join(', ')}`,
      'stop what listens there, choose other ports, or use `port: 0` to allocate free ones',
    );
  }
}

/** supervisord must be installed on every host; the error names the host and how to install it. */
export async function checkSupervisordPresent(hosts: readonly ResolvedHost[]): Promise<void> {
  for (const host of hosts) await locateSupervisord(executorFor(host));
}

/** A free supervisor API port per host, never one of `used` nor one of this cluster's own ports. */
export async function allocateSupervisorEndpoints(
  topology: ResolvedTopology,
  used: readonly UsedEndpoint[],
): Promise<SupervisorEndpoint[]> {
  const reserved = [...used.map((u) => u.port), ...topology.instances.map((i) => i.port)];
  const endpoints: SupervisorEndpoint[] = [];
  for (const host of topology.hosts) {
    const httpPort = await allocateSupervisorPort(executorFor(host), { reserved });
    reserved.push(httpPort);
    endpoints.push({ host: host.host, httpPort, configFile: `${host.supervisorDir}/supervisor.ini` });
  }
  return endpoints;
}
