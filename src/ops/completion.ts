// What shell completion offers from the cluster store: cluster names, and the processes of one cluster
// (host:port and program names) for -N. Read-only and quiet: a broken or missing store offers nothing.
import { ClusterStore } from '../meta/store.js';

export async function clusterNames(home: string): Promise<string[]> {
  return new ClusterStore(home).list().catch(() => []);
}

export async function processNames(home: string, cluster: string): Promise<string[]> {
  try {
    const meta = await new ClusterStore(home).read(cluster);
    return meta.topology.instances.flatMap((i) => [i.id, i.programName]);
  } catch {
    return [];
  }
}
