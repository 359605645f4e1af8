// `mup cluster stop NAME [-R] [-N]`: wiring only (ops/stop.ts).
import type { Command } from '@commander-js/extra-typings';
import { registerLifecycleVerb } from './lifecycle-verb.js';

export function registerStop(cluster: Command): void {
  registerLifecycleVerb(cluster, {
    verb: 'stop',
    description: 'stop the cluster cleanly in reverse order; data is kept',
    done: 'Stopped',
    reportsChanges: true,
    operation: async () => (await import('../../../ops/stop.js')).stopOperation,
  });
}
