// `mup cluster start`: supervisord first (handing back orphans a killed daemon left), then processes in start
// order — config servers, shards/replica sets, mongos — each waited for until healthy.
import { defineOperation } from './operation.js';
import { buildStartPlan } from './plans.js';
import { checkSelection, selectionArgs } from './selection.js';

export const startOperation = defineOperation({
  name: 'start',
  args: selectionArgs,
  validate: checkSelection,
  plan: (rt, args) => buildStartPlan(rt, args.selection),
});
