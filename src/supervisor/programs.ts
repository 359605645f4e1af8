// Start, stop, restart and inspect supervised programs, with failures explained by the program's own output
// and the MongoDB log.
import type { Executor } from '../hosts/executor.js';
import type { SupervisorClient } from './client.js';
import { Fault, faultName, isFault, ProgramError, type ProgramFailure, SupervisorFault } from './errors.js';
import { findOrphans } from './orphans.js';
import { isRunningState, type ProcessInfo } from './process-info.js';
import { countUnexpectedExits, logMentions, restartCount } from './restarts.js';

/** How much of the daemon log's end `status` reads for crash exits. */
export const STATUS_LOG_BYTES = 1024 * 1024;

/** Each program's info with its restart count from the daemon log (see ProgramControl.status). */
export function programStatuses(
  infos: readonly ProcessInfo[],
  log: string,
  previous: readonly ProgramStatus[] = [],
): ProgramStatus[] {
  const before = new Map(previous.map((status) => [status.fullName, status]));
  return infos.map((info) => ({
    ...info,
    restarts: restartCount(
      logMentions(log, info.name) ? countUnexpectedExits(log, info.name) : undefined,
      before.get(info.fullName),
      info,
    ),
  }));
}

/** How to address one program and where its evidence lies. */
export interface ProgramRef {
  /** Program name, e.g. `mongod-30001`. */
  name: string;
  /** The `[group:...]` holding it; looked up from the daemon when absent. */
  group?: string | undefined;
  /** MongoDB's own log (systemLog.path), read on the host for failure reports. */
  logFile?: string | undefined;
  /** Captured output file; used when the API cannot tail it. */
  outputFile?: string | undefined;
  /** The program's startsecs, to size the wait for RUNNING. */
  startsecs?: number | undefined;
  /** The program's stopwaitsecs, to size the wait for a stop. */
  stopwaitsecs?: number | undefined;
  /** Its server port: checked free before a start (an orphan may hold it). */
  port?: number | undefined;
  /** Its dbPath: checked for a live pid in mongod.lock before a start. */
  dataDir?: string | undefined;
}

/** `group:name`, which every API call accepts for grouped and ungrouped programs alike. */
export function processName(ref: ProgramRef): string {
  return `${ref.group ?? ref.name}:${ref.name}`;
}

/** The ref with its group filled in from the daemon (an ungrouped program is its own group). */
async function withGroup(client: SupervisorClient, ref: ProgramRef): Promise<ProgramRef> {
  if (ref.group !== undefined) return ref;
  const found = (await client.getAllProcessInfo()).find((info) => info.name === ref.name);
  return { ...ref, group: found?.group ?? ref.name };
}

export interface ProgramStatus extends ProcessInfo {
  /** Unexpected exits (crashes, kills) that supervisord restarted since the program was last stopped. */
  restarts: number;
}

const TAIL_BYTES = 4096;
const TAIL_LINES = 20;

export class ProgramControl {
  constructor(
    private readonly client: SupervisorClient,
    private readonly executor: Executor,
  ) {}

  /**
   * Starts the program and resolves once it is RUNNING (up for startsecs); already running is success.
   * A live process on its port or in its mongod.lock (an orphan of a killed daemon) fails the start before
   * supervisord would spawn a second server against the same port and data.
   */
  async start(program: ProgramRef): Promise<ProcessInfo> {
    const ref = await withGroup(this.client, program);
    const name = processName(ref);
    const startsecs = ref.startsecs ?? 5;
    await this.refuseOrphan(ref);
    // startProcess(wait) answers after startsecs, or at the first early exit.
    const timeoutMs = (startsecs + 30) * 1000;
    try {
      await this.client.startProcess(name, true, { timeoutMs });
    } catch (error) {
      if (!isFault(error, Fault.ALREADY_STARTED)) {
        const explained = await this.explain(ref, error);
        // After an early exit supervisord keeps retrying in the background; end that so the program is
        // left in one definite state (STOPPED) with its output kept.
        if (isFault(error, Fault.SPAWN_ERROR))
          await this.client.stopProcess(name, true).catch(() => undefined);
        throw explained;
      }
    }
    return this.waitForRunning(ref, timeoutMs + (startsecs + 1) * 4000);
  }

  /** Stops the program (TERM, then KILL after stopwaitsecs); not running is success. */
  async stop(program: ProgramRef): Promise<ProcessInfo> {
    const ref = await withGroup(this.client, program);
    const name = processName(ref);
    const timeoutMs = ((ref.stopwaitsecs ?? 300) + 30) * 1000;
    try {
      await this.client.stopProcess(name, true, { timeoutMs });
    } catch (error) {
      if (!isFault(error, Fault.NOT_RUNNING)) throw await this.explain(ref, error, 'stop-failed');
    }
    return this.client.getProcessInfo(name);
  }

