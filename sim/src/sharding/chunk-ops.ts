// Chunk operations on the config server primary, behind mongos' split / moveChunk and the balancer:
// - split a chunk at a key (`middle`) or at the median key of its documents (`find` / `bounds`); the
//   two halves keep the major version and take the next minor versions (MongoDB's chunk versioning);
// - migrate a chunk: recreate the collection and its indexes on the recipient, copy the documents of
//   the range, commit the new owner with a new major version, then delete the range on the donor
//   (the "range deleter"). Catalog changes are committed with majority write concern.
// Sources: MongoDB manual "split", "moveChunk", "Data Partitioning with Chunks", "Migrate Ranges";
// config.chunks fields (min, max, shard, lastmod, lastmodEpoch, history).
import { BSON, type Document, Int32, ObjectId, Timestamp } from 'bson';
import { idKey } from '../bsonvalues.js';
import type { CommandContext } from '../commands/registry.js';
import { CommandError, ErrorCode } from '../errors.js';
import { CatalogBatch, CONFIG_DB, chunksOf, readById } from './catalog.js';
import { type ConfigServer, MAJORITY } from './configsvr.js';
import { drainCursor } from './data-copy.js';
import { replyError, replyOk, type SetTarget } from './remote.js';
import { chunkFor, chunkHolds, compareKeys, keyFields, shardKeyOf, sortChunks } from './shard-key.js';

const NamespaceNotSharded = 118;
const CannotSplit = 87;
const ShardNotFound = 70;
const COPY_BATCH = 1000;

export interface ShardedCollection {
  readonly ns: string;
  readonly db: string;
  readonly coll: string;
  readonly doc: Document;
  readonly pattern: Document;
  readonly fields: string[];
  readonly chunks: Document[];
}

/** The sharded collection `ns` with its chunks sorted by range, or 118 NamespaceNotSharded. */
export function shardedCollection(server: ConfigServer, ns: string): ShardedCollection {
  const doc = readById(server.storage, 'collections', ns);
  if (!doc || doc.dropped === true) {
    throw new CommandError(NamespaceNotSharded, `ns [${ns}] is not sharded.`, {}, 'NamespaceNotSharded');
  }
  const pattern = doc.key as Document;
  const fields = keyFields(pattern);
  const chunks = sortChunks(chunksOf(server.storage, server.version, ns, doc.uuid), fields);
  const dot = ns.indexOf('.');
  return { ns, db: ns.slice(0, dot), coll: ns.slice(dot + 1), doc, pattern, fields, chunks };
}

function lastmodOf(chunk: Document): { major: number; minor: number } {
  const t = chunk.lastmod as Timestamp | undefined;
  return t instanceof Timestamp ? { major: t.high, minor: t.low } : { major: 1, minor: 0 };
}

/** The highest chunk version of a collection (its collection version). */
function collectionVersion(chunks: Document[]): { major: number; minor: number } {
  let best = { major: 0, minor: 0 };
  for (const c of chunks) {
    const v = lastmodOf(c);
    if (v.major > best.major || (v.major === best.major && v.minor > best.minor)) best = v;
  }
  return best;
}

function version(major: number, minor: number): Timestamp {
  return Timestamp.fromBits(minor, major);
}

/** The chunk a `find` (a document's shard key) or `bounds` ([min, max]) argument names. */
function namedChunk(sc: ShardedCollection, body: Document): Document {
  if (body.find !== undefined) {
    const chunk = chunkFor(sc.chunks, shardKeyOf(body.find as Document, sc.pattern), sc.fields);
    if (chunk) return chunk;
  } else if (Array.isArray(body.bounds) && body.bounds.length === 2) {
    const [min, max] = body.bounds as Document[];
    const chunk = sc.chunks.find(
      (c) =>
        compareKeys(c.min as Document, min as Document, sc.fields) === 0 &&
        compareKeys(c.max as Document, max as Document, sc.fields) === 0,
    );
    if (chunk) return chunk;
    throw new CommandError(
      ErrorCode.InvalidOptions,
      `no chunk found with the shard key bounds [${JSON.stringify(min)}, ${JSON.stringify(max)})`,
    );
  }
  throw new CommandError(ErrorCode.InvalidOptions, 'no chunk found for the given shard key');
}

