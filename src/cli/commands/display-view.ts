// Text rendering of `cluster display` / `playground status`.
import type { DisplayResult } from '../../ops/display.js';
import { formatUptime } from '../../ops/display.js';
import { renderTable } from '../../ui/table.js';

export function renderDisplay(view: DisplayResult): string {
  const header = [
    `Cluster: ${view.cluster}`,
    `Version: ${view.version} (${view.variant})`,
    `Topology: ${view.kind}   Status: ${view.status}`,
    `Supervisor: ${view.supervisors.map((s) => `${s.host} ${s.endpoint} ${s.state}${s.pid ? ` (pid ${s.pid})` : ''}`).join(', ')}`,
    '',
  ];
  const table = renderTable(
    [
      'ID',
      'Role',
      'Replica set',
      'Host',
      'Port',
      'Status',
      'Pid',
      'Uptime',
      'Restarts',
      'Version',
      'Data dir',
    ],
    view.processes.map((p) => [
      p.id,
      p.role,
      p.replicaSet ?? '-',
      p.host,
      p.port,
      p.status,
      p.pid ?? '-',
      formatUptime(p.uptimeSeconds),
      p.restarts,
      p.version,
      p.dataDir ?? '-',
    ]),
  );
  return [...header, table, '', `URI: ${view.uri}`].join('\n');
}
