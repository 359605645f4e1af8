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
    const args = { selection: await selectionFrom(options), ...(spec.args?.(options) ?? {}) };
    const outcome = await applyOperation(operation, name, args, opOptions);
    await printOutcome(context, outcome, `${spec.done} ${name}.`);
  });
}
