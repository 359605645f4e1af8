// start, stop and restart share their shape: a cluster name, -R/-N, --dry-run, one operation.
import type { Command } from '@commander-js/extra-typings';
import type { Operation } from '../../../ops/operation.js';
import { operationOptions, printOutcome } from '../../action.js';
import { commandContext } from '../../context.js';
import { dryRunOption, selectionFrom, withSelection } from '../../options.js';

export interface LifecycleVerb {
  verb: 'start' | 'stop' | 'restart' | 'reload';
  description: string;
  done: string;
  operation: () => Promise<Operation>;
  /** Extra flags of the verb, passed into the operation's arguments. */
  extend?: (command: Command<[string], Record<string, unknown>>) => void;
  args?: (flags: Record<string, unknown>) => Record<string, unknown>;
  /** The result lists each selected process's status and pid before and after (`changes`). */
  reportsChanges?: boolean;
}

export function registerLifecycleVerb(cluster: Command, spec: LifecycleVerb): void {
  const command = cluster
    .command(spec.verb)
    .description(spec.description)
    .argument('<name>', 'cluster name')
    .addOption(dryRunOption());
  spec.extend?.(command);
  withSelection(command).action(async (name, flags, action) => {
    const context = commandContext(action);
    const options = flags as { role?: string[]; node?: string[]; dryRun?: boolean } & Record<string, unknown>;
    const [{ applyOperation }, operation, opOptions] = await Promise.all([
      import('../../../ops/operation.js'),
      spec.operation(),
      operationOptions(context, { dryRun: options.dryRun === true }),
    ]);
    const selection = await selectionFrom(options);
    const args = { selection, ...(spec.args?.(options) ?? {}) };
    if (!spec.reportsChanges || opOptions.dryRun)
      return printOutcome(
        context,
        await applyOperation(operation, name, args, opOptions),
        `${spec.done} ${name}.`,
      );
    const { processChanges, snapshotProcesses } = await import('../../../ops/process-changes.js');
    const before = await snapshotProcesses(context.home, name, selection);
    const outcome = await applyOperation(operation, name, args, opOptions);
    const after = before && (await snapshotProcesses(context.home, name, selection));
    const changes = before && after ? processChanges(before, after) : undefined;
    await printOutcome(context, { ...outcome, ...(changes ? { changes } : {}) }, `${spec.done} ${name}.`);
    if (!context.json && changes) {
      const { writeNotice } = await import('../../../ui/output.js');
      for (const c of changes.filter((change) => change.changed))
        writeNotice(`  ${c.program}  ${describeState(c.before)} → ${describeState(c.after)}`);
    }
  });
}

function describeState(state: { status: string; pid?: number }): string {
  return state.pid === undefined ? state.status : `${state.status} (pid ${state.pid})`;
}
