// Text of `mup cluster list`.
import type { ClusterListEntry } from '../../ops/list.js';
import { renderTable } from '../table.js';

export function renderClusterList(clusters: readonly ClusterListEntry[]): string {
  if (clusters.length === 0) return 'no clusters';
  return renderTable(
    ['Name', 'Status', 'Last operation', 'Version', 'Kind', 'Hosts', 'Processes', 'Created'],
    clusters.map((c) =>
      c.error !== undefined && c.version === undefined
        ? [c.name, 'error', c.error, '-', '-', '-', '-', '-']
        : [
            c.name,
            c.status,
            c.lastOperation ? `${c.lastOperation.operation} ${c.lastOperation.status}` : '-',
            c.variant === 'simulator' ? `${c.version} ${c.engine}` : (c.version ?? '-'),
            c.kind ?? '-',
            c.hosts.join(','),
            c.processes,
            c.createdAt ?? '-',
          ],
    ),
  );
}
