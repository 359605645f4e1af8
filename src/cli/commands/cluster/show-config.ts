// `mup cluster show-config NAME`: wiring only (ops/show-config.ts).
import type { Command } from '@commander-js/extra-typings';
import { viewAction } from '../../action.js';

export function registerShowConfig(cluster: Command): void {
  cluster
    .command('show-config')
    .description("print the cluster's stored topology as written (allocated ports pinned)")
    .argument('<name>', 'cluster name')
    .action(
      viewAction(
        async () => (await import('../../../ops/show-config.js')).showConfig,
        async () => (result) => result.yaml.trimEnd(),
      ),
    );
}
