// mongos routing for sharded collections by chunk ranges: a statement whose filter pins the whole
// shard key by equality goes to the one shard owning that key's chunk (targeted); anything else goes to
// every shard owning a chunk of the collection (scatter-gather), whose results mongos merges: find
// sorts, skips, limits and projects the union; aggregate runs the pipeline over the union (its leading
// $match pushed down to the shards); counts and write results are summed. Inserts are split by owner.
// Also the split and moveChunk admin commands. Unsharded collections keep the primary-shard routing.
// Sources: MongoDB manual "Targeted Operations vs. Broadcast Operations", "split", "moveChunk",
// "Shard Keys" (a single-document update/upsert and findAndModify need the shard key or _id).
import { type Document, Long } from 'bson';
import { asNumber } from '../bsonvalues.js';
import { runPipeline } from '../commands/aggregate.js';
import type { CommandContext, CommandRegistry, CommandSpec } from '../commands/registry.js';
import { CommandError, ErrorCode } from '../errors.js';
import { compileProjection, compileSort } from '../query/project.js';
import { atLeast } from '../version.js';
import { drainCursor } from './data-copy.js';
import { cleanReply, forwardBody } from './mongos.js';
import { replyError, replyOk, type SetTarget } from './remote.js';
import type { Router } from './router.js';
import { chunkFor, exactKeyOf, keyFields, shardKeyOf } from './shard-key.js';

const ShardKeyNotFound = 61;
const TIMEOUT = { timeoutMs: 600_000 };

export interface Routing {
  readonly pattern: Document;
  readonly fields: string[];
  readonly chunks: Document[];
}

export async function routingOf(router: Router, db: string, coll: unknown): Promise<Routing | undefined> {
  if (typeof coll !== 'string' || db === 'admin' || db === 'config' || db === 'local') return undefined;
  const doc = await router.shardedCollection(`${db}.${coll}`);
  if (!doc) return undefined;
  const filter = atLeast(router.node.version, 5, 0) ? { uuid: doc.uuid } : { ns: doc._id };
  const chunks = await router.readConfig('chunks', filter);
  const pattern = doc.key as Document;
  return { pattern, fields: keyFields(pattern), chunks };
}

/** The shards a filter must reach: the owner of its exact key, else every chunk owner. */
export function shardsFor(r: Routing, filter: Document | undefined): string[] {
  const key = exactKeyOf(filter, r.pattern);
  if (key) {
    const chunk = chunkFor(r.chunks, key, r.fields);
    if (chunk) return [String(chunk.shard)];
  }
  return [...new Set(r.chunks.map((c) => String(c.shard)))].sort();
}

async function run(router: Router, shard: string, db: string, body: Document): Promise<Document> {
  const target = await router.shardByName(shard);
  return cleanReply(await target.runOnPrimary(db, body, TIMEOUT));
}

async function must(router: Router, shard: string, db: string, body: Document): Promise<Document> {
  const reply = await run(router, shard, db, body);
  if (!replyOk(reply)) throw replyError(reply);
  return reply;
}

/** Registers `name` so sharded collections are handled here and everything else as before. */
function wrap(
  registry: CommandRegistry,
  names: string[],
  router: Router,
  handler: (ctx: CommandContext, r: Routing, fallback: CommandSpec) => Promise<Document>,
): void {
  for (const name of names) {
    const fallback = registry.get(name);
    if (!fallback) continue;
    registry.register({
      ...fallback,
      names: [name],
      handler: async (ctx) => {
        const r = await routingOf(router, ctx.db, ctx.body[ctx.name]);
        return r ? handler(ctx, r, fallback) : fallback.handler(ctx);
      },
    });
  }
}

function mergedCursorReply(
  router: Router,
  ctx: CommandContext,
  docs: Document[],
  batchSize: number | undefined,
  single: boolean,
): Document {
  const ns = `${ctx.db}.${String(ctx.body[ctx.name])}`;
  const batch = router.mergedCursors.create(ns, docs, batchSize, single);
  return { cursor: { firstBatch: batch.docs, id: batch.id, ns } };
}

/**
 * Every matching document of the collection from the given shards, each kept only from the shard that
 * owns its chunk: copies a migration has made but not yet committed, or not yet deleted, are orphans
 * that mongod's shard filtering hides from reads, and so does this.
 */
