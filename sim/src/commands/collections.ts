// Catalog commands: create, drop, dropDatabase, listCollections, listDatabases, createIndexes,
// listIndexes, dropIndexes, dbStats, collStats (sizes approximate).
import { BSON, type Document, Double, Int32, Long } from 'bson';
import { asNumber } from '../bsonvalues.js';
import { CommandError, ErrorCode } from '../errors.js';
import { compileFilter } from '../query/match.js';
import { isPlainDocument } from '../query/paths.js';
import type { Collection, StorageOp } from '../storage/store.js';
import { atLeast } from '../version.js';
import {
  beginWrite,
  checkNamespace,
  collectionName,
  duplicateKeyError,
  finishWrite,
  indexKeyValue,
  isIndexed,
} from './common.js';
import type { CommandContext, CommandRegistry } from './registry.js';
import { checkValidatorSpec } from './validation.js';
import { viewInfos } from './views.js';

function dataSize(c: Collection): number {
  let n = 0;
  for (const d of c.all()) n += BSON.calculateObjectSize(d);
  return n;
}

async function create(ctx: CommandContext): Promise<Document> {
  const coll = collectionName(ctx);
  beginWrite(ctx);
  const storage = ctx.node.requireStorage();
  if (storage.getCollection(ctx.db, coll)) {
    throw new CommandError(ErrorCode.NamespaceExists, `Collection ${ctx.db}.${coll} already exists.`);
  }
  const options: Document = {};
  for (const [k, v] of Object.entries(ctx.body).slice(1)) {
    if (k.startsWith('$') || ['lsid', 'writeConcern', 'txnNumber', 'comment', 'maxTimeMS'].includes(k))
      continue;
    options[k] = v;
  }
  if (options.validator !== undefined) {
    if (!isPlainDocument(options.validator)) {
      throw new CommandError(
        ErrorCode.TypeMismatch,
        "BSON field 'create.validator' is the wrong type, expected type 'object'",
      );
    }
    checkValidatorSpec(options.validator);
  }
  const result = ctx.node.commit([{ op: 'createCollection', db: ctx.db, coll, options }]);
  return finishWrite(ctx, result, {});
}

async function drop(ctx: CommandContext): Promise<Document> {
  const coll = collectionName(ctx);
  beginWrite(ctx);
  const c = ctx.node.requireStorage().getCollection(ctx.db, coll);
  if (!c) {
    // 7.0 made drop of a missing collection succeed; before it was NamespaceNotFound "ns not found".
    if (atLeast(ctx.node.version, 7, 0)) return finishWrite(ctx, {}, {});
    throw new CommandError(ErrorCode.NamespaceNotFound, 'ns not found');
  }
  const result = ctx.node.commit([{ op: 'dropCollection', db: ctx.db, coll }]);
  return finishWrite(ctx, result, { nIndexesWas: new Int32(c.indexes.length), ns: c.ns });
}

async function dropDatabase(ctx: CommandContext): Promise<Document> {
  beginWrite(ctx);
  const storage = ctx.node.requireStorage();
  if (ctx.db === 'admin') {
    throw new CommandError(ErrorCode.IllegalOperation, "Dropping the 'admin' database is prohibited.");
  }
  if (storage.collections(ctx.db).length === 0) return finishWrite(ctx, {}, {});
  const result = ctx.node.commit([{ op: 'dropDatabase', db: ctx.db }]);
  return finishWrite(ctx, result, { dropped: ctx.db });
}

function listCollections(ctx: CommandContext): Document {
  checkNamespace(ctx.db, 'x');
  ctx.node.role.checkRead(ctx.db, true);
  const filter = compileFilter(ctx.body.filter as Document | undefined);
  const nameOnly = ctx.body.nameOnly === true;
  const infos = ctx.node
    .requireStorage()
    .collections(ctx.db)
    .map((c): Document => {
      if (nameOnly) return { name: c.name, type: 'collection' };
      const info: Document = {
        name: c.name,
        type: 'collection',
        options: c.options,
        info: { readOnly: false, uuid: c.uuid },
      };
      if (c.indexes.some((i) => i.name === '_id_'))
        info.idIndex = { v: new Int32(2), key: { _id: new Int32(1) }, name: '_id_' };
      return info;
    })
    .concat(viewInfos(ctx.node.requireStorage(), ctx.db, nameOnly))
    .filter(filter);
  const batchSize = asNumber((ctx.body.cursor as Document | undefined)?.batchSize);
  const batch = ctx.node.cursors.create(`${ctx.db}.$cmd.listCollections`, infos, batchSize);
  return { cursor: { id: batch.id, ns: `${ctx.db}.$cmd.listCollections`, firstBatch: batch.docs } };
}