/** The documents of a chunk's range, read from its owning shard's primary. */
export async function rangeDocuments(
  server: ConfigServer,
  sc: ShardedCollection,
  chunk: Document,
): Promise<Document[]> {
  const donor = server.shardTarget(server.requireShard(String(chunk.shard)));
  const all = await drainCursor(donor, sc.db, {
    find: sc.coll,
    filter: {},
    batchSize: new Int32(COPY_BATCH),
  });
  return all.filter((d) => chunkHolds(chunk, shardKeyOf(d, sc.pattern), sc.fields));
}

/** Splits `chunk` at `at` (strictly inside the range) and commits both halves. */
export async function commitSplit(
  server: ConfigServer,
  sc: ShardedCollection,
  chunk: Document,
  at: Document,
): Promise<void> {
  const v = collectionVersion(sc.chunks);
  const low = { ...chunk, max: at, lastmod: version(v.major, v.minor + 1) };
  const high = {
    ...chunk,
    _id: new ObjectId(),
    min: at,
    lastmod: version(v.major, v.minor + 2),
  };
  await server.commit(new CatalogBatch(server.storage).put('chunks', low).put('chunks', high));
  server.node.log.info('SHARDING', 21914, 'conn', 'Split chunk', {
    ns: sc.ns,
    min: chunk.min,
    max: chunk.max,
    splitPoint: at,
  });
}

/** `_configsvrSplitChunk`: split at `middle`, or at the median key of the chunk named by find/bounds. */
export async function splitChunk(server: ConfigServer, ctx: CommandContext): Promise<Document> {
  const ns = String(ctx.body[ctx.name]);
  const given = ['middle', 'find', 'bounds'].filter((k) => ctx.body[k] !== undefined);
  if (given.length !== 1) {
    throw new CommandError(ErrorCode.BadValue, 'need to specify only one of find, bounds or middle');
  }
  return server.exclusive(async () => {
    server.node.role.checkWrite(CONFIG_DB);
    const sc = shardedCollection(server, ns);
    let chunk: Document;
    let at: Document;
    if (ctx.body.middle !== undefined) {
      const middle = ctx.body.middle as Document;
      if (sc.fields.some((f) => !(f in middle)) || Object.keys(middle).length !== sc.fields.length) {
        throw new CommandError(
          ErrorCode.InvalidOptions,
          `middle key ${JSON.stringify(middle)} is not a valid shard key for pattern ${JSON.stringify(sc.pattern)}`,
        );
      }
      at = Object.fromEntries(sc.fields.map((f) => [f, middle[f]]));
      const found = chunkFor(sc.chunks, at, sc.fields);
      if (!found) throw new CommandError(CannotSplit, 'no chunk holds the split point', {}, 'CannotSplit');
      chunk = found;
      if (compareKeys(chunk.min as Document, at, sc.fields) === 0) {
        throw new CommandError(
          CannotSplit,
          `cannot split chunk [${JSON.stringify(chunk.min)}, ${JSON.stringify(chunk.max)}) at its lower bound`,
          {},
          'CannotSplit',
        );
      }
    } else {
      chunk = namedChunk(sc, ctx.body);
      const keys = (await rangeDocuments(server, sc, chunk))
        .map((d) => shardKeyOf(d, sc.pattern))
        .sort((a, b) => compareKeys(a, b, sc.fields));
      const median = keys[Math.floor(keys.length / 2)];
      if (!median || compareKeys(median, chunk.min as Document, sc.fields) === 0) {
        throw new CommandError(
          CannotSplit,
          `chunk [${JSON.stringify(chunk.min)}, ${JSON.stringify(chunk.max)}) has too few distinct shard key values to split`,
          {},
          'CannotSplit',
        );
      }
      at = median;
    }
    await commitSplit(server, sc, chunk, at);
    return {};
  });
}

async function must(target: SetTarget, db: string, body: Document): Promise<Document> {
  const reply = await target.runOnPrimary(db, body, { timeoutMs: 120_000 });
  if (!replyOk(reply)) throw replyError(reply);
  return reply;
}

