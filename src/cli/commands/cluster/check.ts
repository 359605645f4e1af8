// `mup cluster check <name|topology.yaml> [--apply]`: wiring only (ops/check.ts; text in ui/views/check.ts).
// Exits 2 when a check fails, as deploy's preflight does for the same problems.
import type { Command } from '@commander-js/extra-typings';
import { ExitCode } from '../../../errors.js';
import { commandContext } from '../../context.js';

export function registerCheck(cluster: Command): void {
  cluster
    .command('check')
    .description(
      'check the hosts of a cluster or topology file: SSH, OS, supervisord, ports, dirs, ulimits, THP, swappiness, clock (exit 2 on a failure)',
    )
    .argument('<target>', 'cluster name, or topology YAML file')
    .option(
      '--apply',
      'fix what can be fixed safely (missing dirs; THP and swappiness on remote hosts as root or with sudo)',
      false,
    )
    .option(
      '--version <version>',
      'MongoDB version to judge a topology file against (default: the newest series)',
    )
    .action(async (target, options, command) => {
      const context = commandContext(command);
      const [{ checkCluster }, { renderCheck }, { colorsFor }, output] = await Promise.all([
        import('../../../ops/check.js'),
        import('../../../ui/views/check.js'),
        import('../../../ui/colors.js'),
        import('../../../ui/output.js'),
      ]);
      const result = await checkCluster(context.home, target, {
        apply: options.apply,
        ...(options.version === undefined ? {} : { version: options.version }),
      });
      if (context.json) output.writeJson(result);
      else output.writeResult(renderCheck(result, { colors: colorsFor(Boolean(process.stdout.isTTY)) }));
      if (result.summary.fail > 0) process.exitCode = ExitCode.usage;
    });
}
