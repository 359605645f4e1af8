import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DisplayResult } from '../../src/ops/display.js';
import { colorsFor } from '../../src/ui/colors.js';
import { renderDisplay } from '../../src/ui/views/display.js';

const row = (port: number, status: DisplayResult['processes'][number]['status']) =>
  ({
    id: `localhost:${port}`,
    role: 'mongod',
    replicaSet: 'rs0',
    host: 'localhost',
    port,
    program: `mongod-${port}`,
    status,
    pid: 12345,
    uptimeSeconds: 3725,
    restarts: 0,
    version: '8.0.4',
    dataDir: `/home/someone/.mup/playground/playground/mongod-${port}/data`,
  }) as DisplayResult['processes'][number];

const view = {
  schemaVersion: 1,
  cluster: 'playground',
  version: '8.0.4',
  variant: 'mongodb',
  kind: 'replset',
  status: 'degraded',
  supervisors: [{ host: 'localhost', endpoint: '127.0.0.1:9001', state: 'running', pid: 1 }],
  processes: [row(30000, 'Up|P'), row(30001, 'Up|S'), row(30002, 'Down')],
  uri: 'mongodb://localhost:30000,localhost:30001,localhost:30002/?replicaSet=rs0',
} as unknown as DisplayResult;

test('the default table fits 100 columns and explains Up|P / Up|S; --wide has every column', () => {
  const text = renderDisplay(view);
  for (const line of text.split('\n').filter((l) => !l.startsWith('URI:')))
    assert.ok(line.length <= 100, `${line.length}: ${line}`);
  assert.match(text, /^ID\s+Role\s+Replica set\s+Port\s+Status\s+Pid\s+Uptime\s+Restarts$/m);
  assert.match(text, /^Up\|P primary, Up\|S secondary/m);
  const wide = renderDisplay(view, { wide: true });
  assert.match(wide, /Host\s+Port\s+Status.*Version\s+Data dir/);
  assert.match(wide, /mongod-30002\/data/);
});

test('states are coloured green, yellow, red only when colours are on', () => {
  const colored = renderDisplay(view, { colors: colorsFor(true, {}) });
  assert.ok(colored.includes('\u001b[32mUp|P'), 'green up');
  assert.ok(colored.includes('\u001b[31mDown'), 'red down');
  assert.ok(colored.includes('\u001b[33mdegraded'), 'yellow degraded');
  assert.ok(!renderDisplay(view, { colors: colorsFor(true, { NO_COLOR: '1' }) }).includes('\u001b'));
  assert.ok(!renderDisplay(view, { colors: colorsFor(false, {}) }).includes('\u001b'));
});
