// Commands as a mongos answers them: the cluster administration commands (forwarded to the config
// server primary as `_configsvr*`), listDatabases across shards, and CRUD / collection commands routed
// to the shard owning the data — the database's primary shard, or a sharded collection's chunk owner.
// Sources: reference/mongod-behavior.md §4.2–§4.3; MongoDB manual pages addShard, listShards,
// removeShard (draining replies), enableSharding, shardCollection, movePrimary, balancerStatus.
import { type Document, Long } from 'bson';
import { asNumber } from '../bsonvalues.js';
import { installMongosChangeStreams } from '../changes/mongos.js';
import type { CommandContext, CommandRegistry } from '../commands/registry.js';
import { CommandError, ErrorCode } from '../errors.js';
import { transactionRouterFor } from '../txn/router.js';
import { atLeast } from '../version.js';
import { registerMongosAdminCommands } from './mongos-admin.js';
import { replyError, replyOk, type SetTarget } from './remote.js';
import type { Router } from './router.js';
import { registerShardedRouting } from './sharded-crud.js';

/** Fields a shard adds to replies that belong to that shard's replica set, not to mongos. */
const SHARD_REPLY_NOISE = [
  '$clusterTime',
  'operationTime',
  '$gleStats',
  'lastCommittedOpTime',
  '$configServerState',
  '$topologyTime',
];
/** Session and routing arguments mongos consumes instead of passing on. */
const CLIENT_ONLY_ARGS = [
  '$db',
  'lsid',
  'txnNumber',
  '$clusterTime',
  '$readPreference',
  'autocommit',
  'startTransaction',
];

export function forwardBody(body: Document): Document {
  const out: Document = { ...body };
  for (const k of CLIENT_ONLY_ARGS) delete out[k];
  return out;
}

export function cleanReply(reply: Document): Document {
  const out: Document = { ...reply };
  for (const k of SHARD_REPLY_NOISE) delete out[k];
  return out;
}

function collectionOf(ctx: CommandContext): string | undefined {
  const v = ctx.body[ctx.name];
  return typeof v === 'string' ? v : undefined;
}

function emptyCursor(ctx: CommandContext, coll: string | undefined): Document {
  return { cursor: { firstBatch: [], id: Long.fromNumber(0), ns: `${ctx.db}.${coll ?? '$cmd.aggregate'}` } };
}

function stringArg(ctx: CommandContext): string {
  const v = ctx.body[ctx.name];
  if (typeof v !== 'string')
    throw new CommandError(ErrorCode.TypeMismatch, `'${ctx.name}' must be of type string`);
  return v;
}

async function forward(router: Router, target: SetTarget, ctx: CommandContext): Promise<Document> {
  // A transaction's statements carry the session fields mongos decides on (txn/router.ts).
  const body = { ...forwardBody(ctx.body), ...transactionRouterFor(router).fieldsFor(ctx, target) };
  const reply = cleanReply(await target.runOnPrimary(ctx.db, body, { timeoutMs: 600_000 }));
  if (replyOk(reply)) router.adoptCursor(target, reply);
  return reply;
}

type Missing = (ctx: CommandContext, coll: string | undefined) => Document;

/** Registers a command routed to the shard owning db(.coll); `create` writes create the database. */
function routed(
  registry: CommandRegistry,
  router: Router,
  names: string[],
  create: boolean,
  missing: Missing,
): void {
  registry.register({
    names,
    program: 'mongos',
    handler: async (ctx) => {
      const coll = collectionOf(ctx);
      const target = await router.target(ctx.db, coll, create);
      if (!target) return missing(ctx, coll);
      return forward(router, target, ctx);
    },
  });
}

const nsNotFound =
  (text: (ns: string) => string): Missing =>
  (ctx, coll) => {
    throw new CommandError(ErrorCode.NamespaceNotFound, text(`${ctx.db}.${coll ?? ''}`));
  };

