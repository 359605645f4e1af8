// Change streams on a replica-set member: `aggregate` with a first `$changeStream` stage opens a tailable,
// awaitData cursor over the oplog for a collection, a database or the whole cluster
// (allChangesForCluster on admin). Only majority-committed entries are returned, as mongod does; every
// batch carries postBatchResumeToken; resumeAfter, startAfter and startAtOperationTime pick the start;
// fullDocument "updateLookup" reads the document as it is when the event is returned.
// Sources: MongoDB manual "Change Streams", "$changeStream", "Change Events"; the Change Streams driver
// specification (postBatchResumeToken, awaitData getMore, resumable errors).
import { type Document, Long, Timestamp } from 'bson';
import { asNumber, idKey } from '../bsonvalues.js';
import { runPipeline } from '../commands/aggregate.js';
import type { CommandContext, CommandHandler, CommandRegistry } from '../commands/registry.js';
import { CommandError, ErrorCode } from '../errors.js';
import type { SimNode } from '../node.js';
import { isPlainDocument } from '../query/paths.js';
import type { OplogEntry } from '../repl/oplog.js';
import type { ReplSetRole } from '../repl/role.js';
import type { StorageOp } from '../storage/store.js';
import { atLeast } from '../version.js';
import {
  AFTER_ALL,
  decodeToken,
  encodeToken,
  eventsFor,
  isAfter,
  ReplacementLog,
  type StreamPosition,
  type StreamScope,
} from './events.js';

const FULL_DOCUMENT = ['default', 'updateLookup', 'whenAvailable', 'required'] as const;
type FullDocument = (typeof FULL_DOCUMENT)[number];

/** Stages a change stream pipeline may hold after $changeStream (MongoDB manual, "Modify Change Stream Output"). */
const ALLOWED_STAGES = new Set([
  '$match',
  '$project',
  '$addFields',
  '$set',
  '$unset',
  '$replaceRoot',
  '$replaceWith',
  '$redact',
]);

/** mongod's default wait of an awaitData getMore without maxTimeMS. */
const DEFAULT_AWAIT_MS = 1000;

interface StreamCursor {
  readonly ns: string;
  readonly scope: StreamScope;
  readonly pipeline: Document[];
  readonly fullDocument: FullDocument;
  position: StreamPosition;
}

function changeStreamError(code: number, msg: string, codeName?: string): CommandError {
  return new CommandError(code, msg, {}, codeName ?? `Location${code}`);
}

export class ChangeStreams {
  private readonly node: SimNode;
  private readonly cursors = new Map<string, StreamCursor>();
  private readonly replacements = new ReplacementLog();
  private nextId = BigInt(Math.floor(Math.random() * 2 ** 40)) + 2n ** 50n;

  constructor(node: SimNode) {
    this.node = node;
    node.commitObservers.push((ops) => this.noteReplacements(ops));
  }

  private noteReplacements(ops: StorageOp[]): void {
    for (const op of ops) {
      if (op.op === 'replace' && op.replacement === true)
        this.replacements.add(`${op.db}.${op.coll}`, op.doc);
    }
  }

  private role(): ReplSetRole {
    if (this.node.role.kind !== 'replset') {
      throw changeStreamError(40573, 'The $changeStream stage is only supported on replica sets');
    }
    return this.node.role as ReplSetRole;
  }

