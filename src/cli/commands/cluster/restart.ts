// `mup cluster restart NAME [-R] [-N] [--parallel]`: wiring only (ops/restart.ts).
import type { Command } from '@commander-js/extra-typings';
import { registerLifecycleVerb } from './lifecycle-verb.js';

export function registerRestart(cluster: Command): void {
  registerLifecycleVerb(cluster, {
    verb: 'restart',
    description:
      'rolling restart: secondaries first, then the stepped-down primary; config servers, shards, mongos',
    done: 'Restarted',
    reportsChanges: true,
    operation: async () => (await import('../../../ops/restart.js')).restartOperation,
    extend: (command) => {
      command
        .option('--parallel', 'stop everything, then start everything (not rolling)', false)
        .option(
          '--serial',
          'rolling, one process of the whole cluster at a time (default: one per replica set)',
          false,
        );
    },
    args: (flags) => ({ parallel: flags.parallel === true, serial: flags.serial === true }),
  });
}
