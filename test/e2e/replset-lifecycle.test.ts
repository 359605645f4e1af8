// The replica-set example topology, deployed unchanged and operated through the built CLI against
// simulated mongod under real supervisord.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { MongoClient } from 'mongodb';
import {
  type DisplayJson,
  destroyCluster,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
  lastQuiescePeriods,
  simPidsMatching,
  topologyPath,
  waitFor,
} from '../helpers/e2e.js';
import {
  assertWriterAvailability,
  describeFailures,
  lostWrites,
  startWriter,
  type WriterReport,
} from '../helpers/writer.js';

const NAME = 'rs-e2e';
const PORT_BASE = e2ePortBase();
let env: E2eEnv;
let uri: string;
/** The rolling restart's writes, checked again after the parallel restart. */
let rollingReport: WriterReport;

before(async () => {
  env = await e2eEnv();
});

after(async () => {
  // Leave nothing running even when a test failed midway.
  await destroyCluster(env, NAME, 120_000);
});

async function display(): Promise<DisplayJson> {
  return env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
}

test('deploy of the replica-set example: JSON result, one primary, majority writes through the printed URI', async () => {
  const result = await env.mupJson<{
    cluster: string;
    kind: string;
    uri: string;
    version: string;
    instances: unknown[];
  }>(env.deployArgs(NAME, topologyPath('replica-set'), PORT_BASE), { timeoutMs: 180_000 });
  assert.equal(result.cluster, NAME);
  assert.equal(result.kind, 'replset');
  assert.equal(result.version, env.version);
  assert.equal(result.instances.length, 3);
  // Ports allocated from the base, in the topology's order.
  assert.equal(
    result.uri,
    `mongodb://localhost:${PORT_BASE},localhost:${PORT_BASE + 1},localhost:${PORT_BASE + 2}/?replicaSet=rs0`,
  );
  uri = result.uri;

  const view = await display();
  assert.equal(view.processes.length, 3);
  assert.deepEqual(view.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
  assert.equal(view.supervisors[0]?.state, 'running');
  // Relative dirs land under the user's home (TiUP rules).
  for (const p of view.processes) assert.ok(p.dataDir?.startsWith(`${env.userHome}/mongodb/`), p.dataDir);

  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    const write = await client
      .db('app')
      .collection('kept')
      .insertOne({ marker: 'before-stop' }, { writeConcern: { w: 'majority' } });
    assert.ok(write.acknowledged);
  } finally {
    await client.close();
  }
});

test('stop then start keeps the data', async () => {
  const stop = await env.mup(['cluster', 'stop', NAME, '--yes']);
  assert.equal(stop.code, 0, stop.stderr);
  const stopped = await display();
  assert.deepEqual(
    stopped.processes.map((p) => p.status),
    ['Down', 'Down', 'Down'],
  );
  assert.equal(stopped.supervisors[0]?.state, 'down');
  assert.equal(simPidsMatching(`${env.userHome}/mongodb/`).length, 0);
  // The whole set went down together: no member waited out MongoDB's 15 s quiesce period.
  const quiesce = lastQuiescePeriods(`${env.userHome}/mongodb`);
  assert.ok(quiesce.size >= 2, `members that logged a quiesce period: ${quiesce.size}`);
  for (const [log, ms] of quiesce) assert.ok(ms <= 500, `${log}: quiesced ${ms} ms`);

  const start = await env.mup(['cluster', 'start', NAME], { timeoutMs: 180_000 });
  assert.equal(start.code, 0, start.stderr);
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    const doc = await client.db('app').collection('kept').findOne({ marker: 'before-stop' });
    assert.ok(doc, 'the majority-acknowledged document survived stop/start');
  } finally {
    await client.close();
  }
});

