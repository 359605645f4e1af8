// Destroy finishes whatever state the cluster is in: stopped (supervisord down), orphaned by a killed
// supervisord, or half destroyed by a killed mup (then `mup cluster resume` finishes it). Nothing is left.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, test } from 'node:test';
import {
  type DisplayJson,
  destroyCluster,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
  simPidsMatching,
  topologyPath,
  waitFor,
} from '../helpers/e2e.js';
import { runMupAndKill } from '../helpers/interrupt.js';
import { isAlive, listTree, supervisordPidsFor } from '../helpers/processes.js';

const PORT_BASE = e2ePortBase();
const deployed: { env: E2eEnv; name: string }[] = [];

after(async () => {
  for (const { env, name } of deployed) {
    await destroyCluster(env, name, 120_000);
  }
});

/** Deploys the replica-set example in a fresh MUP_HOME and HOME. */
async function deploy(name: string): Promise<E2eEnv> {
  const env = await e2eEnv();
  deployed.push({ env, name });
  const run = await env.mup(env.deployArgs(name, topologyPath('replica-set'), PORT_BASE), {
    timeoutMs: 180_000,
  });
  assert.equal(run.code, 0, run.stderr);
  return env;
}

async function assertNothingLeft(env: E2eEnv, name: string): Promise<void> {
  assert.deepEqual(simPidsMatching(`${env.userHome}/mongodb/`), [], 'no mongod left');
  assert.deepEqual(supervisordPidsFor(`${env.userHome}/mongodb/supervisor/supervisor.ini`), []);
  assert.deepEqual(await listTree(env.userHome), [], 'no file left');
  assert.equal(existsSync(`${env.home}/storage/clusters/${name}`), false);
  const list = await env.mupJson<{ clusters: unknown[] }>(['cluster', 'list']);
  assert.deepEqual(list.clusters, []);
}

test('stop twice, then destroy of the stopped cluster: exit 0 each time, nothing left', async () => {
  const name = 'destroy-stopped';
  const env = await deploy(name);
  for (let i = 0; i < 2; i++) {
    const stop = await env.mup(['cluster', 'stop', name, '--yes']);
    assert.equal(stop.code, 0, stop.stderr);
  }
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', name]);
  assert.equal(view.supervisors[0]?.state, 'down');
  const destroy = await env.mup(['cluster', 'destroy', name, '--yes'], { timeoutMs: 120_000 });
  assert.equal(destroy.code, 0, destroy.stderr);
  await assertNothingLeft(env, name);
});

test('destroy after supervisord was SIGKILLed stops the orphaned mongods by pid', async () => {
  const name = 'destroy-orphans';
  const env = await deploy(name);
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', name]);
  const daemon = view.supervisors[0]?.pid;
  assert.ok(daemon);
  process.kill(daemon, 'SIGKILL');
  await waitFor('supervisord to be gone', async () => (isAlive(daemon) ? undefined : true));
  const orphans = simPidsMatching(`${env.userHome}/mongodb/`);
  assert.equal(orphans.length, 3, 'the mongods outlive their supervisor');

  const destroy = await env.mup(['cluster', 'destroy', name, '--yes'], { timeoutMs: 180_000 });
  assert.equal(destroy.code, 0, destroy.stderr);
  for (const pid of orphans) assert.equal(isAlive(pid), false, `orphan ${pid} stopped`);
  await assertNothingLeft(env, name);
});

test('destroy killed after its first removal: the cluster shows destroying, resume finishes it', async () => {
  const name = 'destroy-killed';
  const env = await deploy(name);
  const run = await runMupAndKill(['cluster', 'destroy', name, '--yes'], {
    home: env.home,
    env: { HOME: env.userHome },
    killAfter: (e) => e.state === 'done' && e.step.startsWith('remove:'),
  });
  assert.ok(run.killed, `destroy finished (exit ${run.code}) before the kill point\n${run.stderr}`);
  const list = await env.mupJson<{ clusters: { name: string; desiredStatus: string }[] }>([
    'cluster',
    'list',
  ]);
  assert.deepEqual(
    list.clusters.map((c) => `${c.name} ${c.desiredStatus}`),
    [`${name} destroying`],
  );

  const resume = await env.mup(['--json', 'cluster', 'resume', name], { timeoutMs: 120_000 });
  assert.equal(resume.code, 0, resume.stderr);
  const result = JSON.parse(resume.stdout) as { operation: string; cluster: string };
  assert.equal(result.operation, 'destroy');
  assert.equal(result.cluster, name);
  await assertNothingLeft(env, name);
});
