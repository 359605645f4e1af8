// A rolling restart killed midway — between two members, and while a member is being restarted — is
// finished by `mup cluster resume`: members already restarted are not restarted again, every member is back,
// and no write acknowledged with w:"majority" is lost. The topology shortens MongoDB's 15 s quiesce period
// through server_configs, as an operator may, which these tests also check reaches the servers.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type DisplayJson, type E2eEnv, e2eEnv, lastQuiescePeriods } from '../helpers/e2e.js';
import { runMupAndKill, type StepEvent } from '../helpers/interrupt.js';
import { readIds, startWriter } from '../helpers/writer.js';

const NAME = 'rolling';
const PORT_BASE = 20500;
const QUIESCE_MS = 1000;
let env: E2eEnv;
let uri: string;

before(async () => {
  env = await e2eEnv();
  const topology = join(env.home, 'rolling.yaml');
  await writeFile(
    topology,
    [
      'global:',
      '  deploy_dir: rolling',
      'server_configs:',
      '  mongod:',
      `    setParameter: { shutdownTimeoutMillisForSignaledShutdown: ${QUIESCE_MS} }`,
      'mongod_servers:',
      '  - { host: localhost, port: 0, replica_set: rs }',
      '  - { host: localhost, port: 0, replica_set: rs }',
      '  - { host: localhost, port: 0, replica_set: rs }',
      '',
    ].join('\n'),
  );
  const deployed = await env.mupJson<{ uri: string }>(env.deployArgs(NAME, topology, PORT_BASE), {
    timeoutMs: 120_000,
  });
  uri = deployed.uri;
});

after(async () => {
  await env.mup(['cluster', 'destroy', NAME, '--yes'], { timeoutMs: 120_000 });
});

async function pids(): Promise<Map<string, number | undefined>> {
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  return new Map(view.processes.map((p) => [p.id, p.pid]));
}

/** Member id of a `restart:<id>` step. */
function memberOf(event: StepEvent): string {
  return event.step.replace(/^restart:/, '');
}

async function killedRestartThenResume(killAfter: (event: StepEvent, seen: StepEvent[]) => boolean) {
  const writer = await startWriter(uri);
  await writer.waitForWrites(20);
  const before = await pids();
  const seen: StepEvent[] = [];
  const run = await runMupAndKill(['cluster', 'restart', NAME], {
    home: env.home,
    env: { HOME: env.userHome },
    killAfter: (event) => {
      seen.push(event);
      return killAfter(event, seen);
    },
  });
  assert.ok(run.killed, `mup was killed at the chosen step (exit ${run.code})\n${run.stderr}`);
  const doneBeforeKill = run.steps
    .filter((e) => e.step.startsWith('restart:') && e.state === 'done')
    .map(memberOf);
  const atKill = await pids();

  const resume = await env.mup(['cluster', 'resume', NAME], { timeoutMs: 180_000 });
  assert.equal(resume.code, 0, resume.stderr);
  await writer.waitForWrites(writer.acknowledgedCount() + 20);
  const report = await writer.stop();
  const present = await readIds(uri);
  const lost = report.acknowledged.filter((id) => !present.has(id));
  assert.deepEqual(lost, [], `${lost.length} acknowledged writes lost`);

  const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  assert.deepEqual(view.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
  const afterResume = await pids();
  for (const id of before.keys()) {
    assert.notEqual(afterResume.get(id), before.get(id), `${id} was restarted`);
    if (doneBeforeKill.includes(id))
      assert.equal(
        afterResume.get(id),
        atKill.get(id),
        `${id}, restarted before the kill, was not restarted again`,
      );
  }
  return { doneBeforeKill };
}

test('killed between two members, resume restarts only the members not done yet', async () => {
  const { doneBeforeKill } = await killedRestartThenResume(
    (event) => event.step.startsWith('restart:') && event.state === 'done',
  );
  assert.equal(doneBeforeKill.length, 1);
});

test('killed while a member is being restarted, resume brings it back and finishes', async () => {
  const { doneBeforeKill } = await killedRestartThenResume(
    (event, seen) =>
      event.step.startsWith('restart:') &&
      event.state === 'running' &&
      seen.some((e) => e.step.startsWith('restart:') && e.state === 'done'),
  );
  assert.equal(doneBeforeKill.length, 1);
});

test('the quiesce period set in server_configs is what the restarted members used', () => {
  const periods = lastQuiescePeriods(join(env.userHome, 'rolling'));
  assert.equal(periods.size, 3, `members that logged a quiesce period: ${periods.size}`);
  for (const [log, ms] of periods) assert.ok(ms <= QUIESCE_MS, `${log}: quiesced ${ms} ms`);
});
