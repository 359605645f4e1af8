// `playground start` options: an existing playground refuses another shape (exit 2, nothing changed), ports
// that had to move are announced, mongod options after `--` reach mongod.conf, and members get a 0.5 s quiesce
// (what a rolling restart then waits per member).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import {
  ALLOW_ROOT,
  destroyAllClusters,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
  lastQuiescePeriods,
} from '../helpers/e2e.js';

let env: E2eEnv;
const PORT_BASE = e2ePortBase();
let blocker: Server | undefined;

before(async () => {
  env = await e2eEnv();
});

after(async () => {
  blocker?.close();
  await destroyAllClusters(env, 120_000);
});

function confs(name: string): Record<string, unknown>[] {
  const root = join(env.home, 'playground', name);
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((entry) => entry.endsWith('mongod.conf'))
    .map((entry) => parse(readFileSync(join(root, entry), 'utf8')) as Record<string, unknown>);
}

test('a busy port moves the playground and says so; mongod options after -- and the short quiesce reach mongod.conf', async () => {
  blocker = createServer();
  await new Promise<void>((resolve) => blocker?.listen(PORT_BASE, '127.0.0.1', resolve));
  const run = await env.mup(
    [
      'playground',
      'start',
      '--binary-path',
      env.binDir,
      ...ALLOW_ROOT,
      '--port',
      String(PORT_BASE),
      '--nodes',
      '2',
      '--',
      '--oplogSize',
      '64',
      '--setParameter',
      'notablescan=true',
    ],
    { timeoutMs: 180_000 },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stderr,
    new RegExp(
      `warning: ports ${PORT_BASE}–${PORT_BASE + 1} were not all free: playground uses ${PORT_BASE + 1}–${PORT_BASE + 2}`,
    ),
  );
  assert.equal(
    run.stdout.trim(),
    `mongodb://localhost:${PORT_BASE + 1},localhost:${PORT_BASE + 2}/?replicaSet=rs0`,
  );
  const files = confs('playground');
  assert.equal(files.length, 2);
  for (const conf of files) {
    assert.deepEqual(conf.replication, { oplogSizeMB: 64, replSetName: 'rs0' });
    assert.deepEqual(conf.setParameter, { notablescan: true, shutdownTimeoutMillisForSignaledShutdown: 500 });
  }
});

test('start on the existing playground with another shape refuses with exit 2 and says how', async () => {
  for (const args of [
    ['--topology', 'sharded'],
    ['--nodes', '3'],
    ['--version', '8.0'],
    ['--', '--quiet'],
  ]) {
    const run = await env.mup(['playground', 'start', '--binary-path', env.binDir, ...args]);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(
      run.stderr,
      /playground already exists as a replica set of 2 members on MongoDB 7\.0\.14; start does not change it/,
    );
    assert.match(run.stderr, /mup playground destroy` first, or start another one beside it with --tag NAME/);
  }
  // The same shape, written out or left to the defaults, starts it again.
  const same = await env.mup(
    ['playground', 'start', '--binary-path', env.binDir, '--nodes', '2', '--version', '7.0', '--json'],
    {
      timeoutMs: 180_000,
    },
  );
  assert.equal(same.code, 0, same.stderr);
  assert.equal((JSON.parse(same.stdout) as { restarted: boolean }).restarted, true);
});

test('a rolling restart of the playground waits 0.5 s of quiesce per member, not 15 s', async () => {
  const run = await env.mup(['cluster', 'restart', 'playground', '--yes'], { timeoutMs: 180_000 });
  assert.equal(run.code, 0, run.stderr);
  const periods = [...lastQuiescePeriods(join(env.home, 'playground', 'playground')).values()];
  assert.ok(periods.length >= 1, 'a member logged its quiesce');
  for (const ms of periods) assert.ok(ms <= 500, `quiesce ${ms} ms`);
});
