// removeShard on the config server primary: the first call marks the shard draining ("started"), later
// calls report what is left ("ongoing": chunks the balancer still has to move, databases whose primary
// must be moved), and the call after the shard is empty removes it ("completed"). One draining shard at
// a time; never the last shard. Source: MongoDB sharding_catalog_manager_shard_operations removeShard;
// manual "removeShard".
import { type Document, Long } from 'bson';
import type { CommandContext } from '../commands/registry.js';
import { CommandError, ErrorCode } from '../errors.js';
import { CatalogBatch, CONFIG_DB, readAll } from './catalog.js';
import { type ConfigServer, ConflictingOperationInProgress } from './configsvr.js';

export async function removeShard(server: ConfigServer, ctx: CommandContext): Promise<Document> {
  const name = ctx.body[ctx.name];
  if (typeof name !== 'string')
    throw new CommandError(ErrorCode.TypeMismatch, `'${ctx.name}' must be a string`);
  return server.exclusive(async () => {
    server.node.role.checkWrite(CONFIG_DB);
    const shard = server.requireShard(name);
    const others = server.shards().filter((s) => s._id !== name);
    if (others.some((s) => s.draining === true)) {
      throw new CommandError(
        ConflictingOperationInProgress,
        "Can't have more than one draining shard at a time",
        {},
        'ConflictingOperationInProgress',
      );
    }
    if (others.length === 0) throw new CommandError(ErrorCode.IllegalOperation, "Can't remove last shard");
    const dbsToMove = readAll(server.storage, 'databases')
      .filter((d) => d.primary === name)
      .map((d) => String(d._id));
    if (shard.draining !== true) {
      await server.commit(new CatalogBatch(server.storage).put('shards', { ...shard, draining: true }));
      server.node.log.info('SHARDING', 21945, `conn${ctx.conn.id}`, 'Going to start draining shard', {
        shardId: name,
      });
      return { state: 'started', shard: name, dbsToMove };
    }
    const chunks = readAll(server.storage, 'chunks').filter((c) => c.shard === name).length;
    if (chunks > 0 || dbsToMove.length > 0) {
      return {
        state: 'ongoing',
        shard: name,
        dbsToMove,
        remaining: {
          chunks: Long.fromNumber(chunks),
          dbs: Long.fromNumber(dbsToMove.length),
          jumboChunks: Long.fromNumber(0),
        },
      };
    }
    await server.commit(new CatalogBatch(server.storage).remove('shards', name));
    server.node.log.info('SHARDING', 21949, `conn${ctx.conn.id}`, 'Going to remove shard', { shardId: name });
    return { state: 'completed', shard: name };
  });
}
