// `mup cluster show-config NAME`: wiring only (ops/show-config.ts).
import type { Command } from '@commander-js/extra-typings';
import { writeJson, writeResult } from '../../../ui/output.js';
import { commandContext } from '../../context.js';

export function registerShowConfig(cluster: Command): void {
  cluster
    .command('show-config')
    .description("print the cluster's stored topology as written (allocated ports pinned)")
    .argument('<name>', 'cluster name')
    .action(async (name, _options, command) => {
      const context = commandContext(command);
      const { showConfig } = await import('../../../ops/show-config.js');
      const result = await showConfig(context.home, name);
      if (context.json) return writeJson(result);
      writeResult(result.yaml.trimEnd());
    });
}
