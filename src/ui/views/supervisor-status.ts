// Text of `mup cluster supervisor status`: per host, the daemon and a table of its programs.
import type { SupervisorStatus } from '../../ops/supervisor-status.js';
import { renderTable } from '../table.js';
import { formatUptime } from './display.js';

export function renderSupervisorStatus(status: SupervisorStatus): string {
  return status.hosts
    .map((h) =>
      [
        `${h.host}  supervisord ${h.state}${h.pid ? ` (pid ${h.pid})` : ''}  ${h.endpoint}`,
        renderTable(
          ['Program', 'State', 'Pid', 'Uptime', 'Exit status', 'Restarts', 'Description'],
          h.programs.map((p) => [
            p.name,
            p.state,
            p.pid || '-',
            p.pid ? formatUptime(p.uptimeSeconds) : '-',
            p.exitStatus,
            p.restarts,
            p.description,
          ]),
        ),
      ].join('\n'),
    )
    .join('\n\n');
}
