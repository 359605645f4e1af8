// `mup cluster restart`: rolling (one member at a time, the primary last after a stepDown), or `--parallel`
// (stop everything, then start everything). The rolling order follows who is primary when the plan is made;
// the shards' replica sets restart side by side (one member per set at a time) unless `--serial`.
import { z } from 'zod';
import { gatherFacts } from './facts.js';
import { defineOperation } from './operation.js';
import { buildRestartPlan } from './plans.js';
import { checkSelection, isPartial, selectionArgs } from './selection.js';

export const restartOperation = defineOperation({
  name: 'restart',
  args: selectionArgs.extend({
    parallel: z.boolean().default(false),
    /** One process of the whole cluster at a time, instead of one per replica set. */
    serial: z.boolean().default(false),
  }),
  // Stopping (or restarting) a whole cluster interrupts every client: ask, as TiUP does. A -N/-R selection
  // names what it touches and does not ask.
  confirm: (args) => (isPartial(args.selection) ? 'none' : 'plan'),
  validate: (meta, args) => checkSelection(meta, args),
  gather: (rt) => gatherFacts(rt),
  plan: (rt, args, facts) => buildRestartPlan(rt, args.selection, args.parallel, facts, args.serial),
});
