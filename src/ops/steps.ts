// The building blocks of every plan: small, named, idempotent steps over a ClusterRuntime.
// Each `isDone` looks at live state so that resume and re-runs skip what is already true.
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { MupError } from '../errors.js';
import type { ClusterStatus } from '../meta/store.js';
import { hello, pollUntil } from '../mongo/connect.js';
import { limitSignaledShutdown, moveAwayPrimary, waitForMemberReady } from '../mongo/member.js';
import {
  buildReplicaSetConfig,
  initiateReplicaSet,
  isInitiated,
  waitForHealthyReplicaSet,
} from '../mongo/replset.js';
import { addShard, listShards } from '../mongo/sharding.js';
import type { Step, StepContext } from '../plan/types.js';
import { renderInstanceConfig } from '../render/instance-config.js';
import { isAtLeast, parseMongoVersion } from '../render/mongo-version.js';
import { renderSupervisorIni, supervisorIniSpecForHost } from '../render/supervisor-ini.js';
import {
  allocateSupervisorPort,
  type EnsureRunningResult,
  SUPERVISOR_BASE_PORT,
} from '../supervisor/daemon.js';
import { Fault, isFault, ProgramError, SupervisorPortTakenError } from '../supervisor/errors.js';
import { minfdsForHost } from '../supervisor/host-limits.js';
import { orphanProbeFor, programRefFor } from '../supervisor/instance-refs.js';
import { findOrphans, type Orphan, type OrphanProbe, stopOrphan } from '../supervisor/orphans.js';
import { isRunningState } from '../supervisor/process-info.js';
import { processName } from '../supervisor/programs.js';
import { isElectable } from '../topology/servers.js';
import type { ResolvedInstance, ResolvedReplicaSet } from '../topology/types.js';
import { OWNER_FILE, ownerFileContent } from './data-dirs.js';
import { addressOf, type ClusterRuntime, SUPERVISOR_USERNAME } from './runtime.js';

/** How long a process may take from spawn to answering hello. */
const READY_TIMEOUT_MS = 60_000;
/** How long a replica set may take to elect a primary and bring every member up. */
const HEALTHY_TIMEOUT_MS = 120_000;

export function prepareInstanceStep(rt: ClusterRuntime, instance: ResolvedInstance): Step {
  return {
    id: `prepare:${instance.id}`,
    title: `create directories of ${instance.programName} on ${instance.host}`,
    host: instance.host,
    run: async () => {
      const executor = rt.executor(instance.host);
      for (const dir of [instance.deployDir, instance.dataDir, instance.logDir, instance.configDir]) {
        if (dir !== undefined) await executor.mkdir(dir, 0o750);
      }
      if (instance.dataDir !== undefined)
        await executor.writeFile(
          join(instance.dataDir, OWNER_FILE),
          ownerFileContent({ cluster: rt.meta.name, home: rt.store.home, instance: instance.id }),
          0o640,
        );
      // Locally the deploy dir's bin links to the version's binaries, so an upgrade is a link change.
      const linked = await executor.run('ln', ['-sfn', rt.meta.binaryDir, instance.binDir]);
      if (linked.exitCode !== 0)
        throw new MupError(`cannot link ${instance.binDir} → ${rt.meta.binaryDir}: ${linked.stderr.trim()}`);
      return undefined;
    },
  };
}

export function renderedConfig(rt: ClusterRuntime, instance: ResolvedInstance): string {
  return renderInstanceConfig(instance, rt.meta.topology, {
    clusterName: rt.meta.name,
    version: rt.meta.version,
  });
}

export function writeConfigStep(rt: ClusterRuntime, instance: ResolvedInstance): Step {
  return {
    id: `config:${instance.id}`,
    title: `write ${instance.configFile} on ${instance.host}`,
    host: instance.host,
    isDone: async () => {
      const executor = rt.executor(instance.host);
      if (!(await executor.exists(instance.configFile))) return false;
      return (await executor.readFile(instance.configFile)).toString('utf8') === renderedConfig(rt, instance);
    },
    run: async () => {
      await rt.executor(instance.host).writeFile(instance.configFile, renderedConfig(rt, instance), 0o640);
      return undefined;
    },
  };
}