  /** aggregate with $changeStream first: opens the cursor and returns what is already there. */
  open(ctx: CommandContext, spec: unknown, rest: Document[]): Document {
    const role = this.role();
    if (!isPlainDocument(spec)) {
      throw new CommandError(ErrorCode.TypeMismatch, "the $changeStream stage's argument must be an object");
    }
    for (const stage of rest) {
      const name = Object.keys(stage)[0] ?? '';
      if (name === '$changeStream') {
        throw changeStreamError(40602, '$changeStream is only valid as the first stage in a pipeline.');
      }
      if (!ALLOWED_STAGES.has(name)) {
        throw new CommandError(
          ErrorCode.IllegalOperation,
          `${name} is not permitted in a $changeStream pipeline`,
        );
      }
    }
    const target = ctx.body.aggregate;
    let scope: StreamScope;
    let ns: string;
    if (typeof target === 'string') {
      scope = { kind: 'collection', db: ctx.db, coll: target };
      ns = `${ctx.db}.${target}`;
    } else if (spec.allChangesForCluster === true) {
      if (ctx.db !== 'admin') {
        throw changeStreamError(
          ErrorCode.InvalidNamespace,
          "A $changeStream with 'allChangesForCluster:true' may only be opened on the 'admin' database, and with no collection name",
          'InvalidNamespace',
        );
      }
      scope = { kind: 'cluster' };
      ns = 'admin.$cmd.aggregate';
    } else {
      if (ctx.db === 'admin' || ctx.db === 'config' || ctx.db === 'local') {
        throw new CommandError(
          ErrorCode.InvalidNamespace,
          `$changeStream may not be opened on the internal ${ctx.db} database`,
        );
      }
      scope = { kind: 'database', db: ctx.db };
      ns = `${ctx.db}.$cmd.aggregate`;
    }
    const fullDocument = (spec.fullDocument ?? 'default') as FullDocument;
    if (!FULL_DOCUMENT.includes(fullDocument)) {
      throw new CommandError(
        ErrorCode.BadValue,
        `Enumeration value '${String(spec.fullDocument)}' for field '$changeStream.fullDocument' is not a valid value.`,
      );
    }
    const position = this.startPosition(role, spec);
    const cursor: StreamCursor = { ns, scope, pipeline: rest, fullDocument, position };
    const batchSize = isPlainDocument(ctx.body.cursor) ? asNumber(ctx.body.cursor.batchSize) : undefined;
    const { docs, closed } = this.collect(role, cursor, batchSize ?? 101);
    let id = Long.ZERO;
    if (!closed) {
      const n = this.nextId++;
      this.cursors.set(n.toString(), cursor);
      id = Long.fromBigInt(n);
    }
    return {
      cursor: { firstBatch: docs, postBatchResumeToken: encodeToken(cursor.position), id, ns },
    };
  }

  private startPosition(role: ReplSetRole, spec: Document): StreamPosition {
    const options = ['resumeAfter', 'startAfter', 'startAtOperationTime'].filter(
      (k) => spec[k] !== undefined,
    );
    if (options.length > 1) {
      throw changeStreamError(40674, 'Only one type of resume option is allowed, but multiple were found.');
    }
    const first = role.oplog.first();
    const checkHistory = (secs: number, inc: number): void => {
      const o = first?.opTime;
      if (o && (secs < o.secs || (secs === o.secs && inc < o.inc))) {
        throw new CommandError(
          286,
          'Resume of change stream was not possible, as the resume point may no longer be in the oplog.',
          {},
          'ChangeStreamHistoryLost',
        );
      }
    };
    const token = spec.resumeAfter ?? spec.startAfter;
    if (token !== undefined) {
      const pos = decodeToken(token);
      if (!pos) throw new CommandError(ErrorCode.BadValue, 'Invalid resume token', {}, 'InvalidResumeToken');
      if (pos.kind === 'invalidate' && spec.resumeAfter !== undefined) {
        throw new CommandError(
          260,
          "Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate notification.",
          {},
          'InvalidResumeToken',
        );
      }
      checkHistory(pos.secs, pos.inc);
      // After an event: later events at the same time (another shard's) still follow it.
      return pos.kind === 'event' ? pos : { secs: pos.secs, inc: pos.inc, kind: 'highWater', tie: AFTER_ALL };
    }
    if (spec.startAtOperationTime !== undefined) {
      const ts = spec.startAtOperationTime;
      if (!(ts instanceof Timestamp)) {
        throw new CommandError(ErrorCode.TypeMismatch, "'startAtOperationTime' must be a timestamp");
      }
      checkHistory(ts.t, ts.i);
      // Inclusive: start just before this timestamp.
      return ts.i > 0
        ? { secs: ts.t, inc: ts.i - 1, kind: 'highWater', tie: AFTER_ALL }
        : { secs: ts.t - 1, inc: 0xffffffff, kind: 'highWater', tie: AFTER_ALL };
    }
    const last = role.oplog.lastOpTime();
    return { secs: last.secs, inc: last.inc, kind: 'highWater', tie: AFTER_ALL };
  }

