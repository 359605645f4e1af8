// `mup cluster start`: supervisord first (handing back, one member at a time, the processes a killed daemon
// left running), then processes in start order — config servers, shards/replica sets, mongos — each waited
// for until healthy.
import { z } from 'zod';
import { gatherFacts, gatherOrphans } from './facts.js';
import { defineOperation } from './operation.js';
import { buildStartPlan } from './plans.js';
import { checkSelection, selectInstances, selectionArgs } from './selection.js';

export const startOperation = defineOperation({
  name: 'start',
  args: selectionArgs.extend({
    /**
     * The members found running unsupervised when the operation began (instance ids), journaled so that
     * `cluster resume` rebuilds the same plan after some of them were already handed back.
     */
    adopt: z.array(z.string()).optional(),
  }),
  validate: (meta, args) => checkSelection(meta, args),
  gather: async (rt, args) => {
    const orphans = args.adopt ?? (await gatherOrphans(rt, selectInstances(rt.instances, args.selection)));
    // Who is primary matters only to the hand-back order, and only members found running are asked: a port
    // a stranger took while the cluster was stopped is never spoken to.
    const running = rt.instances.filter((i) => orphans.includes(i.id));
    return { ...(await gatherFacts(rt, running)), orphans };
  },
  pin: (args, facts) => ({ ...args, adopt: [...facts.orphans] }),
  plan: (rt, args, facts) => buildStartPlan(rt, args.selection, facts),
});