export async function renderSupervisorIniForHost(rt: ClusterRuntime, host: string): Promise<string> {
  return renderSupervisorIni(
    supervisorIniSpecForHost({
      cluster: rt.meta.name,
      supervisorDir: rt.host(host).supervisorDir,
      httpPort: rt.endpoint(host).httpPort,
      username: SUPERVISOR_USERNAME,
      password: rt.supervisorPassword,
      minfds: await minfdsForHost(rt.executor(host)),
      instances: rt.instancesOn(host),
    }),
  );
}

export function writeSupervisorConfigStep(rt: ClusterRuntime, host: string): Step {
  return {
    id: `supervisor-config:${host}`,
    title: `write supervisor.ini on ${host}`,
    host,
    run: async () => {
      await rt.daemon(host).writeConfig(await renderSupervisorIniForHost(rt, host));
      return undefined;
    },
  };
}

/** Other clusters' ports and this cluster's own: never given to a moved supervisor API. */
async function reservedPorts(rt: ClusterRuntime): Promise<number[]> {
  const ports = [...rt.instances.map((i) => i.port), ...rt.meta.supervisors.map((s) => s.httpPort)];
  for (const name of await rt.store.list()) {
    if (name === rt.meta.name) continue;
    const other = await rt.store.read(name);
    ports.push(...other.topology.instances.map((i) => i.port), ...other.supervisors.map((s) => s.httpPort));
  }
  return ports;
}

/**
 * The supervisor port is chosen at deploy; while a cluster is stopped (or before its first start) another
 * program — often another cluster's daemon — may take it. Only a foreign owner makes ensureRunning throw
 * SupervisorPortTakenError (this cluster's own daemon is identified and reused), so nothing of ours listens
 * there: the daemon moves to another free port, recorded in meta (a few tries).
 */
async function ensureDaemonRunning(
  rt: ClusterRuntime,
  host: string,
  probes: OrphanProbe[],
  context: StepContext,
): Promise<EnsureRunningResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await rt.daemon(host).ensureRunning(probes);
    } catch (error) {
      if (!(error instanceof SupervisorPortTakenError) || attempt >= 5) throw error;
      // From a random point: deploys racing for the same port would otherwise all scan to the same next one.
      const port = await allocateSupervisorPort(rt.executor(host), {
        base: SUPERVISOR_BASE_PORT + randomInt(1, 1000),
        reserved: await reservedPorts(rt),
      });
      await rt.moveSupervisorPort(host, port);
      await rt.daemon(host).writeConfig(await renderSupervisorIniForHost(rt, host));
      context.log(`${error.message}; moved the supervisor API to port ${port}`);
    }
  }
}

/**
 * Makes sure the host's supervisord runs. Orphans (processes on this cluster's ports or data that
 * supervisord does not run, e.g. after the daemon was SIGKILLed) make a deploy fail; `start` stops them
 * cleanly (SIGTERM → mongod's clean shutdown) so that supervisord starts them again, never twice.
 */
