// `mup cluster connect NAME`: wiring only (ops/connect.ts).
import type { Command } from '@commander-js/extra-typings';
import { commandContext } from '../../context.js';

export function registerConnect(cluster: Command): void {
  cluster
    .command('connect')
    .description(
      'open a MongoDB shell on the cluster (mongos for sharded clusters, the replica set otherwise)',
    )
    .argument('<name>', 'cluster name')
    .action(async (name, _options, command) => {
      const context = commandContext(command);
      const { connectShell } = await import('../../../ops/connect.js');
      process.exitCode = await connectShell(context.home, name);
    });
}
