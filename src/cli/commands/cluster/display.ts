// `mup cluster display NAME [-R] [-N] [--wide]`: wiring only (ops/display.ts; text in ui/views/display.ts).
import type { Command } from '@commander-js/extra-typings';
import { commandContext } from '../../context.js';
import { selectionFrom, withSelection } from '../../options.js';

export function registerDisplay(cluster: Command): void {
  withSelection(
    cluster
      .command('display')
      .description('show every process with its status, pid, uptime and restarts')
      .argument('<name>', 'cluster name'),
  )
    .option('--wide', 'every column (host, version, data dir); the default fits 100 columns', false)
    .action(async (name, options, command) => {
      const context = commandContext(command);
      const [{ displayCluster }, { selectInstances }, { renderDisplay }, { colorsFor }, output] =
        await Promise.all([
          import('../../../ops/display.js'),
          import('../../../ops/selection.js'),
          import('../../../ui/views/display.js'),
          import('../../../ui/colors.js'),
          import('../../../ui/output.js'),
        ]);
      const selection = await selectionFrom(options as { role?: string[]; node?: string[] });
      const view = await displayCluster(context.home, name);
      if (selection.roles || selection.nodes) {
        // The same -R/-N rules as the lifecycle verbs (an unknown name is refused, exit 2).
        const chosen = selectInstances(
          view.processes.map((p) => ({ ...p, programName: p.program }) as never),
          selection,
        ) as unknown as { id: string }[];
        const ids = new Set(chosen.map((c) => c.id));
        view.processes = view.processes.filter((p) => ids.has(p.id));
      }
      if (context.json) return output.writeJson(view);
      output.writeResult(
        renderDisplay(view, { colors: colorsFor(Boolean(process.stdout.isTTY)), wide: options.wide }),
      );
    });
}