test('start leaves alone a stranger that took a member port while the cluster was stopped', async () => {
  assert.equal((await env.mup(['cluster', 'stop', NAME, '--yes'])).code, 0);
  const port = (await display()).processes[1]?.port;
  assert.ok(port);
  const { createServer } = await import('node:net');
  // A stranger that accepts connections and never answers; the connections mup opened are dropped before
  // close (an accepted socket nobody reads holds server.close back without keeping the event loop alive).
  const accepted = new Set<import('node:net').Socket>();
  const stranger = createServer((socket) => {
    accepted.add(socket);
    socket.on('error', () => undefined).on('close', () => accepted.delete(socket));
  });
  await new Promise<void>((resolve) => stranger.listen(port, 'localhost', resolve));
  try {
    const start = await env.mup(['cluster', 'start', NAME], { timeoutMs: 120_000 });
    assert.equal(start.code, 4, start.stderr);
    assert.match(start.stderr, new RegExp(`port ${port} by pid ${process.pid}`));
    assert.ok(stranger.listening, 'the stranger was not stopped');
  } finally {
    for (const socket of accepted) socket.destroy();
    await new Promise((resolve) => stranger.close(resolve));
  }
  const resume = await env.mup(['cluster', 'resume', NAME], { timeoutMs: 120_000 });
  assert.equal(resume.code, 0, resume.stderr);
  assert.deepEqual((await display()).processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
});

test('SIGKILL of a mongod: supervisord restarts it and display shows the restart', async () => {
  const view = await display();
  const victim = view.processes.find((p) => p.status === 'Up|S');
  assert.ok(victim?.pid);
  process.kill(victim.pid, 'SIGKILL');
  const back = await waitFor('the killed member to be back', async () => {
    const now = (await display()).processes.find((p) => p.id === victim.id);
    return now && now.pid !== victim.pid && now.status.startsWith('Up') ? now : undefined;
  });
  assert.ok(back.restarts >= 1, `restarts shown: ${back.restarts}`);
});

test('SIGKILL of supervisord: cluster start recovers without duplicate processes', async () => {
  const view = await display();
  const daemonPid = view.supervisors[0]?.pid;
  assert.ok(daemonPid);
  process.kill(daemonPid, 'SIGKILL');
  await waitFor('supervisord to be gone', async () =>
    (await display()).supervisors[0]?.state !== 'running' ? true : undefined,
  );
  // The orphaned mongods keep running without their supervisor.
  assert.equal(simPidsMatching(`${env.userHome}/mongodb/`).length, 3);

  const start = await env.mup(['cluster', 'start', NAME], { timeoutMs: 180_000 });
  assert.equal(start.code, 0, start.stderr);
  assert.match(start.stderr, /hand .* back to supervisord/);
  const after = await display();
  assert.deepEqual(after.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
  assert.equal(simPidsMatching(`${env.userHome}/mongodb/`).length, 3, 'exactly one process per member');
  for (const p of after.processes)
    assert.ok(simPidsMatching(`${env.userHome}/mongodb/`).includes(p.pid ?? -1));
});

test('rolling restart under a continuous majority writer loses nothing, fails no write and changes the primary at most twice', async (t) => {
  const writer = await startWriter(uri);
  try {
    await writer.waitForWrites(20);
    const restart = await env.mup(['cluster', 'restart', NAME, '--yes'], { timeoutMs: 300_000 });
    await writer.waitForWrites(writer.acknowledgedCount() + 20);
    rollingReport = await writer.stop();
    assert.equal(restart.code, 0, restart.stderr);
  } finally {
    await writer.stop();
  }
  const report = rollingReport;
  t.diagnostic(
    `writer: ${report.acknowledged.length} acknowledged, longest stall ${report.longestStallMs} ms, ` +
      `failures: ${describeFailures(report)}`,
  );
  assertWriterAvailability(report, Math.max(0, report.primaries.length - 1));
  const lost = await lostWrites(uri, report);
  assert.deepEqual(lost, [], `${lost.length} acknowledged writes lost`);
  // The first entry is the primary at connect time; each later one is a change.
  assert.ok(
    report.primaries.length - 1 <= 2,
    `primary changed ${report.primaries.length - 1} times: ${report.primaries.join(' → ')}`,
  );
  const view = await display();
  assert.deepEqual(view.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
  // This file keeps MongoDB's default quiesce (15 s) on purpose, the one test that proves mup respects it:
  // every member, restarted one at a time, logged a quiesce period of the server's default (less the moment
  // its step-down check took, which mongod subtracts), never the short one of a whole-set stop.
  const periods = [...lastQuiescePeriods(`${env.userHome}/mongodb`).values()];
  assert.equal(periods.length, 3, `members that logged a quiesce period: ${periods.length}`);
  for (const ms of periods) assert.ok(ms > 10_000 && ms <= 15_000, `quiesced ${ms} ms`);
});

test('restart --parallel: every process is new, the set is healthy with one primary, the data is kept', async () => {
  const before = await display();
  const restart = await env.mup(['cluster', 'restart', NAME, '--parallel', '--yes'], { timeoutMs: 120_000 });
  assert.equal(restart.code, 0, restart.stderr);
  const after = await display();
  assert.deepEqual(after.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
  for (const p of after.processes)
    assert.notEqual(p.pid, before.processes.find((b) => b.id === p.id)?.pid, `${p.id} was restarted`);
  assert.ok(rollingReport, 'the rolling restart test ran first');
  assert.ok(rollingReport.acknowledged.length > 0);
  const lost = await lostWrites(uri, rollingReport);
  assert.deepEqual(lost, [], `${lost.length} writes acknowledged before the parallel restart are gone`);
});

test('a command on a locked cluster exits 3 naming the holder', async () => {
  const { spawn } = await import('node:child_process');
  const { writeFile } = await import('node:fs/promises');
  const { hostname } = await import('node:os');
  const holder = spawn('sleep', ['30']);
  try {
    const lockPath = `${env.home}/storage/clusters/${NAME}/lock`;
    await writeFile(
      lockPath,
      JSON.stringify({
        pid: holder.pid,
        host: hostname(),
        command: 'mup cluster upgrade rs-e2e',
        startedAt: '2026-11-26T00:00:00Z',
      }),
    );
    const run = await env.mup(['cluster', 'stop', NAME, '--yes']);
    assert.equal(run.code, 3);
    assert.match(run.stderr, new RegExp(`locked by 'mup cluster upgrade rs-e2e' \\(pid ${holder.pid} on `));
    const { rm } = await import('node:fs/promises');
    await rm(lockPath);
  } finally {
    holder.kill();
  }
});

test('destroy removes every process and file', async () => {
  const view = await display();
  const destroy = await env.mup(['cluster', 'destroy', NAME, '--yes'], { timeoutMs: 120_000 });
  assert.equal(destroy.code, 0, destroy.stderr);
  assert.equal(simPidsMatching(`${env.userHome}/mongodb/`).length, 0);
  for (const p of view.processes) assert.equal(existsSync(p.dataDir ?? '/nonexistent-x'), false);
  assert.equal(existsSync(`${env.userHome}/mongodb`), false, 'the global deploy dir is gone');
  assert.equal(existsSync(`${env.home}/storage/clusters/${NAME}`), false);
  const list = await env.mupJson<{ clusters: unknown[] }>(['cluster', 'list']);
  assert.deepEqual(list.clusters, []);
});