async function gather(
  router: Router,
  r: Routing,
  shards: string[],
  db: string,
  coll: string,
  filter: Document,
): Promise<Document[]> {
  const out: Document[] = [];
  for (const s of shards) {
    const target: SetTarget = await router.shardByName(s);
    const docs = await drainCursor(target, db, { find: coll, filter, batchSize: 1000 }, TIMEOUT);
    for (const d of docs) {
      if (String(chunkFor(r.chunks, shardKeyOf(d, r.pattern), r.fields)?.shard) === s) out.push(d);
    }
  }
  return out;
}

async function find(router: Router, ctx: CommandContext, r: Routing): Promise<Document> {
  const body = ctx.body;
  const filter = (body.filter as Document | undefined) ?? {};
  const shards = shardsFor(r, filter);
  if (shards.length === 1) {
    const target = await router.shardByName(shards[0] as string);
    const reply = cleanReply(await target.runOnPrimary(ctx.db, forwardBody(body), TIMEOUT));
    if (replyOk(reply)) router.adoptCursor(target, reply);
    return reply;
  }
  let docs = await gather(router, r, shards, ctx.db, String(body.find), filter);
  const sort = compileSort(body.sort as Document | undefined);
  if (sort) docs.sort(sort);
  const skip = asNumber(body.skip) ?? 0;
  if (skip > 0) docs = docs.slice(skip);
  const limit = asNumber(body.limit) ?? 0;
  if (limit !== 0) docs = docs.slice(0, Math.abs(limit));
  const project = compileProjection(body.projection as Document | undefined);
  if (project) docs = docs.map(project);
  return mergedCursorReply(
    router,
    ctx,
    docs,
    asNumber(body.batchSize),
    body.singleBatch === true || limit < 0,
  );
}

async function aggregate(router: Router, ctx: CommandContext, r: Routing): Promise<Document> {
  const pipeline = Array.isArray(ctx.body.pipeline) ? (ctx.body.pipeline as Document[]) : [];
  const first = pipeline[0];
  const match = first && typeof first.$match === 'object' ? (first.$match as Document) : {};
  const shards = shardsFor(r, match);
  if (shards.length === 1) {
    const target = await router.shardByName(shards[0] as string);
    const reply = cleanReply(await target.runOnPrimary(ctx.db, forwardBody(ctx.body), TIMEOUT));
    if (replyOk(reply)) router.adoptCursor(target, reply);
    return reply;
  }
  const docs = await gather(router, r, shards, ctx.db, String(ctx.body.aggregate), match);
  const out = runPipeline(docs, pipeline);
  const cursorOpt = ctx.body.cursor as Document | undefined;
  return mergedCursorReply(router, ctx, out, asNumber(cursorOpt?.batchSize), false);
}

async function count(router: Router, ctx: CommandContext, r: Routing): Promise<Document> {
  const query = (ctx.body.query as Document | undefined) ?? {};
  const shards = shardsFor(r, query);
  if (shards.length === 1)
    return { n: asNumber((await must(router, shards[0] as string, ctx.db, forwardBody(ctx.body))).n) ?? 0 };
  let docs = await gather(router, r, shards, ctx.db, String(ctx.body.count), query);
  const skip = asNumber(ctx.body.skip) ?? 0;
  if (skip > 0) docs = docs.slice(skip);
  const limit = Math.abs(asNumber(ctx.body.limit) ?? 0);
  return { n: limit > 0 ? Math.min(limit, docs.length) : docs.length };
}

async function distinct(router: Router, ctx: CommandContext, r: Routing): Promise<Document> {
  const seen = new Map<string, unknown>();
  for (const s of shardsFor(r, ctx.body.query as Document | undefined)) {
    const reply = await must(router, s, ctx.db, forwardBody(ctx.body));
    for (const v of (reply.values as unknown[]) ?? []) seen.set(JSON.stringify(v), v);
  }
  return { values: [...seen.values()] };
}

const StaleConfig = 13388;
/** A shard that held a migration's critical section answers StaleConfig: re-route and retry. */
const MAX_REROUTES = 5;

function isStale(err: unknown): boolean {
  return err instanceof CommandError && err.code === StaleConfig;
}