function registerRoutedCrud(registry: CommandRegistry, router: Router): void {
  const noWrite: Missing = () => ({ n: 0 });
  routed(
    registry,
    router,
    ['insert', 'update', 'delete', 'findAndModify', 'findandmodify', 'create', 'createIndexes'],
    true,
    noWrite,
  );
  routed(registry, router, ['find', 'aggregate'], false, emptyCursor);
  routed(registry, router, ['listCollections'], false, (ctx) => emptyCursor(ctx, '$cmd.listCollections'));
  routed(registry, router, ['count'], false, () => ({ n: 0 }));
  routed(registry, router, ['distinct'], false, () => ({ values: [] }));
  routed(
    registry,
    router,
    ['listIndexes'],
    false,
    nsNotFound((ns) => `ns does not exist: ${ns}`),
  );
  routed(
    registry,
    router,
    ['dropIndexes', 'deleteIndexes'],
    false,
    nsNotFound((ns) => `ns not found ${ns}`),
  );
  routed(
    registry,
    router,
    ['collStats'],
    false,
    nsNotFound((ns) => `Collection [${ns}] not found.`),
  );
  routed(registry, router, ['dbStats', 'dbstats'], false, (ctx) => ({
    db: ctx.db,
    collections: 0,
    views: 0,
    objects: 0,
    avgObjSize: 0,
    dataSize: 0,
    storageSize: 0,
    indexes: 0,
    indexSize: 0,
  }));

  registry.register({
    names: ['drop'],
    program: 'mongos',
    handler: async (ctx) => {
      const coll = collectionOf(ctx) ?? '';
      const ns = `${ctx.db}.${coll}`;
      const sharded = await router.shardedCollection(ns);
      const target = await router.target(ctx.db, coll, false);
      if (!target) throw new CommandError(ErrorCode.NamespaceNotFound, 'ns not found');
      const reply = await forward(router, target, ctx);
      if (sharded) await router.configCommand({ _configsvrDropCollection: ns });
      return reply;
    },
  });

  registry.register({
    names: ['dropDatabase'],
    program: 'mongos',
    handler: async (ctx) => {
      if (ctx.db === 'admin' || ctx.db === 'config' || ctx.db === 'local') {
        throw new CommandError(
          ErrorCode.IllegalOperation,
          `Dropping the '${ctx.db}' database is prohibited.`,
        );
      }
      const entry = await router.database(ctx.db);
      if (!entry) return {};
      const shards = await router.shards();
      // The primary shard and every shard that may hold chunks of the database's collections.
      for (const s of shards) {
        const reply = await router.shardTargetFor(s).runOnPrimary(ctx.db, forwardBody(ctx.body));
        if (!replyOk(reply) && asNumber(reply.code) !== 26) throw replyError(reply);
      }
      await router.configCommand({ _configsvrDropDatabase: ctx.db });
      return { dropped: ctx.db };
    },
  });

  registry.register({
    names: ['getMore'],
    program: 'mongos',
    handler: async (ctx) => {
      const id = ctx.body.getMore;
      const cursor = router.cursor(id);
      if (!cursor) {
        throw new CommandError(ErrorCode.CursorNotFound, `cursor id ${String(id)} not found`);
      }
      const body = forwardBody({ ...ctx.body, getMore: cursor.remoteId });
      const reply = cleanReply(
        await cursor.target.runOnPrimary(ctx.db, body, { retryForMs: 0, timeoutMs: 600_000 }),
      );
      const c = reply.cursor as Document | undefined;
      if (!replyOk(reply) || !c) {
        router.forgetCursor(id);
        return reply;
      }
      const next = c.id instanceof Long ? c.id : Long.fromNumber(asNumber(c.id) ?? 0);
      if (next.isZero()) router.forgetCursor(id);
      c.id = next.isZero() ? Long.fromNumber(0) : id;
      return reply;
    },
  });

  registry.register({
    names: ['killCursors'],
    program: 'mongos',
    handler: async (ctx) => {
      const ids = Array.isArray(ctx.body.cursors) ? (ctx.body.cursors as unknown[]) : [];
      const killed: unknown[] = [];
      const notFound: unknown[] = [];
      for (const id of ids) {
        const c = router.cursor(id);
        if (!c) {
          notFound.push(id);
          continue;
        }
        router.forgetCursor(id);
        try {
          await c.target.runOnPrimary(
            ctx.db,
            { killCursors: ctx.body.killCursors, cursors: [c.remoteId] },
            { retryForMs: 0 },
          );
        } catch {
          // The shard's cursor dies with its connection or times out there anyway.
        }
        killed.push(id);
      }
      return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [] };
    },
  });
}

