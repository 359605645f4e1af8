// `mup cluster supervisor ...` against a deployed replica set: status, one-program start/stop/restart that
// leaves the others alone, logs, and a reload that restarts nothing when nothing changed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type DisplayJson,
  destroyCluster,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
  shortenQuiesce,
  topologyPath,
  waitFor,
} from '../helpers/e2e.js';

const NAME = 'sup-e2e';
const PORT_BASE = e2ePortBase();
let env: E2eEnv;

interface Status {
  hosts: {
    host: string;
    state: string;
    pid?: number;
    programs: { name: string; state: string; pid: number; restarts: number }[];
  }[];
}

before(async () => {
  env = await e2eEnv();
  const deploy = await env.mup(env.deployArgs(NAME, topologyPath('replica-set'), PORT_BASE), {
    timeoutMs: 180_000,
  });
  assert.equal(deploy.code, 0, deploy.stderr);
});

after(async () => {
  await destroyCluster(env, NAME, 120_000);
});

async function status(): Promise<Status> {
  return env.mupJson<Status>(['cluster', 'supervisor', 'status', NAME]);
}

function pids(s: Status): Record<string, number> {
  return Object.fromEntries(s.hosts.flatMap((h) => h.programs.map((p) => [p.name, p.pid])));
}

test('status lists the daemon and every program RUNNING', async () => {
  // Deploy ends once the members answer and the set is healthy, which can be before supervisord's startsecs
  // (5 s) have passed: until then it reports STARTING.
  const s = await waitFor('supervisord to report every program RUNNING', async () => {
    const now = await status();
    return now.hosts[0]?.programs.every((p) => p.state === 'RUNNING') ? now : undefined;
  });
  assert.equal(s.hosts.length, 1);
  assert.equal(s.hosts[0]?.state, 'running');
  assert.ok((s.hosts[0]?.pid ?? 0) > 0);
  assert.deepEqual(
    s.hosts[0]?.programs.map((p) => p.state),
    ['RUNNING', 'RUNNING', 'RUNNING'],
  );
  const text = await env.mup(['cluster', 'supervisor', 'status', NAME]);
  for (const port of [PORT_BASE, PORT_BASE + 1, PORT_BASE + 2])
    assert.match(text.stdout, new RegExp(`mongod-${port}\\s+RUNNING`));
});

test('restart, stop and start of one program leave the other programs untouched', async () => {
  // The example is deployed unchanged: shorten MongoDB's 15 s quiesce for the two shutdowns below.
  await shortenQuiesce(await env.mupJson<DisplayJson>(['cluster', 'display', NAME]), 500);
  const before = pids(await status());
  const [target, ...others] = Object.keys(before).sort();
  assert.ok(target);
  const restart = await env.mup(['cluster', 'supervisor', 'restart', NAME, target], { timeoutMs: 120_000 });
  assert.equal(restart.code, 0, restart.stderr);
  const afterRestart = pids(await status());
  assert.notEqual(afterRestart[target], before[target]);
  for (const other of others) assert.equal(afterRestart[other], before[other], `${other} was not touched`);

  assert.equal((await env.mup(['cluster', 'supervisor', 'stop', NAME, target])).code, 0);
  const stopped = await status();
  assert.equal(stopped.hosts[0]?.programs.find((p) => p.name === target)?.state, 'STOPPED');
  assert.equal(
    (await env.mup(['cluster', 'supervisor', 'start', NAME, target], { timeoutMs: 120_000 })).code,
    0,
  );
  const started = await waitFor(`${target} to be RUNNING again`, async () => {
    const now = await status();
    return now.hosts[0]?.programs.find((p) => p.name === target)?.state === 'RUNNING' ? now : undefined;
  });
  const startedPids = pids(started);
  assert.ok((startedPids[target] ?? 0) > 0);
  assert.notEqual(startedPids[target], afterRestart[target]);
  for (const other of others) assert.equal(startedPids[other], before[other]);

  const unknown = await env.mup(['cluster', 'supervisor', 'start', NAME, 'mongod-1']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no program 'mongod-1'/);
});

test("logs show the daemon's log and a program's output", async () => {
  const daemon = await env.mup(['cluster', 'supervisor', 'logs', NAME, '--lines', '50']);
  assert.equal(daemon.code, 0, daemon.stderr);
  assert.match(daemon.stdout, new RegExp(`entered RUNNING state|spawned: 'mongod-${PORT_BASE}'`));
  const program = Object.keys(pids(await status()))[0] ?? '';
  const output = await env.mup(['cluster', 'supervisor', 'logs', NAME, program]);
  assert.equal(output.code, 0, output.stderr);
});

test('reload with an unchanged configuration restarts nothing', async () => {
  const before = pids(await status());
  const result = await env.mupJson<{ hosts: { added: string[]; changed: string[]; removed: string[] }[] }>([
    'cluster',
    'supervisor',
    'reload',
    NAME,
  ]);
  assert.deepEqual(
    result.hosts.map((h) => [h.added, h.changed, h.removed]),
    [[[], [], []]],
  );
  assert.deepEqual(pids(await status()), before);
});