export function ensureSupervisordStep(
  rt: ClusterRuntime,
  host: string,
  orphanPolicy: 'fail' | 'stop' = 'fail',
): Step {
  return {
    id: `supervisord:${host}`,
    title: `start supervisord on ${host}`,
    host,
    run: async (context) => {
      const probes = rt.instancesOn(host).map(orphanProbeFor);
      const result = await ensureDaemonRunning(rt, host, probes, context);
      context.log(result.started ? `started (pid ${result.pid})` : `already running (pid ${result.pid})`);
      // Programs supervisord runs are not orphans; only processes it does not know about are.
      const programs = await rt.programs(host);
      const running = new Set(
        (await programs.status()).filter((p) => isRunningState(p.state)).map((p) => p.name),
      );
      const orphans = result.orphans.filter((o) => !running.has(o.program));
      if (orphans.length === 0) return undefined;
      const list = orphans
        .map((o) => `${o.program}: pid ${o.pid} (${o.command ?? 'unknown command'}) on port ${o.port}`)
        .join('; ');
      if (orphanPolicy === 'fail') {
        throw new MupError(
          `processes not run by this cluster's supervisord hold its ports or data: ${list}`,
          {
            hint: 'they are usually left by a killed supervisord: stop them (kill <pid>) and retry',
          },
        );
      }
      const owned = orphans.map((orphan) => ({ orphan, instance: instanceOfOrphan(rt, host, orphan) }));
      // Whatever else took a port while the cluster was down is not ours to stop.
      const foreign = owned.filter(({ orphan, instance }) => !isOwnProcess(orphan, instance));
      if (foreign.length > 0)
        throw new MupError(
          `port${foreign.length > 1 ? 's' : ''} of this cluster held by other processes: ${foreign
            .map(
              ({ orphan }) =>
                `${orphan.program}'s port ${orphan.port} by pid ${orphan.pid} (${orphan.command ?? 'unknown command'})`,
            )
            .join('; ')}`,
          {
            hint: "stop those processes (they are not this cluster's mongod/mongos), then run the command again",
          },
        );
      // They are stopped only to be started again under supervisord: when a whole set (or every mongos) is
      // among them there is no other member for clients to move to, so no quiesce period to wait out.
      const orphaned = new Set(owned.map(({ instance }) => instance.id));
      const results = await Promise.allSettled(
        owned.map(async ({ orphan, instance }) => {
          const wholeGroup = stopsWholeGroup(rt, instance, orphaned);
          await stopOrphanProcess(rt, instance, orphan.pid, { wholeGroup });
          context.log(`stopped orphaned ${orphan.program} (pid ${orphan.pid}); supervisord will start it`);
        }),
      );
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
      if (failed.length > 0) throw new MupError(failed.join('; '));
      return undefined;
    },
  };
}

async function answersHello(instance: ResolvedInstance): Promise<boolean> {
  try {
    await hello(addressOf(instance), { timeoutMs: 2000 });
    return true;
  } catch {
    return false;
  }
}

/** Starts the program (if not running) and waits until the process answers hello: ready means healthy. */
export async function startInstance(rt: ClusterRuntime, instance: ResolvedInstance): Promise<string> {
  const programs = await rt.programs(instance.host);
  const ref = programRefFor(instance);
  const client = await rt.daemon(instance.host).client();
  const name = processName(ref);
  const before = await programs.info(ref);
  if (!isRunningState(before.state)) {
    const executor = rt.executor(instance.host);
    if (!(await executor.isPortFree(instance.port))) {
      throw new MupError(`port ${instance.port} on ${instance.host} is in use by another process`, {
        hint: `find it with \`ss -ltnp 'sport = :${instance.port}'\`; stop it or change the port`,
      });
    }
    try {
      // Not waiting for RUNNING (startsecs): readiness is judged by hello below.
      await client.startProcess(name, false);
    } catch (error) {
      if (!isFault(error, Fault.ALREADY_STARTED)) throw error;
    }
  }
  // Anything but STARTING/RUNNING means the process exited during startup (BACKOFF: supervisord is
  // retrying it) — a failure to report now, not after the timeout.
  let failed: StartFailed | undefined;
  const ready = await pollUntil(
    async () => {
      const info = await client.getProcessInfo(name);
      if (info.state !== 'STARTING' && info.state !== 'RUNNING') {
        failed = new StartFailed(info.state, info.description);
        return info;
      }
      return (await answersHello(instance)) ? info : undefined;
    },
    READY_TIMEOUT_MS,
    100,
  );
  if (failed !== undefined || ready === undefined) {
    const info = await client.getProcessInfo(name).catch(() => undefined);
    const executor = rt.executor(instance.host);
    const [output, log] = await Promise.all([
      executor.tailFile(instance.outputFile, 4096).catch(() => undefined),
      executor.tailFile(instance.logFile, 4096).catch(() => undefined),
    ]);
    // After an early exit supervisord retries in the background; stop that so the program ends STOPPED.
    if (info && isRunningState(info.state)) await client.stopProcess(name, true).catch(() => undefined);
    const detail =
      failed !== undefined
        ? `exited during startup (${failed.state}: ${failed.description})`
        : `did not answer hello within ${READY_TIMEOUT_MS / 1000}s (state ${info?.state ?? 'unknown'})`;
    throw new ProgramError(instance.programName, 'exited-during-startup', detail, {
      ...(output === undefined ? {} : { output: lastLines(output) }),
      ...(log === undefined ? {} : { log: lastLines(log) }),
    });
  }
  return `pid ${ready.pid}`;
}

class StartFailed extends Error {
  constructor(
    readonly state: string,
    readonly description: string,
  ) {
    super(`${state}: ${description}`);
  }
}

function lastLines(text: string, count = 15): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

