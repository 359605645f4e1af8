// `mup cluster stop`: clean shutdowns in reverse start order (mongos, shards, config servers), then each
// host's supervisord once none of its programs runs. Data is kept.
import { defineOperation } from './operation.js';
import { buildStopPlan } from './plans.js';
import { checkSelection, selectionArgs } from './selection.js';

export const stopOperation = defineOperation({
  name: 'stop',
  args: selectionArgs,
  validate: checkSelection,
  plan: (rt, args) => buildStopPlan(rt, args.selection),
});
