// mup killed inside a step, at the exact points a crash hurts most, through the plan runner's failpoints
// (MUP_FAILPOINT=<step-id>:<point>: mup SIGKILLs itself there). `after-run` is the classic hazard: the step's
// side effect happened (supervisord spawned, replSetInitiate sent, members stopped...) but its journal entry
// says it is still running. Each test asserts the state at the kill, then `mup cluster resume` must end in the
// operation's intended state. Members shorten MongoDB's 15 s quiesce (server_configs) so rolling steps are cheap.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MongoClient } from 'mongodb';
import {
  ALLOW_ROOT,
  type DisplayJson,
  destroyAllClusters,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
  simPidsMatching,
  waitFor,
} from '../helpers/e2e.js';
import { runMupAndKill, runMupKilledWhen } from '../helpers/interrupt.js';
import { supervisordPidsFor } from '../helpers/processes.js';
import { assertWriterAvailability, lostWrites, startWriter, type WriterReport } from '../helpers/writer.js';

const PORT_BASE = e2ePortBase(2);
const SHARED = 'kp';
const envs: E2eEnv[] = [];
let shared: E2eEnv;
let sharedUri: string;

function topologyText(deployDir: string): string {
  return [
    'global:',
    `  deploy_dir: ${deployDir}`,
    'server_configs:',
    '  mongod:',
    '    setParameter: { shutdownTimeoutMillisForSignaledShutdown: 500 }',
    'mongod_servers:',
    '  - { host: localhost, port: 0, replica_set: rs }',
    '  - { host: localhost, port: 0, replica_set: rs }',
    '  - { host: localhost, port: 0, replica_set: rs }',
    '',
  ].join('\n');
}

async function freshEnv(): Promise<E2eEnv> {
  const env = await e2eEnv();
  envs.push(env);
  return env;
}

async function deployArgs(env: E2eEnv, name: string, portBase: number): Promise<string[]> {
  const topology = join(env.home, `${name}.yaml`);
  await writeFile(topology, topologyText(name));
  return env.deployArgs(name, topology, portBase);
}

/** Runs mup with a failpoint and expects it to die by its own SIGKILL there. */
async function killedAt(env: E2eEnv, args: string[], failpoint: string): Promise<void> {
  const run = await runMupAndKill(args, {
    home: env.home,
    env: { HOME: env.userHome, MUP_FAILPOINT: failpoint },
    killAfter: () => false,
  });
  assert.equal(run.signal, 'SIGKILL', `mup ${args.join(' ')} was not killed at ${failpoint}\n${run.stderr}`);
}

/** The states the newest journal of `cluster` recorded for steps whose id starts with `prefix`. */
function journaledStates(env: E2eEnv, cluster: string, prefix: string): string[] {
  const dir = join(env.home, 'storage', 'clusters', cluster, 'ops');
  const newest = readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .at(-1);
  assert.ok(newest, `a journal in ${dir}`);
  return readFileSync(join(dir, newest), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { kind: string; step?: string; state?: string })
    .filter((e) => e.kind === 'step' && e.step?.startsWith(prefix))
    .map((e) => e.state ?? '');
}

async function display(env: E2eEnv, name: string): Promise<DisplayJson> {
  return env.mupJson<DisplayJson>(['cluster', 'display', name]);
}

async function resumeHealthy(env: E2eEnv, name: string): Promise<DisplayJson> {
  const resume = await env.mup(['cluster', 'resume', name], { timeoutMs: 180_000 });
  assert.equal(resume.code, 0, resume.stderr);
  // Members answer (resume waited for that) before supervisord's startsecs end; until then display may
  // show them Starting.
  const view = await waitFor(
    'every member up with one primary',
    async () => {
      const now = await display(env, name);
      const statuses = now.processes.map((p) => p.status).sort();
      return statuses.join() === 'Up|P,Up|S,Up|S' ? now : undefined;
    },
    60_000,
  ).catch(async (error: unknown) => {
    throw new Error(
      `${String(error)}\n${resume.stderr}\n${(await env.mup(['cluster', 'display', name])).stdout}`,
    );
  });
  assert.equal(view.status, 'running');
  assert.equal(simPidsMatching(env.userHome).length, 3, 'exactly one process per member');
  return view;
}

before(async () => {
  shared = await freshEnv();
  const deployed = await shared.mupJson<{ uri: string }>(await deployArgs(shared, SHARED, PORT_BASE), {
    timeoutMs: 180_000,
  });
  sharedUri = deployed.uri;
});

after(async () => {
  const errors: string[] = [];
  for (const env of envs) await destroyAllClusters(env).catch((e: unknown) => errors.push(String(e)));
  if (errors.length > 0) throw new Error(errors.join('\n'));
});

