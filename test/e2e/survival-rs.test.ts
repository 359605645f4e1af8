// A replica set whose supervisord was lost (kill -9): the members keep serving unsupervised, and `cluster start`
// hands them back to a new daemon one at a time — a majority answering at every 100 ms sample, no majority
// write lost, one process per member — also when mup is killed in the middle and `cluster resume` finishes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { destroyAllClusters, type E2eEnv, e2eEnv, e2ePortBase, simPidsMatching } from '../helpers/e2e.js';
import { portClosed, runMupKilledWhen } from '../helpers/interrupt.js';
import {
  bootEntryOf,
  deploy,
  display,
  killSupervisord,
  survivesLostSupervisord,
} from '../helpers/survival.js';

const PORT_BASE = e2ePortBase();
let env: E2eEnv;

before(async () => {
  env = await e2eEnv();
});

after(async () => {
  await destroyAllClusters(env);
});

test('replica set: kill -9 supervisord, then start hands the members back one at a time', async () => {
  const name = 'surv-rs';
  await deploy(
    env,
    name,
    [
      'mongod_servers:',
      '  - { host: localhost, port: 0, replica_set: rs0 }',
      '  - { host: localhost, port: 0, replica_set: rs0 }',
      '  - { host: localhost, port: 0, replica_set: rs0 }',
    ],
    PORT_BASE,
  );
  const { uri } = await display(env, name);
  await survivesLostSupervisord(env, name, uri);
});

test('replica set: mup killed while a member is between its orphan and supervisord; resume finishes the hand-back', async () => {
  const name = 'surv-rs';
  const root = join(env.userHome, name);
  const view = await killSupervisord(env, name);
  const orphans = simPidsMatching(root);
  assert.equal(orphans.length, 3);
  const portOf = (step: string) => view.processes.find((p) => step === `adopt:${p.id}`)?.port;
  let adopted = 0;
  const run = await runMupKilledWhen(['cluster', 'start', name], {
    home: env.home,
    env: { HOME: env.userHome },
    // The second member handed back: its orphan has stopped, supervisord has not started it yet.
    armAfter: (event) => event.step.startsWith('adopt:') && event.state === 'running' && ++adopted === 2,
    condition: async (armedBy) => portClosed(portOf(armedBy.step) ?? 0),
    timeoutMs: 300_000,
  });
  assert.ok(run.killed, `mup was killed mid-hand-back (exit ${run.code})\n${run.stderr}`);
  assert.ok(simPidsMatching(root).length <= 3, 'never two processes for one member');

  const resume = await env.mup(['cluster', 'resume', name], { timeoutMs: 300_000 });
  assert.equal(resume.code, 0, resume.stderr);
  const after = await display(env, name);
  const pids = simPidsMatching(root);
  assert.equal(pids.length, 3, 'exactly one process per member');
  assert.deepEqual(after.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
  for (const p of after.processes) {
    assert.ok(p.pid !== undefined && pids.includes(p.pid), `${p.id} runs under supervisord`);
    assert.ok(!orphans.includes(p.pid), `${p.id} was handed back`);
  }
});

test('a cluster deployed with --no-boot-start has no boot entry', async () => {
  const name = 'surv-rs';
  assert.equal(bootEntryOf(name, join(env.userHome, name)), undefined);
  assert.equal((await display(env, name)).supervisors[0]?.boot, 'none');
});
