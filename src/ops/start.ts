// `mup cluster start`: supervisord first (handing back orphans a killed daemon left), then processes in start
// order — config servers, shards/replica sets, mongos — each waited for until healthy.
import { z } from 'zod';
import { defineOperation } from './operation.js';
import { buildStartPlan } from './plans.js';
import { selectInstances, selectionSchema } from './selection.js';

export const startOperation = defineOperation({
  name: 'start',
  args: z.object({ selection: selectionSchema }),
  confirm: 'none',
  validate: (meta, args) => void selectInstances(meta.topology.instances, args.selection),
  plan: (rt, args) => buildStartPlan(rt, args.selection),
});
