// The one answer to "which host:ports do the other clusters of this home hold?" — asked by deploy's topology
// checks and port allocation, and by a supervisord moving off a taken port.
import type { ClusterStore } from '../meta/store.js';
import { type UsedEndpoint, usedEndpointsOf } from '../topology/rules.js';

/**
 * host:ports (processes and supervisor APIs) of every cluster in the store but `except`. A cluster whose meta
 * cannot be read is skipped: its own commands report it, and it must not block every other cluster.
 */
export async function usedEndpoints(store: ClusterStore, except?: string): Promise<UsedEndpoint[]> {
  const clusters = (await store.readAll()).flatMap((entry) =>
    entry.meta && entry.name !== except ? [entry.meta] : [],
  );
  return usedEndpointsOf(clusters);
}
