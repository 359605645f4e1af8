// Change streams through mongos: the $changeStream aggregate is opened on every shard (a collection's
// chunks, a database's collections and the cluster's databases may live on any of them) and mongos merges
// the shards' events in resume-token order, releasing an event only once every shard has moved past its
// time, so the stream's postBatchResumeToken never passes an event a slower shard has not returned yet.
// Source: MongoDB manual "Change Streams" (sharded clusters), the Change Streams driver specification.
import { type Document, Long } from 'bson';
import { asNumber } from '../bsonvalues.js';
import type { CommandContext, CommandHandler, CommandRegistry } from '../commands/registry.js';
import { CommandError, ErrorCode } from '../errors.js';
import { isPlainDocument } from '../query/paths.js';
import { replyError, replyOk, type SetTarget } from '../sharding/remote.js';
import type { Router } from '../sharding/router.js';

interface ShardCursor {
  readonly target: SetTarget;
  id: Long;
  readonly ns: string;
  token: Document | undefined;
}

interface MergedCursor {
  readonly ns: string;
  readonly shards: ShardCursor[];
  token: Document | undefined;
  /** Events a shard returned that are later than another shard's position: held back to keep the order. */
  buffer: Document[];
}

const DEFAULT_AWAIT_MS = 1000;
/** How often an awaiting mongos getMore asks the shards again. */
const POLL_MS = 50;

const tokenData = (t: unknown): string => (isPlainDocument(t) && typeof t._data === 'string' ? t._data : '');

/** Arguments mongos does not pass on to shards (session and routing fields). */
function shardBody(body: Document): Document {
  const out: Document = { ...body };
  for (const k of ['$db', 'lsid', 'txnNumber', '$clusterTime', '$readPreference']) delete out[k];
  return out;
}

export class MongosChangeStreams {
  private readonly router: Router;
  private readonly cursors = new Map<string, MergedCursor>();
  private nextId = BigInt(Math.floor(Math.random() * 2 ** 40)) + 2n ** 51n;

  constructor(router: Router) {
    this.router = router;
  }

  async open(ctx: CommandContext): Promise<Document> {
    const shards = await this.router.shards();
    const ns =
      typeof ctx.body.aggregate === 'string' ? `${ctx.db}.${ctx.body.aggregate}` : `${ctx.db}.$cmd.aggregate`;
    const opened: ShardCursor[] = [];
    const events: Document[] = [];
    for (const s of shards) {
      const target = this.router.shardTargetFor(s);
      const reply = await target.runOnPrimary(ctx.db, shardBody(ctx.body), { timeoutMs: 60_000 });
      if (!replyOk(reply)) {
        await this.killRemotes(opened);
        throw replyError(reply);
      }
      const c = reply.cursor as Document;
      events.push(...((c.firstBatch as Document[] | undefined) ?? []));
      opened.push({
        target,
        id: c.id instanceof Long ? c.id : Long.fromNumber(asNumber(c.id) ?? 0),
        ns: String(c.ns),
        token: c.postBatchResumeToken as Document | undefined,
      });
    }
    const cursor: MergedCursor = { ns, shards: opened, token: undefined, buffer: [] };
    const batch = this.merge(cursor, events);
    const live = opened.some((s) => !s.id.isZero()) && !batch.invalidated;
    let id = Long.ZERO;
    if (live) {
      const n = this.nextId++;
      this.cursors.set(n.toString(), cursor);
      id = Long.fromBigInt(n);
    } else {
      await this.killRemotes(opened);
    }
    return { cursor: { firstBatch: batch.docs, postBatchResumeToken: cursor.token ?? {}, id, ns } };
  }

  /**
   * Releases the events every shard has moved past (token order), keeping later ones for the next batch;
   * the stream's token is the lowest shard position.
   */
  private merge(cursor: MergedCursor, events: Document[]): { docs: Document[]; invalidated: boolean } {
    const pending = [...cursor.buffer, ...events].sort((a, b) =>
      tokenData(a._id) < tokenData(b._id) ? -1 : 1,
    );
    const positions = cursor.shards
      .filter((s) => !s.id.isZero())
      .map((s) => tokenData(s.token))
      .filter((t) => t !== '')
      .sort();
    const lowest = positions[0];
    const docs = lowest === undefined ? pending : pending.filter((d) => tokenData(d._id) <= lowest);
    cursor.buffer = pending.slice(docs.length);
    const lastEvent = docs.length > 0 ? tokenData(docs[docs.length - 1]?._id) : '';
    const best = lowest !== undefined && lowest > lastEvent ? lowest : lastEvent;
    if (best) cursor.token = { _data: best };
    return { docs, invalidated: docs.some((d) => d.operationType === 'invalidate') };
  }

