import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runningStatus, waitLine } from '../../src/ui/step-status.js';

const t0 = Date.parse('2026-12-03T10:00:00.000Z');

test('a running step says nothing in its first second, then its elapsed time', () => {
  assert.equal(runningStatus(t0 + 999, t0), '');
  assert.equal(runningStatus(t0 + 1000, t0), '1 s');
  assert.equal(runningStatus(t0 + 12_400, t0), '12 s');
});

test('a wait without an end says what it waits for and for how long', () => {
  const wait = { what: 'a primary of rs0', since: t0 + 2000 };
  assert.equal(runningStatus(t0 + 14_000, t0, wait), 'waiting for a primary of rs0: 12 s');
  assert.equal(waitLine(wait), 'waiting for a primary of rs0');
});

test('a wait with an expected end counts down, then says it runs late', () => {
  const wait = { what: 'mongod-30001 quiesce', since: t0, until: t0 + 15_000 };
  assert.equal(runningStatus(t0 + 200, t0, wait), 'mongod-30001 quiesce: 15 s left');
  assert.equal(runningStatus(t0 + 3000, t0, wait), 'mongod-30001 quiesce: 12 s left');
  assert.equal(
    runningStatus(t0 + 17_000, t0, wait),
    'mongod-30001 quiesce: 17 s, longer than the expected 15 s',
  );
  assert.equal(waitLine(wait), 'mongod-30001 quiesce: up to 15 s');
});
