// replSetInitiate rules that tie a replica set to the config server role: a node started with
// --configsvr must be initiated with `configsvr: true`, a node without it must not be, and the default
// config of a bare `replSetInitiate` on a config server carries `configsvr: true`. Failures are wrapped
// as 93 InvalidReplicaSetConfig like every initiate validation failure.
// Source: reference/mongod-behavior.md §3.2 (configsvr sets), §3.3, §4.1; mongod's
// "Nodes started with the --configsvr flag must have configsvr:true in their config".
import { hostname } from 'node:os';
import type { Document } from 'bson';
import type { CommandRegistry } from '../commands/registry.js';
import { CommandError } from '../errors.js';
import type { SimNode } from '../node.js';

const InvalidReplicaSetConfig = 93;

function isPlainConfig(v: unknown): v is Document {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length > 0;
}

/** Wraps the replica-set role's replSetInitiate with the cluster-role checks (mongod with --replSet only). */
export function wrapReplSetInitiate(registry: CommandRegistry, node: SimNode): void {
  const inner = registry.get('replSetInitiate');
  if (!inner) return;
  const configsvr = node.options.clusterRole === 'configsvr';
  registry.register({
    ...inner,
    handler: async (ctx) => {
      // An initiated node answers AlreadyInitialized first, exactly as before.
      const initiated = (node.storage?.getCollection('local', 'system.replset')?.size ?? 0) > 0;
      const arg = ctx.body.replSetInitiate;
      if (initiated) return inner.handler(ctx);
      if (isPlainConfig(arg)) {
        const flagged = arg.configsvr === true;
        if (configsvr && !flagged) {
          throw new CommandError(
            InvalidReplicaSetConfig,
            'Nodes started with the --configsvr flag must have configsvr:true in their config',
          );
        }
        if (!configsvr && flagged) {
          throw new CommandError(
            InvalidReplicaSetConfig,
            'Nodes being used for config servers must be started with the --configsvr flag',
          );
        }
        return inner.handler(ctx);
      }
      if (!configsvr) return inner.handler(ctx);
      const me = `${hostname()}:${node.port}`;
      const defaults = {
        _id: node.options.replSetName,
        version: 1,
        configsvr: true,
        members: [{ _id: 0, host: me }],
      };
      const reply = await inner.handler({ ...ctx, body: { ...ctx.body, replSetInitiate: defaults } });
      return { info2: 'no configuration specified. Using a default configuration for the set', me, ...reply };
    },
  });
}
