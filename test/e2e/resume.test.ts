// Killing mup in the middle of a deploy and running `mup cluster resume` ends in the same healthy cluster
// as an uninterrupted deploy: every process once, one primary, majority writes, the operation succeeded.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MongoClient } from 'mongodb';
import { parse } from 'yaml';
import {
  type DisplayJson,
  destroyCluster,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
  simPidsMatching,
  topologyPath,
} from '../helpers/e2e.js';
import { runMupAndKill, runMupPausing, type StepEvent } from '../helpers/interrupt.js';
import { listTree, supervisordPidsFor } from '../helpers/processes.js';

const PORT_BASE = e2ePortBase();
const deployed: { env: E2eEnv; name: string }[] = [];

interface AuditList {
  operations: { opId: string; operation: string; status: string; cluster: string }[];
}

interface AuditShow {
  operation: { opId: string; status: string };
  steps: { step: string; state: string; output?: string }[];
}

function deployArgs(env: E2eEnv, name: string): string[] {
  return env.deployArgs(name, topologyPath('replica-set'), PORT_BASE);
}

async function newCluster(name: string): Promise<E2eEnv> {
  const env = await e2eEnv();
  deployed.push({ env, name });
  return env;
}

after(async () => {
  // Leave nothing running even when a test failed midway.
  for (const { env, name } of deployed) {
    await destroyCluster(env, name, 120_000);
  }
});

/**
 * What makes two deployments of the example "the same cluster": display's view and the files on disk,
 * with the temp HOME and the allocated ports (in order) replaced by placeholders.
 */
interface ClusterShape {
  kind: string;
  status: string;
  supervisors: string[];
  statuses: string[];
  processes: string[];
  files: string[];
}

async function shapeOf(env: E2eEnv, view: DisplayJson): Promise<ClusterShape> {
  const ports = view.processes.map((p) => p.port).sort((a, b) => a - b);
  const normalize = (text: string) =>
    ports.reduce((t, port, i) => t.replaceAll(String(port), `P${i}`), text.replaceAll(env.userHome, '~'));
  return {
    kind: view.kind,
    status: view.status,
    supervisors: view.supervisors.map((s) => `${s.host} ${s.state}`),
    statuses: view.processes.map((p) => p.status).sort(),
    processes: view.processes
      .map((p) => normalize(`${p.id} ${p.role} ${p.replicaSet} ${p.program} ${p.dataDir}`))
      .sort(),
    files: (await listTree(env.userHome)).map(normalize),
  };
}

async function display(env: E2eEnv, name: string): Promise<DisplayJson> {
  return env.mupJson<DisplayJson>(['cluster', 'display', name]);
}

/** Checks everything a healthy deploy of the replica-set example promises; returns its shape. */
async function checkHealthy(env: E2eEnv, name: string): Promise<ClusterShape> {
  const view = await display(env, name);
  assert.equal(view.processes.length, 3);
  assert.deepEqual(view.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
  assert.equal(view.status, 'running');

  // Exactly one simulated process per member, each the one supervisord runs, under one supervisord.
  const sims = simPidsMatching(`${env.userHome}/mongodb/`).sort();
  assert.deepEqual(sims, view.processes.map((p) => p.pid ?? -1).sort(), 'one process per member');
  assert.equal(supervisordPidsFor(`${env.userHome}/mongodb/supervisor/supervisor.ini`).length, 1);
  assert.equal(view.supervisors[0]?.state, 'running');

  const client = new MongoClient(view.uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    const write = await client
      .db('app')
      .collection('resume')
      .insertOne({ cluster: name }, { writeConcern: { w: 'majority' } });
    assert.ok(write.acknowledged);
    assert.ok(await client.db('app').collection('resume').findOne({ cluster: name }));
  } finally {
    await client.close();
  }
  return shapeOf(env, view);
}

let reference: ClusterShape;

before(async () => {
  const env = await newCluster('resume-ref');
  const run = await env.mup(['--json', ...deployArgs(env, 'resume-ref')], { timeoutMs: 180_000 });
  assert.equal(run.code, 0, run.stderr);
  reference = await checkHealthy(env, 'resume-ref');
});

test('resume on a cluster with nothing to resume exits 2 and says so', async () => {
  const [{ env, name }] = deployed as [{ env: E2eEnv; name: string }];
  const run = await env.mup(['cluster', 'resume', name]);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, new RegExp(`cluster '${name}' has no interrupted operation to resume`));
  assert.match(run.stderr, new RegExp(`mup cluster audit ${name}`));
  // Nothing ran: the only operation is still the deploy.
  const audit = await env.mupJson<AuditList>(['cluster', 'audit', name]);
  assert.deepEqual(
    audit.operations.map((o) => `${o.operation} ${o.status}`),
    ['deploy succeeded'],
  );
  const destroy = await env.mup(['cluster', 'destroy', name, '--yes'], { timeoutMs: 120_000 });
  assert.equal(destroy.code, 0, destroy.stderr);
});

