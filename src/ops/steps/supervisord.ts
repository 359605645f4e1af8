// Steps over a host's supervisord: its config, the daemon itself (started, moved off a taken port, orphans a
// killed daemon left handed back) and its shutdown once idle.
import { randomInt } from 'node:crypto';
import { MupError } from '../../errors.js';
import type { Step, StepContext } from '../../plan/types.js';
import {
  programAutostart,
  renderSupervisorIni,
  supervisorIniSpecForHost,
} from '../../render/supervisor-ini.js';
import { applySupervisorConfig } from '../../supervisor/apply.js';
import {
  allocateSupervisorPort,
  type EnsureRunningResult,
  SUPERVISOR_BASE_PORT,
} from '../../supervisor/daemon.js';
import { SupervisorPortTakenError } from '../../supervisor/errors.js';
import { minfdsForHost } from '../../supervisor/host-limits.js';
import { orphanProbeFor, programRefFor } from '../../supervisor/instance-refs.js';
import type { OrphanProbe } from '../../supervisor/orphans.js';
import { isRunningState } from '../../supervisor/process-info.js';
import { usedEndpoints } from '../endpoints.js';
import { type ClusterRuntime, SUPERVISOR_USERNAME } from '../runtime.js';
import { daemonRuns, instanceOfOrphan, isOwnProcess, stopOrphanProcess, stopsWholeGroup } from './process.js';

/**
 * The host's supervisor.ini. `autostart` names the programs supervisord starts by itself when it starts (a
 * host's boot); by default the file keeps the choice it holds (the desired state the last start or stop
 * recorded), so that a rewrite for another reason never changes what comes back after a reboot.
 */
export async function renderSupervisorIniForHost(
  rt: ClusterRuntime,
  host: string,
  autostart?: readonly string[],
): Promise<string> {
  return renderSupervisorIni(
    supervisorIniSpecForHost({
      cluster: rt.meta.name,
      supervisorDir: rt.host(host).supervisorDir,
      httpPort: rt.endpoint(host).httpPort,
      username: SUPERVISOR_USERNAME,
      password: rt.supervisorPassword,
      minfds: await minfdsForHost(rt.executor(host)),
      instances: rt.instancesOn(host),
      autostart: autostart ?? (await autostartOnDisk(rt, host)),
      user: rt.host(host).user,
    }),
  );
}

async function autostartOnDisk(rt: ClusterRuntime, host: string): Promise<string[]> {
  const daemon = rt.daemon(host);
  if (!(await daemon.executor.exists(daemon.iniPath))) return [];
  const values = programAutostart((await daemon.executor.readFile(daemon.iniPath)).toString('utf8'));
  return [...values].filter(([, on]) => on).map(([name]) => name);
}

/**
 * Written before mup starts the daemon itself: no program starts on its own then (mup starts them in order,
 * and a member still running unsupervised must not get a second process).
 */
export function writeSupervisorConfigStep(rt: ClusterRuntime, host: string): Step {
  return {
    id: `supervisor-config:${host}`,
    title: `write supervisor.ini on ${host}`,
    host,
    run: async () => {
      await rt.daemon(host).writeConfig(await renderSupervisorIniForHost(rt, host, []));
      return undefined;
    },
  };
}

/** Re-renders a host's supervisor.ini and applies it: only added or changed programs are touched. */
export function supervisorReloadStep(rt: ClusterRuntime, host: string): Step {
  return {
    id: `supervisor-reload:${host}`,
    title: `reload supervisor.ini on ${host}`,
    host,
    run: async () => {
      const programs = new Map(rt.instancesOn(host).map((i) => [i.programName, programRefFor(i)]));
      const result = await applySupervisorConfig(
        rt.daemon(host),
        await renderSupervisorIniForHost(rt, host),
        {
          programs,
        },
      );
      return `added ${result.added.length}, changed ${result.changed.length}, removed ${result.removed.length}`;
    },
  };
}

/**
 * Records the desired state on the host: `autostart=true` for the programs supervisord runs now, false for
 * the others (all of them once the daemon is down), so that a daemon started at boot brings back exactly what
 * should run. Only the file changes: supervisord reads autostart at its own start, and a reload would count
 * every changed program as one to replace (restart).
 */
export function recordDesiredStateStep(rt: ClusterRuntime, host: string): Step {
  return {
    id: `autostart:${host}`,
    title: `record on ${host} which programs start with supervisord`,
    host,
    run: async () => {
      const running = (await daemonRuns(rt, host))
        ? (await (await rt.programs(host)).status()).filter((p) => isRunningState(p.state)).map((p) => p.name)
        : [];
      await rt.daemon(host).writeConfig(await renderSupervisorIniForHost(rt, host, running));
      return running.length === 0 ? 'none' : running.join(', ');
    },
  };
}

/** Other clusters' ports and this cluster's own: never given to a moved supervisor API. */
async function reservedPorts(rt: ClusterRuntime): Promise<number[]> {
  const others = await usedEndpoints(rt.store, rt.meta.name);
  return [
    ...rt.instances.map((i) => i.port),
    ...rt.meta.supervisors.map((s) => s.httpPort),
    ...others.map((u) => u.port),
  ];
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
      await rt.daemon(host).writeConfig(await renderSupervisorIniForHost(rt, host, []));
      context.log(`${error.message}; moved the supervisor API to port ${port}`);
    }
  }
}

/**
 * Makes sure the host's supervisord runs. Orphans (processes on this cluster's ports or data that
 * supervisord does not run, e.g. after the daemon was SIGKILLed) make a deploy fail; `start` stops them
 * cleanly (SIGTERM → mongod's clean shutdown) so that supervisord starts them again, never twice — except
 * those in `handedBack` (instance ids): the plan hands those back one at a time after this step, so they keep
 * serving here.
 */
export function ensureSupervisordStep(
  rt: ClusterRuntime,
  host: string,
  orphanPolicy: 'fail' | 'stop' = 'fail',
  handedBack: readonly string[] = [],
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
      const later = owned.filter(({ instance }) => handedBack.includes(instance.id));
      if (later.length > 0)
        context.log(
          `left serving, handed back one at a time next: ${later.map(({ orphan }) => `${orphan.program} (pid ${orphan.pid})`).join(', ')}`,
        );
      const now = owned.filter(({ instance }) => !handedBack.includes(instance.id));
      // They are stopped only to be started again under supervisord: when a whole set (or every mongos) is
      // among them there is no other member for clients to move to, so no quiesce period to wait out.
      const orphaned = new Set(now.map(({ instance }) => instance.id));
      const results = await Promise.allSettled(
        now.map(async ({ orphan, instance }) => {
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
