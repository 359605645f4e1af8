// Lifecycle of one cluster's supervisord on one host, entirely through the Executor (so the SSH executor
// reuses it, reaching the loopback API through forwardPort): find a port, ensure it runs, identify it,
// detect orphans, shut it down cleanly.
import { MupError } from '../errors.js';
import type { Executor, ForwardedPort } from '../hosts/executor.js';
import {
  supervisordLogPath,
  supervisordPidPath,
  supervisorIdentifier,
  supervisorIniPath,
} from '../render/supervisor-ini.js';
import { type DaemonOverview, SupervisorClient } from './client.js';
import {
  Fault,
  isFault,
  SupervisorAuthError,
  SupervisorCredentialsMismatchError,
  SupervisordStartError,
  SupervisorFault,
  SupervisorPortTakenError,
  SupervisorProtocolError,
  SupervisorUnreachableError,
} from './errors.js';
import { locateSupervisord } from './locate.js';
import { findOrphans, type Orphan, type OrphanProbe, waitForPidExit } from './orphans.js';
import { describeOwner, findPortOwner } from './port-owner.js';
import { isRunningState } from './process-info.js';
import { ProgramControl, type ProgramStatus, programStatuses, STATUS_LOG_BYTES } from './programs.js';

export const SUPERVISOR_BASE_PORT = 9001;

export interface SupervisorDaemonConfig {
  cluster: string;
  /** Directory holding supervisor.ini, supervisord.log and supervisord.pid on the host. */
  supervisorDir: string;
  httpPort: number;
  username: string;
  password: string;
}

export interface SupervisorDaemonOptions {
  /** supervisord executable on the host; located (MUP_SUPERVISORD, PATH) when absent. */
  supervisordPath?: string;
  /** Timeout of ordinary API calls. */
  callTimeoutMs?: number;
  /** How long a freshly started daemon may take to answer. */
  startTimeoutMs?: number;
}

export type DaemonProbe =
  | { kind: 'running'; pid: number }
  | { kind: 'down' }
  /** Answering SHUTDOWN_STATE: it is stopping its programs and will exit. */
  | { kind: 'stopping' }
  /** Something else answers on the port: another cluster's daemon, another program. */
  | { kind: 'foreign'; owner: string | undefined };

export interface EnsureRunningResult {
  /** True when this call launched the daemon. */
  started: boolean;
  pid: number;
  /**
   * Processes holding a port or dbPath of a program supervisord does not run: left by a killed daemon (or
   * started by hand). Starting those programs would fail; the caller adopts or stops them (stopOrphan).
   */
  orphans: Orphan[];
}

export class SupervisorDaemon {
  readonly executor: Executor;
  readonly config: SupervisorDaemonConfig;
  private readonly options: SupervisorDaemonOptions;
  private forwarded: Promise<ForwardedPort> | undefined;
  private clientPromise: Promise<SupervisorClient> | undefined;

  constructor(executor: Executor, config: SupervisorDaemonConfig, options: SupervisorDaemonOptions = {}) {
    this.executor = executor;
    this.config = config;
    this.options = options;
  }

  get iniPath(): string {
    return supervisorIniPath(this.config.supervisorDir);
  }
  get logPath(): string {
    return supervisordLogPath(this.config.supervisorDir);
  }
  get pidPath(): string {
    return supervisordPidPath(this.config.supervisorDir);
  }
  get identifier(): string {
    return supervisorIdentifier(this.config.cluster);
  }

  /** The API client, reaching 127.0.0.1:<httpPort> of the host (directly, or through the executor's tunnel). */
  client(): Promise<SupervisorClient> {
    if (this.clientPromise === undefined) {
      const created = (async () => {
        const forwarded = await this.forward();
        return new SupervisorClient(
          {
            host: forwarded.host,
            port: forwarded.port,
            username: this.config.username,
            password: this.config.password,
          },
          { timeoutMs: this.options.callTimeoutMs ?? 10_000 },
        );
      })();
      // A failed tunnel must not be cached: the next call tries again.
      created.catch(() => {
        if (this.clientPromise === created) {
          this.clientPromise = undefined;
          this.forwarded = undefined;
        }
      });
      this.clientPromise = created;
    }
    return this.clientPromise;
  }

  /** Program operations (start/stop/restart/status) on this daemon. */
  async programs(): Promise<ProgramControl> {
    return new ProgramControl(await this.client(), this.executor);
  }

  private forward(): Promise<ForwardedPort> {
    if (this.forwarded === undefined) {
      const { executor } = this;
      if (executor.forwardPort === undefined) {
        throw new MupError(
          `cannot reach supervisord on ${executor.host}: the executor has no port forwarding`,
        );
      }
      this.forwarded = executor.forwardPort(this.config.httpPort);
    }
    return this.forwarded;
  }

