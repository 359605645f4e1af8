// When each server parameter may be set: at startup only (--setParameter / the config file's
// setParameter map) or also at runtime with the setParameter command, on which programs, with which
// default getParameter shows. mongod refuses a startup-only parameter at runtime with 20
// IllegalOperation "not allowed to change [<name>] at runtime" (setParameter command,
// src/mongo/db/commands/parameters.cpp; releases before the uassert answered the same text without a
// code). The per-parameter facts are from the MongoDB manual, "MongoDB Server Parameters"
// (https://www.mongodb.com/docs/manual/reference/parameters/), where each entry says "This parameter is
// only available at startup" or that it is available both at runtime and at startup; the IDL files
// (`set_at: startup` / `set_at: [startup, runtime]`) say the same.
import { Int32, Long } from 'bson';
import { atLeast, type Program, type VersionInfo } from './version.js';

export type SetAt = 'startup' | 'startupAndRuntime';

export interface ParameterFact {
  readonly setAt: SetAt;
  /** Programs that know the parameter; anything else treats it as unknown. */
  readonly programs: readonly Program[];
  /** What getParameter shows when it was not set. */
  readonly defaultValue: () => unknown;
  /** First release series that has it, when newer than 3.6. */
  readonly since?: readonly [number, number];
}

const BOTH: readonly Program[] = ['mongod', 'mongos'];
const MONGOD: readonly Program[] = ['mongod'];
const MONGOS: readonly Program[] = ['mongos'];

const int = (n: number) => () => new Int32(n);
const long = (n: number) => () => Long.fromNumber(n);
const bool = (b: boolean) => () => b;

const fact = (
  setAt: SetAt,
  programs: readonly Program[],
  defaultValue: () => unknown,
  since?: readonly [number, number],
): ParameterFact => ({ setAt, programs, defaultValue, ...(since ? { since } : {}) });

/**
 * Manual anchors are https://www.mongodb.com/docs/manual/reference/parameters/#mongodb-parameter-param.<name>.
 * Only parameters the simulator accepts at startup (options.ts) or that mup sets are listed.
 */
export const PARAMETER_FACTS: Readonly<Record<string, ParameterFact>> = {
  // Startup only.
  enableTestCommands: fact('startup', BOTH, bool(false)),
  enableLocalhostAuthBypass: fact('startup', BOTH, bool(true)),
  authenticationMechanisms: fact('startup', BOTH, () => ['SCRAM-SHA-1', 'SCRAM-SHA-256']),
  replWriterThreadCount: fact('startup', MONGOD, int(16)),
  replElectionTimeoutOffsetLimitFraction: fact('startup', MONGOD, () => 0.15),
  writePeriodicNoops: fact('startup', MONGOD, bool(true)),
  periodicNoopIntervalSecs: fact('startup', MONGOD, int(10)),
  disableLogicalSessionCacheRefresh: fact('startup', BOTH, bool(false)),
  logicalSessionRefreshMillis: fact('startup', BOTH, int(300_000)),
  localLogicalSessionTimeoutMinutes: fact('startup', BOTH, int(30)),
  oplogFetcherUsesExhaust: fact('startup', MONGOD, bool(true), [4, 4]),
  honorSystemUmask: fact('startup', MONGOD, bool(false)),
  heapProfilingEnabled: fact('startup', BOTH, bool(false)),
  connPoolMaxConnsPerHost: fact('startup', BOTH, int(200)),
  initialSyncMethod: fact('startup', MONGOD, () => 'logical', [5, 2]),
  allowMultipleArbiters: fact('startup', MONGOD, bool(false), [5, 3]),
  // Startup and runtime.
  logLevel: fact('startupAndRuntime', BOTH, int(0)),
  logComponentVerbosity: fact('startupAndRuntime', BOTH, () => ({ verbosity: 0 })),
  quiet: fact('startupAndRuntime', BOTH, bool(false)),
  maxLogSizeKB: fact('startupAndRuntime', BOTH, int(10)),
  diagnosticDataCollectionEnabled: fact('startupAndRuntime', BOTH, bool(true)),
  cursorTimeoutMillis: fact('startupAndRuntime', BOTH, long(600_000)),
  scramIterationCount: fact('startupAndRuntime', BOTH, int(10_000)),
  scramSHA256IterationCount: fact('startupAndRuntime', BOTH, int(15_000), [4, 0]),
  notablescan: fact('startupAndRuntime', MONGOD, bool(false)),
  ttlMonitorEnabled: fact('startupAndRuntime', MONGOD, bool(true)),
  transactionLifetimeLimitSeconds: fact('startupAndRuntime', MONGOD, int(60), [4, 0]),
  maxTransactionLockRequestTimeoutMillis: fact('startupAndRuntime', MONGOD, int(5), [4, 0]),
  numInitialSyncAttempts: fact('startupAndRuntime', MONGOD, int(10)),
  waitForSecondaryBeforeNoopWriteMS: fact('startupAndRuntime', MONGOD, int(10)),
  wiredTigerConcurrentReadTransactions: fact('startupAndRuntime', MONGOD, int(128)),
  wiredTigerConcurrentWriteTransactions: fact('startupAndRuntime', MONGOD, int(128)),
  internalQueryExecMaxBlockingSortBytes: fact('startupAndRuntime', MONGOD, int(100 * 1024 * 1024)),
  maxIndexBuildMemoryUsageMegabytes: fact('startupAndRuntime', MONGOD, int(200)),
  enableFlowControl: fact('startupAndRuntime', MONGOD, bool(true), [4, 2]),
  watchdogPeriodSeconds: fact('startupAndRuntime', MONGOD, int(-1)),
  tcmallocReleaseRate: fact('startupAndRuntime', BOTH, () => 1.0),
  ShardingTaskExecutorPoolMinSize: fact('startupAndRuntime', BOTH, int(1)),
  ShardingTaskExecutorPoolMaxSize: fact('startupAndRuntime', BOTH, () =>
    Long.fromString('9223372036854775807'),
  ),
  minSnapshotHistoryWindowInSeconds: fact('startupAndRuntime', MONGOD, int(300), [5, 0]),
  shutdownTimeoutMillisForSignaledShutdown: fact('startupAndRuntime', MONGOD, int(15_000), [5, 0]),
  mongosShutdownTimeoutMillisForSignaledShutdown: fact('startupAndRuntime', MONGOS, int(15_000), [5, 0]),
};

/** The facts of `name` on this program and version, or undefined when it does not exist there. */
export function parameterFact(
  name: string,
  program: Program,
  version: VersionInfo,
): ParameterFact | undefined {
  const f = PARAMETER_FACTS[name];
  if (!f?.programs.includes(program)) return undefined;
  if (f.since && !atLeast(version, f.since[0], f.since[1])) return undefined;
  return f;
}

/** Text of the refusal of a startup-only parameter by the setParameter command. */
export function notSettableAtRuntimeText(name: string): string {
  return `not allowed to change [${name}] at runtime`;
}
