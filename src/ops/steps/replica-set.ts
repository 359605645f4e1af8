// Steps that bring a replica set to life: replSetInitiate with the topology's members, then a primary (stepped
// up on the preferred member rather than waiting out the election timeout) and every member healthy.
import { MupError } from '../../errors.js';
import {
  buildReplicaSetConfig,
  initiateReplicaSet,
  isInitiated,
  waitForHealthyReplicaSet,
} from '../../mongo/replset.js';
import type { Step } from '../../plan/types.js';
import { isElectable } from '../../topology/servers.js';
import type { ResolvedReplicaSet } from '../../topology/types.js';
import type { ClusterRuntime, Identity } from '../runtime.js';

/** How long a replica set may take to elect a primary and bring every member up. */
export const HEALTHY_TIMEOUT_MS = 120_000;

export function memberSpecs(rt: ClusterRuntime, set: ResolvedReplicaSet, identity: Identity = 'admin') {
  return set.members.map((id) => {
    const instance = rt.instances.find((i) => i.id === id);
    if (!instance?.member) throw new MupError(`replica set ${set.name}: member ${id} is not in the topology`);
    return { id, ...rt.address(instance, identity), options: instance.member };
  });
}

/** The member that runs replSetInitiate: the first electable one, chosen when the topology was resolved. */
function initiator(rt: ClusterRuntime, set: ResolvedReplicaSet) {
  const chosen = memberSpecs(rt, set, 'system').find((m) => m.id === set.initiator);
  if (!chosen) throw new MupError(`replica set ${set.name}: initiator ${set.initiator} is not a member`);
  return chosen;
}

/** Deploy only: it runs before the admin user exists, so it authenticates with the keyFile (auth clusters). */
export function initiateReplicaSetStep(rt: ClusterRuntime, set: ResolvedReplicaSet): Step {
  return {
    id: `initiate:${set.name}`,
    title: `replSetInitiate ${set.name} with ${set.members.length} member${set.members.length === 1 ? '' : 's'}`,
    isDone: () => isInitiated(initiator(rt, set)),
    run: async () => {
      const config = buildReplicaSetConfig(set.name, memberSpecs(rt, set), set.settings, {
        configsvr: set.purpose === 'config',
        version: rt.meta.version,
      });
      await initiateReplicaSet(initiator(rt, set), config);
      return undefined;
    },
  };
}

/**
 * The member to step up when a set has no primary yet: the electable one with the highest priority (the
 * first of equals), so that no priority takeover follows the election.
 */
function preferredPrimary(members: ReturnType<typeof memberSpecs>) {
  let best: (typeof members)[number] | undefined;
  for (const m of members)
    if (isElectable(m.options) && (best === undefined || m.options.priority > best.options.priority))
      best = m;
  return best;
}

export function waitReplicaSetStep(
  rt: ClusterRuntime,
  set: ResolvedReplicaSet,
  identity: Identity = 'admin',
): Step {
  return {
    id: `healthy:${set.name}`,
    title: `wait until ${set.name} has a primary and every member is healthy`,
    run: async (context) => {
      context.waiting(`a primary of ${set.name} and every member healthy`);
      const members = memberSpecs(rt, set, identity);
      const stepUp = preferredPrimary(members);
      const { primary } = await waitForHealthyReplicaSet(set.name, members, HEALTHY_TIMEOUT_MS, {
        ...(stepUp ? { stepUp } : {}),
      });
      return `primary ${primary}`;
    },
  };
}
