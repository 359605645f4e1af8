// Operating a small sharded cluster (one-member config server and shard replica sets, one mongos) through the
// built CLI: stop and start order (mongos ↔ shards ↔ config servers), -R/-N selection, display and list text
// output; and a sharded playground.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MongoClient } from 'mongodb';
import { mupBin, repoRoot } from '../helpers/cli.js';
import {
  ALLOW_ROOT,
  type DisplayJson,
  destroyAllClusters,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
} from '../helpers/e2e.js';
import { runMupAndKill, type StepEvent } from '../helpers/interrupt.js';

const PORT_BASE = e2ePortBase();
const NAME = 'sh-ops';
let env: E2eEnv;
let playgroundEnv: E2eEnv | undefined;

before(async () => {
  env = await e2eEnv();
  const topology = join(env.home, 'sharded.yaml');
  await writeFile(
    topology,
    [
      'global:',
      '  deploy_dir: sh-ops',
      'server_configs:',
      '  mongod:',
      '    setParameter: { shutdownTimeoutMillisForSignaledShutdown: 500 }',
      '  mongos:',
      '    setParameter: { mongosShutdownTimeoutMillisForSignaledShutdown: 500 }',
      'config_servers:',
      '  - { host: localhost, port: 0, replica_set: cfg }',
      'mongod_servers:',
      '  - { host: localhost, port: 0, replica_set: shard1 }',
      '  - { host: localhost, port: 0, replica_set: shard2 }',
      'mongos_servers:',
      '  - { host: localhost, port: 0 }',
      '',
    ].join('\n'),
  );
  const deploy = await env.mup(env.deployArgs(NAME, topology, PORT_BASE), { timeoutMs: 240_000 });
  assert.equal(deploy.code, 0, deploy.stderr);
});

after(async () => {
  const errors: string[] = [];
  for (const e of [env, playgroundEnv])
    if (e) await destroyAllClusters(e).catch((error: unknown) => errors.push(String(error)));
  if (errors.length > 0) throw new Error(errors.join('\n'));
});

async function display(): Promise<DisplayJson> {
  return env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
}

/** Runs mup to its end with --json and returns its step events in order. */
async function stepsOf(args: string[]): Promise<StepEvent[]> {
  const run = await runMupAndKill(args, {
    home: env.home,
    env: { HOME: env.userHome },
    killAfter: () => false,
  });
  assert.equal(run.code, 0, run.stderr);
  return run.steps;
}

/** Which part of the cluster a stop/start step acts on, from its id and the display's roles. */
function partOf(event: StepEvent, roles: Map<string, string>): string | undefined {
  const set = event.step.match(/^(?:stop-set|healthy|initiate):([^:]+)/)?.[1];
  if (set === 'cfg') return 'config';
  if (set?.startsWith('shard')) return 'shard';
  const id = event.step.match(/^(?:stop|start):(.+)$/)?.[1];
  const role = id === undefined ? undefined : roles.get(id);
  return role === 'config'
    ? 'config'
    : role === 'mongos'
      ? 'mongos'
      : role === undefined
        ? undefined
        : 'shard';
}

/** Asserts every step of `first` ended before any step of `then` began. */
function assertBefore(events: StepEvent[], roles: Map<string, string>, first: string, then: string): void {
  const lastOfFirst = events.findLastIndex((e) => partOf(e, roles) === first);
  const firstOfThen = events.findIndex((e) => partOf(e, roles) === then);
  assert.ok(lastOfFirst >= 0 && firstOfThen >= 0, `steps of ${first} and ${then} were run`);
  assert.ok(
    lastOfFirst < firstOfThen,
    `${first} before ${then}: ${events.map((e) => `${e.step} ${e.state}`).join('; ')}`,
  );
}