  /** Releases the tunnel (remote hosts). The daemon keeps running. */
  async close(): Promise<void> {
    const forwarded = this.forwarded;
    this.forwarded = undefined;
    this.clientPromise = undefined;
    if (forwarded !== undefined) await (await forwarded).close();
  }

  /** Writes supervisor.ini atomically, mode 0600 (it holds the API password), in a 0700 directory. */
  async writeConfig(text: string): Promise<void> {
    await this.executor.mkdir(this.config.supervisorDir, 0o700);
    await this.executor.writeFile(this.iniPath, text, 0o600);
  }

  /** Who answers on the cluster's API port. */
  /**
   * probe() and every program's status in one API request when the daemon is ours and answers (display's
   * case); anything else (down, a foreign owner, refused credentials, stopping) is classified by probe().
   */
  async snapshot(): Promise<{ probe: DaemonProbe; programs: ProgramStatus[] }> {
    let overview: DaemonOverview;
    try {
      overview = await (await this.client()).overview(STATUS_LOG_BYTES, { timeoutMs: 3000 });
    } catch {
      return { probe: await this.probe(), programs: [] };
    }
    if (overview.identification !== this.identifier || overview.pid === undefined)
      return { probe: await this.probe(), programs: [] };
    if (overview.infos instanceof SupervisorFault) throw overview.infos;
    return {
      probe: { kind: 'running', pid: overview.pid },
      programs: programStatuses(overview.infos, overview.log ?? ''),
    };
  }

  async probe(): Promise<DaemonProbe> {
    const client = await this.client();
    try {
      const identification = await client.getIdentification({ timeoutMs: 3000 });
      if (identification !== this.identifier) {
        return { kind: 'foreign', owner: `supervisord "${identification}"${await this.ownerSuffix()}` };
      }
      return { kind: 'running', pid: await client.getPID({ timeoutMs: 3000 }) };
    } catch (error) {
      if (error instanceof SupervisorAuthError || error instanceof SupervisorProtocolError) {
        const owner = await findPortOwner(this.executor, this.config.httpPort);
        // Our own daemon (run with our supervisor.ini) refusing our password is not "someone else's port":
        // treating it so would stop its members as orphans and start a second daemon beside it.
        if (error instanceof SupervisorAuthError && owner?.command?.includes(this.iniPath))
          throw new SupervisorCredentialsMismatchError(this.executor.host, this.iniPath, owner.pid);
        return { kind: 'foreign', owner: describeOwner(owner) };
      }
      if (isFault(error, Fault.SHUTDOWN_STATE)) return { kind: 'stopping' };
      if (error instanceof SupervisorUnreachableError) {
        if (await this.executor.isPortFree(this.config.httpPort)) return { kind: 'down' };
        return {
          kind: 'foreign',
          owner: describeOwner(await findPortOwner(this.executor, this.config.httpPort)),
        };
      }
      throw error;
    }
  }

  private async ownerSuffix(): Promise<string> {
    const owner = await findPortOwner(this.executor, this.config.httpPort);
    return owner === undefined ? '' : ` (pid ${owner.pid})`;
  }

  /**
   * Makes sure this cluster's daemon answers: identify → else start `supervisord -c` → verify. Then reports
   * orphans among `probes` (programs the daemon does not run whose port or dbPath is held by a live process).
   */
  async ensureRunning(probes: readonly OrphanProbe[] = []): Promise<EnsureRunningResult> {
    let probe = await this.probe();
    let started = false;
    if (probe.kind === 'stopping') probe = await this.waitUntilGone();
    if (probe.kind === 'foreign') {
      throw new SupervisorPortTakenError(this.executor.host, this.config.httpPort, probe.owner);
    }
    if (probe.kind === 'down') {
      await this.start();
      started = true;
      probe = await this.waitUntilAnswering();
    }
    return { started, pid: probe.pid, orphans: await this.findOrphans(probes) };
  }

  private async start(): Promise<void> {
    const { executor } = this;
    if (!(await executor.exists(this.iniPath))) {
      throw new MupError(`${this.iniPath} does not exist on ${executor.host}`, {
        hint: 'the supervisor config must be written before the daemon starts',
      });
    }
    const supervisord = this.options.supervisordPath ?? (await locateSupervisord(executor));
    // In daemon mode supervisord binds its port before forking, so rc 0 means it is listening.
    const result = await executor.run(supervisord, ['-c', this.iniPath], {
      timeoutMs: 30_000,
      cwd: this.config.supervisorDir,
    });
    if (result.exitCode === 0) return;
    const output = `${result.stderr}\n${result.stdout}`.trim();
    if (/already listening/i.test(output)) {
      const owner = describeOwner(await findPortOwner(executor, this.config.httpPort));
      throw new SupervisorPortTakenError(executor.host, this.config.httpPort, owner);
    }
    throw new SupervisordStartError(executor.host, output === '' ? `exit code ${result.exitCode}` : output);
  }

