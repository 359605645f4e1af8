// `mup cluster display NAME`: wiring only (ops/display.ts; text in ui/views/display.ts).
import type { Command } from '@commander-js/extra-typings';
import { viewAction } from '../../action.js';

export function registerDisplay(cluster: Command): void {
  cluster
    .command('display')
    .description('show every process with its status, pid, uptime and restarts')
    .argument('<name>', 'cluster name')
    .action(
      viewAction(
        async () => (await import('../../../ops/display.js')).displayCluster,
        async () => (await import('../../../ui/views/display.js')).renderDisplay,
      ),
    );
}