  /** Events after the cursor's position, up to the majority commit point and `max` documents. */
  private collect(
    role: ReplSetRole,
    cursor: StreamCursor,
    max: number,
  ): { docs: Document[]; closed: boolean } {
    const committed = role.topo.lastCommitted;
    const withWallTime = atLeast(this.node.version, 6, 0);
    const storage = this.node.requireStorage();
    // Inclusive: another shard's event may share the position's timestamp (isAfter orders them).
    const entries = role.oplog.from(
      cursor.position.secs,
      cursor.position.inc,
      true,
      Number.POSITIVE_INFINITY,
    );
    const out: Document[] = [];
    let stopped = false;
    for (const entry of entries) {
      if (!isAfter(entry, cursor.position)) continue;
      const { secs, inc } = entry.opTime;
      if (secs > committed.secs || (secs === committed.secs && inc > committed.inc)) {
        stopped = true;
        break;
      }
      const events = eventsFor(entry, {
        scope: cursor.scope,
        previousImage: (e, ns, id) => previousImage(role, e, ns, id),
        wasReplacement: (ns, doc) => this.replacements.has(ns, doc),
        lookup: (db, coll, id) => storage.getCollection(db, coll)?.findById(id) ?? null,
        fullDocument: cursor.fullDocument,
        withWallTime,
      });
      for (const ev of events) {
        if (cursor.fullDocument === 'required' && ev.operationType === 'update') {
          throw new CommandError(
            47,
            `Change stream was configured to require a post-image for all update, delete and replace events, but the post-image was not found for event: ${String(ev.operationType)}`,
            {},
            'NoMatchingDocument',
          );
        }
      }
      const shown = runPipeline(events, cursor.pipeline);
      for (const doc of shown) {
        const original = events.find((e) => idKey(e._id) === idKey(doc._id));
        if (!original) {
          throw new CommandError(
            280,
            'Encountered an event whose _id field, which contains the resume token, was modified by the pipeline. Modifying the _id field of an event makes it impossible to resume the stream from that point. Only transformations that retain the unmodified _id field are allowed.',
            {},
            'ChangeStreamFatalError',
          );
        }
      }
      out.push(...shown);
      cursor.position = { secs, inc, kind: 'highWater', tie: AFTER_ALL };
      if (events.some((e) => e.operationType === 'invalidate')) return { docs: out, closed: true };
      if (out.length >= max) {
        stopped = true;
        break;
      }
    }
    // Once it has read everything committed the stream has seen all events up to now: any later entry gets a
    // later timestamp (mongod's periodic no-op writes move an idle member's position the same way).
    const applied = role.topo.myApplied;
    const drained =
      !stopped &&
      role.topo.canAcceptWrites &&
      applied.secs === committed.secs &&
      applied.inc === committed.inc;
    const nowSecs = Math.floor(Date.now() / 1000);
    if (drained && nowSecs > cursor.position.secs) {
      cursor.position = { secs: nowSecs, inc: 0, kind: 'highWater', tie: AFTER_ALL };
    }
    return { docs: out, closed: false };
  }

  /** getMore on a change stream cursor: waits (awaitData) up to maxTimeMS for events. */
  async more(ctx: CommandContext, id: Long, cursor: StreamCursor): Promise<Document> {
    const role = this.role();
    if (cursor.ns !== `${ctx.db}.${String(ctx.body.collection)}`) {
      throw new CommandError(
        ErrorCode.Unauthorized,
        `Requested getMore on namespace '${ctx.db}.${String(ctx.body.collection)}', but cursor belongs to a different namespace ${cursor.ns}`,
      );
    }
    const batchSize = asNumber(ctx.body.batchSize) ?? 101;
    const wait = asNumber(ctx.body.maxTimeMS) ?? DEFAULT_AWAIT_MS;
    const deadline = Date.now() + wait;
    let result = this.collect(role, cursor, batchSize);
    while (result.docs.length === 0 && !result.closed && Date.now() < deadline && !ctx.conn.closed.aborted) {
      await role.waitForOplog(Math.min(100, Math.max(1, deadline - Date.now())));
      result = this.collect(role, cursor, batchSize);
    }
    if (result.closed) this.cursors.delete(id.toString());
    return {
      cursor: {
        nextBatch: result.docs,
        postBatchResumeToken: encodeToken(cursor.position),
        id: result.closed ? Long.ZERO : id,
        ns: cursor.ns,
      },
    };
  }

