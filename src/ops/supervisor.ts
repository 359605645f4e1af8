// `mup cluster supervisor ...`: the supervisord daemons of a cluster and their programs, by supervisor name.
import { UsageError } from '../errors.js';
import { ClusterStore } from '../meta/store.js';
import type { Step } from '../plan/types.js';
import { applySupervisorConfig } from '../supervisor/apply.js';
import { programRefFor } from '../supervisor/instance-refs.js';
import {
  followDaemonLog,
  followProgramOutput,
  tailDaemonLog,
  tailProgramOutput,
} from '../supervisor/logs.js';
import { processName } from '../supervisor/programs.js';
import type { ResolvedInstance } from '../topology/types.js';
import { lockCluster, type OperationOptions, runJournaled } from './apply.js';
import { ClusterRuntime } from './runtime.js';
import { renderSupervisorIniForHost, startInstance } from './steps.js';

/** JSON shape of `mup cluster supervisor status --json` (schemaVersion 1). */
export interface SupervisorStatus {
  schemaVersion: 1;
  cluster: string;
  hosts: {
    host: string;
    endpoint: string;
    state: 'running' | 'down' | 'unreachable';
    pid?: number;
    programs: {
      name: string;
      state: string;
      pid: number;
      uptimeSeconds: number;
      exitStatus: number;
      restarts: number;
      description: string;
    }[];
  }[];
}

async function openRuntime(home: string, name: string): Promise<ClusterRuntime> {
  const store = new ClusterStore(home);
  return ClusterRuntime.open(store, await store.read(name));
}

export async function supervisorStatus(home: string, name: string): Promise<SupervisorStatus> {
  const rt = await openRuntime(home, name);
  try {
    const hosts = await Promise.all(
      rt.meta.supervisors.map(async (endpoint) => {
        const base = { host: endpoint.host, endpoint: `http://127.0.0.1:${endpoint.httpPort}` };
        const probe = await rt
          .daemon(endpoint.host)
          .probe()
          .catch(() => ({ kind: 'unreachable' as const }));
        if (probe.kind !== 'running')
          return {
            ...base,
            state: probe.kind === 'down' ? ('down' as const) : ('unreachable' as const),
            programs: [],
          };
        const programs = await (await rt.programs(endpoint.host)).status();
        return {
          ...base,
          state: 'running' as const,
          pid: probe.pid,
          programs: programs.map((p) => ({
            name: p.name,
            state: p.state,
            pid: p.pid,
            uptimeSeconds: p.uptimeSeconds,
            exitStatus: p.exitStatus,
            restarts: p.restarts,
            description: p.description,
          })),
        };
      }),
    );
    return { schemaVersion: 1, cluster: name, hosts };
  } finally {
    await rt.close();
  }
}

function findProgram(rt: ClusterRuntime, program: string): ResolvedInstance {
  const instance = rt.instances.find((i) => i.programName === program || i.id === program);
  if (!instance) {
    throw new UsageError(
      `no program '${program}' in cluster '${rt.meta.name}'`,
      `programs: ${rt.instances.map((i) => i.programName).join(', ')}`,
    );
  }
  return instance;
}

/** Runs one named step under the cluster lock, journaled like every other mutating command. */
async function runSingleStep(
  rt: ClusterRuntime,
  operation: string,
  step: Step,
  options: OperationOptions,
): Promise<string> {
  const lock = await lockCluster(
    rt.store,
    rt.meta.name,
    `mup cluster supervisor ${operation} ${rt.meta.name}`,
  );
  try {
    const plan = {
      operation: `supervisor-${operation}`,
      cluster: rt.meta.name,
      phases: [{ name: operation, title: step.title, parallel: false, steps: [step] }],
    };
    return (await runJournaled(rt.store, plan, { step: step.id }, options)).opId;
  } finally {
    await lock.release();
  }
}

