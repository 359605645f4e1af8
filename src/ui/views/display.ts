// Text rendering of `cluster display` / `playground status`.
import type { DisplayResult } from '../../ops/display.js';
import type { Colors } from '../colors.js';
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

export interface DisplayViewOptions {
  /** Colours for the state words (the caller decides: stdout a terminal, NO_COLOR...). */
  colors?: Colors | undefined;
  /** Every column; by default the table leaves out Host, Version and Data dir to fit 100 columns. */
  wide?: boolean | undefined;
}

/** Green up, yellow on its way or in doubt, red down. */
export function paintState(text: string, colors: Colors | undefined): string {
  if (!colors) return text;
  if (/^(Up|running)/.test(text)) return colors.green(text);
  if (/^(Starting|Unknown|degraded|unsupervised|unreachable)/.test(text)) return colors.yellow(text);
  if (/^(Down|Crashed|Fatal|stopped)/.test(text)) return colors.red(text);
  return text;
}

const LEGEND = 'Up|P primary, Up|S secondary, Up|A arbiter';

export function renderDisplay(view: DisplayResult, options: DisplayViewOptions = {}): string {
  const { colors, wide = false } = options;
  const header = [
    `Cluster: ${view.cluster}`,
    `Version: ${view.version} (${view.variant === 'simulator' ? view.engine : view.variant})`,
    `Topology: ${view.kind}   Status: ${paintState(view.status, colors)}${view.lastOperation ? `   Last operation: ${view.lastOperation.operation} ${view.lastOperation.status}` : ''}`,
    `Supervisor: ${view.supervisors.map((s) => `${s.host} ${s.endpoint} ${s.state}${s.pid ? ` (pid ${s.pid})` : ''}`).join(', ')}`,
    ...view.supervisors.flatMap((s) => (s.error ? [`  ${s.host}: ${s.error}`] : [])),
    `Boot start: ${view.supervisors.map((s) => `${s.host} ${s.boot}`).join(', ')}`,
    '',
  ];
  const columns: {
    head: string;
    cell: (p: DisplayResult['processes'][number]) => string | number;
    wide?: true;
  }[] = [
    { head: 'ID', cell: (p) => p.id },
    { head: 'Role', cell: (p) => p.role },
    { head: 'Replica set', cell: (p) => p.replicaSet ?? '-' },
    // The host is in the ID; the wide view spells it out for scripts that cut columns.
    { head: 'Host', cell: (p) => p.host, wide: true },
    { head: 'Port', cell: (p) => p.port },
    { head: 'Status', cell: (p) => paintState(p.status, colors) },
    { head: 'Pid', cell: (p) => p.pid ?? '-' },
    { head: 'Uptime', cell: (p) => formatUptime(p.uptimeSeconds) },
    { head: 'Restarts', cell: (p) => p.restarts },
    { head: 'Version', cell: (p) => p.version, wide: true },
    { head: 'Data dir', cell: (p) => p.dataDir ?? '-', wide: true },
  ];
  const shown = columns.filter((c) => wide || !c.wide);
  const table = renderTable(
    shown.map((c) => c.head),
    view.processes.map((p) => shown.map((c) => c.cell(p))),
  );
  const legend = view.processes.some((p) => p.status.startsWith('Up|')) ? ['', LEGEND] : [];
  return [...header, table, ...legend, '', `URI: ${view.uri}`].join('\n');
}