test('stop goes mongos → shards → config servers; start goes config servers → shards → mongos', async () => {
  const roles = new Map((await display()).processes.map((p) => [p.id, p.role]));
  assert.equal(roles.size, 4);
  const stop = await stepsOf(['cluster', 'stop', NAME, '--yes']);
  assertBefore(stop, roles, 'mongos', 'shard');
  assertBefore(stop, roles, 'shard', 'config');
  assert.deepEqual(
    (await display()).processes.map((p) => p.status),
    ['Down', 'Down', 'Down', 'Down'],
  );
  const start = await stepsOf(['cluster', 'start', NAME]);
  assertBefore(start, roles, 'config', 'shard');
  assertBefore(start, roles, 'shard', 'mongos');
  const view = await display();
  assert.equal(view.processes.length, 4);
  assert.ok(
    view.processes.every((p) => p.status.startsWith('Up')),
    view.processes.map((p) => p.status).join(),
  );
});

test('-R mongos stops and starts only the routers; the status shows the partial stop', async () => {
  const before = await display();
  const stop = await env.mup(['cluster', 'stop', NAME, '-R', 'mongos']);
  assert.equal(stop.code, 0, stop.stderr);
  const stopped = await display();
  for (const p of stopped.processes) {
    if (p.role === 'mongos') assert.equal(p.status, 'Down', p.id);
    else {
      assert.ok(p.status.startsWith('Up'), `${p.id}: ${p.status}`);
      assert.equal(p.pid, before.processes.find((b) => b.id === p.id)?.pid, `${p.id} untouched`);
    }
  }
  const list = await env.mupJson<{ clusters: { name: string; desiredStatus: string }[] }>([
    'cluster',
    'list',
  ]);
  assert.deepEqual(
    list.clusters.map((c) => `${c.name} ${c.desiredStatus}`),
    [`${NAME} partial`],
  );
  const start = await env.mup(['cluster', 'start', NAME, '-R', 'mongos'], { timeoutMs: 120_000 });
  assert.equal(start.code, 0, start.stderr);
  const view = await display();
  assert.ok(view.processes.every((p) => p.status.startsWith('Up')));
  assert.equal(view.processes.length, 4);
});

test('after a partial stop, a partial start that brings every process back records the cluster as running', async () => {
  const list = await env.mupJson<{ clusters: { name: string; desiredStatus: string }[] }>([
    'cluster',
    'list',
  ]);
  assert.ok((await display()).processes.every((p) => p.status.startsWith('Up')));
  assert.deepEqual(
    list.clusters.map((c) => `${c.name} ${c.desiredStatus}`),
    [`${NAME} running`],
  );
});

test('-N restarts only the named process (by host:port and by program name)', async () => {
  const before = await display();
  const shard = before.processes.find((p) => p.replicaSet === 'shard1');
  const mongos = before.processes.find((p) => p.role === 'mongos');
  assert.ok(shard && mongos);
  const restart = await env.mup(['cluster', 'restart', NAME, '-N', `${shard.id},${mongos.program}`], {
    timeoutMs: 120_000,
  });
  assert.equal(restart.code, 0, restart.stderr);
  const after = await display();
  for (const p of after.processes) {
    const old = before.processes.find((b) => b.id === p.id)?.pid;
    if (p.id === shard.id || p.id === mongos.id) assert.notEqual(p.pid, old, `${p.id} was restarted`);
    else assert.equal(p.pid, old, `${p.id} was not touched`);
    assert.ok(p.status.startsWith('Up'), `${p.id}: ${p.status}`);
  }
});

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

