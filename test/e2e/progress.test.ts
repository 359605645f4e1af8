// Progress and per-process results of lifecycle verbs, from the built CLI against a replica set whose members
// quiesce for 2 s: in a pipe a line per step start and end and per wait, no escape codes; on a terminal (a
// pseudo-terminal from script(1)) the running step counts the quiesce down; stop/start/restart --json list
// each selected process's status and pid before and after.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { mupBin, repoRoot } from '../helpers/cli.js';
import { destroyCluster, type E2eEnv, e2eEnv, e2ePortBase, topologyPath } from '../helpers/e2e.js';

const NAME = 'progress';
const PORT_BASE = e2ePortBase();
const QUIESCE_MS = 2000;
const ESC = String.fromCharCode(0x1b);
let env: E2eEnv;

interface Change {
  id: string;
  program: string;
  before: { status: string; pid?: number };
  after: { status: string; pid?: number };
  changed: boolean;
}

before(async () => {
  env = await e2eEnv();
  const topology = join(env.userHome, 'rs.yaml');
  await writeFile(
    topology,
    `${await readFile(topologyPath('replica-set'), 'utf8')}
server_configs:
  mongod:
    setParameter: { shutdownTimeoutMillisForSignaledShutdown: ${QUIESCE_MS} }
`.replace(/^ {2}deploy_dir: mongodb$/m, `  deploy_dir: ${join(env.userHome, NAME)}`),
  );
  const run = await env.mup(env.deployArgs(NAME, topology, PORT_BASE), { timeoutMs: 180_000 });
  assert.equal(run.code, 0, run.stderr);
});

after(async () => {
  await destroyCluster(env, NAME, 120_000);
});

const member = (n: number) => `localhost:${PORT_BASE + n}`;

test('in a pipe: a line per step start and end and one per wait, without escape codes', async () => {
  const run = await env.mup(['cluster', 'restart', NAME, '-N', member(1), '--yes'], { timeoutMs: 180_000 });
  assert.equal(run.code, 0, run.stderr);
  const program = `mongod-${PORT_BASE + 1}`;
  const lines = run.stderr.split('\n');
  const started = lines.indexOf(`  ▹ restart ${program} on localhost`);
  const quiesce = lines.indexOf(`      ${program} quiesce: up to 2 s`);
  const ready = lines.indexOf(`      waiting for ${program} to be a healthy member of rs0, caught up`);
  const done = lines.findIndex((l) => l.startsWith(`  ✔ restart ${program} on localhost (`));
  assert.ok(started >= 0 && started < quiesce && quiesce < ready && ready < done, run.stderr);
  assert.ok(!run.stderr.includes(ESC), 'no escape codes in a pipe');
});

test('on a terminal the running step counts its quiesce down', { skip: !hasScript() }, () => {
  const program = `mongod-${PORT_BASE + 2}`;
  const command = [process.execPath, mupBin, 'cluster', 'restart', NAME, '-N', member(2), '--yes']
    .map((a) => `'${a}'`)
    .join(' ');
  const run = spawnSync('script', ['-qfec', `stty cols 100 rows 30; ${command}`, '/dev/null'], {
    cwd: repoRoot,
    env: { ...process.env, MUP_HOME: env.home, HOME: env.userHome, NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 180_000,
  });
  assert.equal(run.status, 0, run.stdout);
  // The live list redraws in place: lines end in \r and carry cursor escapes.
  const frames = run.stdout.replace(new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, 'g'), '');
  assert.ok(run.stdout.includes(`${ESC}[`), 'drawn as a live list, not as plain lines');
  assert.match(frames, new RegExp(`restart ${program} on localhost — ${program} quiesce: [12] s left`));
  assert.match(frames, new RegExp(`restart ${program} on localhost \\(\\d+\\.\\ds\\)`));
});

test('stop, start and restart --json list each selected process before and after', async () => {
  const stop = await env.mupJson<{ changes: Change[] }>(['cluster', 'stop', NAME, '-N', member(0), '--yes'], {
    timeoutMs: 180_000,
  });
  assert.deepEqual(
    stop.changes.map((c) => [c.id, c.before.status.startsWith('Up'), c.after.status, c.after.pid, c.changed]),
    [[member(0), true, 'Down', undefined, true]],
  );

  // The whole cluster: the stopped member comes back; the others are listed with the same pid (not touched),
  // changed only if their role moved (the stop of a primary leaves an election behind it).
  const start = await env.mupJson<{ changes: Change[] }>(['cluster', 'start', NAME], { timeoutMs: 180_000 });
  assert.deepEqual(
    start.changes.map((c) => c.id),
    [0, 1, 2].map(member),
  );
  const [first, ...rest] = start.changes;
  assert.equal(first?.before.status, 'Down');
  assert.match(first?.after.status ?? '', /^Up\|[PS]$/);
  assert.equal(first?.changed, true);
  for (const c of rest) {
    assert.equal(c.before.pid, c.after.pid, JSON.stringify(c));
    assert.equal(c.changed, c.before.status !== c.after.status, JSON.stringify(c));
    assert.match(c.after.status, /^Up\|[PS]$/);
  }

  const restart = await env.mupJson<{ changes: Change[] }>(
    ['cluster', 'restart', NAME, '-R', 'mongod', '--yes'],
    {
      timeoutMs: 180_000,
    },
  );
  assert.equal(restart.changes.length, 3);
  for (const c of restart.changes) {
    assert.equal(c.changed, true, JSON.stringify(c));
    assert.notEqual(c.before.pid, c.after.pid, 'a restart gives each member a new pid');
    assert.match(c.after.status, /^Up\|[PS]$/);
  }
});

test('the text result names each process that changed', async () => {
  const run = await env.mup(['cluster', 'stop', NAME, '-N', member(1), '--yes'], { timeoutMs: 180_000 });
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stderr,
    new RegExp(`\\n {2}mongod-${PORT_BASE + 1} {2}Up\\|[PS] \\(pid \\d+\\) → Down\\n`),
  );
  const start = await env.mup(['cluster', 'start', NAME, '-N', member(1)], { timeoutMs: 180_000 });
  assert.equal(start.code, 0, start.stderr);
  assert.match(
    start.stderr,
    new RegExp(`\\n {2}mongod-${PORT_BASE + 1} {2}Down → Up\\|[PS] \\(pid \\d+\\)\\n`),
  );
});

function hasScript(): boolean {
  return spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
}
