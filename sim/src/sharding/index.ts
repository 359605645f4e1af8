// Entry point of the sharding roles, called by startup.ts once the core commands and the replication
// role exist: mongos gets the router and its commands (and waits for the config servers before it
// listens); a config server gets the catalog commands and the balancer; every mongod answers the
// shard-side `_addShard` (refused without --shardsvr). Source: reference/mongod-behavior.md §4.
import type { SimNode } from '../node.js';
import { registerRouterAuth } from './auth.js';
import { ConfigServer, registerConfigServerCommands } from './configsvr.js';
import { CriticalSections, registerCriticalSection } from './critical-section.js';
import { wrapReplSetInitiate } from './initiate-check.js';
import { registerMongosCommands } from './mongos.js';
import { Router } from './router.js';
import { registerShardServerCommands } from './shard-identity.js';

export interface ShardingHooks {
  /** Runs before the port is bound (mongos: until the shard registry loads). */
  beforeListen(): Promise<void>;
  /** Runs once the server listens. */
  start(): void;
  stop(): void;
}

const NONE: ShardingHooks = { beforeListen: async () => {}, start: () => {}, stop: () => {} };

export function initSharding(node: SimNode): ShardingHooks {
  if (node.program === 'mongos') {
    const router = new Router(node);
    registerMongosCommands(node.commands, router);
    registerRouterAuth(node, router);
    return {
      beforeListen: () => waitWithSignals(router),
      start: () => router.startPinger(),
      stop: () => router.close(),
    };
  }
  if (node.options.replSetName) wrapReplSetInitiate(node.commands, node);
  if (node.options.clusterRole === 'shardsvr') warnIfNotAdded(node);
  const server = node.options.clusterRole === 'configsvr' ? new ConfigServer(node) : undefined;
  registerConfigServerCommands(node.commands, server);
  registerShardServerCommands(node.commands, node);
  if (node.options.clusterRole === 'shardsvr') registerCriticalSection(node.commands, new CriticalSections());
  if (!server) return NONE;
  return {
    beforeListen: NONE.beforeListen,
    start: () => server.start(),
    stop: () => server.stop(),
  };
}

/** While mongos waits for its config servers, SIGTERM/SIGINT still end it cleanly (exit 0). */
async function waitWithSignals(router: Router): Promise<void> {
  const onSignal = (): void => {
    router.node.log.info('CONTROL', 23377, 'SignalHandler', 'Received signal', {
      signal: 15,
      error: 'Terminated',
    });
    router.node.log.close();
    process.exit(0);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await router.waitForConfigServers();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/** A shard server that has never been added to a cluster says so at startup (log id 22074). */
function warnIfNotAdded(node: SimNode): void {
  if (node.storage?.getCollection('admin', 'system.version')?.findById('shardIdentity')) return;
  node.log.warn(
    'SHARDING',
    22074,
    'initandlisten',
    'Started with --shardsvr, but no shardIdentity document was found on disk. This most likely means this server has not yet been added to a sharded cluster',
    { namespace: 'admin.system.version' },
  );
}