test('on a terminal, shards restarted side by side show one row per set, not one per member', {
  skip: !hasScript,
}, async () => {
  const before = await display();
  const shards = before.processes.filter((p) => p.role === 'mongod');
  assert.equal(shards.length, 2);
  const command = [process.execPath, mupBin, 'cluster', 'restart', NAME, '-R', 'mongod', '--yes']
    .map((a) => `'${a}'`)
    .join(' ');
  const run = spawnSync('script', ['-qfec', `stty cols 120 rows 30; ${command}`, '/dev/null'], {
    cwd: repoRoot,
    env: { ...process.env, MUP_HOME: env.home, HOME: env.userHome, NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 180_000,
  });
  assert.equal(run.status, 0, run.stdout);
  const esc = String.fromCharCode(0x1b);
  assert.ok(run.stdout.includes(`${esc}[`), 'drawn as a live list');
  const frames = run.stdout.replace(new RegExp(`${esc}\\[[0-9;?]*[A-Za-z]`, 'g'), '');
  for (const p of shards) {
    const set = p.replicaSet ?? '';
    // While it runs: the set, its member, none of its 1 member through yet; at the end, how long it took.
    assert.match(frames, new RegExp(`${set}  localhost:${p.port}  0/1  `));
    assert.match(frames, new RegExp(`${set} +1/1  done in \\d+ s`));
    assert.ok(!frames.includes(`restart ${p.program} on localhost`), `a row of its own for ${p.program}`);
  }
  const after = await display();
  for (const p of shards)
    assert.notEqual(after.processes.find((a) => a.id === p.id)?.pid, p.pid, `${p.id} was restarted`);
});

test('selections that match nothing are refused and change nothing', async () => {
  const before = await display();
  for (const args of [
    ['-N', 'localhost:1'],
    ['-R', 'arbiter'],
  ]) {
    const run = await env.mup(['cluster', 'stop', NAME, ...args]);
    assert.notEqual(run.code, 0, `stop ${args.join(' ')} was refused`);
    assert.match(run.stderr, /^Error: /m);
  }
  assert.deepEqual(
    (await display()).processes.map((p) => p.pid),
    before.processes.map((p) => p.pid),
  );
});

test('display and list text output name every process with its role, status and port', async () => {
  const view = await display();
  const text = await env.mup(['cluster', 'display', NAME]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^Cluster: ${NAME}$`, 'm'));
  const list0 = await env.mupJson<{ clusters: { name: string; status: string }[] }>(['cluster', 'list']);
  const status = list0.clusters.find((c) => c.name === NAME)?.status;
  assert.ok(status);
  assert.match(text.stdout, new RegExp(`^Topology: sharded\\s+Status: ${status}\\b`, 'm'));
  for (const p of view.processes) {
    const line = text.stdout.split('\n').find((l) => l.startsWith(`${p.id} `));
    assert.ok(line, `a line for ${p.id}`);
    assert.match(line, new RegExp(`\\s${p.role}\\s`));
    assert.match(line, new RegExp(`\\s${p.port}\\s`));
    assert.match(line, new RegExp(`\\s${p.status.replace('|', '\\|')}\\s`));
  }
  assert.match(text.stdout, new RegExp(`^URI: ${view.uri.replace(/[/?.]/g, '\\$&')}$`, 'm'));
  const list = await env.mup(['cluster', 'list']);
  assert.equal(list.code, 0, list.stderr);
  const row = list.stdout.split('\n').find((l) => l.startsWith(`${NAME} `));
  assert.ok(row, list.stdout);
  assert.match(row, /\bsharded\b/);
  assert.match(row, new RegExp(`\\b${status}\\b`));
});

test('a sharded playground: one command, both shards listed through its mongos, destroy leaves nothing', async () => {
  playgroundEnv = await e2eEnv();
  const pg = playgroundEnv;
  const port = PORT_BASE + 50;
  const start = await pg.mup(
    [
      'playground',
      'start',
      '--topology',
      'sharded',
      '--nodes',
      '1',
      '--shards',
      '2',
      '--binary-path',
      pg.binDir,
      '--port',
      String(port),
      ...ALLOW_ROOT,
    ],
    { timeoutMs: 240_000 },
  );
  assert.equal(start.code, 0, start.stderr);
  const uri = start.stdout.trim();
  assert.match(uri, /^mongodb:\/\/localhost:\d+\/$/);
  const status = await pg.mupJson<DisplayJson>(['playground', 'status']);
  assert.equal(status.kind, 'sharded');
  assert.deepEqual(status.processes.map((p) => p.role).sort(), ['config', 'mongod', 'mongod', 'mongos']);
  assert.ok(status.processes.every((p) => p.status.startsWith('Up')));
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    const shards = await client.db('admin').command({ listShards: 1 });
    assert.equal((shards.shards as unknown[]).length, 2);
  } finally {
    await client.close();
  }
  const destroy = await pg.mup(['playground', 'destroy', '--yes'], { timeoutMs: 120_000 });
  assert.equal(destroy.code, 0, destroy.stderr);
  assert.deepEqual((await pg.mupJson<{ clusters: unknown[] }>(['cluster', 'list'])).clusters, []);
});