/** listDatabases across the cluster: every shard's databases plus admin/config from the config servers. */
async function listDatabases(router: Router, ctx: CommandContext): Promise<Document> {
  const sizes = new Map<string, { total: number; shards: Document; empty: boolean }>();
  const add = (name: string, shard: string, size: number, empty: boolean): void => {
    const e = sizes.get(name) ?? { total: 0, shards: {}, empty: true };
    e.total += size;
    e.shards[shard] = Long.fromNumber(size);
    e.empty = e.empty && empty;
    sizes.set(name, e);
  };
  for (const s of await router.shards()) {
    const reply = await router.shardTargetFor(s).runOnPrimary('admin', { listDatabases: 1 });
    if (!replyOk(reply)) throw replyError(reply);
    for (const d of (reply.databases as Document[]) ?? []) {
      const name = String(d.name);
      if (name === 'admin' || name === 'config' || name === 'local') continue;
      add(name, String(s._id), asNumber(d.sizeOnDisk) ?? 0, d.empty === true);
    }
  }
  const cfg = await router.config.runOnPrimary('admin', { listDatabases: 1 });
  if (!replyOk(cfg)) throw replyError(cfg);
  for (const d of (cfg.databases as Document[]) ?? []) {
    const name = String(d.name);
    if (name === 'admin' || name === 'config')
      add(name, 'config', asNumber(d.sizeOnDisk) ?? 0, d.empty === true);
  }
  const filterName = (ctx.body.filter as Document | undefined)?.name;
  const nameOnly = ctx.body.nameOnly === true;
  const databases: Document[] = [];
  let total = 0;
  for (const [name, e] of [...sizes.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    if (typeof filterName === 'string' && filterName !== name) continue;
    total += e.total;
    databases.push(
      nameOnly ? { name } : { name, sizeOnDisk: Long.fromNumber(e.total), empty: e.empty, shards: e.shards },
    );
  }
  if (nameOnly) return { databases };
  return {
    databases,
    totalSize: Long.fromNumber(total),
    totalSizeMb: Long.fromNumber(Math.floor(total / 1048576)),
  };
}

function removeShardReply(version: CommandContext['node']['version'], r: Document): Document {
  const note = 'you need to drop or movePrimary these databases';
  const remaining = { ...(r.remaining as Document | undefined) };
  if (!atLeast(version, 4, 4)) delete remaining.jumboChunks;
  switch (r.state) {
    case 'started':
      return {
        msg: 'draining started successfully',
        state: 'started',
        shard: r.shard,
        note,
        dbsToMove: r.dbsToMove,
      };
    case 'ongoing':
      return { msg: 'draining ongoing', state: 'ongoing', remaining, note, dbsToMove: r.dbsToMove };
    default:
      return { msg: 'removeshard completed successfully', state: 'completed', shard: r.shard };
  }
}

function registerClusterCommands(registry: CommandRegistry, router: Router): void {
  const admin = (names: string[], handler: (ctx: CommandContext) => Promise<Document> | Document): void => {
    registry.register({ names, adminOnly: true, program: 'mongos', handler });
  };
  admin(['addShard', 'addshard'], async (ctx) => {
    const body: Document = { _configsvrAddShard: stringArg(ctx) };
    if (ctx.body.name !== undefined) body.name = ctx.body.name;
    if (ctx.body.maxSize !== undefined) body.maxSize = ctx.body.maxSize;
    const r = await router.configCommand(body);
    return { shardAdded: r.shardAdded };
  });
  admin(['listShards', 'listshards'], async () => ({ shards: await router.shards() }));
  admin(['removeShard', 'removeshard'], async (ctx) => {
    const r = await router.configCommand({ _configsvrRemoveShard: stringArg(ctx) });
    return removeShardReply(ctx.node.version, r);
  });
  admin(['enableSharding', 'enablesharding'], async (ctx) => {
    const db = stringArg(ctx);
    if (db === '' || db.includes('.'))
      throw new CommandError(ErrorCode.InvalidNamespace, `invalid db name specified: ${db}`);
    if (db === 'admin' || db === 'local') {
      throw new CommandError(
        ErrorCode.IllegalOperation,
        `Enabling sharding on the ${db} database is not allowed`,
      );
    }
    if (db !== 'config') await router.configCommand({ _configsvrEnableSharding: db });
    return {};
  });
  admin(['shardCollection', 'shardcollection'], async (ctx) => {
    const body: Document = { _configsvrShardCollection: stringArg(ctx), key: ctx.body.key };
    if (ctx.body.unique !== undefined) body.unique = ctx.body.unique;
    const r = await router.configCommand(body);
    return { collectionsharded: r.collectionsharded, collectionUUID: r.collectionUUID };
  });
  admin(['movePrimary', 'moveprimary'], async (ctx) => {
    const r = await router.configCommand({ _configsvrMovePrimary: stringArg(ctx), to: ctx.body.to });
    // Before 5.0 the reply named the new primary "<shard>:<host>".
    return atLeast(ctx.node.version, 5, 0) || r.primary === undefined ? {} : { primary: r.primary };
  });
  admin(['balancerStart'], async () => {
    await router.configCommand({ _configsvrBalancerStart: 1 });
    return {};
  });
  admin(['balancerStop'], async () => {
    await router.configCommand({ _configsvrBalancerStop: 1 });
    return {};
  });
  admin(['balancerStatus'], async () => {
    const r = await router.configCommand({ _configsvrBalancerStatus: 1 });
    return { mode: r.mode, inBalancerRound: r.inBalancerRound, numBalancerRounds: r.numBalancerRounds };
  });
  admin(['flushRouterConfig', 'flushrouterconfig'], () => ({ flushed: true }));
  admin(['listDatabases'], (ctx) => listDatabases(router, ctx));
  admin(['setFeatureCompatibilityVersion'], async (ctx) => {
    // The config servers validate and take the new FCV first, then every shard follows.
    const body = forwardBody(ctx.body);
    const cfg = await router.config.runOnPrimary('admin', body, { timeoutMs: 120_000 });
    if (!replyOk(cfg)) return cleanReply(cfg);
    for (const s of await router.shards()) {
      const r = await router.shardTargetFor(s).runOnPrimary('admin', body, { timeoutMs: 120_000 });
      if (!replyOk(r)) return cleanReply(r);
    }
    return {};
  });
}

/** serverStatus on mongos adds its `sharding` section: the config servers it uses and the chunk size. */
function wrapServerStatus(registry: CommandRegistry, router: Router): void {
  const core = registry.get('serverStatus');
  if (!core) return;
  registry.register({
    ...core,
    handler: async (ctx) => {
      const reply = await core.handler(ctx);
      if (ctx.body.sharding === 0) return reply;
      return {
        ...reply,
        sharding: {
          configsvrConnectionString: `${router.config.setName}/${router.config.hosts.join(',')}`,
          maxChunkSizeInBytes: Long.fromNumber(
            atLeast(ctx.node.version, 6, 0) ? 128 * 1048576 : 64 * 1048576,
          ),
        },
      };
    },
  });
}

export function registerMongosCommands(registry: CommandRegistry, router: Router): void {
  transactionRouterFor(router).register(registry);
  registerRoutedCrud(registry, router);
  registerClusterCommands(registry, router);
  registerShardedRouting(registry, router);
  wrapServerStatus(registry, router);
  installMongosChangeStreams(registry, router);
  registerMongosAdminCommands(registry, router);
}
