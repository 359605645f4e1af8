// Checks that a new cluster (or new processes) fit on their hosts before anything is written: hosts
// reachable, supervisord present, ports free, supervisor and data dirs not another cluster's. Deploy runs
// them (also for --dry-run); scale-out will run them for the processes it adds. Everything here only reads.
import { userInfo } from 'node:os';
import { ExitCode, MupError, UsageError } from '../errors.js';
import { executorFor } from '../hosts/connect.js';
import type { Executor } from '../hosts/executor.js';
import type { ClusterStore, SupervisorEndpoint } from '../meta/store.js';
import { allocateSupervisorPort } from '../supervisor/daemon.js';
import { locateSupervisord } from '../supervisor/locate.js';
import type { UsedEndpoint } from '../topology/rules.js';
import type { ResolvedHost, ResolvedTopology } from '../topology/types.js';

/** Hosts that failed a preflight check: each one's reason, all found before anything changed (exit 2). */
export class HostsNotReadyError extends MupError {
  readonly hosts: string[];
  constructor(problems: ReadonlyArray<{ host: string; error: unknown }>) {
    const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
    const hints = [
      ...new Set(problems.map((p) => (p.error instanceof MupError ? p.error.hint : undefined))),
    ].filter((hint): hint is string => hint !== undefined);
    super(
      problems.length === 1
        ? `${problems[0]?.host}: ${message(problems[0]?.error)}`
        : `${problems.length} hosts are not ready:\n${problems.map((p) => `  ${p.host}: ${message(p.error)}`).join('\n')}`,
      { exitCode: ExitCode.usage, ...(hints.length === 0 ? {} : { hint: hints.join('; ') }) },
    );
    this.hosts = problems.map((p) => p.host);
  }
}

/** Runs `check` on every host at once; refuses (exit 2) naming every host that failed. */
async function onEveryHost(
  hosts: readonly ResolvedHost[],
  check: (host: ResolvedHost) => Promise<void>,
): Promise<void> {
  const results = await Promise.allSettled(hosts.map(check));
  const problems = results.flatMap((result, i) =>
    result.status === 'rejected' ? [{ host: hosts[i]?.host ?? '?', error: result.reason as unknown }] : [],
  );
  // One host with a prerequisite missing (exit 2 already): its own error, as precise as it is.
  const [only] = problems;
  if (problems.length === 1 && only?.error instanceof MupError && only.error.exitCode === ExitCode.usage)
    throw only.error;
  if (problems.length > 0) throw new HostsNotReadyError(problems);
}

/**
 * Every remote host answers over SSH with a trusted host key and accepts the login, and has the python3 that
 * supervisord and mup's probes need. Local hosts need nothing here.
 */
export async function checkHostsReachable(hosts: readonly ResolvedHost[]): Promise<void> {
  await onEveryHost(
    hosts.filter((h) => !h.local),
    async (host) => {
      const probe = await executorFor(host).run('/bin/sh', ['-c', 'command -v python3'], {
        timeoutMs: 30_000,
      });
      if (probe.exitCode !== 0)
        throw new MupError(`python3 was not found on ${host.host}`, {
          hint: `install python3 and supervisor on ${host.host} (e.g. apt-get install supervisor)`,
        });
    },
  );
}

/** The topology's entry for the host of an instance (login user and SSH port included). */
export function hostOf(topology: ResolvedTopology, name: string): ResolvedHost {
  const host = topology.hosts.find((h) => h.host === name);
  if (host === undefined) throw new MupError(`host ${name} is not in the topology's host list`);
  return host;
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

export interface RunAsOptions {
  /** `--allow-root`: the processes may run as root. */
  allowRoot: boolean;
  /** The user id mup runs as (default: this process's). */
  uid?: number;
}

/** The user id of `user` on the host, or undefined when the host has no such user. */
export async function uidOn(executor: Executor, user: string): Promise<number | undefined> {
  const found = await executor.run('id', ['-u', '--', user]);
  const uid = Number.parseInt(found.stdout.trim(), 10);
  return found.exitCode === 0 && Number.isInteger(uid) ? uid : undefined;
}

/**
 * Each host's processes run as its `user` (supervisord `user=`): that user must exist, mup must be able to
 * start processes as it (only root can switch to another user), and it must not be root unless
 * `--allow-root` says so — a mongod running as root turns any flaw in it, or anyone who reaches it, into
 * root on the machine. Everything here only reads.
 */
export async function checkRunAsUsers(hosts: readonly ResolvedHost[], options: RunAsOptions): Promise<void> {
  const self = options.uid ?? process.getuid?.();
  for (const host of hosts) {
    // mup's own user needs no lookup (and `id` may not be on a stripped PATH). On a remote host mup logs in
    // as the user itself, whose supervisord then runs the processes as that same user.
    const own = host.local && host.user === userInfo().username;
    const uid = own ? self : await uidOn(executorFor(host), host.user);
    if (uid === undefined && !own)
      throw new UsageError(
        `global.user ${host.user}: no such user on ${host.host}`,
        `create the user (useradd --system ${host.user}) or set global.user to an existing unprivileged user`,
      );
    if (host.local && self !== undefined && self !== 0 && uid !== self)
      throw new UsageError(
        `the processes cannot run as ${host.user} (global.user): mup runs as uid ${self}, and only root can start processes as another user`,
        `run mup as ${host.user}, or as root (it then starts every process as ${host.user}), or remove global.user to run them as yourself`,
      );
    if (uid === 0 && !options.allowRoot)
      throw new UsageError(
        `mup would run mongod and mongos as root on ${host.host}${host.user === 'root' ? '' : ` (global.user ${host.user})`}: any flaw in them, or anyone who reaches them, would act as root on the machine`,
        'set global.user to an unprivileged user (mup makes it the owner of the dirs and supervisord starts each process as it), run mup as that user, or pass --allow-root to run them as root anyway',
      );
  }
}

export async function checkPortsFree(topology: ResolvedTopology): Promise<void> {
  const free = await Promise.all(
    topology.instances.map((instance) =>
      executorFor(hostOf(topology, instance.host)).isPortFree(instance.port),
    ),
  );
  const busy = topology.instances.filter((_, i) => !free[i]).map((instance) => instance.id);
  if (busy.length > 0) {
    throw new UsageError(
      `port${busy.length > 1 ? 's' : ''} already in use: ${busy.join(', ')}`,
      'stop what listens there, choose other ports, or use `port: 0` to allocate free ones',
    );
  }
}

/** supervisord must be installed on every host; the error names the host and how to install it. */
export async function checkSupervisordPresent(hosts: readonly ResolvedHost[]): Promise<void> {
  await onEveryHost(hosts, async (host) => {
    await locateSupervisord(executorFor(host));
  });
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
