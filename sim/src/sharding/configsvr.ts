// The config server's side of sharding (sharding.clusterRole: configsvr). mongos forwards the cluster
// commands here as `_configsvr*` commands with majority write concern, and the config server primary
// validates them, talks to the shards and writes the catalog (catalog.ts) through the replica set.
// This module holds what the operations share (serialisation, majority commits, shard lookup) and the
// command table; each operation lives in its own module, the balancer in balancer.ts.
// Sources: reference/mongod-behavior.md §4.1, §4.3; MongoDB's sharding_catalog_manager_shard_operations
// (addShard checks and messages, removeShard draining states); manual "Config Database", balancerStatus.

import { type Document, ObjectId } from 'bson';
import { internalConnectOptions } from '../auth/internal.js';
import { asNumber } from '../bsonvalues.js';
import type { CommandContext, CommandRegistry } from '../commands/registry.js';
import { CommandError, ErrorCode } from '../errors.js';
import type { SimNode } from '../node.js';
import { addShard } from './add-shard.js';
import { Balancer } from './balancer.js';
import { CatalogBatch, CONFIG_DB, readAll, readById, versionDoc } from './catalog.js';
import { moveChunk, splitChunk } from './chunk-ops.js';
import { parseConnectionString } from './connection-string.js';
import { createDatabase, dropCollectionEntry, dropDatabaseEntries, movePrimary } from './databases.js';
import { HostPool, SetTarget } from './remote.js';
import { removeShard } from './remove-shard.js';
import { shardCollection } from './shard-collection.js';

export const MAJORITY = { w: 'majority', wtimeout: 60_000 } as const;
export const ShardNotFound = 70;
export const ConflictingOperationInProgress = 117;
export const NoShardingEnabled = 193;
export const DatabaseDifferCase = 13297;

/** Databases a shard may hold that never belong to the cluster catalog. */
export const INTERNAL_DBS = new Set(['admin', 'local', 'config']);

export class ConfigServer {
  readonly node: SimNode;
  readonly pool = new HostPool(() => internalConnectOptions(this.node));
  readonly balancer: Balancer;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(node: SimNode) {
    this.node = node;
    this.balancer = new Balancer(this);
  }

  start(): void {
    this.balancer.start();
  }

  stop(): void {
    this.balancer.stop();
    this.pool.closeAll();
  }

  get storage() {
    return this.node.requireStorage();
  }

  get version() {
    return this.node.version;
  }

  /** Catalog changes are serialised, as the real catalog manager's locks do. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  isPrimary(): boolean {
    try {
      this.node.role.checkWrite(CONFIG_DB);
      return this.node.role.kind === 'replset';
    } catch {
      return false;
    }
  }

  /** Commits a catalog batch and waits for majority, so mongos never reads a rolled-back catalog. */
  async commit(batch: CatalogBatch): Promise<void> {
    if (batch.ops.length === 0) return;
    this.node.role.checkWrite(CONFIG_DB);
    const result = this.node.commit(batch.ops);
    const wce = await this.node.waitForWriteConcern(result, MAJORITY);
    if (wce)
      throw new CommandError(asNumber(wce.code) ?? 64, String(wce.errmsg), { errInfo: wce.errInfo ?? {} });
  }

  /** config.version is created once the set has a primary (initializeConfigDatabaseIfNeeded). */
  async ensureVersionDoc(): Promise<void> {
    if (readById(this.storage, 'version', 1)) return;
    await this.commit(new CatalogBatch(this.storage).put('version', versionDoc(this.version)));
  }

  clusterId(): ObjectId {
    const doc = readById(this.storage, 'version', 1);
    return doc?.clusterId instanceof ObjectId ? doc.clusterId : new ObjectId();
  }

  /** This config server set's own connection string, from its hello (for shardIdentity). */
  ownConnectionString(): string {
    const fields = this.node.role.helloFields({ commandName: 'hello', body: {} });
    const hosts = Array.isArray(fields.hosts) ? (fields.hosts as string[]) : [];
    return `${this.node.options.replSetName ?? ''}/${hosts.join(',')}`;
  }

  shards(): Document[] {
    return readAll(this.storage, 'shards');
  }

  shardTarget(shard: Document): SetTarget {
    return new SetTarget(parseConnectionString(String(shard.host)), this.pool);
  }

  requireShard(name: string): Document {
    const s = readById(this.storage, 'shards', name);
    if (!s) throw new CommandError(ShardNotFound, `Shard ${name} not found`, {}, 'ShardNotFound');
    return s;
  }
}

/** `_configsvr*` commands exist on every mongod; only a config server runs them (IllegalOperation). */
export function registerConfigServerCommands(
  registry: CommandRegistry,
  server: ConfigServer | undefined,
): void {
  const on = (
    names: string[],
    fn: (cs: ConfigServer, ctx: CommandContext) => Document | Promise<Document>,
  ): void => {
    registry.register({
      names,
      adminOnly: true,
      program: 'mongod',
      handler: (ctx) => {
        if (!server) {
          throw new CommandError(ErrorCode.IllegalOperation, `${ctx.name} can only be run on config servers`);
        }
        return fn(server, ctx);
      },
    });
  };
  on(['_configsvrAddShard'], (cs, ctx) => addShard(cs, ctx));
  on(['_configsvrRemoveShard'], (cs, ctx) => removeShard(cs, ctx));
  on(['_configsvrCreateDatabase'], (cs, ctx) =>
    cs.exclusive(async () => {
      const doc = await createDatabase(cs, String(ctx.body[ctx.name]), false);
      return { primaryShard: doc.primary };
    }),
  );
  on(['_configsvrEnableSharding'], (cs, ctx) =>
    cs.exclusive(async () => {
      await createDatabase(cs, String(ctx.body[ctx.name]), true);
      return {};
    }),
  );
  on(['_configsvrShardCollection'], (cs, ctx) => shardCollection(cs, ctx));
  on(['_configsvrMovePrimary'], (cs, ctx) => movePrimary(cs, ctx));
  on(['_configsvrDropDatabase'], (cs, ctx) => dropDatabaseEntries(cs, String(ctx.body[ctx.name])));
  on(['_configsvrDropCollection'], (cs, ctx) => dropCollectionEntry(cs, String(ctx.body[ctx.name])));
  on(['_configsvrSplitChunk'], (cs, ctx) => splitChunk(cs, ctx));
  on(['_configsvrMoveChunk'], (cs, ctx) => moveChunk(cs, ctx));
  on(['_configsvrBalancerStart'], (cs) => cs.balancer.setMode('full'));
  on(['_configsvrBalancerStop'], (cs) => cs.balancer.setMode('off'));
  on(['_configsvrBalancerStatus'], (cs) => cs.balancer.status());
}
