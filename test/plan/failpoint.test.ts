// MUP_FAILPOINT parsing and matching (the kill itself is exercised by test/e2e/kill-points.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MupError } from '../../src/errors.js';
import { failpointMatches, parseFailpoints } from '../../src/plan/failpoint.js';

test('unset or empty means no failpoint', () => {
  assert.deepEqual(parseFailpoints(undefined), []);
  assert.deepEqual(parseFailpoints('  '), []);
});

test('the point is what follows the last colon; step ids keep theirs; several are comma-separated', () => {
  assert.deepEqual(parseFailpoints('start:localhost:27017:after-run,initiate:rs0:before-run'), [
    { step: 'start:localhost:27017', point: 'after-run' },
    { step: 'initiate:rs0', point: 'before-run' },
  ]);
});

test('malformed values are refused, naming the entry', () => {
  for (const bad of ['start:localhost:27017', 'after-run', ':after-run', 'x:during', 'a:after-run,,']) {
    assert.throws(
      () => parseFailpoints(bad),
      (error: unknown) =>
        error instanceof MupError && /MUP_FAILPOINT: '.*' is not <step-id>/.test(error.message),
      bad,
    );
  }
});

test('an exact step id matches only itself; a trailing * matches every step it prefixes; the point must match', () => {
  const [exact] = parseFailpoints('restart:localhost:1:after-run');
  const [prefix] = parseFailpoints('stop-set:*:before-run');
  assert.ok(exact && prefix);
  assert.equal(failpointMatches(exact, 'restart:localhost:1', 'after-run'), true);
  assert.equal(failpointMatches(exact, 'restart:localhost:10', 'after-run'), false);
  assert.equal(failpointMatches(exact, 'restart:localhost:1', 'before-run'), false);
  assert.equal(failpointMatches(prefix, 'stop-set:rs0:localhost:1,localhost:2', 'before-run'), true);
  assert.equal(failpointMatches(prefix, 'stop:localhost:1', 'before-run'), false);
});