  private async waitUntilAnswering(): Promise<{ kind: 'running'; pid: number }> {
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 15_000);
    let last: DaemonProbe | undefined;
    while (Date.now() < deadline) {
      last = await this.probe();
      if (last.kind === 'running') return last;
      if (last.kind === 'foreign') {
        throw new SupervisorPortTakenError(this.executor.host, this.config.httpPort, last.owner);
      }
      await sleep(100);
    }
    throw new SupervisordStartError(
      this.executor.host,
      `the API on port ${this.config.httpPort} did not answer`,
    );
  }

  /** Waits (bounded) for a daemon that is shutting down to release its port. */
  private async waitUntilGone(timeoutMs = 60_000): Promise<Exclude<DaemonProbe, { kind: 'stopping' }>> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const probe = await this.probe();
      if (probe.kind !== 'stopping') return probe;
      if (Date.now() >= deadline) {
        throw new MupError(
          `supervisord on ${this.executor.host} is still shutting down after ${timeoutMs} ms`,
          {
            hint: `see ${this.logPath}`,
          },
        );
      }
      await sleep(200);
    }
  }

  /** The daemon's pid from the API (the pidfile may still hold a previous daemon's pid right after a start). */
  async pid(): Promise<number> {
    return (await this.client()).getPID();
  }

  /** Live processes on ports/dbPaths of programs that this daemon does not run. */
  async findOrphans(probes: readonly OrphanProbe[]): Promise<Orphan[]> {
    if (probes.length === 0) return [];
    const infos = await (await this.client()).getAllProcessInfo();
    const supervised = new Set(infos.filter((info) => info.pid > 0).map((info) => info.pid));
    const running = new Set(infos.filter((info) => isRunningState(info.state)).map((info) => info.name));
    const candidates = probes.filter((probe) => !running.has(probe.program));
    const orphans = await findOrphans(this.executor, candidates);
    return orphans.filter((orphan) => !supervised.has(orphan.pid));
  }

  /**
   * Clean shutdown: stop every program in parallel (supervisord itself would stop groups one at a time, about
   * a second each), then shut the daemon down and wait for its pid to go. No-op when it is not running.
   */
  async shutdown(options: { stopTimeoutMs?: number; exitTimeoutMs?: number } = {}): Promise<void> {
    let probe = await this.probe();
    if (probe.kind === 'stopping') probe = await this.waitUntilGone(options.exitTimeoutMs);
    if (probe.kind === 'down') return;
    if (probe.kind === 'foreign') {
      throw new SupervisorPortTakenError(this.executor.host, this.config.httpPort, probe.owner);
    }
    const client = await this.client();
    const infos = await client.getAllProcessInfo();
    const stopTimeoutMs = options.stopTimeoutMs ?? 330_000;
    await Promise.all(
      infos
        .filter((info) => isRunningState(info.state))
        .map((info) =>
          client.stopProcess(info.fullName, true, { timeoutMs: stopTimeoutMs }).catch((error: unknown) => {
            if (!isFault(error, Fault.NOT_RUNNING)) throw error;
          }),
        ),
    );
    try {
      await client.shutdown();
    } catch (error) {
      // Already shutting down, or it closed the connection while answering: both mean it is going.
      if (!isFault(error, Fault.SHUTDOWN_STATE) && !(error instanceof SupervisorUnreachableError))
        throw error;
    }
    if (!(await waitForPidExit(this.executor, probe.pid, options.exitTimeoutMs ?? 60_000))) {
      throw new MupError(
        `supervisord (pid ${probe.pid}) on ${this.executor.host} did not exit after shutdown`,
        {
          hint: `see ${this.logPath}`,
        },
      );
    }
  }
}

/**
 * First port from `base` that is free on the host and not reserved (ports recorded for other clusters, which
 * may be down right now).
 */
export async function allocateSupervisorPort(
  executor: Executor,
  options: { base?: number; reserved?: Iterable<number>; attempts?: number } = {},
): Promise<number> {
  const base = options.base ?? SUPERVISOR_BASE_PORT;
  const reserved = new Set(options.reserved ?? []);
  const attempts = options.attempts ?? 1000;
  for (let port = base; port < base + attempts && port <= 65535; port++) {
    if (reserved.has(port)) continue;
    if (await executor.isPortFree(port)) return port;
  }
  throw new MupError(`no free supervisor port on ${executor.host} in ${base}-${base + attempts - 1}`, {
    hint: 'free a port in that range or choose another base',
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