test('deploy killed after supervisord was spawned, before that was journaled: resume keeps the one daemon', async () => {
  const env = await freshEnv();
  const name = 'kp-daemon';
  await killedAt(env, await deployArgs(env, name, PORT_BASE + 100), 'supervisord:localhost:after-run');
  assert.equal(supervisordPidsFor(env.userHome).length, 1, 'supervisord runs at the kill');
  assert.deepEqual(journaledStates(env, name, 'supervisord:'), ['running']);
  assert.deepEqual(journaledStates(env, name, 'start:'), []);
  await resumeHealthy(env, name);
  assert.equal(supervisordPidsFor(env.userHome).length, 1, 'still one supervisord after resume');
});

test('deploy killed after replSetInitiate was sent, before that was journaled: resume does not initiate twice', async () => {
  const env = await freshEnv();
  const name = 'kp-initiate';
  await killedAt(env, await deployArgs(env, name, PORT_BASE + 110), 'initiate:rs:after-run');
  assert.deepEqual(journaledStates(env, name, 'initiate:'), ['running']);
  // The set has its config at the kill: some member answers replSetGetConfig.
  let configured = 0;
  for (const port of [PORT_BASE + 110, PORT_BASE + 111, PORT_BASE + 112]) {
    const client = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, {
      serverSelectionTimeoutMS: 5_000,
    });
    try {
      const reply = await client.db('admin').command({ replSetGetConfig: 1 });
      if ((reply.config as { _id?: string } | undefined)?._id === 'rs') configured++;
    } catch {
      // not this member (yet)
    } finally {
      await client.close();
    }
  }
  assert.ok(configured >= 1, 'a member holds the replica set config at the kill');
  await resumeHealthy(env, name);
});

/** True when a TCP connection to the port on loopback is refused (nothing listens there). */
async function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

test('deploy killed with the members spawned but not answering yet: resume keeps those processes, ends healthy', async () => {
  const env = await freshEnv();
  const name = 'kp-spawned';
  const base = PORT_BASE + 120;
  const ports = [base, base + 1, base + 2];
  const members = () => simPidsMatching(`${env.userHome}/${name}/`);
  // The simulator's slow-start knob: 5 s from spawn to listening, a window wide enough to kill mup in.
  const run = await runMupKilledWhen(await deployArgs(env, name, base), {
    home: env.home,
    env: { HOME: env.userHome, MONGOD_SIM_STARTUP_DELAY_MS: '5000' },
    armAfter: () => true,
    condition: async () => members().length > 0,
  });
  assert.equal(run.killed, true, `mup was not killed at a spawned member\n${run.stderr}`);
  const closed = await Promise.all(ports.map(refuses));
  const spawned = members();
  assert.ok(spawned.length >= 1, 'a member process runs at the kill');
  assert.ok(closed.every(Boolean), `no member answers at the kill: ${closed.join()}`);
  assert.ok(journaledStates(env, name, 'start:').includes('running'), 'a start step was in flight');
  assert.ok(!journaledStates(env, name, 'start:').includes('done'), 'no start step was done');
  await resumeHealthy(env, name);
  for (const pid of spawned)
    assert.ok(members().includes(pid), `the process spawned before the kill (${pid}) kept`);
});

test('stop killed after the members stopped, before that was journaled: resume finishes the stop', async () => {
  await killedAt(shared, ['cluster', 'stop', SHARED, '--yes'], 'stop-set:*:after-run');
  const atKill = await display(shared, SHARED);
  assert.deepEqual(
    atKill.processes.map((p) => p.status),
    ['Down', 'Down', 'Down'],
  );
  assert.equal(atKill.supervisors[0]?.state, 'running', 'supervisord was not stopped yet');
  assert.deepEqual(journaledStates(shared, SHARED, 'stop-set:'), ['running']);
  const resume = await shared.mup(['cluster', 'resume', SHARED], { timeoutMs: 120_000 });
  assert.equal(resume.code, 0, resume.stderr);
  const view = await display(shared, SHARED);
  assert.equal(view.status, 'stopped');
  assert.equal(view.supervisors[0]?.state, 'down');
  assert.equal(simPidsMatching(shared.userHome).length, 0);
});

test('start killed after its first member started, before that was journaled: resume brings the set up', async () => {
  await killedAt(shared, ['cluster', 'start', SHARED], 'start:*:after-run');
  const atKill = await display(shared, SHARED);
  const up = atKill.processes.filter((p) => p.status.startsWith('Up')).length;
  assert.ok(up >= 1 && up <= 3, `members up at the kill: ${up}`);
  assert.ok(journaledStates(shared, SHARED, 'start:').includes('running'));
  assert.ok(!journaledStates(shared, SHARED, 'start:').includes('done'));
  await resumeHealthy(shared, SHARED);
});