/** Inserts documents the recipient lacks (duplicates are skipped); returns how many were new. */
async function insertMissing(recipient: SetTarget, sc: ShardedCollection, docs: Document[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < docs.length; i += COPY_BATCH) {
    const reply = await must(recipient, sc.db, {
      insert: sc.coll,
      documents: docs.slice(i, i + COPY_BATCH),
      ordered: false,
      writeConcern: MAJORITY,
    });
    n += Number(reply.n ?? 0);
    const bad = ((reply.writeErrors as Document[] | undefined) ?? []).find((e) => Number(e.code) !== 11000);
    if (bad) throw new CommandError(Number(bad.code), String(bad.errmsg));
  }
  return n;
}

async function deleteIds(target: SetTarget, sc: ShardedCollection, ids: unknown[]): Promise<void> {
  for (let i = 0; i < ids.length; i += COPY_BATCH) {
    await must(target, sc.db, {
      delete: sc.coll,
      deletes: [{ q: { _id: { $in: ids.slice(i, i + COPY_BATCH) } }, limit: 0 }],
      writeConcern: MAJORITY,
    });
  }
}

/**
 * Moves one chunk to shard `toName`: documents first, then the catalog, then the donor's copy. The
 * caller holds the catalog lock (exclusive).
 */
export async function migrateChunk(
  server: ConfigServer,
  sc: ShardedCollection,
  chunk: Document,
  toName: string,
): Promise<number> {
  const from = server.requireShard(String(chunk.shard));
  const to = server.requireShard(toName);
  const donor = server.shardTarget(from);
  const recipient = server.shardTarget(to);
  const infos = await drainCursor(donor, sc.db, { listCollections: 1, filter: { name: sc.coll } });
  const options = ((infos[0]?.options as Document | undefined) ?? {}) as Document;
  const created = await recipient.runOnPrimary(sc.db, {
    create: sc.coll,
    ...options,
    writeConcern: MAJORITY,
  });
  if (!replyOk(created) && Number(created.code) !== 48) throw replyError(created);
  const indexes = (await drainCursor(donor, sc.db, { listIndexes: sc.coll })).filter(
    (i) => i.name !== '_id_',
  );
  if (indexes.length > 0) {
    const specs = indexes.map(({ v: _v, ns: _ns, ...rest }) => rest);
    await must(recipient, sc.db, { createIndexes: sc.coll, indexes: specs, writeConcern: MAJORITY });
  }
  // 1. Clone the range; the recipient's copies stay invisible (mongos filters by owner) until commit.
  const docs = await rangeDocuments(server, sc, chunk);
  await insertMissing(recipient, sc, docs);
  // 2. Critical section on the donor: its writes to the collection wait, then answer StaleConfig so
  //    mongos re-routes them after the commit. Catch up with what the donor took meanwhile: replace the
  //    recipient's private copies with the donor's current documents, drop those the donor deleted.
  await must(donor, 'admin', { _shardsvrMigrationCriticalSection: sc.ns, enter: true });
  let copied: number;
  try {
    copied = await catchUpAndCommit(server, sc, chunk, docs, toName);
  } finally {
    await donor
      .runOnPrimary('admin', { _shardsvrMigrationCriticalSection: sc.ns, enter: false })
      .catch(() => undefined);
  }
  const late = await deleteRange(server, sc, chunk, from, toName);
  server.node.log.info('SHARDING', 21868, 'Balancer', 'Migration succeeded', {
    ns: sc.ns,
    from: from._id,
    to: toName,
    min: chunk.min,
    max: chunk.max,
    documents: copied + late,
  });
  return copied + late;
}

