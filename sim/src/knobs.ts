// Test-only environment knobs. Real MongoDB has no such variables and mup never sets them; tests use
// them to emulate conditions that are hard to produce otherwise. Prefer MongoDB's own test mechanisms
// where they exist: `setParameter: {enableTestCommands: 1}` + configureFailPoint (failCommand).
//
//   MONGOD_SIM_STARTUP_DELAY_MS  wait this long after the data files are opened and before binding the
//                                port (a slow start: supervisord sees RUNNING, clients see refusals).
//   MONGOD_SIM_CRASH_AFTER_MS    SIGKILL itself this long after it is listening (a crash: the lock
//                                file is left behind, exit by signal).
//   MONGOD_SIM_SYNC_COMPACTION   1: fold the journal into the snapshot inside the write that crosses the
//                                threshold, as the simulator did before compaction moved to a worker thread
//                                (the "before" side of bench/sim-throughput.ts).
//
// Set by the wrapper only (sim/src/install.ts): MONGOD_SIM_VERSION, MONGOD_SIM_PROGRAM, MONGOD_SIM_ARGV0.
// Internal: MONGOD_SIM_FORK_CHILD marks the daemon child of a `fork: true` start.

function millis(name: string): number {
  const n = Number(process.env[name] ?? 0);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

export const startupDelayMs = (): number => millis('MONGOD_SIM_STARTUP_DELAY_MS');
export const crashAfterMs = (): number => millis('MONGOD_SIM_CRASH_AFTER_MS');
export const FORK_CHILD_ENV = 'MONGOD_SIM_FORK_CHILD';
export const syncCompaction = (): boolean => process.env.MONGOD_SIM_SYNC_COMPACTION === '1';