  get(id: unknown): StreamCursor | undefined {
    const n = id instanceof Long ? undefined : asNumber(id);
    const key = id instanceof Long ? id.toString() : n !== undefined ? String(n) : undefined;
    return key === undefined ? undefined : this.cursors.get(key);
  }

  kill(id: unknown): boolean {
    const n = id instanceof Long ? undefined : asNumber(id);
    const key = id instanceof Long ? id.toString() : n !== undefined ? String(n) : undefined;
    return key !== undefined && this.cursors.delete(key);
  }
}

/** The document's image before `entry`: the newest earlier insert/update of it in the oplog. */
function previousImage(role: ReplSetRole, entry: OplogEntry, ns: string, id: unknown): Document | undefined {
  const all = role.oplog.all();
  let i = all.length - 1;
  while (i >= 0 && all[i] !== entry) i--;
  const key = idKey(id);
  for (i--; i >= 0; i--) {
    const d = (all[i] as OplogEntry).doc;
    if (d.ns !== ns) continue;
    const o = (d.o ?? {}) as Document;
    if (idKey(o._id) !== key) continue;
    if (d.op === 'i' || d.op === 'u') return o;
    if (d.op === 'd') return undefined;
  }
  return undefined;
}

/** Wraps aggregate, getMore and killCursors of a mongod so change stream cursors live beside the others. */
export function installChangeStreams(node: SimNode): ChangeStreams {
  const streams = new ChangeStreams(node);
  const registry: CommandRegistry = node.commands;
  const wrap = (
    name: string,
    handler: (ctx: CommandContext, inner: CommandHandler) => Promise<Document> | Document,
  ) => {
    const spec = registry.get(name);
    if (!spec) return;
    const inner = spec.handler;
    registry.register({ ...spec, handler: (ctx) => handler(ctx, inner) });
  };
  wrap('aggregate', (ctx, inner) => {
    const pipeline = ctx.body.pipeline;
    const first = Array.isArray(pipeline) ? pipeline[0] : undefined;
    if (isPlainDocument(first) && '$changeStream' in first) {
      ctx.node.role.checkRead(ctx.db, ctx.secondaryOk);
      return streams.open(ctx, first.$changeStream, (pipeline as Document[]).slice(1));
    }
    if (Array.isArray(pipeline) && pipeline.some((s) => isPlainDocument(s) && '$changeStream' in s)) {
      throw changeStreamError(40602, '$changeStream is only valid as the first stage in a pipeline.');
    }
    return inner(ctx);
  });
  wrap('getMore', (ctx, inner) => {
    const cursor = streams.get(ctx.body.getMore);
    if (cursor) return streams.more(ctx, cursorId(ctx.body.getMore), cursor);
    return inner(ctx);
  });
  wrap('killCursors', async (ctx, inner) => {
    const ids = Array.isArray(ctx.body.cursors) ? (ctx.body.cursors as unknown[]) : [];
    const mine = ids.filter((id) => streams.get(id));
    if (mine.length === 0) return inner(ctx);
    for (const id of mine) streams.kill(id);
    const others = ids.filter((id) => !mine.includes(id));
    const reply = others.length > 0 ? await inner({ ...ctx, body: { ...ctx.body, cursors: others } }) : {};
    return {
      cursorsKilled: [...mine, ...((reply.cursorsKilled as unknown[]) ?? [])],
      cursorsNotFound: (reply.cursorsNotFound as unknown[]) ?? [],
      cursorsAlive: [],
      cursorsUnknown: [],
    };
  });
  return streams;
}

/** A cursor id as sent: a long, or a number the client's BSON encoder wrote as an int or a double. */
function cursorId(id: unknown): Long {
  return id instanceof Long ? id : Long.fromNumber(asNumber(id) ?? 0);
}
