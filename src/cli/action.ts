// What every mutating command shares: the operation options from the global flags (progress view, plan
// confirmation, typed confirmation), and SIGINT/SIGTERM handling. A first signal aborts the run — the step
// in flight is journaled as interrupted and mup exits 130 naming `mup cluster resume`; a second one exits at
// once (resume still works: steps are idempotent).

import type { Command } from '@commander-js/extra-typings';
import { ExitCode } from '../errors.js';
import type { OperationOptions, OperationOutcome } from '../ops/operation.js';
import { writeNotice } from '../ui/output.js';
import { createProgressView } from '../ui/progress.js';
import { confirm, confirmTyped, requireTerminal } from '../ui/prompt.js';
import { describePlan } from '../ui/views/plan.js';
import { auditCommandLine } from './command-line.js';
import { type CommandContext, commandContext } from './context.js';

export interface VerbOptions {
  dryRun?: boolean;
  /** Text of the typed confirmation (destroy). */
  typedPrompt?: string;
}

export async function operationOptions(
  context: CommandContext,
  verb: VerbOptions = {},
): Promise<OperationOptions> {
  return {
    home: context.home,
    yes: context.yes,
    concurrency: context.concurrency,
    dryRun: verb.dryRun ?? false,
    commandLine: auditCommandLine(process.argv.slice(2)),
    progress: await createProgressView({ json: context.json }),
    confirm: async (outline) => {
      // Refuse before printing a plan nobody can approve.
      if (!context.yes) requireTerminal();
      writeNotice(describePlan(outline));
      return confirm('Apply this plan?', context.yes);
    },
    confirmTyped: (cluster) =>
      confirmTyped(verb.typedPrompt ?? `This changes ${cluster}.`, cluster, context.yes),
    signal: interruptSignal(),
  };
}

let controller: AbortController | undefined;

/** One abort signal per process, raised by the first SIGINT/SIGTERM; the second signal exits right away. */
function interruptSignal(): AbortSignal {
  if (controller) return controller.signal;
  const created = new AbortController();
  controller = created;
  const onSignal = (signal: NodeJS.Signals) => {
    if (created.signal.aborted) process.exit(ExitCode.interrupted);
    writeNotice(`${signal}: finishing the journal; press Ctrl-C again to quit at once`);
    created.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return created.signal;
}

/** Prints a mutating verb's result: the JSON document, the plan of a dry run, or one line saying it is done. */
export async function printOutcome(
  context: CommandContext,
  outcome: OperationOutcome,
  done: string,
): Promise<void> {
  const { writeJson, writeResult } = await import('../ui/output.js');
  if (context.json) return writeJson(outcome);
  if (outcome.dryRun) return writeResult(describePlan(outcome.plan));
  writeNotice(done);
}

/**
 * The action of a read-only `<verb> NAME` command: load its result, print it as JSON or through its text
 * view. Both are loaded lazily, so `mup --help` stays fast.
 */
export function viewAction<R>(
  load: () => Promise<(home: string, name: string) => Promise<R>>,
  view: () => Promise<(result: R) => string>,
) {
  return async (
    name: string,
    _options: unknown,
    command: Command<unknown[], Record<string, unknown>, Record<string, unknown>>,
  ) => {
    const context = commandContext(command);
    const [run, render] = await Promise.all([load(), view()]);
    const result = await run(context.home, name);
    const { writeJson, writeResult } = await import('../ui/output.js');
    if (context.json) return writeJson(result);
    writeResult(render(result));
  };
}
