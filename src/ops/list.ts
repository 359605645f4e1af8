// `mup cluster list`: one row per cluster in the store.
import { ClusterStore } from '../meta/store.js';

/** JSON shape of `mup cluster list --json` (version 1): `{ clusters: ClusterListEntry[] }`. */
export interface ClusterListEntry {
  name: string;
  status: string;
  version: string;
  variant: string;
  kind: string;
  hosts: string[];
  processes: number;
  createdAt: string;
}

export async function listClusters(home: string): Promise<ClusterListEntry[]> {
  const store = new ClusterStore(home);
  const entries: ClusterListEntry[] = [];
  for (const name of await store.list()) {
    const meta = await store.read(name);
    entries.push({
      name,
      status: meta.status,
      version: meta.version,
      variant: meta.variant,
      kind: meta.topology.kind,
      hosts: meta.topology.hosts.map((h) => h.host),
      processes: meta.topology.instances.length,
      createdAt: meta.createdAt,
    });
  }
  return entries;
}
