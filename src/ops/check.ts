// `mup cluster check <name|topology.yaml> [--apply]`: whether each host of a cluster (stored, or about to be
// deployed from a topology file) can run it — SSH login and host key, OS/arch and the build it takes, glibc,
// python3 and supervisord, ports free, dirs writable and free space, ulimits, transparent huge pages,
// swappiness, clock skew. One row per host and check: pass, warn or fail. Every host is checked at once; an
// unreachable host gets its ssh row and nothing else. `--apply` creates the missing dirs, and on remote hosts
// where the login is root or has passwordless sudo sets THP and vm.swappiness (until the next reboot), then
// reads everything again so that the rows show what is true afterwards.
import { stat } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { executorFor } from '../hosts/connect.js';
import { HostAuthenticationError, HostKeyError, HostUnreachableError } from '../hosts/errors.js';
import type { Executor } from '../hosts/executor.js';
import { ClusterStore } from '../meta/store.js';
import { checkReachable } from '../mongo/connect.js';
import { parseMongoVersion } from '../render/mongo-version.js';
import { checkTopology, versionForChecks } from '../render/topology-check.js';
import { SupervisordNotFoundError } from '../supervisor/errors.js';
import { locateSupervisord } from '../supervisor/locate.js';
import type { ProgramStatus } from '../supervisor/programs.js';
import { readTopologyFile } from '../topology/load.js';
import type { ResolvedHost, ResolvedTopology } from '../topology/types.js';
import { usedEndpoints } from './endpoints.js';
import {
  CHECK_NAMES,
  type CheckName,
  type CheckRow,
  FACTS_SCRIPT,
  type HostFacts,
  judgeClock,
  judgeDirs,
  judgeGlibc,
  judgeNofile,
  judgeNproc,
  judgeOs,
  judgePython,
  judgeSwappiness,
  judgeThp,
  parseFacts,
  parseHostTime,
  SWAPPINESS_FILE,
  selectedChoice,
  THP_FILE,
  wantedThp,
} from './host-check.js';
import { ClusterRuntime } from './runtime.js';

export type { CheckRow, CheckStatus } from './host-check.js';

export interface CheckOptions {
  /** Fix what can be fixed safely, then check again. */
  apply?: boolean;
  /** MongoDB version to judge against (topology files; a stored cluster has its own). */
  version?: string;
}

/** JSON shape of `mup cluster check --json` (schemaVersion 1). */
export interface CheckResult {
  schemaVersion: 1;
  /** The stored cluster checked, or the topology file. */
  cluster?: string;
  topologyFile?: string;
  /** The MongoDB version the recommendations are for. */
  version: string;
  apply: boolean;
  checks: CheckRow[];
  summary: { pass: number; warn: number; fail: number };
}

const FACTS_TIMEOUT_MS = 30_000;
const PROGRAMS_TIMEOUT_MS = 5000;
/**
 * A TCP connection to the SSH port opens in one round trip on a host that is up, however loaded (the kernel
 * answers): a host that does not open it within this is reported unreachable without trying to log in.
 */
const SSH_PORT_TIMEOUT_MS = 3000;

