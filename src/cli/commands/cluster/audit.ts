// `mup cluster audit [NAME] [OP-ID]`: wiring only (ops/audit.ts; text in ui/views/audit.ts).
import type { Command } from '@commander-js/extra-typings';
import { writeJson, writeResult } from '../../../ui/output.js';
import { commandContext } from '../../context.js';

export function registerAudit(cluster: Command): void {
  cluster
    .command('audit')
    .description('list past operations, or show one with every step and its output')
    .argument('[name]', 'cluster name')
    .argument('[op-id]', 'operation id')
    .action(async (name, opId, _options, command) => {
      const context = commandContext(command);
      const [audit, views] = await Promise.all([
        import('../../../ops/audit.js'),
        import('../../../ui/views/audit.js'),
      ]);
      if (name && opId) {
        const op = await audit.showOperation(context.home, name, opId);
        if (context.json)
          return writeJson({
            schemaVersion: 1,
            operation: op.summary,
            args: op.header.args,
            steps: op.steps,
          });
        return writeResult(views.renderOperation(op));
      }
      const operations = await audit.listAudit(context.home, name);
      if (context.json) return writeJson({ schemaVersion: 1, operations });
      writeResult(views.renderOperations(operations));
    });
}
