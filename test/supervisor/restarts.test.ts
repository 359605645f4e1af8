import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProcessInfo } from '../../src/supervisor/process-info.js';
import {
  countUnexpectedExits,
  logMentions,
  respawnedBetween,
  restartCount,
} from '../../src/supervisor/restarts.js';

// Lines as supervisord 4.2.5 writes them (supervisor/process.py).
const log = `2026-11-26 04:00:00,001 INFO spawned: 'mongod-30001' with pid 100
2026-11-26 04:00:01,002 INFO success: mongod-30001 entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)
2026-11-26 04:00:05,003 WARN exited: mongod-30001 (terminated by SIGKILL; not expected)
2026-11-26 04:00:05,004 INFO spawned: 'mongod-30001' with pid 101
2026-11-26 04:00:06,005 INFO success: mongod-30001 entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)
2026-11-26 04:00:07,006 WARN exited: mongod-300011 (exit status 3; not expected)
2026-11-26 04:00:08,007 WARN exited: mongod-30001 (exit status 3; not expected)
2026-11-26 04:00:08,008 INFO spawned: 'mongod-30001' with pid 102
2026-11-26 04:00:09,009 INFO success: mongod-30001 entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)
`;

describe('countUnexpectedExits', () => {
  it('counts unexpected exits, not other programs with a longer name', () => {
    assert.equal(countUnexpectedExits(log, 'mongod-30001'), 2);
    assert.equal(countUnexpectedExits(log, 'mongod-300011'), 1);
    assert.equal(countUnexpectedExits(log, 'mongod-30002'), 0);
  });

  it('counts exits before startsecs passed (each is respawned), not expected exits', () => {
    const text = `INFO success: a entered RUNNING state, process has stayed up
INFO exited: a (exit status 0; expected)
INFO spawned: 'b' with pid 5
WARN exited: b (terminated by SIGKILL; not expected)
INFO spawned: 'b' with pid 6
WARN exited: b (exit status 1; not expected)
INFO spawned: 'b' with pid 7
`;
    assert.equal(countUnexpectedExits(text, 'a'), 0);
    assert.equal(countUnexpectedExits(text, 'b'), 2);
  });

  it('resets when supervisord gives up (FATAL): the next start is a new run', () => {
    const text = `WARN exited: b (exit status 1; not expected)
INFO gave up: b entered FATAL state, too many start retries too quickly
`;
    assert.equal(countUnexpectedExits(text, 'b'), 0);
  });

  it('starts again at an expected exit, and at a start long after mup stopped a failing program', () => {
    const text = `2026-11-26 04:00:00,000 INFO spawned: 'b' with pid 5
2026-11-26 04:00:00,500 WARN exited: b (exit status 1; not expected)
2026-11-26 04:00:01,600 INFO spawned: 'b' with pid 6
2026-11-26 04:00:02,100 WARN exited: b (exit status 1; not expected)
2026-11-26 04:05:00,000 INFO spawned: 'b' with pid 7
`;
    assert.equal(countUnexpectedExits(text, 'b'), 0, 'the spawn 5 minutes later is a new start');
    const respawned = `${text}2026-11-26 04:05:30,000 WARN exited: b (terminated by SIGKILL; not expected)
2026-11-26 04:05:31,000 INFO spawned: 'b' with pid 8
`;
    assert.equal(countUnexpectedExits(respawned, 'b'), 1);
    const clean = `${respawned}2026-11-26 04:06:00,000 INFO exited: b (exit status 0; expected)\n`;
    assert.equal(countUnexpectedExits(clean, 'b'), 0);
  });

  it('resets after a deliberate stop', () => {
    const text = `${log}2026-11-26 04:00:10,010 INFO stopped: mongod-30001 (exit status 0)\n`;
    assert.equal(countUnexpectedExits(text, 'mongod-30001'), 0);
  });
});

describe('respawnedBetween', () => {
  const info = (fullName: string, pid: number, start: number): ProcessInfo => ({
    name: fullName.split(':')[1] ?? fullName,
    group: fullName.split(':')[0] ?? fullName,
    fullName,
    state: pid === 0 ? 'STOPPED' : 'RUNNING',
    pid,
    start,
    stop: 0,
    now: start + 10,
    uptimeSeconds: 10,
    exitStatus: 0,
    spawnError: '',
    description: '',
    stdoutLogfile: '',
  });

  it('reports programs with a new pid or start time, ignoring stopped ones', () => {
    const before = [info('a:a', 10, 100), info('b:b', 20, 100), info('c:c', 0, 0), info('d:d', 40, 100)];
    const after = [info('a:a', 11, 105), info('b:b', 20, 100), info('c:c', 30, 106), info('d:d', 40, 107)];
    assert.deepEqual(respawnedBetween(before, after), ['a:a', 'd:d']);
  });
});

describe('restartCount', () => {
  const current = { pid: 12, start: 200 } as ProcessInfo;
  it('takes the log count when the log records the program', () => {
    assert.equal(restartCount(2, undefined, current), 2);
    assert.equal(restartCount(0, { pid: 11, start: 100, restarts: 3 }, current), 0);
  });
  it('counts respawns between observations when the log does not record the program', () => {
    assert.equal(restartCount(undefined, undefined, current), 0);
    assert.equal(restartCount(undefined, { pid: 11, start: 100, restarts: 3 }, current), 4);
    assert.equal(restartCount(undefined, { pid: 12, start: 200, restarts: 3 }, current), 3);
    assert.equal(restartCount(undefined, { pid: 0, start: 0, restarts: 7 }, current), 7);
  });
});

describe('logMentions', () => {
  it('finds spawn, exit and success lines of exactly that program', () => {
    assert.equal(logMentions(log, 'mongod-30001'), true);
    assert.equal(logMentions(log, 'mongod-3000'), false);
    assert.equal(logMentions("INFO spawned: 'x' with pid 4", 'x'), true);
  });
});
