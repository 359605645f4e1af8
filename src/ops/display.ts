// `mup cluster display`: one row per process from supervisord's view (state, pid, uptime, restarts) and the
// server's own answer to hello (role in its replica set). Every probe runs in parallel with a short timeout,
// so a dead host or process never makes display slow.
import type { Document } from 'mongodb';
import { engineLabel } from '../binaries/simulator.js';
import { ClusterStore } from '../meta/store.js';
import { checkReachable } from '../mongo/connect.js';
import { primaryUri } from '../mongo/uri.js';
import { wireHello } from '../mongo/wire-hello.js';
import { listOperations } from '../plan/journal.js';
import { bootStatus } from '../supervisor/boot.js';
import { SupervisorCredentialsMismatchError } from '../supervisor/errors.js';
import type { ProgramStatus } from '../supervisor/programs.js';
import type { ResolvedInstance, ResolvedReplicaSet } from '../topology/types.js';
import { ClusterRuntime } from './runtime.js';

// A dead local process refuses at once; this bounds only a hung or overloaded one (or a lost host).
const PROBE_TIMEOUT_MS = 3000;
// A remote host's SSH login (key exchange, authentication) comes first, on its own bound: a loaded machine's
// slow login does not look like a lost host.
const LOGIN_TIMEOUT_MS = 5000;
// Before that, a TCP connection to the host's SSH port (see answeringHosts).
const HOST_ANSWER_MAX_MS = 1000;
const HOST_ANSWER_MIN_MS = 400;
const HOST_ANSWER_FACTOR = 4;
const HOST_ANSWER_ATTEMPT_MS = 100;

/**
 * Which remote hosts open a TCP connection to their SSH port. It opens in one round trip on a host that is up
 * (the kernel answers, however loaded the host), so a host that does not open it in time is shown unreachable
 * at once and nothing else is asked of it (no login, no hello to its members, no boot probe). In time: within
 * 4x the slowest answer of the other hosts, at least 400 ms and at most 1 s (1 s while none has answered): on
 * a LAN a lost host costs 0.4 s, not 1 s, and a far host still gets many round trips. A new connection attempt
 * every 100 ms stands in for the kernel's SYN resend, which comes only after a second: a lost packet on a live
 * host's link does not make it look lost.
 */
function answeringHosts(targets: readonly { host: string; port: number }[]): Map<string, Promise<boolean>> {
  const started = Date.now();
  const giveUp = new AbortController();
  let slowest: number | undefined;
  let pending = targets.length;
  let deadline: NodeJS.Timeout | undefined;
  const setDeadline = () => {
    clearTimeout(deadline);
    if (pending === 0) return;
    const bound =
      slowest === undefined
        ? HOST_ANSWER_MAX_MS
        : Math.min(HOST_ANSWER_MAX_MS, Math.max(HOST_ANSWER_MIN_MS, HOST_ANSWER_FACTOR * slowest));
    deadline = setTimeout(() => giveUp.abort(), Math.max(0, started + bound - Date.now()));
  };
  const answered = (ok: boolean) => {
    pending -= 1;
    if (ok) slowest = Math.max(slowest ?? 0, Date.now() - started);
    setDeadline();
    return ok;
  };
  setDeadline();
  return new Map(
    targets.map(({ host, port }) => [
      host,
      checkReachable({ host, port }, HOST_ANSWER_MAX_MS, {
        attemptEveryMs: HOST_ANSWER_ATTEMPT_MS,
        signal: giveUp.signal,
      }).then(
        () => answered(true),
        () => answered(false),
      ),
    ]),
  );
}

/** Status column values. */
export type ProcessStatus =
  | 'Up|P'
  | 'Up|S'
  | 'Up|A'
  | 'Up'
  | 'Starting'
  | 'Down'
  | `Crashed(${number})`
  | 'Fatal'
  | 'Unknown';

/**
 * What is running, judged from the processes themselves: `running` (every process up), `degraded` (some
 * down, or a replica set without a primary), `stopped` (none up), `unsupervised` (processes up while their
 * host's supervisord is down: nothing restarts them), `unreachable` (a supervisord could not be asked).
 */
export type LiveState = 'running' | 'degraded' | 'stopped' | 'unsupervised' | 'unreachable';

export type SupervisorState = 'running' | 'down' | 'unreachable' | 'error';

