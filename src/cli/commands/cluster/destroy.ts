// `mup cluster destroy NAME [--keep-data]`: wiring only (ops/destroy.ts).
import type { Command } from '@commander-js/extra-typings';
import { writeJson, writeNotice, writeResult } from '../../../ui/output.js';
import { describePlan } from '../../../ui/views/plan.js';
import { operationOptions } from '../../action.js';
import { commandContext } from '../../context.js';
import { dryRunOption } from '../../options.js';

export function registerDestroy(cluster: Command): void {
  cluster
    .command('destroy')
    .description('stop the cluster and remove everything it has on its hosts, then forget it')
    .argument('<name>', 'cluster name')
    .option('--keep-data', 'keep the data directories', false)
    .addOption(dryRunOption())
    .action(async (name, options, command) => {
      const context = commandContext(command);
      const [{ applyOperation }, { destroyOperation }, opOptions] = await Promise.all([
        import('../../../ops/operation.js'),
        import('../../../ops/destroy.js'),
        operationOptions(context, {
          dryRun: options.dryRun === true,
          typedPrompt: `This stops ${name} and deletes its files${options.keepData ? ' (data kept)' : ', data included'}.`,
        }),
      ]);
      const outcome = await applyOperation(destroyOperation, name, { keepData: options.keepData }, opOptions);
      if (context.json) return writeJson(outcome);
      if (outcome.dryRun) return writeResult(describePlan(outcome.plan));
      const kept = (outcome.keptData as string[] | undefined) ?? [];
      writeNotice(`Destroyed ${name}.${kept.length > 0 ? ` Data kept in ${kept.join(', ')}` : ''}`);
    });
}
