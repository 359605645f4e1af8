// `mup cluster stop`: clean shutdowns in reverse start order (mongos, shards, config servers), then each
// host's supervisord once none of its programs runs. Data is kept.
import { defineOperation } from './operation.js';
import { buildStopPlan } from './plans.js';
import { checkSelection, isPartial, selectionArgs } from './selection.js';

export const stopOperation = defineOperation({
  name: 'stop',
  args: selectionArgs,
  // Stopping (or restarting) a whole cluster interrupts every client: ask, as TiUP does. A -N/-R selection
  // names what it touches and does not ask.
  confirm: (args) => (isPartial(args.selection) ? 'none' : 'plan'),
  validate: checkSelection,
  plan: (rt, args) => buildStopPlan(rt, args.selection),
});
