// `mup cluster audit`: past operations of one or every cluster, or one operation with every step.

import { UsageError } from '../errors.js';
import { ClusterNotFoundError, ClusterStore } from '../meta/store.js';
import { listOperations, type OperationRecord, type OperationSummary } from '../plan/journal.js';

export async function listAudit(home: string, cluster?: string): Promise<OperationSummary[]> {
  const store = new ClusterStore(home);
  const clusters = cluster ? [cluster] : await store.list();
  const summaries: OperationSummary[] = [];
  for (const name of clusters) {
    if (cluster && !(await store.exists(name))) {
      const ops = await listOperations(store.opsDir(name));
      if (ops.length === 0) throw new ClusterNotFoundError(name);
    }
    for (const op of await listOperations(store.opsDir(name))) summaries.push(op.summary);
  }
  return summaries.sort((a, b) => a.opId.localeCompare(b.opId));
}

export async function showOperation(home: string, cluster: string, opId: string): Promise<OperationRecord> {
  const store = new ClusterStore(home);
  const ops = await listOperations(store.opsDir(cluster));
  const found = ops.find((op) => op.header.opId === opId);
  if (!found)
    throw new UsageError(
      `no operation '${opId}' for cluster '${cluster}'`,
      `run \`mup cluster audit ${cluster}\` to list them`,
    );
  return found;
}
