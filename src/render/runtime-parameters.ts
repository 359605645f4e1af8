// Which server parameters the `setParameter` command may change on a running process, per program and
// version: `cluster reload` applies a change to only these without a restart. Everything else under a
// config file's `setParameter` is read at startup only (the command answers 20 IllegalOperation "not allowed
// to change [name] at runtime"), so a change to it restarts the process.
//
// Source: the MongoDB manual, "MongoDB Server Parameters"
// (https://www.mongodb.com/docs/manual/reference/parameters/ and the per-series pages), where each entry
// says "available both at runtime and at startup"; the server's IDL files say the same with
// `set_at: [startup, runtime]`. A parameter missing here is treated as startup-only: a restart is always
// correct, a runtime change of a startup-only parameter is refused by the server.
import { isAtLeast, type MongoVersion } from './mongo-version.js';

type Program = 'mongod' | 'mongos';

interface RuntimeParameter {
  programs: readonly Program[];
  /** First version that has the parameter (major.minor.patch), when newer than 3.6. */
  since?: string;
}

const BOTH: readonly Program[] = ['mongod', 'mongos'];
const MONGOD: readonly Program[] = ['mongod'];
const MONGOS: readonly Program[] = ['mongos'];

const RUNTIME_PARAMETERS: Readonly<Record<string, RuntimeParameter>> = {
  logLevel: { programs: BOTH },
  logComponentVerbosity: { programs: BOTH },
  quiet: { programs: BOTH },
  maxLogSizeKB: { programs: BOTH },
  diagnosticDataCollectionEnabled: { programs: BOTH },
  cursorTimeoutMillis: { programs: BOTH },
  scramIterationCount: { programs: BOTH },
  scramSHA256IterationCount: { programs: BOTH, since: '4.0.0' },
  tcmallocReleaseRate: { programs: BOTH },
  ShardingTaskExecutorPoolMinSize: { programs: BOTH },
  ShardingTaskExecutorPoolMaxSize: { programs: BOTH },
  notablescan: { programs: MONGOD },
  ttlMonitorEnabled: { programs: MONGOD },
  transactionLifetimeLimitSeconds: { programs: MONGOD, since: '4.0.0' },
  maxTransactionLockRequestTimeoutMillis: { programs: MONGOD, since: '4.0.0' },
  numInitialSyncAttempts: { programs: MONGOD },
  waitForSecondaryBeforeNoopWriteMS: { programs: MONGOD },
  wiredTigerConcurrentReadTransactions: { programs: MONGOD },
  wiredTigerConcurrentWriteTransactions: { programs: MONGOD },
  internalQueryExecMaxBlockingSortBytes: { programs: MONGOD },
  maxIndexBuildMemoryUsageMegabytes: { programs: MONGOD },
  enableFlowControl: { programs: MONGOD, since: '4.2.0' },
  watchdogPeriodSeconds: { programs: MONGOD },
  minSnapshotHistoryWindowInSeconds: { programs: MONGOD, since: '5.0.0' },
  shutdownTimeoutMillisForSignaledShutdown: { programs: MONGOD, since: '5.0.0' },
  mongosShutdownTimeoutMillisForSignaledShutdown: { programs: MONGOS, since: '5.0.0' },
};

/** True when `setParameter` may change `name` on a running `program` of this version. */
export function isRuntimeSettable(name: string, program: Program, version: MongoVersion): boolean {
  const parameter = RUNTIME_PARAMETERS[name];
  if (parameter === undefined || !parameter.programs.includes(program)) return false;
  return parameter.since === undefined || isAtLeast(version, parameter.since);
}
