// `mup cluster reload NAME [-R] [-N] [--serial]`: applies what edit-config stored — runtime-settable server
// parameters by setParameter on the live processes, every other change by a rolling restart of only the
// processes whose rendered config changed (secondaries, then the stepped-down primary; mongos one batch at
// a time). Resumable: the plan depends on the stored meta, which changes only in the last step.
import { z } from 'zod';
import { gatherFacts } from './facts.js';
import { defineOperation } from './operation.js';
import { buildReloadPlan } from './plans-reload.js';
import { checkSelection, isPartial, selectionArgs } from './selection.js';

export const reloadOperation = defineOperation({
  name: 'reload',
  args: selectionArgs.extend({ serial: z.boolean().default(false) }),
  confirm: (args) => (isPartial(args.selection) ? 'none' : 'plan'),
  validate: (meta, args) => checkSelection(meta, args),
  gather: (rt) => gatherFacts(rt),
  plan: (rt, args, facts) => buildReloadPlan(rt, args.selection, facts, args.serial),
});