async function insert(router: Router, ctx: CommandContext, first: Routing): Promise<Document> {
  const docs = (ctx.body.documents as Document[] | undefined) ?? [];
  let n = 0;
  const writeErrors: Document[] = [];
  let pending = docs.map((doc, index) => ({ doc, index }));
  let r = first;
  for (let round = 0; pending.length > 0; round++) {
    const groups = new Map<string, { doc: Document; index: number }[]>();
    for (const p of pending) {
      const shard = String(chunkFor(r.chunks, shardKeyOf(p.doc, r.pattern), r.fields)?.shard);
      groups.set(shard, [...(groups.get(shard) ?? []), p]);
    }
    pending = [];
    for (const [shard, group] of groups) {
      let reply: Document;
      try {
        reply = await must(router, shard, ctx.db, {
          ...forwardBody(ctx.body),
          documents: group.map((g) => g.doc),
        });
      } catch (err) {
        if (!isStale(err) || round >= MAX_REROUTES) throw err;
        pending.push(...group);
        continue;
      }
      n += asNumber(reply.n) ?? 0;
      for (const e of (reply.writeErrors as Document[] | undefined) ?? []) {
        writeErrors.push({ ...e, index: group[asNumber(e.index) ?? 0]?.index ?? 0 });
      }
      if (writeErrors.length > 0 && ctx.body.ordered !== false) break;
    }
    if (writeErrors.length > 0 && ctx.body.ordered !== false) break;
    if (pending.length > 0) r = (await routingOf(router, ctx.db, ctx.body[ctx.name])) ?? r;
  }
  writeErrors.sort((a, b) => (asNumber(a.index) ?? 0) - (asNumber(b.index) ?? 0));
  return writeErrors.length > 0 ? { n, writeErrors } : { n };
}

function upsertNeedsKey(): CommandError {
  return new CommandError(
    ShardKeyNotFound,
    'Failed to target upsert by query :: could not extract exact shard key',
    {},
    'ShardKeyNotFound',
  );
}

/**
 * update / delete: each statement targeted or broadcast; single-document ones stop at the first hit. A
 * StaleConfig re-routes the statement; shards that already applied a broadcast one are not asked again.
 */
async function writeStatements(
  router: Router,
  ctx: CommandContext,
  r: Routing,
  field: 'updates' | 'deletes',
): Promise<Document> {
  const statements = (ctx.body[field] as Document[] | undefined) ?? [];
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  const writeErrors: Document[] = [];
  let routing = r;
  for (const [i, st] of statements.entries()) {
    const many = field === 'updates' ? st.multi === true : asNumber(st.limit) === 0;
    const done = new Set<string>();
    for (let round = 0; ; round++) {
      const shards = shardsFor(routing, st.q as Document | undefined).filter((s) => !done.has(s));
      if (shards.length > 1 && field === 'updates' && st.upsert === true) throw upsertNeedsKey();
      let stale = false;
      let hit = false;
      for (const s of shards) {
        let reply: Document;
        try {
          reply = await must(router, s, ctx.db, { ...forwardBody(ctx.body), [field]: [st] });
        } catch (err) {
          if (!isStale(err) || round >= MAX_REROUTES) throw err;
          stale = true;
          break;
        }
        done.add(s);
        const got = asNumber(reply.n) ?? 0;
        n += got;
        nModified += asNumber(reply.nModified) ?? 0;
        for (const u of (reply.upserted as Document[] | undefined) ?? []) upserted.push({ ...u, index: i });
        for (const e of (reply.writeErrors as Document[] | undefined) ?? [])
          writeErrors.push({ ...e, index: i });
        if (!many && got > 0) {
          hit = true;
          break;
        }
      }
      if (!stale || hit) break;
      routing = (await routingOf(router, ctx.db, ctx.body[ctx.name])) ?? routing;
    }
    if (writeErrors.length > 0 && ctx.body.ordered !== false) break;
  }
  const out: Document = { n };
  if (field === 'updates') out.nModified = nModified;
  if (upserted.length > 0) out.upserted = upserted;
  if (writeErrors.length > 0) out.writeErrors = writeErrors;
  return out;
}

async function findAndModify(router: Router, ctx: CommandContext, first: Routing): Promise<Document> {
  let r = first;
  for (let round = 0; ; round++) {
    const shards = shardsFor(r, ctx.body.query as Document | undefined);
    if (shards.length > 1 && ctx.body.upsert === true) throw upsertNeedsKey();
    let last: Document = {};
    try {
      for (const s of shards) {
        last = await must(router, s, ctx.db, forwardBody(ctx.body));
        const hit = asNumber((last.lastErrorObject as Document | undefined)?.n) ?? 0;
        if (hit > 0) return last;
      }
      return last;
    } catch (err) {
      if (!isStale(err) || round >= MAX_REROUTES) throw err;
      r = (await routingOf(router, ctx.db, ctx.body[ctx.name])) ?? r;
    }
  }
}