/** JSON shape of `mup cluster display --json` (schemaVersion 1). */
export interface DisplayResult {
  schemaVersion: 1;
  cluster: string;
  version: string;
  variant: string;
  /** What runs: "MongoDB", "Percona Server for MongoDB" or "simulator (not MongoDB)". */
  engine: string;
  kind: string;
  /** The live state (see LiveState). */
  status: LiveState;
  /** The state the last operation left the cluster in (running, stopped, partial, deploying, destroying). */
  desiredStatus: string;
  /** The last operation and how it ended, shown apart from the live state. */
  lastOperation?: { opId: string; operation: string; status: string };
  supervisors: {
    host: string;
    endpoint: string;
    state: SupervisorState;
    pid?: number;
    /** Why the state is `error` (e.g. the daemon refused mup's credentials). */
    error?: string;
    /**
     * What starts this supervisord when the host boots: `systemd <unit> (<is-enabled>)`, `crontab <line>`,
     * `none`, or `unknown` when the host did not tell in time.
     */
    boot: string;
  }[];
  processes: DisplayRow[];
  uri: string;
}

export interface DisplayRow {
  id: string;
  role: string;
  replicaSet?: string;
  host: string;
  port: number;
  program: string;
  status: ProcessStatus;
  /** supervisord's state name, or `unknown` when its daemon does not answer. */
  supervisorState: string;
  pid?: number;
  uptimeSeconds?: number;
  /** Unexpected exits supervisord restarted. */
  restarts: number;
  version: string;
  dataDir?: string;
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function statusFrom(
  program: ProgramStatus | undefined,
  reply: Document | undefined,
  daemonDown: boolean,
): ProcessStatus {
  if (program?.state === 'FATAL') return 'Fatal';
  if (reply) {
    if (reply.msg === 'isdbgrid' || reply.setName === undefined)
      return reply.isreplicaset ? 'Starting' : 'Up';
    if (reply.ismaster === true) return 'Up|P';
    if (reply.arbiterOnly === true) return 'Up|A';
    if (reply.secondary === true) return 'Up|S';
    return 'Starting';
  }
  if (program && ['STARTING', 'BACKOFF', 'RUNNING'].includes(program.state))
    return program.restarts > 0 ? `Crashed(${program.restarts})` : 'Starting';
  if (program || daemonDown) return 'Down';
  return 'Unknown';
}

export async function displayCluster(home: string, name: string): Promise<DisplayResult> {
  const store = new ClusterStore(home);
  const meta = await store.read(name);
  const rt = await ClusterRuntime.open(store, meta);
  try {
    const hosts = meta.topology.hosts.map((h) => h.host);
    const perHost = new Map<
      string,
      { state: SupervisorState; pid?: number; programs: ProgramStatus[]; error?: string }
    >();
    const helloReplies = new Map<string, Document>();
    const boot = new Map<string, string>();
    // Remote hosts answer on their SSH port or count as unreachable, in parallel and within the bound.
    const answers = answeringHosts(
      meta.topology.hosts.filter((h) => !h.local).map((h) => ({ host: h.host, port: h.sshPort })),
    );
    const answering = (host: string) => answers.get(host) ?? Promise.resolve(true);
    await Promise.all([
      ...meta.supervisors.map(async (s) => {
        if (!(await answering(s.host))) {
          boot.set(s.host, 'unknown');
          return;
        }
        try {
          const found = await withTimeout(
            bootStatus(rt.executor(s.host), { cluster: meta.name, iniPath: s.configFile }),
            PROBE_TIMEOUT_MS,
          );
          boot.set(s.host, found.detail ? `${found.method} ${found.detail}` : found.method);
        } catch {
          boot.set(s.host, 'unknown');
        }
      }),
      ...hosts.map(async (host) => {
        if (!(await answering(host))) {
          perHost.set(host, { state: 'unreachable', programs: [] });
          return;
        }
        try {
          const executor = rt.executor(host);
          if (executor.connect !== undefined) await withTimeout(executor.connect(), LOGIN_TIMEOUT_MS);
          // One API request gives the daemon's identity, pid and every program (probe() and status() in one).
          const { probe, programs } = await withTimeout(rt.daemon(host).snapshot(), PROBE_TIMEOUT_MS);
          if (probe.kind === 'foreign') {
            // Something else holds the API port recorded for this cluster, so its own daemon is not running
            // (a port is one listener's): down, and saying who took the port (start moves the API elsewhere).
            const port = meta.supervisors.find((s) => s.host === host)?.httpPort;
            perHost.set(host, {
              state: 'down',
              programs: [],
              error: `supervisor API port ${port} is held by ${probe.owner ?? 'another process'}; \`mup cluster start ${meta.name}\` moves it to a free port`,
            });
            return;
          }
          if (probe.kind !== 'running') {
            perHost.set(host, { state: probe.kind === 'down' ? 'down' : 'unreachable', programs: [] });
            return;
          }
          perHost.set(host, { state: 'running', pid: probe.pid, programs });
        } catch (error) {
          if (error instanceof SupervisorCredentialsMismatchError)
            perHost.set(host, { state: 'error', programs: [], error: error.message });
          else perHost.set(host, { state: 'unreachable', programs: [] });
        }
      }),
      ...meta.topology.instances.map(async (instance) => {
        if (!(await answering(instance.host))) return;
        try {
          // hello needs no authentication (MongoDB answers it before auth): one round trip (TLS on a TLS cluster).
          helloReplies.set(instance.id, await wireHello(rt.address(instance, 'anonymous'), PROBE_TIMEOUT_MS));
        } catch {
          // down or unreachable: the row says so
        }
      }),
    ]);
    const row = (instance: ResolvedInstance): DisplayRow => {
      const host = perHost.get(instance.host);
      const program = host?.programs.find((p) => p.name === instance.programName);
      const running =
        program?.state === 'RUNNING' || program?.state === 'STARTING' || program?.state === 'BACKOFF';
      return {
        id: instance.id,
        role: instance.role,
        ...(instance.replicaSet === undefined ? {} : { replicaSet: instance.replicaSet }),
        host: instance.host,
        port: instance.port,
        program: instance.programName,
        status: statusFrom(program, helloReplies.get(instance.id), host?.state === 'down'),
        supervisorState: program?.state ?? 'unknown',
        ...(running && program ? { pid: program.pid, uptimeSeconds: program.uptimeSeconds } : {}),
        restarts: program?.restarts ?? 0,
        version: meta.version,
        ...(instance.dataDir === undefined ? {} : { dataDir: instance.dataDir }),
      };
    };
    const supervisors = meta.supervisors.map((s) => {
      const state = perHost.get(s.host);
      return {
        host: s.host,
        endpoint: `http://127.0.0.1:${s.httpPort}`,
        state: state?.state ?? ('unreachable' as const),
        ...(state?.pid === undefined ? {} : { pid: state.pid }),
        ...(state?.error === undefined ? {} : { error: state.error }),
        boot: boot.get(s.host) ?? 'unknown',
      };
    });
    const processes = meta.topology.instances.map(row);
    const last = (await listOperations(store.opsDir(name))).at(-1)?.summary;
    return {
      schemaVersion: 1,
      cluster: meta.name,
      version: meta.version,
      variant: meta.variant,
      engine: engineLabel(meta.variant),
      kind: meta.topology.kind,
      status: liveState(meta.topology.replicaSets, processes, supervisors),
      desiredStatus: meta.status,
      ...(last ? { lastOperation: { opId: last.opId, operation: last.operation, status: last.status } } : {}),
      supervisors,
      processes,
      uri: primaryUri(meta.topology, rt.tlsClient()),
    };
  } finally {
    await rt.close();
  }
}

const UP = new Set<ProcessStatus>(['Up|P', 'Up|S', 'Up|A', 'Up']);

/** The cluster's live state from its rows (see LiveState); pure, so the rules are unit-tested. */
export function liveState(
  sets: readonly ResolvedReplicaSet[],
  processes: readonly Pick<DisplayRow, 'id' | 'host' | 'status'>[],
  supervisors: readonly { host: string; state: SupervisorState }[],
): LiveState {
  if (supervisors.some((s) => s.state === 'unreachable' || s.state === 'error')) return 'unreachable';
  const up = processes.filter((p) => UP.has(p.status));
  if (up.length === 0) return 'stopped';
  const downHosts = new Set(supervisors.filter((s) => s.state === 'down').map((s) => s.host));
  if (up.some((p) => downHosts.has(p.host))) return 'unsupervised';
  const withoutPrimary = sets.some(
    (set) => !processes.some((p) => set.members.includes(p.id) && p.status === 'Up|P'),
  );
  return up.length === processes.length && !withoutPrimary ? 'running' : 'degraded';
}
