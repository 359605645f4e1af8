// Text of `mup cluster audit`: the operations of a cluster, or one operation with every step.
import type { OperationRecord, OperationSummary } from '../../plan/journal.js';
import { renderTable } from '../table.js';

/** `12.3s`, `4m05s`; `-` while it runs or when a time is missing. */
export function formatDuration(from: string | undefined, to: string | undefined): string {
  if (from === undefined || to === undefined) return '-';
  const ms = Date.parse(to) - Date.parse(from);
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/** What started an operation: its command line, or for journals older than that its verb and cluster. */
export function commandOf(o: OperationSummary): string {
  return o.commandLine ?? `(${o.operation} ${o.cluster})`;
}

/** `2026-12-03 10:00:00`: the UTC start to the second, short enough to leave room for the command line. */
function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
}

export function renderOperations(operations: readonly OperationSummary[]): string {
  if (operations.length === 0) return 'no operations';
  // The command names the cluster and the verb, so those columns give way to it.
  return renderTable(
    ['ID', 'Status', 'Started (UTC)', 'Duration', 'Command'],
    operations.map((o) => [
      o.opId,
      o.status,
      shortTime(o.startedAt),
      formatDuration(o.startedAt, o.endedAt),
      commandOf(o),
    ]),
  );
}

export function renderOperation(op: OperationRecord): string {
  const { summary } = op;
  const lines = [
    `${summary.opId}  ${summary.operation}  ${summary.status}  started ${summary.startedAt}  took ${formatDuration(summary.startedAt, summary.endedAt)}`,
    `command: ${commandOf(summary)}`,
  ];
  const args = op.header.args;
  if (Object.keys(args).length > 0) lines.push(`arguments: ${JSON.stringify(args)}`);
  // A step's time runs from its `running` record to the record that ends it.
  const startedAt = new Map<string, string>();
  for (const step of op.steps) {
    if (step.state === 'running') startedAt.set(step.step, step.at);
    const took = step.state === 'running' ? '' : ` (${formatDuration(startedAt.get(step.step), step.at)})`;
    lines.push(
      `${step.at}  ${step.state.padEnd(8)} ${step.phase} › ${step.step}${took === ' (-)' ? '' : took}${step.error ? `: ${step.error}` : ''}`,
    );
    if (step.output) lines.push(...step.output.split('\n').map((l) => `    ${l}`));
  }
  return lines.join('\n');
}