function listDatabases(ctx: CommandContext): Document {
  const storage = ctx.node.requireStorage();
  const filter = compileFilter(ctx.body.filter as Document | undefined);
  const nameOnly = ctx.body.nameOnly === true;
  let total = 0;
  const databases = storage
    .databaseNames()
    .sort()
    .map((name): Document => {
      if (nameOnly) return { name };
      const size = Math.max(
        8192,
        storage.collections(name).reduce((n, c) => n + dataSize(c) + 4096 * c.indexes.length, 0),
      );
      total += size;
      return { name, sizeOnDisk: Long.fromNumber(size), empty: false };
    })
    .filter(filter);
  if (nameOnly) return { databases };
  return {
    databases,
    totalSize: Long.fromNumber(total),
    totalSizeMb: Long.fromNumber(Math.floor(total / 1024 / 1024)),
  };
}

function indexName(key: Document): string {
  return Object.entries(key)
    .map(([k, v]) => `${k}_${typeof v === 'string' ? v : String(asNumber(v))}`)
    .join('_');
}

function sameKey(a: Document, b: Document): boolean {
  const ea = Object.entries(a);
  const eb = Object.entries(b);
  return (
    ea.length === eb.length &&
    ea.every(
      ([k, v], i) =>
        eb[i]?.[0] === k && String(asNumber(v) ?? v) === String(asNumber(eb[i]?.[1]) ?? eb[i]?.[1]),
    )
  );
}

async function createIndexes(ctx: CommandContext): Promise<Document> {
  const coll = collectionName(ctx);
  beginWrite(ctx);
  const specs = ctx.body.indexes;
  if (!Array.isArray(specs) || specs.length === 0) {
    throw new CommandError(ErrorCode.BadValue, 'Must specify at least one index to create');
  }
  const storage = ctx.node.requireStorage();
  const existing = storage.getCollection(ctx.db, coll);
  const before = existing ? existing.indexes.length : 1;
  const ops: StorageOp[] = existing ? [] : [{ op: 'createCollection', db: ctx.db, coll }];
  const current = existing ? [...existing.indexes] : [{ v: 2, key: { _id: 1 }, name: '_id_' }];
  for (const raw of specs) {
    if (!isPlainDocument(raw) || !isPlainDocument(raw.key) || Object.keys(raw.key).length === 0) {
      throw new CommandError(
        ErrorCode.BadValue,
        "The 'key' field is a required property of an index specification",
      );
    }
    const name = typeof raw.name === 'string' ? raw.name : indexName(raw.key);
    const spec: Document = { v: new Int32(2), key: raw.key, name };
    for (const [k, v] of Object.entries(raw)) if (k !== 'key' && k !== 'name' && k !== 'v') spec[k] = v;
    const byName = current.find((i) => i.name === name);
    const byKey = current.find((i) => sameKey(i.key as Document, raw.key as Document));
    if (byName && !sameKey(byName.key as Document, raw.key)) {
      throw new CommandError(
        ErrorCode.IndexKeySpecsConflict,
        `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(byName)}`,
      );
    }
    if (byKey && byKey.name !== name) {
      throw new CommandError(
        ErrorCode.IndexOptionsConflict,
        `Index already exists with a different name: ${byKey.name}`,
      );
    }
    if (byName) continue;
    if (spec.unique === true && existing) {
      const seen = new Map<string, Document>();
      for (const d of existing.all()) {
        if (!isIndexed(spec, d)) continue;
        const { key: k, value: keyValue } = indexKeyValue(spec, d);
        if (seen.has(k)) throw duplicateKeyError(`${ctx.db}.${coll}`, { index: spec, keyValue });
        seen.set(k, d);
      }
    }
    current.push(spec);
    ops.push({ op: 'createIndex', db: ctx.db, coll, spec });
  }
  const result = ops.length > 0 ? ctx.node.commit(ops) : {};
  const reply: Document = {
    numIndexesBefore: new Int32(before),
    numIndexesAfter: new Int32(current.length),
    createdCollectionAutomatically: !existing,
  };
  if (current.length === before) reply.note = 'all indexes already exist';
  return finishWrite(ctx, result, reply);
}

function listIndexes(ctx: CommandContext): Document {
  const coll = collectionName(ctx);
  ctx.node.role.checkRead(ctx.db, ctx.secondaryOk);
  const c = ctx.node.requireStorage().getCollection(ctx.db, coll);
  if (!c) throw new CommandError(ErrorCode.NamespaceNotFound, `ns does not exist: ${ctx.db}.${coll}`);
  const batch = ctx.node.cursors.create(`${ctx.db}.$cmd.listIndexes.${coll}`, c.indexes, undefined);
  return { cursor: { id: batch.id, ns: `${ctx.db}.$cmd.listIndexes.${coll}`, firstBatch: batch.docs } };
}

