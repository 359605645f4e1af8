// A rolling restart killed midway — between two members, and while a member is being restarted — is
// finished by `mup cluster resume`: members already restarted are not restarted again, every member is back,
// and no write acknowledged with w:"majority" is lost. The topology shortens MongoDB's 15 s quiesce period
// through server_configs, as an operator may, which these tests also check reaches the servers.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import {
  type DisplayJson,
  destroyCluster,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
  lastQuiescePeriods,
  waitFor,
} from '../helpers/e2e.js';
import {
  type InterruptedRun,
  portClosed,
  runMupAndKill,
  runMupKilledWhen,
  type StepEvent,
} from '../helpers/interrupt.js';
import { assertWriterAvailability, describeFailures, lostWrites, startWriter } from '../helpers/writer.js';

const NAME = 'rolling';
const PORT_BASE = e2ePortBase();
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
  await destroyCluster(env, NAME);
});

async function pids(): Promise<Map<string, number | undefined>> {
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  return new Map(view.processes.map((p) => [p.id, p.pid]));
}

/** Member id of a `restart:<id>` step. */
function memberOf(event: StepEvent): string {
  return event.step.replace(/^restart:/, '');
}

async function killedRestartThenResume(
  t: TestContext,
  kill: (args: string[]) => Promise<InterruptedRun>,
): Promise<{ doneBeforeKill: string[]; run: InterruptedRun; atKill: DisplayJson }> {
  const writer = await startWriter(uri);
  try {
    await writer.waitForWrites(20);
    const before = await pids();
    const run = await kill(['cluster', 'restart', NAME, '--yes']);
    assert.ok(run.killed, `mup was killed at the chosen point (exit ${run.code})\n${run.stderr}`);
    const doneBeforeKill = run.steps
      .filter((e) => e.step.startsWith('restart:') && e.state === 'done')
      .map(memberOf);
    // A display whose daemon answered: on a loaded machine the probe may time out and show no pids.
    const atKill = await waitFor('a display with supervisord answering', async () => {
      const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
      return view.supervisors.every((s) => s.state === 'running') ? view : undefined;
    });
    const pidsAtKill = new Map(atKill.processes.map((p) => [p.id, p.pid]));

    const resume = await env.mup(['cluster', 'resume', NAME], { timeoutMs: 180_000 });
    assert.equal(resume.code, 0, resume.stderr);
    await writer.waitForWrites(writer.acknowledgedCount() + 20);
    const report = await writer.stop();
    t.diagnostic(
      `writer: ${report.acknowledged.length} acknowledged, longest stall ${report.longestStallMs} ms, ` +
        `failures: ${describeFailures(report)}`,
    );
    assertWriterAvailability(report, Math.max(0, report.primaries.length - 1));
    const lost = await lostWrites(uri, report);
    assert.deepEqual(lost, [], `${lost.length} acknowledged writes lost`);

    const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
    assert.deepEqual(view.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
    const afterResume = await pids();
    for (const id of before.keys()) {
      assert.notEqual(afterResume.get(id), before.get(id), `${id} was restarted`);
      if (doneBeforeKill.includes(id))
        assert.equal(
          afterResume.get(id),
          pidsAtKill.get(id),
          `${id}, restarted before the kill, was not restarted again`,
        );
    }
    return { doneBeforeKill, run, atKill };
  } finally {
    await writer.stop();
  }
}

test('killed between two members, resume restarts only the members not done yet', async (t) => {
  const { doneBeforeKill, atKill } = await killedRestartThenResume(t, (args) =>
    runMupAndKill(args, {
      home: env.home,
      env: { HOME: env.userHome },
      killAfter: (event) => event.step.startsWith('restart:') && event.state === 'done',
    }),
  );
  assert.equal(doneBeforeKill.length, 1);
  // At the kill every member ran: the next one had not been touched yet.
  assert.deepEqual(atKill.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
});

test('killed while a member is down for its restart, resume starts it and finishes', async (t) => {
  let target: { id: string; port: number } | undefined;
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  const ports = new Map(view.processes.map((p) => [p.id, p.port]));
  const { doneBeforeKill, atKill } = await killedRestartThenResume(t, (args) => {
    let restartsDone = 0;
    return runMupKilledWhen(args, {
      home: env.home,
      env: { HOME: env.userHome },
      // The second member's restart: the first one is done, so resume must skip it.
      armAfter: (event) => {
        if (event.step.startsWith('restart:') && event.state === 'done') restartsDone++;
        return event.step.startsWith('restart:') && event.state === 'running' && restartsDone === 1;
      },
      condition: async (armedBy) => {
        const id = memberOf(armedBy);
        const port = ports.get(id);
        if (port === undefined) throw new Error(`no port for ${id}`);
        target = { id, port };
        return portClosed(port);
      },
    });
  });
  assert.equal(doneBeforeKill.length, 1);
  assert.ok(target, 'the kill was armed on a member');
  // The state at the kill: the member being restarted was down (its port closed, supervisord not running it).
  const victim = atKill.processes.find((p) => p.id === target?.id);
  assert.equal(victim?.status, 'Down', JSON.stringify(atKill.processes));
  assert.equal(victim?.pid, undefined);
});

test('the quiesce period set in server_configs is what the restarted members used', () => {
  const periods = lastQuiescePeriods(join(env.userHome, 'rolling'));
  assert.equal(periods.size, 3, `members that logged a quiesce period: ${periods.size}`);
  for (const [log, ms] of periods) assert.ok(ms <= QUIESCE_MS, `${log}: quiesced ${ms} ms`);
});
