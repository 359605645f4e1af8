// Text rendering of `cluster display` / `playground status`.
import type { DisplayResult } from '../../ops/display.js';
import { renderTable } from '../table.js';

export function formatUptime(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${m}m`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

export function renderDisplay(view: DisplayResult): string {
  const header = [
    `Cluster: ${view.cluster}`,
    `Version: ${view.version} (${view.variant === 'simulator' ? view.engine : view.variant})`,
    `Topology: ${view.kind}   Status: ${view.status}${view.lastOperation ? `   Last operation: ${view.lastOperation.operation} ${view.lastOperation.status}` : ''}`,
    `Supervisor: ${view.supervisors.map((s) => `${s.host} ${s.endpoint} ${s.state}${s.pid ? ` (pid ${s.pid})` : ''}`).join(', ')}`,
    ...view.supervisors.flatMap((s) => (s.error ? [`  ${s.host}: ${s.error}`] : [])),
    `Boot start: ${view.supervisors.map((s) => `${s.host} ${s.boot}`).join(', ')}`,
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