async function dropIndexes(ctx: CommandContext): Promise<Document> {
  const coll = collectionName(ctx);
  beginWrite(ctx);
  const c = ctx.node.requireStorage().getCollection(ctx.db, coll);
  if (!c) throw new CommandError(ErrorCode.NamespaceNotFound, `ns not found ${ctx.db}.${coll}`);
  const which = ctx.body.index;
  const was = c.indexes.length;
  let names: string[];
  if (which === '*') names = c.indexes.map((i) => i.name as string).filter((n) => n !== '_id_');
  else if (typeof which === 'string') names = [which];
  else if (isPlainDocument(which))
    names = c.indexes.filter((i) => sameKey(i.key as Document, which)).map((i) => i.name as string);
  else if (Array.isArray(which)) names = which.map(String);
  else throw new CommandError(ErrorCode.BadValue, 'invalid index name spec');
  for (const n of names) {
    if (n === '_id_') throw new CommandError(72, 'cannot drop _id index');
    if (!c.indexes.some((i) => i.name === n)) {
      throw new CommandError(ErrorCode.IndexNotFound, `index not found with name [${n}]`);
    }
  }
  if (isPlainDocument(which) && names.length === 0) {
    throw new CommandError(ErrorCode.IndexNotFound, `can't find index with key: ${JSON.stringify(which)}`);
  }
  const result =
    names.length > 0
      ? ctx.node.commit(names.map((name) => ({ op: 'dropIndex' as const, db: ctx.db, coll, name })))
      : {};
  return finishWrite(ctx, result, { nIndexesWas: new Int32(was) });
}

function dbStats(ctx: CommandContext): Document {
  const colls = ctx.node.requireStorage().collections(ctx.db);
  const scale = asNumber(ctx.body.scale) ?? 1;
  const objects = colls.reduce((n, c) => n + c.size, 0);
  const size = colls.reduce((n, c) => n + dataSize(c), 0);
  const indexes = colls.reduce((n, c) => n + c.indexes.length, 0);
  const storageSize = colls.length * 4096 + size;
  return {
    db: ctx.db,
    collections: new Int32(colls.length),
    views: new Int32(0),
    objects: Long.fromNumber(objects),
    avgObjSize: new Double(objects === 0 ? 0 : size / objects),
    dataSize: new Double(size / scale),
    storageSize: new Double(storageSize / scale),
    indexes: Long.fromNumber(indexes),
    indexSize: new Double((indexes * 4096) / scale),
    totalSize: new Double((storageSize + indexes * 4096) / scale),
    scaleFactor: Long.fromNumber(scale),
    fsUsedSize: new Double(0),
    fsTotalSize: new Double(0),
  };
}

function collStats(ctx: CommandContext): Document {
  const coll = collectionName(ctx);
  const c = ctx.node.requireStorage().getCollection(ctx.db, coll);
  if (!c) throw new CommandError(ErrorCode.NamespaceNotFound, `Collection [${ctx.db}.${coll}] not found.`);
  return storageStats(c);
}

/** Approximate sizes of a collection (collStats, $collStats.storageStats). */
export function storageStats(c: Collection): Document {
  const size = dataSize(c);
  const indexSizes: Document = {};
  for (const i of c.indexes) indexSizes[i.name as string] = new Int32(4096);
  return {
    ns: c.ns,
    size: new Int32(size),
    count: new Int32(c.size),
    avgObjSize: new Int32(c.size === 0 ? 0 : Math.round(size / c.size)),
    storageSize: new Int32(4096 + size),
    freeStorageSize: new Int32(0),
    capped: c.options.capped === true,
    // A capped collection reports its limits (local.oplog.rs: rs.printReplicationInfo() reads maxSize).
    ...(c.options.capped === true && c.options.size !== undefined
      ? { maxSize: Long.fromNumber(asNumber(c.options.size) ?? 0) }
      : {}),
    ...(c.options.capped === true && c.options.max !== undefined
      ? { max: Long.fromNumber(asNumber(c.options.max) ?? 0) }
      : {}),
    nindexes: new Int32(c.indexes.length),
    totalIndexSize: new Int32(4096 * c.indexes.length),
    totalSize: new Int32(4096 + size + 4096 * c.indexes.length),
    indexSizes,
    scaleFactor: new Int32(1),
  };
}

export function registerCollectionCommands(registry: CommandRegistry): void {
  registry.register({ names: ['create'], program: 'mongod', handler: create });
  registry.register({ names: ['drop'], program: 'mongod', handler: drop });
  registry.register({ names: ['dropDatabase'], program: 'mongod', handler: dropDatabase });
  registry.register({ names: ['listCollections'], program: 'mongod', handler: listCollections });
  registry.register({ names: ['listDatabases'], program: 'mongod', adminOnly: true, handler: listDatabases });
  registry.register({ names: ['createIndexes'], program: 'mongod', handler: createIndexes });
  registry.register({ names: ['listIndexes'], program: 'mongod', handler: listIndexes });
  registry.register({ names: ['dropIndexes', 'deleteIndexes'], program: 'mongod', handler: dropIndexes });
  registry.register({ names: ['dbStats', 'dbstats'], program: 'mongod', handler: dbStats });
  registry.register({ names: ['collStats'], program: 'mongod', handler: collStats });
}
