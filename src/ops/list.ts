// `mup cluster list`: one row per cluster in the store, with its live state (probed in parallel, short
// timeouts) and the last operation apart. A cluster whose meta cannot be read gets a row saying why; it never
// hides the others.
import { engineLabel } from '../binaries/simulator.js';
import { ClusterStore } from '../meta/store.js';
import { displayCluster } from './display.js';

/** JSON shape of `mup cluster list --json` (version 1): `{ clusters: ClusterListEntry[] }`. */
export interface ClusterListEntry {
  name: string;
  /** Live state (display's LiveState), or `error` when the cluster's meta cannot be read. */
  status: string;
  /** The state the last operation left it in. */
  desiredStatus?: string;
  lastOperation?: { opId: string; operation: string; status: string };
  version?: string;
  variant?: string;
  /** What runs: "MongoDB", "Percona Server for MongoDB" or "simulator (not MongoDB)". */
  engine?: string;
  kind?: string;
  hosts: string[];
  processes: number;
  createdAt?: string;
  /** Why the row has no details. */
  error?: string;
}

export async function listClusters(home: string): Promise<ClusterListEntry[]> {
  const store = new ClusterStore(home);
  return Promise.all(
    (await store.readAll()).map(async ({ name, meta, error }): Promise<ClusterListEntry> => {
      if (!meta)
        return { name, status: 'error', hosts: [], processes: 0, error: error?.message ?? 'unreadable' };
      const view = await displayCluster(home, name).catch((e: Error) => e);
      return {
        name,
        status: view instanceof Error ? 'error' : view.status,
        desiredStatus: meta.status,
        ...(view instanceof Error || !view.lastOperation ? {} : { lastOperation: view.lastOperation }),
        version: meta.version,
        variant: meta.variant,
        engine: engineLabel(meta.variant),
        kind: meta.topology.kind,
        hosts: [...new Set(meta.topology.hosts.map((h) => h.host))],
        processes: meta.topology.instances.length,
        createdAt: meta.createdAt,
        ...(view instanceof Error ? { error: view.message } : {}),
      };
    }),
  );
}
