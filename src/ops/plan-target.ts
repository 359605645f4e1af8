// The cluster a plan leaves behind, as the plan's text and JSON show it before anything runs: engine and
// version, every process's address, and the URI a client would use.
import { engineLabel } from '../binaries/simulator.js';
import type { ClusterMeta } from '../meta/store.js';
import { primaryUri } from '../mongo/uri.js';
import type { PlanTarget } from '../plan/types.js';
import type { ResolvedTopology } from '../topology/types.js';

export function planTarget(
  meta: Pick<ClusterMeta, 'variant' | 'version'>,
  topology: ResolvedTopology,
): PlanTarget {
  return {
    kind: topology.kind,
    engine: engineLabel(meta.variant),
    version: meta.version,
    processes: topology.instances.map((i) => ({
      id: i.id,
      role: i.role,
      ...(i.replicaSet === undefined ? {} : { replicaSet: i.replicaSet }),
      host: i.host,
      port: i.port,
    })),
    uri: primaryUri(topology),
  };
}

/** `topology` without the instances `gone` (by id), and without the replica sets they leave empty. */
export function withoutInstances(topology: ResolvedTopology, gone: ReadonlySet<string>): ResolvedTopology {
  return {
    ...topology,
    instances: topology.instances.filter((i) => !gone.has(i.id)),
    replicaSets: topology.replicaSets
      .map((set) => ({ ...set, members: set.members.filter((id) => !gone.has(id)) }))
      .filter((set) => set.members.length > 0),
  };
}
