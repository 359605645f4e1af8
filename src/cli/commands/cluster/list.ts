// `mup cluster list`: wiring only (ops/list.ts; text in ui/views/list.ts).
import type { Command } from '@commander-js/extra-typings';
import { writeJson, writeResult } from '../../../ui/output.js';
import { commandContext } from '../../context.js';

export function registerList(cluster: Command): void {
  cluster
    .command('list')
    .description('list the clusters mup manages, with their live state')
    .action(async (_options, command) => {
      const context = commandContext(command);
      const [{ listClusters }, { renderClusterList }] = await Promise.all([
        import('../../../ops/list.js'),
        import('../../../ui/views/list.js'),
      ]);
      const clusters = await listClusters(context.home);
      if (context.json) return writeJson({ schemaVersion: 1, clusters });
      writeResult(renderClusterList(clusters));
    });
}
