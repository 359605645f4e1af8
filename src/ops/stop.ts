// `mup cluster stop`: clean shutdowns in reverse start order (mongos, shards, config servers), then each
// host's supervisord once none of its programs runs. Data is kept.
import { z } from 'zod';
import { defineOperation } from './operation.js';
import { buildStopPlan } from './plans.js';
import { selectInstances, selectionSchema } from './selection.js';

export const stopOperation = defineOperation({
  name: 'stop',
  args: z.object({ selection: selectionSchema }),
  confirm: 'none',
  validate: (meta, args) => void selectInstances(meta.topology.instances, args.selection),
  plan: (rt, args) => buildStopPlan(rt, args.selection),
});