const killPoints: { name: string; what: string; at: (e: StepEvent) => boolean }[] = [
  {
    name: 'resume-prepare',
    what: 'the first directory preparation is done',
    at: (e) => e.state === 'done' && e.step.startsWith('prepare:'),
  },
  {
    name: 'resume-spawning',
    what: 'supervisord is being started',
    at: (e) => e.state === 'running' && e.step === 'supervisord:localhost',
  },
  {
    name: 'resume-supervisord',
    what: 'supervisord is started',
    at: (e) => e.state === 'done' && e.step === 'supervisord:localhost',
  },
  {
    name: 'resume-start',
    what: 'the first mongod answers hello',
    at: (e) => e.state === 'done' && e.step.startsWith('start:'),
  },
  {
    name: 'resume-initiate',
    what: 'replSetInitiate is done',
    at: (e) => e.state === 'done' && e.step === 'initiate:rs0',
  },
  {
    name: 'resume-healthy',
    what: 'waiting for a primary has begun',
    at: (e) => e.state === 'running' && e.step === 'healthy:rs0',
  },
];

for (const point of killPoints) {
  test(`SIGKILL of mup after ${point.what}, then resume: the same healthy cluster`, async () => {
    const env = await newCluster(point.name);
    const run = await runMupAndKill(deployArgs(env, point.name), {
      home: env.home,
      env: { HOME: env.userHome },
      killAfter: point.at,
    });
    assert.ok(run.killed, `mup finished (exit ${run.code}) before the kill point\n${run.stderr}`);
    assert.equal(run.signal, 'SIGKILL');
    const killedAt = run.steps.at(-1);
    assert.ok(killedAt);

    // The journal tells the story: the deploy is interrupted, not running and not failed.
    const before = await env.mupJson<AuditList>(['cluster', 'audit', point.name]);
    assert.deepEqual(
      before.operations.map((o) => `${o.operation} ${o.status}`),
      ['deploy interrupted'],
    );
    const opId = before.operations[0]?.opId ?? '';
    // The half-deployed cluster is listed and displayed as such, whatever runs yet.
    // Its desired state stays `deploying` and its last operation shows interrupted, apart from the live state.
    const list = await env.mupJson<{
      clusters: { name: string; desiredStatus: string; lastOperation: { status: string } }[];
    }>(['cluster', 'list']);
    assert.deepEqual(
      list.clusters.map((c) => `${c.name} ${c.desiredStatus} ${c.lastOperation.status}`),
      [`${point.name} deploying interrupted`],
    );
    const displayed = (await display(env, point.name)) as unknown as {
      desiredStatus: string;
      status: string;
    };
    assert.equal(displayed.desiredStatus, 'deploying');
    // Before the set is initiated it cannot be running; once initiated it elects a primary on its own, so
    // by the time display looks it may be running already.
    const initiated = ['resume-initiate', 'resume-healthy'].includes(point.name);
    if (initiated) assert.ok(['running', 'degraded'].includes(displayed.status), displayed.status);
    else assert.notEqual(displayed.status, 'running');

    const resume = await env.mup(['--json', 'cluster', 'resume', point.name], { timeoutMs: 180_000 });
    assert.equal(resume.code, 0, resume.stderr);
    const result = JSON.parse(resume.stdout) as { cluster: string; operation: string; opId: string };
    assert.deepEqual(
      { cluster: result.cluster, operation: result.operation, opId: result.opId },
      { cluster: point.name, operation: 'deploy', opId },
    );

    assert.deepEqual(await checkHealthy(env, point.name), reference);

    // The same operation, now succeeded; steps done before the kill were not run again.
    const audit = await env.mupJson<AuditList>(['cluster', 'audit', point.name]);
    assert.deepEqual(
      audit.operations.map((o) => `${o.opId} ${o.operation} ${o.status}`),
      [`${opId} deploy succeeded`],
    );
    const shown = await env.mupJson<AuditShow>(['cluster', 'audit', point.name, opId]);
    assert.equal(shown.operation.status, 'succeeded');
    const doneBeforeKill = new Set(run.steps.filter((s) => s.state === 'done').map((s) => s.step));
    for (const step of doneBeforeKill) {
      const records = shown.steps.filter((s) => s.step === step);
      assert.equal(
        records.filter((r) => r.state === 'running').length,
        1,
        `${step} ran once: ${records.map((r) => r.state).join(', ')}`,
      );
      assert.equal(records.at(-1)?.output, 'done by an earlier attempt');
    }
    const lastState = new Map(shown.steps.map((s) => [s.step, s.state]));
    for (const [step, state] of lastState) assert.match(state, /^(done|skipped)$/, `${step} ended ${state}`);

    const second = await env.mup(['cluster', 'resume', point.name]);
    assert.equal(second.code, 2, 'a finished operation is not resumed twice');

    const destroy = await env.mup(['cluster', 'destroy', point.name, '--yes'], { timeoutMs: 120_000 });
    assert.equal(destroy.code, 0, destroy.stderr);
    assert.deepEqual(simPidsMatching(`${env.userHome}/mongodb/`), []);
    assert.deepEqual(await listTree(env.userHome), []);
  });
}

