// `mup cluster deploy`: validate the topology, resolve binaries, plan, confirm, then apply under the
// cluster lock with a journal. Nothing is changed before the plan is confirmed; bad input exits 2.
import { UsageError } from '../errors.js';
import { LocalExecutor } from '../hosts/local.js';
import { type ClusterMeta, ClusterStore } from '../meta/store.js';
import { connectionUris, primaryUri } from '../mongo/uri.js';
import type { PlanOutline } from '../plan/types.js';
import { outlinePlan } from '../plan/types.js';
import { ServerConfigError } from '../render/config-problems.js';
import { findTopologyConfigProblems } from '../render/instance-config.js';
import { generateSupervisorCredentials } from '../supervisor/credentials.js';
import { allocateSupervisorPort } from '../supervisor/daemon.js';
import { locateSupervisord } from '../supervisor/locate.js';
import { loadTopology } from '../topology/load.js';
import type { UsedEndpoint } from '../topology/rules.js';
import type { ResolvedTopology } from '../topology/types.js';
import { lockCluster, type OperationOptions, runJournaled } from './apply.js';
import { type BinarySelection, resolveBinaries } from './binaries.js';
import { checkDataDirsFree } from './data-dirs.js';
import { buildDeployPlan } from './plans.js';
import { ClusterRuntime, checkHostsReachable, SUPERVISOR_PASSWORD_SECRET } from './runtime.js';

export interface DeployRequest extends BinarySelection {
  name: string;
  /** Topology YAML text and the name used in its error messages. */
  topologyText: string;
  topologyFile: string;
  dryRun: boolean;
  playground?: boolean;
  portBase?: number;
}

/** JSON shape of `mup cluster deploy --json` and `mup playground start --json` (schemaVersion 1). */
export interface DeployResult {
  schemaVersion: 1;
  cluster: string;
  version: string;
  variant: string;
  kind: ResolvedTopology['kind'];
  dryRun: boolean;
  opId?: string;
  uri: string;
  uris: { name: string; uri: string }[];
  plan: PlanOutline;
  /** host:dir of data dirs kept by `destroy --keep-data` of this cluster and taken back. */
  reusedData: string[];
  instances: { id: string; role: string; replicaSet?: string; program: string; port: number }[];
}

/** host:ports (and supervisor ports) of every other cluster in the store. */
export async function endpointsOfOtherClusters(
  store: ClusterStore,
  except?: string,
): Promise<UsedEndpoint[]> {
  const used: UsedEndpoint[] = [];
  for (const name of await store.list()) {
    if (name === except) continue;
    const meta = await store.read(name);
    for (const instance of meta.topology.instances)
      used.push({ host: instance.host, port: instance.port, cluster: name });
    for (const endpoint of meta.supervisors)
      used.push({ host: endpoint.host, port: endpoint.httpPort, cluster: name });
  }
  return used;
}