async function catchUpAndCommit(
  server: ConfigServer,
  sc: ShardedCollection,
  chunk: Document,
  docs: Document[],
  toName: string,
): Promise<number> {
  const recipient = server.shardTarget(server.requireShard(toName));
  const current = await rangeDocuments(server, sc, chunk);
  const keep = new Set(current.map((d) => idKey(d._id)));
  for (let i = 0; i < current.length; i += COPY_BATCH) {
    await must(recipient, sc.db, {
      update: sc.coll,
      updates: current.slice(i, i + COPY_BATCH).map((d) => ({ q: { _id: d._id }, u: d, upsert: true })),
      ordered: false,
      writeConcern: MAJORITY,
    });
  }
  const gone = docs.filter((d) => !keep.has(idKey(d._id))).map((d) => d._id);
  if (gone.length > 0) await deleteIds(recipient, sc, gone);
  // 3. Commit the new owner: mongos routes the range to the recipient from here.
  const v = collectionVersion(sc.chunks);
  const history = [{ validAfter: Timestamp.fromBits(0, Math.floor(Date.now() / 1000)), shard: toName }];
  const committed = {
    ...chunk,
    shard: toName,
    lastmod: version(v.major + 1, 0),
    history: [...history, ...((chunk.history as Document[] | undefined) ?? [])],
  };
  await server.commit(new CatalogBatch(server.storage).put('chunks', committed));
  return current.length;
}

/**
 * Range deleter, after the critical section: documents routed to the donor before mongos saw the commit
 * are moved over (insert-only, the recipient's versions win), then the donor's copies are deleted.
 */
async function deleteRange(
  server: ConfigServer,
  sc: ShardedCollection,
  chunk: Document,
  from: Document,
  toName: string,
): Promise<number> {
  const donor = server.shardTarget(from);
  const recipient = server.shardTarget(server.requireShard(toName));
  let moved = 0;
  for (let sweep = 0; sweep < 3; sweep++) {
    const left = await rangeDocuments(server, sc, { ...chunk, shard: from._id });
    if (left.length === 0 && sweep > 0) break;
    moved += await insertMissing(recipient, sc, left);
    if (left.length > 0)
      await deleteIds(
        donor,
        sc,
        left.map((d) => d._id),
      );
    await new Promise((r) => setTimeout(r, 100));
  }
  return moved;
}

/** `_configsvrMoveChunk`: moves the chunk named by find/bounds to shard `to`. */
export async function moveChunk(server: ConfigServer, ctx: CommandContext): Promise<Document> {
  const ns = String(ctx.body[ctx.name]);
  const toName = ctx.body.to;
  if (typeof toName !== 'string' || toName === '') {
    throw new CommandError(ErrorCode.InvalidOptions, "'to' must be a string shard name");
  }
  if ((ctx.body.find === undefined) === (ctx.body.bounds === undefined)) {
    throw new CommandError(ErrorCode.InvalidOptions, 'need to specify either find or bounds, but not both');
  }
  return server.exclusive(async () => {
    server.node.role.checkWrite(CONFIG_DB);
    const sc = shardedCollection(server, ns);
    if (!readById(server.storage, 'shards', toName)) {
      throw new CommandError(ShardNotFound, `Could not find shard ${toName}`, {}, 'ShardNotFound');
    }
    const chunk = namedChunk(sc, ctx.body);
    if (chunk.shard === toName) return { millis: new Int32(0) };
    const started = Date.now();
    await migrateChunk(server, sc, chunk, toName);
    return { millis: new Int32(Date.now() - started) };
  });
}

/**
 * 6.0+ moves ranges of about the size needed: when a chunk holds more than half the imbalance, it is
 * split at its median key first and only the lower half moves (so two shards do not trade one big
 * chunk back and forth). Returns the chunk to move.
 */
export async function rangeToMove(
  server: ConfigServer,
  sc: ShardedCollection,
  chunk: Document,
  imbalanceBytes: number,
): Promise<Document> {
  const docs = await rangeDocuments(server, sc, chunk);
  const bytes = docs.reduce((n, d) => n + BSON.calculateObjectSize(d), 0);
  if (bytes <= imbalanceBytes / 2) return chunk;
  const keys = docs.map((d) => shardKeyOf(d, sc.pattern)).sort((a, b) => compareKeys(a, b, sc.fields));
  const median = keys[Math.floor(keys.length / 2)];
  if (!median || compareKeys(median, chunk.min as Document, sc.fields) === 0) return chunk;
  await commitSplit(server, sc, chunk, median);
  const fresh = shardedCollection(server, sc.ns);
  return (
    fresh.chunks.find((c) => compareKeys(c.min as Document, chunk.min as Document, sc.fields) === 0) ?? chunk
  );
}
