// `mup cluster upgrade NAME VERSION [--no-fcv] [--mirror]`: wiring only (ops/upgrade.ts).
import type { Command } from '@commander-js/extra-typings';
import { operationOptions, printOutcome } from '../../action.js';
import { commandContext } from '../../context.js';
import { dryRunOption, mirrorOption } from '../../options.js';

export function registerUpgrade(cluster: Command): void {
  cluster
    .command('upgrade')
    .description(
      'rolling binary upgrade through every release series in between, each hop ending with setFeatureCompatibilityVersion',
    )
    .argument('<name>', 'cluster name')
    .argument('<version>', 'target version: a series (8.0) or exact (8.0.4)')
    .option('--no-fcv', 'leave the last hop at the previous featureCompatibilityVersion (rollback window)')
    .addOption(mirrorOption())
    .addOption(dryRunOption())
    .action(async (name, version, flags, action) => {
      const context = commandContext(action);
      const [{ planUpgradePath, upgradeOperation }, { applyOperation }] = await Promise.all([
        import('../../../ops/upgrade.js'),
        import('../../../ops/operation.js'),
      ]);
      const args = await planUpgradePath(context.home, name, {
        version,
        noFcv: flags.fcv === false,
        mirror: flags.mirror,
      });
      const outcome = await applyOperation(
        upgradeOperation,
        name,
        args,
        await operationOptions(context, { dryRun: flags.dryRun === true }),
      );
      await printOutcome(context, outcome, `Upgraded ${name} to ${String(outcome.version ?? version)}.`);
    });
}
