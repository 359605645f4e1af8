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

export function renderOperations(operations: readonly OperationSummary[]): string {
  if (operations.length === 0) return 'no operations';
  return renderTable(
    ['ID', 'Cluster', 'Operation', 'Status', 'Started', 'Duration'],
    operations.map((o) => [
      o.opId,
      o.cluster,
      o.operation,
      o.status,
      o.startedAt,
      formatDuration(o.startedAt, o.endedAt),
    ]),
  );
}

export function renderOperation(op: OperationRecord): string {
  const { summary } = op;
  const lines = [
    `${summary.opId}  ${summary.operation}  ${summary.status}  started ${summary.startedAt}  took ${formatDuration(summary.startedAt, summary.endedAt)}`,
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
