// `mup cluster scale-out NAME PART` and `mup cluster scale-in NAME -N host:port ...`: wiring only
// (ops/scale-out.ts, ops/scale-in.ts).
import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../../errors.js';
import { writeWarning } from '../../../ui/output.js';
import { operationOptions, printOutcome } from '../../action.js';
import { commandContext } from '../../context.js';
import { dryRunOption, parsePort } from '../../options.js';

export function registerScaleOut(cluster: Command): void {
  cluster
    .command('scale-out')
    .description(
      'add replica-set members, shards or mongos from a part file in the topology format; running processes are not restarted',
    )
    .argument('<name>', 'cluster name')
    .argument('<part>', 'YAML file with the servers to add (config_servers, mongod_servers, mongos_servers)')
    .addOption(dryRunOption())
    .option('--port-base <port>', 'first port tried for `port: 0` entries (default 30000)', parsePort)
    .action(async (name, part, options, command) => {
      const context = commandContext(command);
      const [{ scaleOutCluster }, { readTopologyFile }, opOptions] = await Promise.all([
        import('../../../ops/scale-out.js'),
        import('../../../topology/load.js'),
        operationOptions(context, { dryRun: options.dryRun === true }),
      ]);
      const outcome = await scaleOutCluster(
        {
          name,
          partText: await readTopologyFile(part),
          partFile: part,
          ...(options.portBase === undefined ? {} : { portBase: options.portBase }),
          warn: (text) => writeWarning(text),
        },
        opOptions,
      );
      await printOutcome(context, outcome, `Added ${outcome.added.map((a) => a.id).join(', ')} to ${name}.`);
    });
}

export function registerScaleIn(cluster: Command): void {
  cluster
    .command('scale-in')
    .description(
      'remove replica-set members (by reconfig), whole shards (removeShard, drained) or mongos; their files go too',
    )
    .argument('<name>', 'cluster name')
    .option('-N, --node <nodes...>', 'processes to remove (host:port or program name); comma-separated')
    .option('--keep-data', 'keep the data directories of the removed processes', false)
    .addOption(dryRunOption())
    .action(async (name, options, command) => {
      const context = commandContext(command);
      const { splitList } = await import('../../../ops/selection.js');
      const nodes = splitList(options.node, '-N/--node');
      if (nodes === undefined || nodes.length === 0)
        throw new UsageError('scale-in needs the processes to remove', 'give them with -N host:port');
      const [{ scaleInCluster }, opOptions] = await Promise.all([
        import('../../../ops/scale-in.js'),
        operationOptions(context, { dryRun: options.dryRun === true }),
      ]);
      const outcome = await scaleInCluster({ name, nodes, keepData: options.keepData }, opOptions);
      await printOutcome(context, outcome, `Removed ${outcome.removedInstances.join(', ')} from ${name}.`);
    });
}
