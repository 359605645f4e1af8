// `mup cluster reload NAME [-R] [-N] [--serial]`: wiring only (ops/reload.ts).
import type { Command } from '@commander-js/extra-typings';
import { registerLifecycleVerb } from './lifecycle-verb.js';

export function registerReload(cluster: Command): void {
  registerLifecycleVerb(cluster, {
    verb: 'reload',
    description:
      'apply the stored configuration: setParameter where MongoDB allows it at runtime, else a rolling restart of only the changed processes',
    done: 'Reloaded',
    operation: async () => (await import('../../../ops/reload.js')).reloadOperation,
    extend: (command) => {
      command.option(
        '--serial',
        'rolling, one process of the whole cluster at a time (default: one per replica set)',
        false,
      );
    },
    args: (flags) => ({ serial: flags.serial === true }),
  });
}
