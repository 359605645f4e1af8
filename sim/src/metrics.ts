// Counters behind serverStatus' asserts, opcountersRepl, metrics and electionMetrics sections: each one is
// moved by the code path it names (never a constant), and, as on mongod, they start at zero with the process.
// Source: MongoDB manual "serverStatus" (asserts, opcountersRepl, metrics.document, metrics.operation,
// metrics.repl.apply, metrics.commands, electionMetrics, wiredTiger.cache).
import { type Document, Long } from 'bson';
import type { StorageOp } from './storage/store.js';

/** electionMetrics keys by the reason an election was called (StartElectionReason). */
const ELECTION_KEYS: Record<string, string> = {
  electionTimeout: 'electionTimeout',
  priorityTakeover: 'priorityTakeover',
  stepUpRequest: 'stepUpCmd',
  stepUpRequestSkipDryRun: 'stepUpCmd',
  catchupTakeover: 'catchUpTakeover',
  singleNodePromptElection: 'freezeTimeout',
};

const long = (n: number) => Long.fromNumber(n);

export class ServerCounters {
  /** uassert-style failures: every command answered with an error. */
  userAsserts = 0;
  readonly opcountersRepl = { insert: 0, query: 0, update: 0, delete: 0, getmore: 0, command: 0 };
  readonly document = { deleted: 0, inserted: 0, returned: 0, updated: 0 };
  writeConflicts = 0;
  readonly apply = { batches: 0, batchMillis: 0, ops: 0 };
  readonly commands = new Map<string, { total: number; failed: number }>();
  readonly elections = new Map<string, { called: number; successful: number }>();

  /**
   * Documents written through the one write path (node.commit); the server's own bookkeeping in `local`
   * and `config` (oplog, retryable-write records) is not a client's document.
   */
  noteCommit(ops: readonly StorageOp[]): void {
    for (const op of ops) {
      if (op.op !== 'dropDatabase' && (op.db === 'local' || op.db === 'config')) continue;
      if (op.op === 'insert') this.document.inserted++;
      else if (op.op === 'replace') this.document.updated++;
      else if (op.op === 'delete') this.document.deleted++;
    }
  }

  /** An oplog entry a secondary applied (opcountersRepl counts by the entry's op type). */
  noteApplied(entry: Document): void {
    // config.transactions records are mongod's derived bookkeeping of retryable writes, never an oplog
    // entry of their own on MongoDB, so they are not counted as applied operations.
    if (entry.ns === 'config.transactions') return;
    const kind = entry.op;
    if (kind === 'i') this.opcountersRepl.insert++;
    else if (kind === 'u') this.opcountersRepl.update++;
    else if (kind === 'd') this.opcountersRepl.delete++;
    else if (kind === 'c') this.opcountersRepl.command++;
  }

  noteBatch(ops: number, millis: number): void {
    if (ops === 0) return;
    this.apply.batches++;
    this.apply.batchMillis += millis;
    this.apply.ops += ops;
  }

  noteCommand(name: string, failed: boolean, code?: number): void {
    const entry = this.commands.get(name) ?? { total: 0, failed: 0 };
    entry.total++;
    if (failed) {
      entry.failed++;
      this.userAsserts++;
      if (code === 112) this.writeConflicts++;
    }
    this.commands.set(name, entry);
  }

  noteElection(reason: string, won: boolean): void {
    const key = ELECTION_KEYS[reason];
    if (key === undefined) return;
    const entry = this.elections.get(key) ?? { called: 0, successful: 0 };
    if (won) entry.successful++;
    else entry.called++;
    this.elections.set(key, entry);
  }

  assertsSection(): Document {
    return { regular: 0, warning: 0, msg: 0, user: this.userAsserts, rollovers: 0 };
  }

  opcountersReplSection(): Document {
    return Object.fromEntries(Object.entries(this.opcountersRepl).map(([k, v]) => [k, long(v)]));
  }

  metricsSection(withRepl: boolean): Document {
    const commands: Document = {};
    for (const [name, c] of [...this.commands].sort(([a], [b]) => (a < b ? -1 : 1)))
      commands[name] = { failed: long(c.failed), total: long(c.total) };
    const out: Document = {
      commands,
      document: Object.fromEntries(Object.entries(this.document).map(([k, v]) => [k, long(v)])),
      operation: { writeConflicts: long(this.writeConflicts) },
    };
    if (withRepl)
      out.repl = {
        apply: {
          batches: { num: this.apply.batches, totalMillis: this.apply.batchMillis },
          ops: long(this.apply.ops),
        },
      };
    return out;
  }

  electionMetricsSection(): Document {
    const out: Document = {};
    for (const key of [
      'stepUpCmd',
      'priorityTakeover',
      'catchUpTakeover',
      'electionTimeout',
      'freezeTimeout',
    ]) {
      const e = this.elections.get(key) ?? { called: 0, successful: 0 };
      out[key] = { called: long(e.called), successful: long(e.successful) };
    }
    return out;
  }
}