export function startInstanceStep(rt: ClusterRuntime, instance: ResolvedInstance): Step {
  return {
    id: `start:${instance.id}`,
    title: `start ${instance.programName} on ${instance.host}`,
    host: instance.host,
    run: () => startInstance(rt, instance),
  };
}

function memberSpecs(rt: ClusterRuntime, set: ResolvedReplicaSet) {
  return set.members.map((id) => {
    const instance = rt.instances.find((i) => i.id === id);
    if (!instance?.member) throw new MupError(`replica set ${set.name}: member ${id} is not in the topology`);
    return { id, host: instance.host, port: instance.port, options: instance.member };
  });
}

/** The member that runs replSetInitiate: the first electable one, chosen when the topology was resolved. */
function initiator(rt: ClusterRuntime, set: ResolvedReplicaSet) {
  const chosen = memberSpecs(rt, set).find((m) => m.id === set.initiator);
  if (!chosen) throw new MupError(`replica set ${set.name}: initiator ${set.initiator} is not a member`);
  return chosen;
}

export function initiateReplicaSetStep(rt: ClusterRuntime, set: ResolvedReplicaSet): Step {
  return {
    id: `initiate:${set.name}`,
    title: `replSetInitiate ${set.name} with ${set.members.length} member${set.members.length === 1 ? '' : 's'}`,
    isDone: () => isInitiated(initiator(rt, set)),
    run: async () => {
      const config = buildReplicaSetConfig(set.name, memberSpecs(rt, set), set.settings, {
        configsvr: set.purpose === 'config',
        version: rt.meta.version,
      });
      await initiateReplicaSet(initiator(rt, set), config);
      return undefined;
    },
  };
}

/**
 * The member to step up when a set has no primary yet: the electable one with the highest priority (the
 * first of equals), so that no priority takeover follows the election.
 */
function preferredPrimary(members: ReturnType<typeof memberSpecs>) {
  let best: (typeof members)[number] | undefined;
  for (const m of members)
    if (isElectable(m.options) && (best === undefined || m.options.priority > best.options.priority))
      best = m;
  return best;
}

export function waitReplicaSetStep(rt: ClusterRuntime, set: ResolvedReplicaSet): Step {
  return {
    id: `healthy:${set.name}`,
    title: `wait until ${set.name} has a primary and every member is healthy`,
    run: async () => {
      const members = memberSpecs(rt, set);
      const stepUp = preferredPrimary(members);
      const { primary } = await waitForHealthyReplicaSet(set.name, members, HEALTHY_TIMEOUT_MS, {
        ...(stepUp ? { stepUp } : {}),
      });
      return `primary ${primary}`;
    },
  };
}

export function addShardStep(rt: ClusterRuntime, set: ResolvedReplicaSet, mongos: ResolvedInstance): Step {
  const members = memberSpecs(rt, set).filter((m) => !m.options.arbiterOnly);
  return {
    id: `add-shard:${set.name}`,
    title: `addShard ${set.name} through ${mongos.id}`,
    isDone: async () => (await listShards(addressOf(mongos))).some((s) => s._id === set.name),
    run: async () => {
      await addShard(addressOf(mongos), set.name, members);
      return undefined;
    },
  };
}

export function verifyShardsStep(rt: ClusterRuntime, mongos: ResolvedInstance): Step {
  const expected = rt.meta.topology.replicaSets.filter((s) => s.purpose === 'shard').map((s) => s.name);
  return {
    id: 'verify-shards',
    title: `verify listShards shows ${expected.join(', ')}`,
    run: async () => {
      const shards = (await listShards(addressOf(mongos))).map((s) => String(s._id));
      const missing = expected.filter((name) => !shards.includes(name));
      if (missing.length > 0)
        throw new MupError(
          `listShards does not show ${missing.join(', ')} (it shows ${shards.join(', ') || 'none'})`,
        );
      return `shards: ${shards.join(', ')}`;
    },
  };
}

/**
 * From 5.0 a mongod that gets SIGTERM as a secondary, and every mongos, stays in quiesce mode for 15 s by
 * default (a primary first spends up to that long stepping down): time for clients to move to the other
 * members. When every member of a replica set, or every mongos, goes down together there is nowhere to move,
 * so the wait is cut to this, enough for operations in flight to finish. Rolling operations keep the
 * server's own setting.
 */
