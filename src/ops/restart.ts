// `mup cluster restart`: rolling (one member at a time, the primary last after a stepDown), or `--parallel`
// (stop everything, then start everything). The rolling order follows who is primary when the plan is made.
import { z } from 'zod';
import { gatherFacts } from './facts.js';
import { defineOperation } from './operation.js';
import { buildRestartPlan } from './plans.js';
import { selectInstances, selectionSchema } from './selection.js';

export const restartOperation = defineOperation({
  name: 'restart',
  args: z.object({ selection: selectionSchema, parallel: z.boolean().default(false) }),
  confirm: 'none',
  validate: (meta, args) => void selectInstances(meta.topology.instances, args.selection),
  gather: (rt) => gatherFacts(rt.instances),
  plan: (rt, args, facts) => buildRestartPlan(rt, args.selection, args.parallel, facts),
});
