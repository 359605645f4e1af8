// Database-level catalog operations on the config server primary: creating a database entry (the
// primary shard is the non-draining shard holding the least data), movePrimary (unsharded collections are
// copied to the new primary shard, the entry is switched, the donor's copies dropped), and the catalog
// side of dropDatabase / drop of a sharded collection. Source: MongoDB manual "movePrimary",
// "Config Database" (config.databases); _selectShardForNewDatabase.
import { type Document, UUID } from 'bson';
import { asNumber } from '../bsonvalues.js';
import type { CommandContext } from '../commands/registry.js';
import { CommandError, ErrorCode } from '../errors.js';
import { atLeast } from '../version.js';
import { CatalogBatch, CONFIG_DB, chunksOf, databaseDoc, readAll, readById } from './catalog.js';
import { type ConfigServer, DatabaseDifferCase, INTERNAL_DBS, ShardNotFound } from './configsvr.js';
import { copyCollection, dropCollection as dropOnShard, listCollectionInfos } from './data-copy.js';
import { replyOk } from './remote.js';

/** Creates the database entry if needed, choosing the non-draining shard holding the least data. */
export async function createDatabase(
  server: ConfigServer,
  dbName: string,
  partitioned: boolean,
): Promise<Document> {
  server.node.role.checkWrite(CONFIG_DB);
  const existing = readById(server.storage, 'databases', dbName);
  if (existing) {
    if (partitioned && existing.partitioned === false && !atLeast(server.version, 6, 0)) {
      const updated = { ...existing, partitioned: true };
      await server.commit(new CatalogBatch(server.storage).put('databases', updated));
      return updated;
    }
    return existing;
  }
  const clash = readAll(server.storage, 'databases').find(
    (d) => String(d._id).toLowerCase() === dbName.toLowerCase(),
  );
  if (clash) {
    throw new CommandError(
      DatabaseDifferCase,
      `can't have 2 databases that just differ on case  have: ${clash._id} want to add: ${dbName}`,
      {},
      'DatabaseDifferCase',
    );
  }
  const candidates = server.shards().filter((s) => s.draining !== true);
  if (candidates.length === 0) {
    throw new CommandError(
      ShardNotFound,
      `Database ${dbName} could not be created :: caused by :: No shards found`,
      {},
      'ShardNotFound',
    );
  }
  let best = candidates[0] as Document;
  let bestSize = Number.POSITIVE_INFINITY;
  for (const s of candidates) {
    let size = Number.POSITIVE_INFINITY;
    try {
      const r = await server.shardTarget(s).runOnPrimary('admin', { listDatabases: 1 }, { retryForMs: 2000 });
      if (replyOk(r)) size = asNumber(r.totalSize) ?? 0;
    } catch {
      // An unreachable shard is not chosen.
    }
    if (size < bestSize) {
      best = s;
      bestSize = size;
    }
  }
  const doc = databaseDoc(server.version, dbName, String(best._id), new UUID(), 1, partitioned);
  await server.commit(new CatalogBatch(server.storage).put('databases', doc));
  return doc;
}

export async function movePrimary(server: ConfigServer, ctx: CommandContext): Promise<Document> {
  const dbName = ctx.body[ctx.name];
  const to = ctx.body.to;
  if (typeof dbName !== 'string' || dbName === '')
    throw new CommandError(ErrorCode.InvalidNamespace, `invalid db name specified: ${String(dbName)}`);
  if (typeof to !== 'string' || to === '')
    throw new CommandError(ErrorCode.InvalidOptions, 'you have to specify where you want to move it');
  if (INTERNAL_DBS.has(dbName))
    throw new CommandError(ErrorCode.InvalidOptions, `Can't move primary for ${dbName} database`);
  return server.exclusive(async () => {
    server.node.role.checkWrite(CONFIG_DB);
    const db = readById(server.storage, 'databases', dbName);
    if (!db) throw new CommandError(ErrorCode.NamespaceNotFound, `Database ${dbName} not found`);
    const toShard = readById(server.storage, 'shards', to);
    if (!toShard)
      throw new CommandError(ShardNotFound, `Could not find recipient shard ${to}`, {}, 'ShardNotFound');
    if (db.primary === to) return {};
    const fromShard = server.requireShard(String(db.primary));
    const donor = server.shardTarget(fromShard);
    const recipient = server.shardTarget(toShard);
    const sharded = new Set(
      readAll(server.storage, 'collections')
        .filter((c) => String(c._id).startsWith(`${dbName}.`) && c.dropped !== true)
        .map((c) => String(c._id).slice(dbName.length + 1)),
    );
    const infos = (await listCollectionInfos(donor, dbName)).filter((i) => !sharded.has(String(i.name)));
    for (const info of infos) await copyCollection(donor, recipient, dbName, info);
    const version = (db.version as Document | undefined) ?? {};
    const lastMod = (asNumber(version.lastMod) ?? 1) + 1;
    const uuid = version.uuid instanceof UUID ? version.uuid : new UUID();
    await server.commit(
      new CatalogBatch(server.storage).put(
        'databases',
        databaseDoc(server.version, dbName, to, uuid, lastMod, db.partitioned === true),
      ),
    );
    for (const info of infos) await dropOnShard(donor, dbName, String(info.name));
    server.node.log.info('SHARDING', 22042, `conn${ctx.conn.id}`, 'movePrimary', {
      db: dbName,
      from: fromShard._id,
      to,
    });
    return { primary: `${to}:${toShard.host}` };
  });
}

export async function dropDatabaseEntries(server: ConfigServer, dbName: string): Promise<Document> {
  return server.exclusive(async () => {
    server.node.role.checkWrite(CONFIG_DB);
    const batch = new CatalogBatch(server.storage).remove('databases', dbName);
    for (const c of readAll(server.storage, 'collections')) {
      if (!String(c._id).startsWith(`${dbName}.`)) continue;
      batch.remove('collections', c._id);
      for (const ch of chunksOf(server.storage, server.version, String(c._id), c.uuid))
        batch.remove('chunks', ch._id);
    }
    await server.commit(batch);
    return {};
  });
}

export async function dropCollectionEntry(server: ConfigServer, ns: string): Promise<Document> {
  return server.exclusive(async () => {
    server.node.role.checkWrite(CONFIG_DB);
    const c = readById(server.storage, 'collections', ns);
    if (!c) return {};
    const batch = new CatalogBatch(server.storage).remove('collections', ns);
    for (const ch of chunksOf(server.storage, server.version, ns, c.uuid)) batch.remove('chunks', ch._id);
    await server.commit(batch);
    return {};
  });
}
