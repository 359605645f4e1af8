// `mup cluster resume NAME`: wiring only (ops/operation.ts resumeOperation).
import type { Command } from '@commander-js/extra-typings';
import { operationOptions, printOutcome } from '../../action.js';
import { commandContext } from '../../context.js';
import { dryRunOption } from '../../options.js';

export function registerResume(cluster: Command): void {
  cluster
    .command('resume')
    .description('continue the interrupted operation of a cluster from its first step not done')
    .argument('<name>', 'cluster name')
    .addOption(dryRunOption())
    .action(async (name, options, command) => {
      const context = commandContext(command);
      const [{ resumeOperation }, { OPERATIONS }, opOptions] = await Promise.all([
        import('../../../ops/operation.js'),
        import('../../../ops/registry.js'),
        operationOptions(context, { dryRun: options.dryRun === true }),
      ]);
      const outcome = await resumeOperation(name, OPERATIONS, opOptions);
      await printOutcome(context, outcome, `Resumed ${outcome.operation} of ${name}: done.`);
    });
}