interface Target {
  topology: ResolvedTopology;
  version: string;
  cluster?: string;
  topologyFile?: string;
  /** A stored cluster's programs per host: ports its own running members hold are not "in use". */
  programs?: (host: string) => Promise<ProgramStatus[]>;
  close(): Promise<void>;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function resolveTarget(home: string, target: string, options: CheckOptions): Promise<Target> {
  const store = new ClusterStore(home);
  if (await isFile(target)) {
    // A version given is checked as given (an unsupported one is refused); none: the newest series.
    const version =
      options.version === undefined ? versionForChecks(undefined) : parseMongoVersion(options.version).raw;
    const local = executorFor({ host: 'localhost', local: true });
    const loaded = await checkTopology(await readTopologyFile(target), target, {
      version,
      usedEndpoints: await usedEndpoints(store),
      isPortFree: (port) => local.isPortFree(port),
    });
    return {
      topology: loaded.resolved,
      version,
      topologyFile: target,
      close: async () => {},
    };
  }
  if (/\.ya?ml$/i.test(target) || target.includes('/'))
    throw new UsageError(
      `topology file ${target} not found`,
      'give a topology file that exists, or the name of a cluster (mup cluster list)',
    );
  if (options.version !== undefined)
    throw new UsageError(
      '--version applies to a topology file; a deployed cluster is checked against its own version',
    );
  const meta = await store.read(target);
  const rt = await ClusterRuntime.open(store, meta);
  return {
    topology: meta.topology,
    version: meta.version,
    cluster: meta.name,
    programs: async (host) => (await rt.programs(host)).status(),
    close: () => rt.close(),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function hintOf(error: unknown): { hint?: string } {
  const hint = (error as { hint?: unknown }).hint;
  return typeof hint === 'string' ? { hint } : {};
}

/** The dirs a host must hold for the cluster: deploy, data and log dirs of its instances, its supervisor dir. */
function dirsOn(topology: ResolvedTopology, host: ResolvedHost): { all: string[]; data: string[] } {
  const instances = topology.instances.filter((i) => i.host === host.host);
  const data = [...new Set(instances.flatMap((i) => (i.dataDir === undefined ? [] : [i.dataDir])))];
  const all = new Set<string>([host.supervisorDir]);
  for (const i of instances) for (const dir of [i.deployDir, i.dataDir, i.logDir]) if (dir) all.add(dir);
  return { all: [...all], data };
}

async function gatherFacts(executor: Executor, dirs: readonly string[]): Promise<HostFacts> {
  const run = await executor.run('/bin/sh', ['-c', FACTS_SCRIPT, 'sh', ...dirs], {
    timeoutMs: FACTS_TIMEOUT_MS,
  });
  if (run.exitCode !== 0) throw new Error(`the host's facts could not be read: ${run.stderr.trim()}`);
  return parseFacts(run.stdout);
}

async function checkClock(executor: Executor): Promise<Omit<CheckRow, 'host'>> {
  const sent = Date.now();
  const run = await executor.run('date', ['+%s.%N'], { timeoutMs: FACTS_TIMEOUT_MS });
  const received = Date.now();
  const hostMs = run.exitCode === 0 ? parseHostTime(run.stdout) : undefined;
  if (hostMs === undefined)
    return {
      check: 'clock',
      status: 'warn',
      detail: `the host's time could not be read: ${run.stderr.trim()}`,
    };
  return judgeClock(hostMs, sent, received);
}

async function checkPorts(
  executor: Executor,
  topology: ResolvedTopology,
  host: ResolvedHost,
  programs: Target['programs'],
): Promise<Omit<CheckRow, 'host'>> {
  const instances = topology.instances.filter((i) => i.host === host.host);
  if (instances.length === 0) return { check: 'ports', status: 'pass', detail: 'no ports on this host' };
  let free: boolean[];
  try {
    free = await Promise.all(instances.map((i) => executor.isPortFree(i.port)));
  } catch (error) {
    return {
      check: 'ports',
      status: 'fail',
      detail: `cannot probe ports: ${message(error)}`,
      ...hintOf(error),
    };
  }
  const busy = instances.filter((_, index) => !free[index]);
  if (busy.length === 0)
    return { check: 'ports', status: 'pass', detail: `${instances.map((i) => i.port).join(', ')} free` };
  // A deployed cluster holds its own ports: those held while its program runs are expected.
  let running = new Set<string>();
  if (programs !== undefined) {
    const states = await withTimeout(programs(host.host), PROGRAMS_TIMEOUT_MS, 'supervisord').catch(
      () => [] as ProgramStatus[],
    );
    running = new Set(states.filter((p) => p.state === 'RUNNING').map((p) => p.name));
  }
  const foreign = busy.filter((i) => !running.has(i.programName));
  const own = busy.filter((i) => running.has(i.programName));
  if (foreign.length === 0)
    return {
      check: 'ports',
      status: 'pass',
      detail: `${own.map((i) => i.port).join(', ')} held by this cluster's running members`,
    };
  return {
    check: 'ports',
    status: 'fail',
    detail: `in use: ${foreign.map((i) => i.port).join(', ')}`,
    hint: `stop what listens there (ss -ltnp on ${host.host}) or choose other ports`,
  };
}

/** Writes a value into a kernel setting file as root (directly, or through sudo). */
async function writeAsRoot(
  executor: Executor,
  facts: HostFacts,
  file: string,
  value: string,
): Promise<string> {
  const script = 'printf "%s\\n" "$1" > "$2"';
  const run =
    facts.uid === 0
      ? await executor.run('/bin/sh', ['-c', script, 'sh', value, file], { timeoutMs: FACTS_TIMEOUT_MS })
      : await executor.run('sudo', ['-n', '/bin/sh', '-c', script, 'sh', value, file], {
          timeoutMs: FACTS_TIMEOUT_MS,
        });
  if (run.exitCode !== 0) throw new Error(`cannot write ${file}: ${run.stderr.trim()}`);
  return `set ${file} to ${value} (until the next reboot)`;
}

/** What --apply does on one host; returns what it did (or why not) per check. */
async function applyFixes(
  executor: Executor,
  host: ResolvedHost,
  facts: HostFacts,
  creatable: readonly string[],
  version: string,
): Promise<Map<CheckName, string>> {
  const done = new Map<CheckName, string>();
  const created: string[] = [];
  for (const dir of creatable) {
    try {
      await executor.mkdir(dir);
      created.push(dir);
    } catch (error) {
      done.set('dirs', `could not create ${dir}: ${message(error)}`);
    }
  }
  if (created.length > 0 && !done.has('dirs')) done.set('dirs', `created ${created.join(', ')}`);
  const thpWrong = facts.thp !== undefined && selectedChoice(facts.thp) !== wantedThp(version);
  const swapWrong = facts.swappiness !== undefined && facts.swappiness > 1;
  const kernel: Array<[CheckName, boolean, string, string]> = [
    ['thp', thpWrong, THP_FILE, wantedThp(version)],
    ['swappiness', swapWrong, SWAPPINESS_FILE, '1'],
  ];
  for (const [check, wrong, file, value] of kernel) {
    if (!wrong) continue;
    if (host.local) done.set(check, 'not changed: mup changes kernel settings on remote hosts only');
    else if (facts.uid !== 0 && !facts.sudo)
      done.set(check, `not changed: needs root or passwordless sudo on ${host.host}`);
    else {
      try {
        done.set(check, await writeAsRoot(executor, facts, file, value));
      } catch (error) {
        done.set(check, `not changed: ${message(error)}`);
      }
    }
  }
  return done;
}

async function checkHost(
  target: Target,
  host: ResolvedHost,
  apply: boolean,
): Promise<Omit<CheckRow, 'host'>[]> {
  const rows: Omit<CheckRow, 'host'>[] = [];
  const executor = executorFor(host);
  if (host.local) {
    rows.push({ check: 'ssh', status: 'pass', detail: 'this machine (no SSH)' });
  } else {
    const login = `${host.user}@${host.host}:${host.sshPort}`;
    // A cut-off host drops the SYN: without this probe the login would wait out its whole connect timeout
    // (10 s) before the row could say so.
    const tcp = await checkReachable({ host: host.host, port: host.sshPort }, SSH_PORT_TIMEOUT_MS).then(
      () => undefined,
      (error: unknown) => error,
    );
    if (tcp !== undefined) {
      const unreachable = new HostUnreachableError(
        host.host,
        host.sshPort,
        /no answer within/.test(message(tcp))
          ? `no TCP connection within ${SSH_PORT_TIMEOUT_MS / 1000} s (host down, link cut or port filtered)`
          : message(tcp).replace(`${host.host}:${host.sshPort}: `, ''),
        tcp,
      );
      rows.push({ check: 'ssh', status: 'fail', detail: unreachable.message, ...hintOf(unreachable) });
      return rows;
    }
    try {
      await executor.connect?.();
      rows.push({ check: 'ssh', status: 'pass', detail: `logged in as ${login}` });
      rows.push({ check: 'host-key', status: 'pass', detail: 'known' });
    } catch (error) {
      if (error instanceof HostKeyError) {
        rows.push({ check: 'ssh', status: 'pass', detail: `${login} answers` });
        rows.push({ check: 'host-key', status: 'fail', detail: error.message, ...hintOf(error) });
      } else if (error instanceof HostAuthenticationError) {
        rows.push({ check: 'ssh', status: 'fail', detail: error.message, ...hintOf(error) });
        rows.push({ check: 'host-key', status: 'pass', detail: 'known' });
      } else rows.push({ check: 'ssh', status: 'fail', detail: message(error), ...hintOf(error) });
      return rows;
    }
  }
  const dirs = dirsOn(target.topology, host);
  let facts = await gatherFacts(executor, dirs.all);
  let applied = new Map<CheckName, string>();
  if (apply) {
    applied = await applyFixes(executor, host, facts, judgeDirs(facts, dirs.data).creatable, target.version);
    if (applied.size > 0) facts = await gatherFacts(executor, dirs.all);
  }
  const judged = judgeDirs(facts, dirs.data);
  const [supervisord, ports, clock] = await Promise.all([
    locateSupervisord(executor).then(
      (path): Omit<CheckRow, 'host'> => ({ check: 'supervisord', status: 'pass', detail: path }),
      (error): Omit<CheckRow, 'host'> => ({
        check: 'supervisord',
        status: 'fail',
        detail: error instanceof SupervisordNotFoundError ? error.message : `cannot look: ${message(error)}`,
        ...hintOf(error),
      }),
    ),
    checkPorts(executor, target.topology, host, target.programs),
    checkClock(executor),
  ]);
  rows.push(
    judgeOs(facts),
    judgeGlibc(facts),
    judgePython(facts),
    supervisord,
    ports,
    judged.dirs,
    judged.disk,
    judgeNofile(facts),
    judgeNproc(facts),
    judgeThp(facts, target.version),
    judgeSwappiness(facts),
    clock,
  );
  return rows.map((row) => {
    const note = applied.get(row.check);
    return note === undefined ? row : { ...row, applied: note };
  });
}

export async function checkCluster(
  home: string,
  target: string,
  options: CheckOptions = {},
): Promise<CheckResult> {
  const resolved = await resolveTarget(home, target, options);
  try {
    const apply = options.apply ?? false;
    const perHost = await Promise.all(
      resolved.topology.hosts.map(async (host) => {
        let rows: Omit<CheckRow, 'host'>[];
        try {
          rows = await checkHost(resolved, host, apply);
        } catch (error) {
          // The connection was lost between checks, or the host could not run the facts script.
          rows = [{ check: 'ssh', status: 'fail', detail: message(error), ...hintOf(error) }];
        }
        const order = (row: Omit<CheckRow, 'host'>) => CHECK_NAMES.indexOf(row.check);
        return rows.sort((a, b) => order(a) - order(b)).map((row) => ({ host: host.host, ...row }));
      }),
    );
    const checks = perHost.flat();
    const count = (status: CheckRow['status']) => checks.filter((row) => row.status === status).length;
    return {
      schemaVersion: 1,
      ...(resolved.cluster === undefined ? {} : { cluster: resolved.cluster }),
      ...(resolved.topologyFile === undefined ? {} : { topologyFile: resolved.topologyFile }),
      version: resolved.version,
      apply,
      checks,
      summary: { pass: count('pass'), warn: count('warn'), fail: count('fail') },
    };
  } finally {
    await resolved.close();
  }
}
