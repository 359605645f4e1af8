// `mup cluster display NAME`: wiring only (ops/display.ts; text in ui/views/display.ts).
import type { Command } from '@commander-js/extra-typings';
import { writeJson, writeResult } from '../../../ui/output.js';
import { commandContext } from '../../context.js';

export function registerDisplay(cluster: Command): void {
  cluster
    .command('display')
    .description('show every process with its status, pid, uptime and restarts')
    .argument('<name>', 'cluster name')
    .action(async (name, _options, command) => {
      const context = commandContext(command);
      const [{ displayCluster }, { renderDisplay }] = await Promise.all([
        import('../../../ops/display.js'),
        import('../../../ui/views/display.js'),
      ]);
      const view = await displayCluster(context.home, name);
      if (context.json) return writeJson(view);
      writeResult(renderDisplay(view));
    });
}
