import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Lane, type LaneStep, laneLines, stepMember } from '../../src/ui/lane-lines.js';

const t0 = Date.parse('2026-12-03T10:00:00.000Z');

const step = (id: string, state: LaneStep['state'], extra: Partial<LaneStep> = {}): LaneStep => ({
  id,
  state,
  ...extra,
});

/** A 3-member set whose first `through` members are done and whose next one runs since `since`. */
function shard(name: string, port: number, through: number, running?: Partial<LaneStep>): Lane {
  const steps = [0, 1, 2].map((m) => {
    const id = `restart:localhost:${port + m}`;
    if (m < through) return step(id, 'done', { startedAt: t0 + m * 10_000, endedAt: t0 + (m + 1) * 10_000 });
    if (m === through && running) return step(id, 'running', running);
    return step(id, 'pending');
  });
  return { label: name, steps };
}

test('the member of a step is the host:port of its id', () => {
  assert.equal(stepMember('restart:localhost:20103'), 'localhost:20103');
  assert.equal(stepMember('upgrade:198.18.7.11:27017'), '198.18.7.11:27017');
  assert.equal(stepMember('restart:[::1]:27017'), '[::1]:27017');
  assert.equal(stepMember('noop'), 'noop');
});

test('one aligned line per set: its current member, how many are through, what the member waits for', () => {
  const now = t0 + 22_000;
  const lines = laneLines(
    [
      shard('shard01', 20100, 1, {
        startedAt: t0 + 10_000,
        wait: { what: 'mongod-20101 to be a healthy member of shard01, caught up', since: t0 + 20_000 },
      }),
      shard('shard10', 21000, 0, {
        startedAt: t0 + 21_000,
        wait: { what: 'mongod-21000 quiesce', since: t0 + 21_000, until: t0 + 36_000 },
      }),
      shard('shard2', 20200, 2, { startedAt: now - 500 }),
    ],
    now,
  );
  assert.deepEqual(lines, [
    'shard01  localhost:20101  1/3  waiting for mongod-20101 to be a healthy member of shard01, caught up: 2 s',
    'shard10  localhost:21000  0/3  mongod-21000 quiesce: 14 s left',
    'shard2   localhost:20202  2/3  started',
  ]);
});

test('a set not started yet is queued, a finished one says how long it took, a failed one why', () => {
  const now = t0 + 40_000;
  const lines = laneLines(
    [
      shard('shard01', 20100, 3),
      shard('shard02', 20200, 0),
      {
        label: 'shard03',
        steps: [
          step('restart:localhost:20300', 'skipped', { startedAt: t0, endedAt: t0 }),
          step('restart:localhost:20301', 'failed', { startedAt: t0, endedAt: now, error: 'did not start' }),
          step('restart:localhost:20302', 'pending'),
        ],
      },
      {
        label: 'shard04',
        steps: [
          step('restart:localhost:20400', 'done', { startedAt: t0, endedAt: t0 + 5000 }),
          step('restart:localhost:20401', 'pending'),
        ],
      },
    ],
    now,
  );
  assert.deepEqual(lines, [
    'shard01                   3/3  done in 30 s',
    'shard02                   0/3  queued',
    'shard03  localhost:20301  1/3  failed: did not start',
    'shard04                   1/2  next member',
  ]);
});

test('the mongos batch is one line naming every router in flight, timed by the oldest', () => {
  const now = t0 + 5000;
  const batch: Lane = {
    label: 'mongos',
    steps: [
      step('restart:h1:27017', 'done', { startedAt: t0 - 9000, endedAt: t0 - 1000 }),
      step('restart:h2:27017', 'running', { startedAt: t0 + 3000 }),
      step('restart:h3:27017', 'running', {
        startedAt: t0,
        wait: { what: 'mongos-27017 to start', since: t0 + 1000 },
      }),
      step('restart:h4:27017', 'pending'),
    ],
  };
  assert.deepEqual(laneLines([batch], now), [
    'mongos  h3:27017 h2:27017  1/4  waiting for mongos-27017 to start: 4 s',
  ]);
});

test('lines are cut to the width given, never wrapped; the clock at the end stays in view', () => {
  const lane = shard('shard01', 20100, 0, {
    startedAt: t0,
    wait: { what: 'mongod-20100 to be a healthy member of shard01, caught up', since: t0 },
  });
  const [line] = laneLines([lane], t0 + 3000, 60);
  assert.equal(line, 'shard01  localhost:20100  0/3  waiting for mongod-2010…: 3 s');
  assert.equal(line?.length, 60);
  const [whole] = laneLines([lane], t0 + 3000);
  assert.equal(
    whole,
    'shard01  localhost:20100  0/3  waiting for mongod-20100 to be a healthy member of shard01, caught up: 3 s',
  );
  // Too narrow to keep the clock: cut at the end.
  const [narrow] = laneLines([lane], t0 + 3000, 36);
  assert.equal(narrow, 'shard01  localhost:20100  0/3  wait…');
  // A status without a clock is cut at the end too.
  const failed: Lane = {
    label: 'shard02',
    steps: [step('restart:h:1', 'failed', { error: 'connection reset by peer while starting' })],
  };
  assert.equal(laneLines([failed], t0, 40)[0], 'shard02  h:1  0/1  failed: connection r…');
});