test('a deploy that fails at a step (a member port taken meanwhile) exits 4; resume after the fix ends healthy', async () => {
  const name = 'resume-failed';
  const env = await newCluster(name);
  const holder = createServer((socket) => socket.destroy());
  let held = 0;
  const run = await runMupPausing(deployArgs(env, name), {
    home: env.home,
    env: { HOME: env.userHome },
    pauseAfter: (e) => e.state === 'done' && e.step === 'supervisord:localhost',
    whilePaused: async () => {
      const meta = parse(
        await readFile(join(env.home, 'storage', 'clusters', name, 'meta.yaml'), 'utf8'),
      ) as { topology: { instances: { port: number }[] } };
      held = meta.topology.instances[0]?.port ?? 0;
      await new Promise<void>((resolve, reject) => {
        holder.once('error', reject);
        holder.listen(held, '127.0.0.1', resolve);
      });
    },
  });
  try {
    assert.equal(run.code, 4, run.stderr);
    const failed = run.steps.find((s) => s.state === 'failed');
    assert.equal(failed?.step, `start:localhost:${held}`);
    assert.match(failed?.error ?? '', new RegExp(`port ${held} on localhost is in use by another process`));
    const error = JSON.parse(run.stdout) as {
      error?: { message: string; hint?: string };
    };
    assert.match(error.error?.message ?? '', new RegExp(`step 'start mongod-${held} on localhost'`));
    assert.match(error.error?.hint ?? '', new RegExp(`mup cluster resume ${name}`));
    const audit = await env.mupJson<AuditList>(['cluster', 'audit', name]);
    assert.deepEqual(
      audit.operations.map((o) => `${o.operation} ${o.status}`),
      ['deploy failed'],
    );
  } finally {
    await new Promise((resolve) => holder.close(resolve));
  }

  const resume = await env.mup(['cluster', 'resume', name], { timeoutMs: 180_000 });
  assert.equal(resume.code, 0, resume.stderr);
  assert.deepEqual(await checkHealthy(env, name), reference);
  const audit = await env.mupJson<AuditList>(['cluster', 'audit', name]);
  assert.deepEqual(
    audit.operations.map((o) => `${o.operation} ${o.status}`),
    ['deploy succeeded'],
  );
  const destroy = await env.mup(['cluster', 'destroy', name, '--yes'], { timeoutMs: 120_000 });
  assert.equal(destroy.code, 0, destroy.stderr);
});