const WHOLE_GROUP_SHUTDOWN_MS = 500;

export interface StopOptions {
  /** Every member of the instance's replica set (or every mongos) is stopping with it. */
  wholeGroup?: boolean;
}

export function stopInstanceStep(
  rt: ClusterRuntime,
  instance: ResolvedInstance,
  options: StopOptions = {},
): Step {
  return {
    id: `stop:${instance.id}`,
    title: `stop ${instance.programName} on ${instance.host}`,
    host: instance.host,
    run: async () => {
      // A stopped cluster's supervisord is down (stop ends it once idle; its port may even serve another
      // program by now), so there is nothing to ask it; a process a killed daemon left behind still holds
      // the port or data and is stopped by pid, cleanly.
      if (!(await daemonRuns(rt, instance.host))) return stopOrphansOf(rt, instance, options);
      const restore = options.wholeGroup ? await shortenQuiesce(rt, instance) : undefined;
      const programs = await rt.programs(instance.host);
      const info = await programs.stop(programRefFor(instance)).catch(async (error: unknown) => {
        await restore?.();
        throw error;
      });
      return `${info.state}`;
    },
  };
}

/**
 * Cuts the instance's signalled-shutdown time short (5.0+); returns how to put the previous value back if the
 * process then does not stop, so that a later rolling operation still gets the quiesce it was configured with.
 */
async function shortenQuiesce(
  rt: ClusterRuntime,
  instance: ResolvedInstance,
): Promise<(() => Promise<void>) | undefined> {
  if (!isAtLeast(parseMongoVersion(rt.meta.version), '5.0.0') || instance.member?.arbiterOnly) return;
  const program = instance.role === 'mongos' ? 'mongos' : 'mongod';
  const address = addressOf(instance);
  const previous = await limitSignaledShutdown(address, program, WHOLE_GROUP_SHUTDOWN_MS);
  if (previous === undefined) return undefined;
  return async () => {
    await limitSignaledShutdown(address, program, previous);
  };
}

/** SIGTERM to a process of the instance that supervisord does not run (left by a killed daemon). */
async function stopOrphanProcess(
  rt: ClusterRuntime,
  instance: ResolvedInstance,
  pid: number,
  options: StopOptions,
): Promise<void> {
  const restore = options.wholeGroup ? await shortenQuiesce(rt, instance) : undefined;
  if (!(await stopOrphan(rt.executor(instance.host), pid, { timeoutMs: 120_000 }))) {
    await restore?.();
    throw new MupError(`orphaned ${instance.programName} (pid ${pid}) did not exit after SIGTERM`, {
      hint: `check its log ${instance.logFile}; kill it by hand if it hangs`,
    });
  }
}

/** Stops replica-set members at the same time (see buildStopPlan for why not one after another). */
export function stopMembersStep(
  rt: ClusterRuntime,
  set: string,
  members: readonly ResolvedInstance[],
  options: StopOptions = {},
): Step {
  const steps = members.map((m) => stopInstanceStep(rt, m, options));
  return {
    id: `stop-set:${set}:${members.map((m) => m.id).join(',')}`,
    title: `stop ${members.map((m) => m.programName).join(', ')} of ${set}`,
    ...(new Set(members.map((m) => m.host)).size === 1 && members[0] ? { host: members[0].host } : {}),
    run: async (context) => {
      const results = await Promise.allSettled(steps.map((step) => step.run(context)));
      const failed = results.flatMap((r, i) =>
        r.status === 'rejected' ? [`${members[i]?.programName}: ${(r.reason as Error).message}`] : [],
      );
      if (failed.length > 0) throw new MupError(`could not stop ${failed.join('; ')}`);
      return results
        .map((r, i) => `${members[i]?.programName} ${r.status === 'fulfilled' ? r.value : ''}`)
        .join('\n');
    },
  };
}

/** Whether this cluster's supervisord answers on its port (not when it is down or another program is there). */
async function daemonRuns(rt: ClusterRuntime, host: string): Promise<boolean> {
  const probe = await rt.daemon(host).probe();
  return probe.kind === 'running' || probe.kind === 'stopping';
}

function instanceOfOrphan(rt: ClusterRuntime, host: string, orphan: Orphan): ResolvedInstance {
  const instance = rt.instances.find((i) => i.programName === orphan.program && i.host === host);
  if (!instance) throw new MupError(`orphan ${orphan.program} on ${host} is not in the topology`);
  return instance;
}

