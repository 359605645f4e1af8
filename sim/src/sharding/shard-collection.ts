// shardCollection on the config server primary: validates the key, requires enableSharding before 6.0
// (implicit database creation from 6.0), is idempotent for the same key, creates the collection and the
// shard-key index on the primary shard, and records config.collections plus one [MinKey, MaxKey) chunk.
// Source: reference/mongod-behavior.md §4.3; MongoDB manual "shardCollection".
import { type Document, MaxKey, MinKey, ObjectId, UUID } from 'bson';
import { asNumber } from '../bsonvalues.js';
import type { CommandContext } from '../commands/registry.js';
import { CommandError, ErrorCode } from '../errors.js';
import { atLeast } from '../version.js';
import { CatalogBatch, CONFIG_DB, chunkDoc, collectionDoc, readById } from './catalog.js';
import { type ConfigServer, MAJORITY } from './configsvr.js';
import { createDatabase } from './databases.js';
import { replyError, replyOk, type SetTarget } from './remote.js';

export async function shardCollection(server: ConfigServer, ctx: CommandContext): Promise<Document> {
  const ns = ctx.body[ctx.name];
  if (typeof ns !== 'string' || !/^[^.]+\..+$/.test(ns)) {
    throw new CommandError(ErrorCode.InvalidNamespace, `Invalid namespace specified '${String(ns)}'`);
  }
  const key = ctx.body.key;
  if (!key || typeof key !== 'object' || Object.keys(key).length === 0) {
    throw new CommandError(ErrorCode.BadValue, 'The field "key" is required and must be a non-empty object');
  }
  for (const [field, dir] of Object.entries(key as Document)) {
    const n = asNumber(dir);
    if (!(n === 1 || dir === 'hashed')) {
      throw new CommandError(
        ErrorCode.BadValue,
        `Unsupported shard key pattern ${JSON.stringify(key)}. Pattern must either be a single hashed field, or a list of ascending fields. Field '${field}' is invalid.`,
      );
    }
  }
  const unique = ctx.body.unique === true;
  const dbName = ns.slice(0, ns.indexOf('.'));
  const collName = ns.slice(ns.indexOf('.') + 1);
  if (dbName === 'admin' || dbName === 'local') {
    throw new CommandError(ErrorCode.IllegalOperation, `can't shard ${dbName} database`);
  }
  return server.exclusive(async () => {
    server.node.role.checkWrite(CONFIG_DB);
    let db = readById(server.storage, 'databases', dbName);
    if (!atLeast(server.version, 6, 0)) {
      if (db?.partitioned !== true) {
        throw new CommandError(ErrorCode.IllegalOperation, `sharding not enabled for db ${dbName}`);
      }
    } else if (!db) {
      db = await createDatabase(server, dbName, false);
    }
    const existing = readById(server.storage, 'collections', ns);
    if (existing && existing.dropped !== true) {
      if (JSON.stringify(existing.key) === JSON.stringify(key) && existing.unique === unique) {
        return { collectionsharded: ns, collectionUUID: existing.uuid };
      }
      throw new CommandError(
        ErrorCode.AlreadyInitialized,
        `sharding already enabled for collection ${ns} with options ${JSON.stringify({ key: existing.key, unique: existing.unique })}`,
      );
    }
    const primary = server.shardTarget(server.requireShard(String(db.primary)));
    const accepted = await primary.runOnPrimary('admin', { _shardsvrShardCollection: ns, key });
    if (!replyOk(accepted)) throw replyError(accepted);
    const created = await primary.runOnPrimary(dbName, { create: collName, writeConcern: MAJORITY });
    if (!replyOk(created) && Number(created.code) !== 48) throw replyError(created);
    const isIdOnly = Object.keys(key as Document).length === 1 && asNumber((key as Document)._id) === 1;
    if (!isIdOnly) {
      const fields = Object.keys(key as Document);
      const name = fields
        .map((f) => `${f}_${String((key as Document)[f] === 'hashed' ? 'hashed' : 1)}`)
        .join('_');
      const idx = await primary.runOnPrimary(dbName, {
        createIndexes: collName,
        indexes: [{ key, name, ...(unique ? { unique: true } : {}) }],
        writeConcern: MAJORITY,
      });
      if (!replyOk(idx)) throw replyError(idx);
    }
    const uuid = await collectionUuid(primary, dbName, collName);
    const epoch = new ObjectId();
    const min: Document = {};
    const max: Document = {};
    for (const f of Object.keys(key as Document)) {
      min[f] = new MinKey();
      max[f] = new MaxKey();
    }
    const coll = collectionDoc(server.version, ns, key as Document, unique, uuid);
    coll.lastmodEpoch = epoch;
    await server.commit(
      new CatalogBatch(server.storage)
        .put('collections', coll)
        .put('chunks', chunkDoc(server.version, ns, uuid, min, max, String(db.primary), epoch, 1)),
    );
    server.node.log.info('SHARDING', 22080, `conn${ctx.conn.id}`, 'CMD: shardcollection', {
      namespace: ns,
      key,
    });
    return { collectionsharded: ns, collectionUUID: uuid };
  });
}

async function collectionUuid(target: SetTarget, db: string, coll: string): Promise<UUID> {
  try {
    const r = await target.runOnPrimary(db, { listCollections: 1, filter: { name: coll } });
    const info = ((r.cursor as Document | undefined)?.firstBatch as Document[] | undefined)?.[0];
    const uuid = (info?.info as Document | undefined)?.uuid;
    if (uuid instanceof UUID) return uuid;
  } catch {
    // Fall through: a fresh UUID still identifies the collection in the catalog.
  }
  return new UUID();
}
