// Starting and stopping one process: the one "start and wait until ready" (hello answers) every operation
// uses, stops through supervisord or, when a killed daemon left the process behind, by pid; and the
// whole-group rule that cuts 5.0+ quiesce short when nobody is left to move to.
import { MupError } from '../../errors.js';
import { hello, pollUntil } from '../../mongo/connect.js';
import { limitSignaledShutdown } from '../../mongo/member.js';
import type { Step, StepContext } from '../../plan/types.js';
import { isAtLeast, parseMongoVersion } from '../../render/mongo-version.js';
import { Fault, isFault, ProgramError } from '../../supervisor/errors.js';
import { orphanProbeFor, programRefFor } from '../../supervisor/instance-refs.js';
import { findOrphans, type Orphan, stopOrphan } from '../../supervisor/orphans.js';
import { isRunningState } from '../../supervisor/process-info.js';
import { processName } from '../../supervisor/programs.js';
import type { ResolvedInstance } from '../../topology/types.js';
import type { ClusterRuntime, Identity } from '../runtime.js';

/** How long a process may take from spawn to answering hello. */
const READY_TIMEOUT_MS = 60_000;

export async function answersHello(
  rt: ClusterRuntime,
  instance: ResolvedInstance,
  identity: Identity = 'admin',
): Promise<boolean> {
  try {
    await hello(rt.address(instance, identity), { timeoutMs: 2000 });
    return true;
  } catch {
    return false;
  }
}

/** Starts the program (if not running) and waits until the process answers hello: ready means healthy. */
export async function startInstance(
  rt: ClusterRuntime,
  instance: ResolvedInstance,
  identity: Identity = 'admin',
): Promise<string> {
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
      return (await answersHello(rt, instance, identity)) ? info : undefined;
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

export function lastLines(text: string, count = 15): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

/** `identity`: deploy starts processes before the admin user exists, and waits for them as `__system`. */
export function startInstanceStep(
  rt: ClusterRuntime,
  instance: ResolvedInstance,
  identity: Identity = 'admin',
): Step {
  return {
    id: `start:${instance.id}`,
    title: `start ${instance.programName} on ${instance.host}`,
    host: instance.host,
    run: () => startInstance(rt, instance, identity),
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

/** MongoDB's default of shutdownTimeoutMillisForSignaledShutdown and its mongos twin (5.0+). */
const DEFAULT_SIGNALED_SHUTDOWN_MS = 15_000;

/**
 * How long the instance is expected to stay in quiesce mode once stopped: 0 before 5.0, for a standalone
 * mongod and an arbiter; WHOLE_GROUP_SHUTDOWN_MS when its whole group stops; else its configured setting.
 */
export function expectedQuiesceMs(
  rt: ClusterRuntime,
  instance: ResolvedInstance,
  wholeGroup: boolean,
): number {
  if (!isAtLeast(parseMongoVersion(rt.meta.version), '5.0.0') || instance.member?.arbiterOnly) return 0;
  if (instance.role !== 'mongos' && instance.replicaSet === undefined) return 0;
  if (wholeGroup) return WHOLE_GROUP_SHUTDOWN_MS;
  const parameter =
    instance.role === 'mongos'
      ? 'mongosShutdownTimeoutMillisForSignaledShutdown'
      : 'shutdownTimeoutMillisForSignaledShutdown';
  const setParameter = instance.serverConfig.setParameter as Record<string, unknown> | undefined;
  const configured = Number(setParameter?.[parameter]);
  return Number.isFinite(configured) && configured >= 0 ? configured : DEFAULT_SIGNALED_SHUTDOWN_MS;
}

/** Tells the progress view how long the stop will take (the quiesce period) before asking for it. */
export function announceStop(
  context: StepContext,
  rt: ClusterRuntime,
  instance: ResolvedInstance,
  wholeGroup = false,
): void {
  const quiesce = expectedQuiesceMs(rt, instance, wholeGroup);
  if (quiesce >= 1000) context.waiting(`${instance.programName} quiesce`, Date.now() + quiesce);
  else context.waiting(`${instance.programName} to exit`);
}

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
    run: async (context) => {
      // A stopped cluster's supervisord is down (stop ends it once idle; its port may even serve another
      // program by now), so there is nothing to ask it; a process a killed daemon left behind still holds
      // the port or data and is stopped by pid, cleanly.
      if (!(await daemonRuns(rt, instance.host))) return stopOrphansOf(rt, instance, options);
      const restore = options.wholeGroup ? await shortenQuiesce(rt, instance) : undefined;
      const programs = await rt.programs(instance.host);
      announceStop(context, rt, instance, options.wholeGroup);
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
  const address = rt.address(instance);
  const previous = await limitSignaledShutdown(address, program, WHOLE_GROUP_SHUTDOWN_MS);
  if (previous === undefined) return undefined;
  return async () => {
    await limitSignaledShutdown(address, program, previous);
  };
}

/** SIGTERM to a process of the instance that supervisord does not run (left by a killed daemon). */
export async function stopOrphanProcess(
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
export async function daemonRuns(rt: ClusterRuntime, host: string): Promise<boolean> {
  const probe = await rt.daemon(host).probe();
  return probe.kind === 'running' || probe.kind === 'stopping';
}

export function instanceOfOrphan(rt: ClusterRuntime, host: string, orphan: Orphan): ResolvedInstance {
  const instance = rt.instances.find((i) => i.programName === orphan.program && i.host === host);
  if (!instance) throw new MupError(`orphan ${orphan.program} on ${host} is not in the topology`);
  return instance;
}

/** The instance's own process (holding its mongod.lock, or run with its config file), not a stranger on its port. */
export function isOwnProcess(orphan: Orphan, instance: ResolvedInstance): boolean {
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
