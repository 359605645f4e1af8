// Typed view of supervisord's process info struct (getProcessInfo / getAllProcessInfo).
import { SupervisorProtocolError } from './errors.js';
import type { XmlRpcValue } from './xmlrpc.js';

/** supervisord process states (supervisor/states.py). */
export const ProcessState = {
  STOPPED: 0,
  STARTING: 10,
  RUNNING: 20,
  BACKOFF: 30,
  STOPPING: 40,
  EXITED: 100,
  FATAL: 200,
  UNKNOWN: 1000,
} as const;
export type ProcessStateName = keyof typeof ProcessState;

const STATE_NAMES = new Map<number, ProcessStateName>(
  Object.entries(ProcessState).map(([name, code]) => [code, name as ProcessStateName]),
);

/** States in which supervisord considers the process started (startProcess answers ALREADY_STARTED). */
export function isRunningState(state: ProcessStateName): boolean {
  return state === 'STARTING' || state === 'RUNNING' || state === 'BACKOFF';
}

export interface ProcessInfo {
  /** Program name, e.g. `mongod-30001`. */
  name: string;
  /** Its group: the program itself, or a `[group:...]`. */
  group: string;
  /** `group:name`: addresses the process unambiguously in every API call. */
  fullName: string;
  state: ProcessStateName;
  /** Process id; 0 when not running. */
  pid: number;
  /** Epoch seconds of the last start, 0 if never started. */
  start: number;
  /** Epoch seconds of the last stop, 0 if never stopped. */
  stop: number;
  /** The daemon's clock (epoch seconds) when this was read. */
  now: number;
  /** Seconds since start while running, else 0. */
  uptimeSeconds: number;
  /** Exit status of the last exit (-1 for a signal death); reset to 0 by a respawn. */
  exitStatus: number;
  /** Why the last spawn failed, if it did. */
  spawnError: string;
  /** supervisord's human description (`pid 7581, uptime 0:00:05`, `Exited too quickly ...`). */
  description: string;
  stdoutLogfile: string;
}

export function toProcessInfo(struct: Record<string, XmlRpcValue>): ProcessInfo {
  const name = str(struct, 'name');
  const group = str(struct, 'group');
  const stateCode = num(struct, 'state');
  const state = STATE_NAMES.get(stateCode) ?? 'UNKNOWN';
  const start = num(struct, 'start');
  const now = num(struct, 'now');
  const pid = num(struct, 'pid');
  return {
    name,
    group,
    fullName: `${group}:${name}`,
    state,
    pid,
    start,
    stop: num(struct, 'stop'),
    now,
    uptimeSeconds: state === 'RUNNING' && start > 0 ? Math.max(0, now - start) : 0,
    exitStatus: num(struct, 'exitstatus'),
    spawnError: str(struct, 'spawnerr'),
    description: str(struct, 'description'),
    stdoutLogfile: str(struct, 'stdout_logfile'),
  };
}

function str(struct: Record<string, XmlRpcValue>, key: string): string {
  const value = struct[key];
  if (typeof value !== 'string')
    throw new SupervisorProtocolError('supervisord', `process info lacks ${key}`);
  return value;
}

function num(struct: Record<string, XmlRpcValue>, key: string): number {
  const value = struct[key];
  if (typeof value !== 'number')
    throw new SupervisorProtocolError('supervisord', `process info lacks ${key}`);
  return value;
}
