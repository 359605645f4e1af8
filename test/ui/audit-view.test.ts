import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OperationRecord } from '../../src/plan/journal.js';
import { formatDuration, renderOperation, renderOperations } from '../../src/ui/views/audit.js';

test('durations: seconds with a tenth, minutes and seconds, - when unknown', () => {
  assert.equal(formatDuration('2026-12-03T10:00:00.000Z', '2026-12-03T10:00:12.340Z'), '12.3s');
  assert.equal(formatDuration('2026-12-03T10:00:00.000Z', '2026-12-03T10:04:05.000Z'), '4m05s');
  assert.equal(formatDuration('2026-12-03T10:00:00.000Z', undefined), '-');
  assert.equal(formatDuration('x', '2026-12-03T10:00:00.000Z'), '-');
});

test('the operation list shows each duration and command line; one operation its command, arguments and each step’s time', () => {
  const summary = {
    opId: 'op1',
    operation: 'restart',
    cluster: 'prod',
    startedAt: '2026-12-03T10:00:00.000Z',
    endedAt: '2026-12-03T10:00:20.000Z',
    status: 'succeeded' as const,
    commandLine: 'mup cluster restart prod -N localhost:30001',
  };
  assert.match(
    renderOperations([summary]),
    /Command\n.*succeeded\s+2026-12-03 10:00:00\s+20\.0s\s+mup cluster restart prod -N localhost:30001$/,
  );
  // Journals older than the command line name the verb and the cluster instead.
  const { commandLine: _, ...older } = summary;
  assert.match(renderOperations([older]), /20\.0s\s+\(restart prod\)$/);
  const op = {
    header: { args: { selection: { nodes: ['localhost:30001'] } } },
    steps: [
      { kind: 'step', at: '2026-12-03T10:00:01.000Z', phase: 'Rolling', step: 'restart-a', state: 'running' },
      { kind: 'step', at: '2026-12-03T10:00:05.500Z', phase: 'Rolling', step: 'restart-a', state: 'done' },
    ],
    summary,
  } as unknown as OperationRecord;
  const text = renderOperation(op);
  assert.match(text, /took 20\.0s/);
  assert.match(text, /^command: mup cluster restart prod -N localhost:30001$/m);
  assert.match(text, /arguments: \{"selection":\{"nodes":\["localhost:30001"\]\}\}/);
  assert.match(text, /done\s+Rolling › restart-a \(4\.5s\)/);
});
