// Turns the global flags into the options every mutating operation takes: progress rendering, the
// confirmation prompt (plan shown first), concurrency.
import type { OperationOptions } from '../ops/apply.js';
import { writeNotice } from '../ui/output.js';
import { createProgressView } from '../ui/progress.js';
import { confirm } from '../ui/prompt.js';
import type { CommandContext } from './context.js';

export async function operationOptions(context: CommandContext): Promise<OperationOptions> {
  const { describePlan } = await import('../ops/apply.js');
  return {
    home: context.home,
    yes: context.yes,
    concurrency: context.concurrency,
    progress: await createProgressView({ json: context.json }),
    confirm: async (outline) => {
      writeNotice(describePlan(outline));
      return confirm('Apply this plan?', context.yes);
    },
  };
}