  /** Stop then start: supervisord has no per-process restart, and its daemon-wide restart stops everything. */
  async restart(program: ProgramRef): Promise<ProcessInfo> {
    const ref = await withGroup(this.client, program);
    await this.stop(ref);
    return this.start(ref);
  }

  async info(program: ProgramRef): Promise<ProcessInfo> {
    const ref = await withGroup(this.client, program);
    try {
      return await this.client.getProcessInfo(processName(ref));
    } catch (error) {
      throw await this.explain(ref, error);
    }
  }

  /**
   * Every program with its state, pid, uptime, exit status and restart count. Pass the previous result when
   * polling, so respawns seen between the two calls still count when the daemon log no longer shows them.
   */
  async status(previous: readonly ProgramStatus[] = []): Promise<ProgramStatus[]> {
    const [infos, log] = await Promise.all([
      this.client.getAllProcessInfo(),
      // The daemon log is the only record of crash exits (a respawn resets exitstatus).
      this.client.readLog(-STATUS_LOG_BYTES, 0).catch(() => ''),
    ]);
    return programStatuses(infos, log, previous);
  }

  private async refuseOrphan(ref: ProgramRef): Promise<void> {
    if (ref.port === undefined) return;
    const current = await this.info(ref);
    if (isRunningState(current.state)) return;
    const orphans = await findOrphans(this.executor, [
      { program: ref.name, port: ref.port, dataDir: ref.dataDir },
    ]);
    const orphan = orphans[0];
    if (orphan === undefined) return;
    const what = orphan.foundBy.includes('port') ? `port ${ref.port} is in use` : `${ref.dataDir} is locked`;
    const by = orphan.command === undefined ? `pid ${orphan.pid}` : `pid ${orphan.pid} (${orphan.command})`;
    throw new ProgramError(
      ref.name,
      'held-by-another-process',
      `${what} by ${by}, which supervisord does not run`,
    );
  }

  private async waitForRunning(ref: ProgramRef, timeoutMs: number): Promise<ProcessInfo> {
    const name = processName(ref);
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const info = await this.client.getProcessInfo(name);
      if (info.state === 'RUNNING') return info;
      if (!isRunningState(info.state)) {
        throw await this.failure(ref, 'exited-during-startup', `is ${info.state}: ${info.description}`);
      }
      if (Date.now() >= deadline) {
        throw await this.failure(ref, 'did-not-reach-running', `still ${info.state} after ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  private async explain(ref: ProgramRef, error: unknown, fallback?: ProgramFailure): Promise<unknown> {
    if (!(error instanceof SupervisorFault)) return error;
    const failure = FAILURES.get(error.code) ?? fallback;
    if (failure === undefined) return error;
    // NO_FILE / NOT_EXECUTABLE details name the command; the others only repeat the program name.
    const detail = DESCRIPTIONS.get(error.code) ?? error.detail;
    return this.failure(ref, failure, `${detail} (supervisord ${faultName(error.code)})`, error);
  }

  private async failure(ref: ProgramRef, failure: ProgramFailure, detail: string, cause?: unknown) {
    const [output, log] = await Promise.all([this.outputTail(ref), this.logTail(ref)]);
    return new ProgramError(ref.name, failure, detail, { output, log }, cause);
  }

  private async outputTail(ref: ProgramRef): Promise<string> {
    try {
      return lastLines((await this.client.tailProcessStdoutLog(processName(ref), 0, TAIL_BYTES)).bytes);
    } catch {
      if (ref.outputFile === undefined) return '';
      return lastLines(
        (await this.executor.tailFile(ref.outputFile, TAIL_BYTES).catch(() => undefined)) ?? '',
      );
    }
  }

  private async logTail(ref: ProgramRef): Promise<string> {
    if (ref.logFile === undefined) return '';
    return lastLines((await this.executor.tailFile(ref.logFile, TAIL_BYTES).catch(() => undefined)) ?? '');
  }
}

const FAILURES = new Map<number, ProgramFailure>([
  [Fault.SPAWN_ERROR, 'exited-during-startup'],
  [Fault.NO_FILE, 'no-such-binary'],
  [Fault.NOT_EXECUTABLE, 'not-executable'],
  [Fault.ABNORMAL_TERMINATION, 'stopped-while-starting'],
  [Fault.BAD_NAME, 'unknown-program'],
]);

const DESCRIPTIONS = new Map<number, string>([
  [Fault.SPAWN_ERROR, 'exited during startup, before it was up for startsecs'],
  [Fault.ABNORMAL_TERMINATION, 'was stopped while starting'],
  [Fault.BAD_NAME, 'no such program in supervisor.ini'],
]);

function lastLines(text: string, count = TAIL_LINES): string {
  const lines = text.trimEnd().split('\n');
  // The first line of a byte-sized tail is usually cut in the middle.
  const whole = text.length >= TAIL_BYTES ? lines.slice(1) : lines;
  return whole.slice(-count).join('\n');
}