export async function supervisorProgramAction(
  name: string,
  action: 'start' | 'stop' | 'restart',
  program: string,
  options: OperationOptions,
): Promise<{ schemaVersion: 1; cluster: string; program: string; action: string; opId: string }> {
  const rt = await openRuntime(options.home, name);
  try {
    const instance = findProgram(rt, program);
    const stop = async () => (await rt.programs(instance.host)).stop(programRefFor(instance));
    const step: Step = {
      id: `${action}:${instance.id}`,
      title: `${action} ${instance.programName} on ${instance.host}`,
      host: instance.host,
      run: async () => {
        if (action !== 'start') await stop();
        if (action !== 'stop') return startInstance(rt, instance);
        return undefined;
      },
    };
    const opId = await runSingleStep(rt, action, step, options);
    return { schemaVersion: 1, cluster: name, program: instance.programName, action, opId };
  } finally {
    await rt.close();
  }
}

/** Re-renders supervisor.ini on every host and applies it: only added/changed programs are touched. */
export async function supervisorReload(name: string, options: OperationOptions) {
  const rt = await openRuntime(options.home, name);
  const results: {
    host: string;
    added: string[];
    changed: string[];
    removed: string[];
    daemonSettingsChanged: boolean;
  }[] = [];
  try {
    const lock = await lockCluster(rt.store, name, `mup cluster supervisor reload ${name}`);
    try {
      const steps: Step[] = rt.meta.supervisors.map((endpoint) => ({
        id: `supervisor-reload:${endpoint.host}`,
        title: `reload supervisor.ini on ${endpoint.host}`,
        host: endpoint.host,
        run: async () => {
          const programs = new Map(
            rt.instancesOn(endpoint.host).map((i) => [i.programName, programRefFor(i)]),
          );
          const result = await applySupervisorConfig(
            rt.daemon(endpoint.host),
            await renderSupervisorIniForHost(rt, endpoint.host),
            { programs },
          );
          results.push({ host: endpoint.host, ...result });
          return `added ${result.added.length}, changed ${result.changed.length}, removed ${result.removed.length}`;
        },
      }));
      const plan = {
        operation: 'supervisor-reload',
        cluster: name,
        phases: [{ name: 'reload', title: 'Reload supervisord configuration', parallel: false, steps }],
      };
      const { opId } = await runJournaled(rt.store, plan, {}, options);
      return { schemaVersion: 1 as const, cluster: name, opId, hosts: results };
    } finally {
      await lock.release();
    }
  } finally {
    await rt.close();
  }
}

export interface LogsRequest {
  program?: string | undefined;
  lines: number;
  follow: boolean;
  signal: AbortSignal;
}

/** Yields log text: the daemon's log (no program) or a program's captured output; follows until aborted. */
export async function* supervisorLogs(
  home: string,
  name: string,
  request: LogsRequest,
): AsyncGenerator<string> {
  const rt = await openRuntime(home, name);
  try {
    // Roughly `lines` lines: the API reads bytes; 200 bytes a line covers MongoDB's JSON log lines.
    const bytes = Math.max(1, request.lines) * 200;
    const trim = (text: string) =>
      text
        .split('\n')
        .slice(-(request.lines + 1))
        .join('\n');
    if (request.program === undefined) {
      const host = rt.meta.supervisors[0]?.host;
      if (!host) return;
      const daemon = rt.daemon(host);
      if (request.follow) {
        yield* followDaemonLog(daemon, { initialBytes: bytes, signal: request.signal });
        return;
      }
      yield trim(await tailDaemonLog(await daemon.client(), bytes));
      return;
    }
    const instance = findProgram(rt, request.program);
    const client = await rt.daemon(instance.host).client();
    const process = processName(programRefFor(instance));
    if (request.follow) {
      yield* followProgramOutput(client, process, { initialBytes: bytes, signal: request.signal });
      return;
    }
    yield trim(await tailProgramOutput(client, process, bytes));
  } finally {
    await rt.close();
  }
}
