// Operations in progress (currentOp, $currentOp, killOp) and per-namespace time spent (top). Every command
// the registry runs is an operation with an opid from when it starts until it answers; killOp interrupts it,
// and the client gets 11601 Interrupted as mongod answers an operation killed at an interrupt point (what
// the command had already written stays written, as on mongod).
// Sources: MongoDB manual "currentOp" (output fields), "killOp", "top"; kill_op_cmd_base.cpp.
import { type Document, Int32, Long } from 'bson';
import { CommandError } from '../errors.js';
import type { CommandContext, ConnectionState } from './registry.js';

export const INTERRUPTED = 11601;

/** currentOp's `op` field: the kind of operation (manual "currentOp.op"). */
function opKind(name: string): string {
  switch (name) {
    case 'find':
      return 'query';
    case 'insert':
      return 'insert';
    case 'update':
      return 'update';
    case 'delete':
      return 'remove';
    case 'getMore':
      return 'getmore';
    case 'killCursors':
      return 'killcursors';
    default:
      return 'command';
  }
}

/** top's per-namespace buckets, by the command's kind. */
function topBucket(name: string): 'queries' | 'getmore' | 'insert' | 'update' | 'remove' | 'commands' {
  switch (name) {
    case 'find':
      return 'queries';
    case 'getMore':
      return 'getmore';
    case 'insert':
      return 'insert';
    case 'update':
      return 'update';
    case 'delete':
      return 'remove';
    default:
      return 'commands';
  }
}

const READS = new Set(['find', 'getMore', 'count', 'distinct', 'aggregate', 'listIndexes', 'collStats']);

export interface Operation {
  readonly opid: number;
  readonly ctx: CommandContext;
  readonly startedAt: bigint;
  readonly ns: string;
  readonly killed: Promise<never>;
  kill(): void;
}

interface Usage {
  time: number;
  count: number;
}

type TopEntry = Record<
  'total' | 'readLock' | 'writeLock' | 'queries' | 'getmore' | 'insert' | 'update' | 'remove' | 'commands',
  Usage
>;

const newEntry = (): TopEntry => ({
  total: { time: 0, count: 0 },
  readLock: { time: 0, count: 0 },
  writeLock: { time: 0, count: 0 },
  queries: { time: 0, count: 0 },
  getmore: { time: 0, count: 0 },
  insert: { time: 0, count: 0 },
  update: { time: 0, count: 0 },
  remove: { time: 0, count: 0 },
  commands: { time: 0, count: 0 },
});

/** The namespace an operation works on: <db>.<collection> when it names one, else <db>.$cmd. */
export function operationNs(ctx: CommandContext): string {
  const target = ctx.body[ctx.name];
  if (ctx.name === 'getMore' && typeof ctx.body.collection === 'string')
    return `${ctx.db}.${ctx.body.collection}`;
  if (typeof target === 'string' && target !== '' && ctx.name !== 'renameCollection')
    return `${ctx.db}.${target}`;
  return `${ctx.db}.$cmd`;
}

export class OperationTable {
  private nextOpid = 1;
  private readonly running = new Map<number, Operation>();
  private readonly usage = new Map<string, TopEntry>();
  /** Open client connections, for currentOp with $all / idleConnections. */
  readonly connections = new Set<ConnectionState>();

  begin(ctx: CommandContext): Operation {
    const opid = this.nextOpid++;
    let interrupt: (err: CommandError) => void = () => {};
    const killed = new Promise<never>((_, reject) => {
      interrupt = reject;
    });
    // Nobody awaits `killed` once the command has answered; keep an unobserved rejection quiet.
    killed.catch(() => {});
    const op: Operation = {
      opid,
      ctx,
      startedAt: process.hrtime.bigint(),
      ns: operationNs(ctx),
      killed,
      kill: () => interrupt(new CommandError(INTERRUPTED, 'operation was interrupted')),
    };
    this.running.set(opid, op);
    return op;
  }

  end(op: Operation): void {
    this.running.delete(op.opid);
    const micros = Number((process.hrtime.bigint() - op.startedAt) / 1000n);
    if (op.ns.endsWith('.$cmd')) return;
    let entry = this.usage.get(op.ns);
    if (!entry) {
      entry = newEntry();
      this.usage.set(op.ns, entry);
    }
    const add = (u: Usage) => {
      u.time += micros;
      u.count++;
    };
    add(entry.total);
    add(READS.has(op.ctx.name) ? entry.readLock : entry.writeLock);
    add(entry[topBucket(op.ctx.name)]);
  }

  /** killOp: interrupts the operation if it is still running (killOp answers ok either way). */
  kill(opid: number): void {
    this.running.get(opid)?.kill();
  }

  /** The kill signal of the operation running on a connection (a connection runs one command at a time). */
  killedFor(conn: ConnectionState): Promise<never> | undefined {
    for (const op of this.running.values()) if (op.ctx.conn === conn) return op.killed;
    return undefined;
  }

  all(): Operation[] {
    return [...this.running.values()];
  }

  /** top's `totals` (times in microseconds). */
  totals(): Document {
    const out: Document = { note: 'all times in microseconds' };
    for (const ns of [...this.usage.keys()].sort()) {
      const entry = this.usage.get(ns) as TopEntry;
      const doc: Document = {};
      for (const [k, u] of Object.entries(entry)) {
        doc[k] = { time: Long.fromNumber(u.time), count: Long.fromNumber(u.count) };
      }
      out[ns] = doc;
    }
    return out;
  }

  /** Forgets a namespace's usage (dropped or renamed collections leave top, as on mongod). */
  forget(ns: string): void {
    this.usage.delete(ns);
  }

  /** currentOp's document for one running operation. */
  describe(op: Operation, host: string): Document {
    const conn = op.ctx.conn;
    const micros = Number((process.hrtime.bigint() - op.startedAt) / 1000n);
    const doc = connectionDocument(conn, host, true);
    doc.threaded = true;
    doc.opid = new Int32(op.opid);
    if (op.ctx.body.lsid !== undefined) doc.lsid = op.ctx.body.lsid;
    doc.secs_running = Long.fromNumber(Math.floor(micros / 1e6));
    doc.microsecs_running = Long.fromNumber(micros);
    doc.op = opKind(op.ctx.name);
    doc.ns = op.ns;
    doc.redacted = false;
    const { lsid: _l, $clusterTime: _c, $db: _d, ...command } = op.ctx.body;
    doc.command = { ...command, $db: op.ctx.db };
    doc.numYields = new Int32(0);
    doc.locks = {};
    doc.waitingForLock = false;
    doc.lockStats = {};
    doc.waitingForFlowControl = false;
    doc.flowControlStats = {};
    return doc;
  }

  /** currentOp's document for an idle connection ($all / idleConnections). */
  describeIdle(conn: ConnectionState, host: string): Document {
    return connectionDocument(conn, host, false);
  }
}

/** The fields currentOp gives every connection, busy or idle, in mongod's order. */
function connectionDocument(conn: ConnectionState, host: string, active: boolean): Document {
  const doc: Document = {
    type: 'op',
    host,
    desc: `conn${conn.id}`,
    connectionId: new Int32(conn.id),
    client: conn.remote,
  };
  if (conn.clientMetadata) doc.clientMetadata = conn.clientMetadata;
  doc.active = active;
  doc.currentOpTime = new Date().toISOString();
  return doc;
}
