// `mup cluster start NAME [-R] [-N]`: wiring only (ops/start.ts).
import type { Command } from '@commander-js/extra-typings';
import { registerLifecycleVerb } from './lifecycle-verb.js';

export function registerStart(cluster: Command): void {
  registerLifecycleVerb(cluster, {
    verb: 'start',
    description: 'start the cluster (config servers, shards, mongos) and wait until healthy',
    done: 'Started',
    reportsChanges: true,
    operation: async () => (await import('../../../ops/start.js')).startOperation,
  });
}
