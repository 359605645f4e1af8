// Text of `mup cluster audit`: the operations of a cluster, or one operation with every step.
import type { OperationRecord, OperationSummary } from '../../plan/journal.js';
import { renderTable } from '../table.js';

export function renderOperations(operations: readonly OperationSummary[]): string {
  if (operations.length === 0) return 'no operations';
  return renderTable(
    ['ID', 'Cluster', 'Operation', 'Status', 'Started', 'Ended'],
    operations.map((o) => [o.opId, o.cluster, o.operation, o.status, o.startedAt, o.endedAt ?? '']),
  );
}

export function renderOperation(op: OperationRecord): string {
  const lines = [
    `${op.summary.opId}  ${op.summary.operation}  ${op.summary.status}  started ${op.summary.startedAt}`,
  ];
  for (const step of op.steps) {
    lines.push(
      `${step.at}  ${step.state.padEnd(8)} ${step.phase} › ${step.step}${step.error ? `: ${step.error}` : ''}`,
    );
    if (step.output) lines.push(...step.output.split('\n').map((l) => `    ${l}`));
  }
  return lines.join('\n');
}