let rollingReport: WriterReport | undefined;

test('rolling restart killed after a member restarted, before that was journaled: resume finishes, nothing lost', async () => {
  const before = new Map((await display(shared, SHARED)).processes.map((p) => [p.id, p.pid]));
  const writer = await startWriter(sharedUri);
  try {
    await writer.waitForWrites(20);
    await killedAt(shared, ['cluster', 'restart', SHARED, '--yes'], 'restart:*:after-run');
    const atKill = await display(shared, SHARED);
    const restarted = atKill.processes.filter((p) => p.pid !== before.get(p.id));
    assert.equal(restarted.length, 1, 'exactly the first member was restarted at the kill');
    assert.deepEqual(journaledStates(shared, SHARED, 'restart:'), ['running']);
    await resumeHealthy(shared, SHARED);
    await writer.waitForWrites(writer.acknowledgedCount() + 20);
  } finally {
    rollingReport = await writer.stop();
  }
  assertWriterAvailability(rollingReport, Math.max(0, rollingReport.primaries.length - 1));
  assert.deepEqual(await lostWrites(sharedUri, rollingReport), []);
  const after = (await display(shared, SHARED)).processes;
  for (const p of after) assert.notEqual(p.pid, before.get(p.id), `${p.id} was restarted`);
});

test('restart --parallel killed after every member stopped: resume brings the set back, data kept', async () => {
  const before = new Map((await display(shared, SHARED)).processes.map((p) => [p.id, p.pid]));
  await killedAt(shared, ['cluster', 'restart', SHARED, '--parallel', '--yes'], 'stop-set:*:after-run');
  const atKill = await display(shared, SHARED);
  assert.deepEqual(
    atKill.processes.map((p) => p.status),
    ['Down', 'Down', 'Down'],
  );
  const view = await resumeHealthy(shared, SHARED);
  for (const p of view.processes) assert.notEqual(p.pid, before.get(p.id));
  assert.ok(rollingReport && rollingReport.acknowledged.length > 0, 'the rolling test wrote first');
  assert.deepEqual(await lostWrites(sharedUri, rollingReport), []);
});

test('supervisor reload killed after the daemon reloaded, before that was journaled: resume restarts nothing', async () => {
  const before = (await display(shared, SHARED)).processes.map((p) => p.pid);
  await killedAt(
    shared,
    ['cluster', 'supervisor', 'reload', SHARED],
    'supervisor-reload:localhost:after-run',
  );
  assert.deepEqual(journaledStates(shared, SHARED, 'supervisor-reload:'), ['running']);
  const resume = await shared.mup(['cluster', 'resume', SHARED], { timeoutMs: 120_000 });
  assert.equal(resume.code, 0, resume.stderr);
  const view = await display(shared, SHARED);
  assert.deepEqual(
    view.processes.map((p) => p.pid),
    before,
  );
  assert.deepEqual(view.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
});

test('destroy killed after a member was removed, before that was journaled: resume finishes, nothing left', async () => {
  await killedAt(shared, ['cluster', 'destroy', SHARED, '--yes'], 'remove:*:after-run');
  const list = await shared.mupJson<{ clusters: { name: string; desiredStatus: string }[] }>([
    'cluster',
    'list',
  ]);
  assert.deepEqual(
    list.clusters.map((c) => `${c.name} ${c.desiredStatus}`),
    [`${SHARED} destroying`],
  );
  const resume = await shared.mup(['cluster', 'resume', SHARED], { timeoutMs: 120_000 });
  assert.equal(resume.code, 0, resume.stderr);
  assert.deepEqual((await shared.mupJson<{ clusters: unknown[] }>(['cluster', 'list'])).clusters, []);
  assert.equal(simPidsMatching(shared.userHome).length, 0);
  assert.equal(supervisordPidsFor(shared.userHome).length, 0);
});

test('playground start killed after replSetInitiate was sent: resume gives a healthy playground', async () => {
  const env = await freshEnv();
  const run = await runMupAndKill(
    ['playground', 'start', '--binary-path', env.binDir, '--port', String(PORT_BASE + 150), ...ALLOW_ROOT],
    {
      home: env.home,
      env: { HOME: env.userHome, MUP_FAILPOINT: 'initiate:*:after-run' },
      killAfter: () => false,
    },
  );
  assert.equal(run.signal, 'SIGKILL', run.stderr);
  const resume = await env.mup(['cluster', 'resume', 'playground'], { timeoutMs: 180_000 });
  assert.equal(resume.code, 0, resume.stderr);
  const status = await env.mupJson<DisplayJson>(['playground', 'status']);
  assert.deepEqual(status.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
});
