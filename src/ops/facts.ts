// The live facts plans depend on, read before a plan is built so that builders stay pure (and a dry run
// shows the order that will really be used).
import { isPrimary } from '../mongo/member.js';
import { orphanProbeFor } from '../supervisor/instance-refs.js';
import { findOrphans } from '../supervisor/orphans.js';
import { isRunningState } from '../supervisor/process-info.js';
import type { ResolvedInstance } from '../topology/types.js';
import type { ClusterFacts } from './plans.js';
import type { ClusterRuntime } from './runtime.js';
import { isOwnProcess } from './steps/process.js';

/** Which members answer hello as primary right now; a member that does not answer is not one. */
/** `instances`: the members to ask (all by default). */
export async function gatherFacts(
  rt: ClusterRuntime,
  instances: readonly ResolvedInstance[] = rt.instances,
): Promise<ClusterFacts> {
  const primaries = new Set<string>();
  await Promise.all(
    instances
      .filter((i) => i.replicaSet !== undefined && !i.member?.arbiterOnly)
      .map(async (i) => {
        if (await isPrimary(rt.address(i)).catch(() => false)) primaries.add(i.id);
      }),
  );
  return { primaries };
}

/**
 * Ids of the instances whose own process (holding its mongod.lock, or run with its config file) is alive
 * while this cluster's supervisord does not run it — left behind by a killed daemon. Processes of strangers
 * on a member's port are not counted: the supervisord step refuses them by name.
 */
export async function gatherOrphans(
  rt: ClusterRuntime,
  instances: readonly ResolvedInstance[],
): Promise<string[]> {
  const hosts = [...new Set(instances.map((i) => i.host))];
  const found = await Promise.all(
    hosts.map(async (host) => {
      const on = instances.filter((i) => i.host === host);
      const probe = await rt.daemon(host).probe();
      let supervised = new Set<string>();
      if (probe.kind === 'running') {
        const status = await (await rt.programs(host)).status();
        supervised = new Set(status.filter((p) => isRunningState(p.state)).map((p) => p.name));
      }
      const candidates = on.filter((i) => !supervised.has(i.programName));
      const orphans = await findOrphans(rt.executor(host), candidates.map(orphanProbeFor));
      return candidates
        .filter((i) => orphans.some((o) => o.program === i.programName && isOwnProcess(o, i)))
        .map((i) => i.id);
    }),
  );
  const ids = new Set(found.flat());
  // Topology order, so that the journaled list reads the same whichever host answered first.
  return instances.filter((i) => ids.has(i.id)).map((i) => i.id);
}
