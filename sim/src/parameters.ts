// Server parameters whose existence or value rules depend on the program and version, in one place for
// startup (--setParameter / config file setParameter map), setParameter and getParameter.
//
// shutdownTimeoutMillisForSignaledShutdown (mongod) and mongosShutdownTimeoutMillisForSignaledShutdown
// (mongos) exist from 4.5.0, so on the 5.0+ releases only: "the time taken for stepdown and quiesce mode at
// shutdown in response to SIGTERM". Both are ints, settable at startup and at runtime, bounded >= 0, default
// 15000 ms (MongoDB manual, server parameters; repl_server_parameters.idl, mongos_server_parameters.idl).
// On 4.4 and earlier they are unknown parameters like any other. Reference §5.7.
import { Double, Int32, Long } from 'bson';
import { atLeast, type Program, type VersionInfo } from './version.js';

export const SHUTDOWN_TIMEOUT_PARAMETER = {
  mongod: 'shutdownTimeoutMillisForSignaledShutdown',
  mongos: 'mongosShutdownTimeoutMillisForSignaledShutdown',
} as const;

export const DEFAULT_SIGNALED_SHUTDOWN_TIMEOUT_MS = 15_000;

/** Quiesce mode at shutdown and the parameters that bound it exist from 5.0 (§5.7). */
export const hasQuiesceMode = (v: VersionInfo): boolean => atLeast(v, 5, 0);

/** The parameters whose existence depends on the program and version. */
const VERSIONED = new Set<string>(Object.values(SHUTDOWN_TIMEOUT_PARAMETER));

/** Whether `name` is one of the parameters whose existence this module decides. */
export function isVersionedParameter(name: string): boolean {
  return VERSIONED.has(name);
}

/** Whether a versioned parameter exists on this program and version. */
export function versionedParameterExists(name: string, program: Program, version: VersionInfo): boolean {
  return hasQuiesceMode(version) && SHUTDOWN_TIMEOUT_PARAMETER[program] === name;
}

export class ParameterValueError extends Error {
  readonly code: number;
  readonly codeName: string;
  constructor(code: number, codeName: string, message: string) {
    super(message);
    this.name = 'ParameterValueError';
    this.code = code;
    this.codeName = codeName;
  }
}

/**
 * Validates and normalises a value for a versioned parameter, from the command line (a string) or from
 * the setParameter command (a BSON number). Integers only; the IDL validator `gte: 0` refuses negatives
 * with BadValue.
 */
export function normaliseVersionedParameter(name: string, raw: unknown): Int32 {
  let n: number;
  if (typeof raw === 'string') {
    if (!/^-?\d+$/.test(raw.trim())) {
      throw new ParameterValueError(
        9,
        'FailedToParse',
        `Failed to parse value for parameter ${name}: '${raw}' is not a valid integer`,
      );
    }
    n = Number(raw.trim());
  } else if (typeof raw === 'number') {
    n = raw;
  } else if (raw instanceof Long) {
    n = raw.toNumber();
  } else if (raw instanceof Int32 || raw instanceof Double) {
    n = raw.value;
  } else {
    n = Number.NaN;
  }
  if (!Number.isFinite(n) || !Number.isInteger(n) || n > 2 ** 31 - 1) {
    throw new ParameterValueError(
      14,
      'TypeMismatch',
      `Invalid value for parameter ${name}: expected an integer`,
    );
  }
  if (n < 0) {
    throw new ParameterValueError(
      2,
      'BadValue',
      `Invalid value for parameter ${name}: ${n} is not greater than or equal to 0`,
    );
  }
  return new Int32(n);
}

/** The signaled-shutdown timeout in ms for this process: its parameter, else the 15 s default. */
export function signaledShutdownTimeoutMs(
  program: Program,
  parameters: ReadonlyMap<string, unknown>,
): number {
  const v = parameters.get(SHUTDOWN_TIMEOUT_PARAMETER[program]);
  const n = v instanceof Int32 ? v.value : typeof v === 'number' ? v : Number(v);
  return v !== undefined && Number.isFinite(n) && n >= 0 ? n : DEFAULT_SIGNALED_SHUTDOWN_TIMEOUT_MS;
}