export async function deployCluster(
  request: DeployRequest,
  options: OperationOptions,
): Promise<DeployResult> {
  const store = new ClusterStore(options.home);
  store.clusterDir(request.name); // validates the name
  if (await store.exists(request.name)) {
    throw new UsageError(
      `cluster '${request.name}' already exists`,
      `use \`mup cluster start ${request.name}\`, or destroy it first`,
    );
  }
  const local = new LocalExecutor();
  const usedEndpoints = await endpointsOfOtherClusters(store, request.name);
  const { resolved } = await loadTopology(request.topologyText, request.topologyFile, {
    usedEndpoints,
    isPortFree: (port) => local.isPortFree(port),
    ...(request.portBase === undefined ? {} : { portBase: request.portBase }),
  });
  checkHostsReachable(resolved.hosts);
  await checkSupervisorDirsFree(store, resolved, request.name);
  const reusedData = await checkDataDirsFree(
    resolved.instances,
    { cluster: request.name, home: options.home },
    (host) => new LocalExecutor(host),
  );
  const binaries = await resolveBinaries(request, options.home, { install: !request.dryRun });
  const problems = findTopologyConfigProblems(resolved, {
    clusterName: request.name,
    version: binaries.version,
  });
  const [first] = problems;
  if (first) throw new ServerConfigError(first.instanceId, first.problems);
  await checkPortsFree(resolved, local);
  // Every host is local for now (checkHostsReachable); a failure names the host it was looked for on.
  for (const host of resolved.hosts) await locateSupervisord(new LocalExecutor(host.host));

  // Supervisor API ports: free, not used by other clusters, not one of this cluster's own ports.
  const reserved = [...usedEndpoints.map((u) => u.port), ...resolved.instances.map((i) => i.port)];
  const supervisors = [];
  for (const host of resolved.hosts) {
    const httpPort = await allocateSupervisorPort(local, { reserved });
    reserved.push(httpPort);
    supervisors.push({ host: host.host, httpPort, configFile: `${host.supervisorDir}/supervisor.ini` });
  }
  const now = new Date().toISOString();
  const meta: ClusterMeta = {
    schemaVersion: 1,
    name: request.name,
    version: binaries.version,
    variant: binaries.variant,
    status: 'deploying',
    createdAt: now,
    updatedAt: now,
    binaryDir: binaries.binaryDir,
    topology: resolved,
    supervisors,
    auth: false,
    ...(request.playground ? { playground: true } : {}),
  };
  const { password } = generateSupervisorCredentials();
  const rt = new ClusterRuntime(meta, store, password);
  const plan = buildDeployPlan(rt);
  const result: DeployResult = {
    schemaVersion: 1,
    cluster: request.name,
    version: meta.version,
    variant: meta.variant,
    kind: resolved.kind,
    dryRun: request.dryRun,
    uri: primaryUri(resolved),
    uris: connectionUris(resolved),
    plan: outlinePlan(plan),
    reusedData,
    instances: resolved.instances.map((i) => ({
      id: i.id,
      role: i.role,
      ...(i.replicaSet === undefined ? {} : { replicaSet: i.replicaSet }),
      program: i.programName,
      port: i.port,
    })),
  };
  if (request.dryRun) return result;
  if (!options.yes && options.confirm && !(await options.confirm(result.plan))) {
    throw new UsageError('deploy cancelled', 'nothing was changed');
  }

  const lock = await lockCluster(store, request.name, `mup cluster deploy ${request.name}`);
  try {
    // The resolved topology (allocated ports included) is stored before anything runs: resume reuses it.
    await store.writeSecret(request.name, SUPERVISOR_PASSWORD_SECRET, password);
    await store.write(meta);
    const { opId } = await runJournaled(store, plan, { topologyFile: request.topologyFile }, options);
    return { ...result, opId };
  } finally {
    await rt.close();
    await lock.release();
  }
}

/**
 * Each cluster runs its own supervisord from `<global deploy_dir>/supervisor` on each host (PRODUCT.md §5): a
 * second cluster with the same global deploy dir on a host would overwrite the first one's supervisor.ini,
 * pid file and log.
 */
async function checkSupervisorDirsFree(
  store: ClusterStore,
  topology: ResolvedTopology,
  except: string,
): Promise<void> {
  for (const name of await store.list()) {
    if (name === except) continue;
    const other = await store.read(name);
    for (const host of topology.hosts) {
      const taken = other.topology.hosts.some(
        (h) => h.supervisorDir === host.supervisorDir && (h.host === host.host || (h.local && host.local)),
      );
      if (taken)
        throw new UsageError(
          `${host.supervisorDir} on ${host.host} is the supervisor dir of cluster "${name}"`,
          SUPERVISOR_DIR_HINT,
        );
    }
  }
  // A cluster of another MUP_HOME is not in this store, but its supervisor.ini is on disk.
  for (const host of topology.hosts) {
    const ini = `${host.supervisorDir}/supervisor.ini`;
    if (await new LocalExecutor(host.host).exists(ini))
      throw new UsageError(
        `${ini} on ${host.host} already exists: another cluster (of another MUP_HOME?) runs its supervisord there`,
        `${SUPERVISOR_DIR_HINT}; if no supervisord runs from ${host.supervisorDir}, remove that dir`,
      );
  }
}

const SUPERVISOR_DIR_HINT =
  'give this cluster another global deploy_dir: each cluster runs its own supervisord from <deploy_dir>/supervisor';

async function checkPortsFree(topology: ResolvedTopology, local: LocalExecutor): Promise<void> {
  const busy: string[] = [];
  for (const instance of topology.instances) {
    if (!(await local.isPortFree(instance.port))) busy.push(instance.id);
  }
  if (busy.length > 0) {
    throw new UsageError(
      `port${busy.length > 1 ? 's' : ''} already in use: ${busy.join(', ')}`,
      'stop what listens there, choose other ports, or use `port: 0` to allocate free ones',
    );
  }
}
