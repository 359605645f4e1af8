// The live facts plans depend on, read before a plan is built so that builders stay pure (and a dry run
// shows the order that will really be used).
import { isPrimary } from '../mongo/member.js';
import type { ResolvedInstance } from '../topology/types.js';
import type { ClusterFacts } from './plans.js';
import { addressOf } from './runtime.js';

/** Which members answer hello as primary right now; a member that does not answer is not one. */
export async function gatherFacts(instances: readonly ResolvedInstance[]): Promise<ClusterFacts> {
  const primaries = new Set<string>();
  await Promise.all(
    instances
      .filter((i) => i.replicaSet !== undefined && !i.member?.arbiterOnly)
      .map(async (i) => {
        if (await isPrimary(addressOf(i)).catch(() => false)) primaries.add(i.id);
      }),
  );
  return { primaries };
}
