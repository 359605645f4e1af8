// `mup cluster edit-config NAME [--dry-run]`: wiring only (ops/edit-config.ts). The editor loop lives here:
// a refused edit is shown and, on a terminal, offered for another round in the same file; without one it
// exits 2 with nothing changed.
import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../../errors.js';
import type { EditPreview } from '../../../ops/edit-config.js';
import { operationOptions, printOutcome } from '../../action.js';
import { commandContext } from '../../context.js';
import { dryRunOption } from '../../options.js';

export function registerEditConfig(cluster: Command): void {
  cluster
    .command('edit-config')
    .description("edit the cluster's stored topology in $VISUAL/$EDITOR; `cluster reload` applies it")
    .argument('<name>', 'cluster name')
    .addOption(dryRunOption())
    .action(async (name, flags, action) => {
      const context = commandContext(action);
      const [
        { startEdit, editConfigOperation },
        { applyOperation },
        { openEditSession },
        output,
        prompt,
        view,
      ] = await Promise.all([
        import('../../../ops/edit-config.js'),
        import('../../../ops/operation.js'),
        import('../../../ui/editor.js'),
        import('../../../ui/output.js'),
        import('../../../ui/prompt.js'),
        import('../../../ui/views/edit-config.js'),
      ]);
      const start = await startEdit(context.home, name);
      const session = await openEditSession(`${name}-topology.yaml`);
      let preview: EditPreview;
      try {
        let text = start.text;
        for (;;) {
          text = await session.edit(text);
          try {
            preview = await start.check(text, session.file);
            break;
          } catch (error) {
            if (!(error instanceof UsageError) || context.json || !process.stdin.isTTY) throw error;
            output.writeNotice(`${error.message}${error.hint ? `\nhint: ${error.hint}` : ''}`);
            if (!(await prompt.confirm('Edit the file again?', false)))
              throw new UsageError('edit-config cancelled', 'nothing was changed');
          }
        }
      } finally {
        await session.done();
      }
      if (!preview.specChanged) {
        if (context.json)
          return output.writeJson({
            schemaVersion: 1,
            cluster: name,
            operation: 'edit-config',
            changed: false,
            files: [],
          });
        return output.writeNotice(`No changes to ${name}.`);
      }
      if (!context.json) output.writeResult(view.describeConfigDiffs(preview.files, preview.reconfigs));
      const outcome = await applyOperation(
        editConfigOperation,
        name,
        { spec: preview.spec },
        await operationOptions(context, { dryRun: flags.dryRun === true }),
      );
      await printOutcome(
        context,
        { ...outcome, changed: true },
        `Stored the edited topology of ${name}; \`mup cluster reload ${name}\` applies it.`,
      );
    });
}
