import assert from 'node:assert/strict';
import { test } from 'node:test';
import { colorsFor } from '../../src/ui/colors.js';
import { formatLogLine } from '../../src/ui/views/logs.js';

const entry = (fields: Record<string, unknown>) =>
  JSON.stringify({
    t: { $date: '2026-12-03T13:38:41.123+00:00' },
    s: 'I',
    c: 'NETWORK',
    id: 23016,
    ctx: 'listener',
    msg: 'Waiting for connections',
    ...fields,
  });

test('a JSON log entry becomes time, severity, component, context, message and attributes', () => {
  assert.equal(
    formatLogLine(entry({ attr: { port: 30001, ssl: 'off' } })),
    '2026-12-03 13:38:41.123 I  NETWORK  [listener] Waiting for connections port=30001 ssl=off',
  );
  assert.equal(
    formatLogLine(
      entry({
        s: 'W',
        c: 'REPL',
        msg: 'x',
        attr: { when: { $date: '2026-01-01T00:00:00Z' }, note: 'two words', doc: { a: [1, 2] } },
      }),
    ),
    '2026-12-03 13:38:41.123 W  REPL     [listener] x when=2026-01-01T00:00:00Z note="two words" doc={"a":[1,2]}',
  );
  assert.equal(
    formatLogLine(entry({ attr: undefined })),
    '2026-12-03 13:38:41.123 I  NETWORK  [listener] Waiting for connections',
  );
});

test('long attributes are cut; severities are coloured only when colours are on', () => {
  const line = formatLogLine(entry({ attr: { big: 'y'.repeat(500) } }));
  assert.ok(line.endsWith('…'));
  assert.ok(line.length < 200, line);
  const red = formatLogLine(entry({ s: 'E' }), colorsFor(true, {}));
  assert.ok(red.includes('\u001b[31mE '), red);
  assert.ok(!formatLogLine(entry({ s: 'E' }), colorsFor(true, { NO_COLOR: '1' })).includes('\u001b'));
});

test('lines that are not JSON log entries pass through unchanged', () => {
  for (const line of [
    "2026-12-03 13:38:41,123 INFO spawned: 'mongod-30001' with pid 42",
    '2019-01-01T00:00:00.000+0000 I NETWORK  [listener] waiting for connections on port 27017',
    '{"torn": ',
    '{"no":"fields"}',
    '[1,2]',
  ])
    assert.equal(formatLogLine(line), line);
});