/** Index commands reach every shard that owns a chunk of the collection, and the primary shard. */
async function broadcastIndexes(router: Router, ctx: CommandContext, r: Routing): Promise<Document> {
  const entry = await router.database(ctx.db);
  const shards = new Set(r.chunks.map((c) => String(c.shard)));
  if (entry) shards.add(String(entry.primary));
  let first: Document | undefined;
  for (const s of [...shards].sort()) {
    const reply = await run(router, s, ctx.db, forwardBody(ctx.body));
    if (!replyOk(reply) && asNumber(reply.code) !== 26) throw replyError(reply);
    first ??= reply;
  }
  return first ?? {};
}

export function registerShardedRouting(registry: CommandRegistry, router: Router): void {
  wrap(registry, ['find'], router, (ctx, r) => find(router, ctx, r));
  wrap(registry, ['aggregate'], router, (ctx, r) => aggregate(router, ctx, r));
  wrap(registry, ['count'], router, (ctx, r) => count(router, ctx, r));
  wrap(registry, ['distinct'], router, (ctx, r) => distinct(router, ctx, r));
  wrap(registry, ['insert'], router, (ctx, r) => insert(router, ctx, r));
  wrap(registry, ['update'], router, (ctx, r) => writeStatements(router, ctx, r, 'updates'));
  wrap(registry, ['delete'], router, (ctx, r) => writeStatements(router, ctx, r, 'deletes'));
  wrap(registry, ['findAndModify', 'findandmodify'], router, (ctx, r) => findAndModify(router, ctx, r));
  wrap(registry, ['createIndexes', 'dropIndexes', 'deleteIndexes'], router, (ctx, r) =>
    broadcastIndexes(router, ctx, r),
  );

  // Cursors of merged (scatter-gather) results live on mongos itself.
  const getMore = registry.get('getMore');
  if (getMore) {
    registry.register({
      ...getMore,
      handler: (ctx) => {
        const id = ctx.body.getMore;
        const local = id instanceof Long ? router.mergedCursors.get(id) : undefined;
        if (!local || !(id instanceof Long)) return getMore.handler(ctx);
        const batch = router.mergedCursors.next(id, asNumber(ctx.body.batchSize));
        return { cursor: { nextBatch: batch.docs, id: batch.id, ns: local.ns } };
      },
    });
  }
  const killCursors = registry.get('killCursors');
  if (killCursors) {
    registry.register({
      ...killCursors,
      handler: async (ctx) => {
        const ids = Array.isArray(ctx.body.cursors) ? (ctx.body.cursors as unknown[]) : [];
        const mine = ids.filter((id) => id instanceof Long && router.mergedCursors.kill(id));
        const rest = ids.filter((id) => !mine.includes(id));
        const reply =
          rest.length > 0 ? await killCursors.handler({ ...ctx, body: { ...ctx.body, cursors: rest } }) : {};
        return {
          ...reply,
          cursorsKilled: [...mine, ...((reply.cursorsKilled as unknown[] | undefined) ?? [])],
        };
      },
    });
  }

  const admin = (names: string[], handler: (ctx: CommandContext) => Promise<Document>): void => {
    registry.register({ names, adminOnly: true, program: 'mongos', handler });
  };
  const nsArg = (ctx: CommandContext): string => {
    const ns = ctx.body[ctx.name];
    if (typeof ns !== 'string' || !/^[^.]+\..+$/.test(ns)) {
      throw new CommandError(ErrorCode.InvalidNamespace, `Invalid namespace specified '${String(ns)}'`);
    }
    return ns;
  };
  admin(['split'], async (ctx) => {
    const body: Document = { _configsvrSplitChunk: nsArg(ctx) };
    for (const k of ['middle', 'find', 'bounds']) if (ctx.body[k] !== undefined) body[k] = ctx.body[k];
    await router.configCommand(body);
    return {};
  });
  admin(['moveChunk', 'movechunk'], async (ctx) => {
    const body: Document = { _configsvrMoveChunk: nsArg(ctx), to: ctx.body.to };
    for (const k of ['find', 'bounds']) if (ctx.body[k] !== undefined) body[k] = ctx.body[k];
    const r = await router.configCommand(body);
    return { millis: r.millis };
  });
}
