// The shard side of addShard (sharding.clusterRole: shardsvr): the config server sends `_addShard` with
// the shardIdentity, which is stored in admin.system.version {_id:"shardIdentity", shardName, clusterId,
// configsvrConnectionString} and replicated with the shard's replica set.
// A mongod started without --shardsvr answers sharding commands with 193 NoShardingEnabled "Cannot
// accept sharding commands if not started with --shardsvr" (reference §4.1). From 5.0 that already
// refuses addShard; before, the identity was a plain upsert that any replica set accepted, and the
// refusal came with the first sharding command sent to the shard, such as shardCollection (observed on
// 4.4 clusters in bitnami-docker-mongodb-sharded#9; the exact version of the change is UNVERIFIED).
import { type Document, UUID } from 'bson';
import type { CommandRegistry } from '../commands/registry.js';
import { CommandError, ErrorCode } from '../errors.js';
import type { SimNode } from '../node.js';
import type { StorageOp } from '../storage/store.js';
import { atLeast } from '../version.js';
import { MAJORITY, NoShardingEnabled } from './configsvr.js';

function requireShardServer(node: SimNode): void {
  if (node.options.clusterRole === 'shardsvr') return;
  throw new CommandError(
    NoShardingEnabled,
    'Cannot accept sharding commands if not started with --shardsvr',
    {},
    'NoShardingEnabled',
  );
}

export function registerShardServerCommands(registry: CommandRegistry, node: SimNode): void {
  // The primary shard's part of shardCollection: only a shard server takes it.
  registry.register({
    names: ['_shardsvrShardCollection'],
    adminOnly: true,
    program: 'mongod',
    handler: () => {
      requireShardServer(node);
      return {};
    },
  });
  registry.register({
    names: ['_addShard'],
    adminOnly: true,
    program: 'mongod',
    handler: async (ctx) => {
      if (atLeast(node.version, 5, 0)) requireShardServer(node);
      const identity = ctx.body.shardIdentity as Document | undefined;
      if (!identity || typeof identity.shardName !== 'string') {
        throw new CommandError(ErrorCode.BadValue, 'shardIdentity document is missing or invalid');
      }
      node.role.checkWrite('admin');
      const storage = node.requireStorage();
      const doc: Document = {
        _id: 'shardIdentity',
        shardName: identity.shardName,
        clusterId: identity.clusterId,
        configsvrConnectionString: identity.configsvrConnectionString,
      };
      const current = storage.getCollection('admin', 'system.version');
      const ops: StorageOp[] = [];
      if (!current)
        ops.push({ op: 'createCollection' as const, db: 'admin', coll: 'system.version', uuid: new UUID() });
      const exists = current?.findById('shardIdentity') !== undefined;
      if (exists) {
        const had = current?.findById('shardIdentity') as Document;
        if (had.shardName !== identity.shardName) {
          throw new CommandError(
            ErrorCode.IllegalOperation,
            `This shard was already added to a cluster as ${String(had.shardName)}`,
          );
        }
      }
      ops.push({
        op: exists ? ('replace' as const) : ('insert' as const),
        db: 'admin',
        coll: 'system.version',
        doc,
      });
      const result = node.commit(ops);
      const wc = ctx.body.writeConcern as Document | undefined;
      const wce = await node.waitForWriteConcern(result, wc ?? MAJORITY);
      return wce ? { writeConcernError: wce } : {};
    },
  });
}