/** The instance's own process (holding its mongod.lock, or run with its config file), not a stranger on its port. */
function isOwnProcess(orphan: Orphan, instance: ResolvedInstance): boolean {
  return orphan.foundBy.includes('lock') || (orphan.command?.includes(instance.configFile) ?? false);
}

/**
 * Whether every member of the instance's replica set — or every mongos, for a mongos — is among `stopping`
 * (ids): then no other member is left for clients to move to. A standalone mongod has no quiesce period.
 */
export function stopsWholeGroup(
  rt: ClusterRuntime,
  instance: ResolvedInstance,
  stopping: ReadonlySet<string>,
): boolean {
  const group =
    instance.replicaSet !== undefined
      ? rt.instances.filter((i) => i.replicaSet === instance.replicaSet)
      : instance.role === 'mongos'
        ? rt.instances.filter((i) => i.role === 'mongos')
        : [];
  return group.length > 0 && group.every((member) => stopping.has(member.id));
}

async function stopOrphansOf(
  rt: ClusterRuntime,
  instance: ResolvedInstance,
  options: StopOptions,
): Promise<string> {
  const executor = rt.executor(instance.host);
  // Only this instance's own process: an unrelated program that took the port meanwhile is none of stop's
  // business.
  const orphans = (await findOrphans(executor, [orphanProbeFor(instance)])).filter((o) =>
    isOwnProcess(o, instance),
  );
  for (const orphan of orphans) await stopOrphanProcess(rt, instance, orphan.pid, options);
  if (orphans.length === 0) return 'not running (supervisord is down)';
  return `stopped orphaned pid ${orphans.map((o) => o.pid).join(', ')} (supervisord is down)`;
}

export function setStatusStep(rt: ClusterRuntime, status: ClusterStatus): Step {
  return {
    id: `status:${status}`,
    title: `record cluster status ${status}`,
    run: async () => {
      const meta = await rt.store.read(rt.meta.name);
      await rt.store.write({ ...meta, status });
      return undefined;
    },
  };
}

/** Members of the instance's replica set other than itself that can become primary. */
function electablePeers(rt: ClusterRuntime, instance: ResolvedInstance) {
  return rt.instances.filter(
    (i) =>
      i.replicaSet === instance.replicaSet &&
      i.id !== instance.id &&
      i.member &&
      !i.member.arbiterOnly &&
      i.member.priority > 0,
  );
}

/**
 * Restarts one process without losing availability: a primary first steps down and another member is
 * elected; afterwards the member must be back in SECONDARY/PRIMARY state and caught up (PRODUCT.md §2.3).
 */
export function restartMemberStep(rt: ClusterRuntime, instance: ResolvedInstance): Step {
  return {
    id: `restart:${instance.id}`,
    title: `restart ${instance.programName} on ${instance.host}`,
    host: instance.host,
    run: async (context) => {
      const peers = electablePeers(rt, instance);
      if (instance.replicaSet && peers.length > 0) {
        const elected = await moveAwayPrimary(addressOf(instance), peers.map(addressOf), HEALTHY_TIMEOUT_MS);
        if (elected) context.log(`stepped down; ${elected} is primary`);
      }
      const programs = await rt.programs(instance.host);
      await programs.stop(programRefFor(instance));
      context.log(await startInstance(rt, instance));
      if (instance.replicaSet)
        return `back as ${await waitForMemberReady(addressOf(instance), HEALTHY_TIMEOUT_MS)}`;
      return undefined;
    },
  };
}

/** Stops supervisord on the host once none of its programs runs (a partial stop keeps it). */
export function stopIdleSupervisordStep(rt: ClusterRuntime, host: string): Step {
  return {
    id: `stop-supervisord:${host}`,
    title: `stop supervisord on ${host} if no program runs`,
    host,
    run: async () => {
      const daemon = rt.daemon(host);
      if (!(await daemonRuns(rt, host))) return 'not running';
      const programs = await rt.programs(host);
      const running = (await programs.status()).filter((p) => isRunningState(p.state));
      if (running.length > 0) return `kept: ${running.length} program(s) still running`;
      await daemon.shutdown();
      return 'stopped';
    },
  };
}