  async more(ctx: CommandContext, id: Long, cursor: MergedCursor): Promise<Document> {
    if (cursor.ns !== `${ctx.db}.${String(ctx.body.collection)}`) {
      throw new CommandError(
        ErrorCode.Unauthorized,
        `Requested getMore on namespace '${ctx.db}.${String(ctx.body.collection)}', but cursor belongs to a different namespace ${cursor.ns}`,
      );
    }
    const deadline = Date.now() + (asNumber(ctx.body.maxTimeMS) ?? DEFAULT_AWAIT_MS);
    for (;;) {
      const events: Document[] = [];
      for (const s of cursor.shards) {
        if (s.id.isZero()) continue;
        const coll = s.ns.slice(s.ns.indexOf('.') + 1);
        const reply = await s.target.runOnPrimary(
          s.ns.slice(0, s.ns.indexOf('.')),
          { getMore: s.id, collection: coll, maxTimeMS: 1 },
          { timeoutMs: 60_000, retryForMs: 0 },
        );
        if (!replyOk(reply)) {
          this.cursors.delete(id.toString());
          await this.killRemotes(cursor.shards);
          throw replyError(reply);
        }
        const c = reply.cursor as Document;
        events.push(...((c.nextBatch as Document[] | undefined) ?? []));
        s.id = c.id instanceof Long ? c.id : Long.fromNumber(asNumber(c.id) ?? 0);
        if (c.postBatchResumeToken) s.token = c.postBatchResumeToken as Document;
      }
      const batch = this.merge(cursor, events);
      const done = batch.invalidated || cursor.shards.every((s) => s.id.isZero());
      if (batch.docs.length > 0 || done || Date.now() >= deadline || ctx.conn.closed.aborted) {
        if (done) {
          this.cursors.delete(id.toString());
          await this.killRemotes(cursor.shards);
        }
        return {
          cursor: {
            nextBatch: batch.docs,
            postBatchResumeToken: cursor.token ?? {},
            id: done ? Long.ZERO : id,
            ns: cursor.ns,
          },
        };
      }
      await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(1, deadline - Date.now()))));
    }
  }

  private async killRemotes(shards: ShardCursor[]): Promise<void> {
    for (const s of shards) {
      if (s.id.isZero()) continue;
      const dot = s.ns.indexOf('.');
      await s.target
        .runOnPrimary(
          s.ns.slice(0, dot),
          { killCursors: s.ns.slice(dot + 1), cursors: [s.id] },
          { timeoutMs: 5000 },
        )
        .catch(() => undefined);
      s.id = Long.ZERO;
    }
  }

  get(id: unknown): MergedCursor | undefined {
    const n = id instanceof Long ? undefined : asNumber(id);
    const key = id instanceof Long ? id.toString() : n !== undefined ? String(n) : undefined;
    return key === undefined ? undefined : this.cursors.get(key);
  }

  async kill(id: Long): Promise<void> {
    const c = this.cursors.get(id.toString());
    if (!c) return;
    this.cursors.delete(id.toString());
    await this.killRemotes(c.shards);
  }
}

/** Wraps mongos's aggregate, getMore and killCursors so $changeStream is opened on every shard. */
export function installMongosChangeStreams(registry: CommandRegistry, router: Router): void {
  const streams = new MongosChangeStreams(router);
  const wrap = (name: string, handler: (ctx: CommandContext, inner: CommandHandler) => Promise<Document>) => {
    const spec = registry.get(name);
    if (!spec) return;
    const inner = spec.handler;
    registry.register({ ...spec, handler: (ctx) => handler(ctx, inner) });
  };
  wrap('aggregate', async (ctx, inner) => {
    const pipeline = ctx.body.pipeline;
    const first = Array.isArray(pipeline) ? pipeline[0] : undefined;
    if (isPlainDocument(first) && '$changeStream' in first) return streams.open(ctx);
    return inner(ctx);
  });
  wrap('getMore', async (ctx, inner) => {
    const cursor = streams.get(ctx.body.getMore);
    if (cursor) return streams.more(ctx, cursorId(ctx.body.getMore), cursor);
    return inner(ctx);
  });
  wrap('killCursors', async (ctx, inner) => {
    const ids = Array.isArray(ctx.body.cursors) ? (ctx.body.cursors as unknown[]) : [];
    const mine = ids.filter((id) => streams.get(id));
    if (mine.length === 0) return inner(ctx);
    for (const id of mine) await streams.kill(cursorId(id));
    const others = ids.filter((id) => !mine.includes(id));
    const reply = others.length > 0 ? await inner({ ...ctx, body: { ...ctx.body, cursors: others } }) : {};
    return {
      cursorsKilled: [...mine, ...((reply.cursorsKilled as unknown[]) ?? [])],
      cursorsNotFound: (reply.cursorsNotFound as unknown[]) ?? [],
      cursorsAlive: [],
      cursorsUnknown: [],
    };
  });
}

/** A cursor id as sent: a long, or a number the client's BSON encoder wrote as an int or a double. */
function cursorId(id: unknown): Long {
  return id instanceof Long ? id : Long.fromNumber(asNumber(id) ?? 0);
}
