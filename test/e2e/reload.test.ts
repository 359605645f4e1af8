// `mup cluster reload` after `edit-config`, under a continuous w:"majority" writer: a runtime-settable
// parameter reaches every member by setParameter with no restart; an option read at startup restarts the
// members one at a time (primary last) — and a reload killed after its first member is finished by
// `mup cluster resume` without restarting that member again. No acknowledged write is lost.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import type { Document } from 'mongodb';
import { parse } from 'yaml';
import { type MupRun, runMup } from '../helpers/cli.js';
import { type DisplayJson, destroyCluster, type E2eEnv, e2eEnv, e2ePortBase } from '../helpers/e2e.js';
import { runMupAndKill } from '../helpers/interrupt.js';
import {
  assertWriterAvailability,
  describeFailures,
  lostWrites,
  startWriter,
  type Writer,
} from '../helpers/writer.js';

const NAME = 'reloadme';
const PORT_BASE = e2ePortBase();
let env: E2eEnv;
let uri: string;

before(async () => {
  env = await e2eEnv();
  const topology = join(env.home, 'reload.yaml');
  await writeFile(
    topology,
    [
      'global:',
      '  deploy_dir: reload',
      'server_configs:',
      '  mongod:',
      '    setParameter: { shutdownTimeoutMillisForSignaledShutdown: 1000 }',
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

function editConfig(sedScript: string): Promise<MupRun> {
  return runMup(['cluster', 'edit-config', NAME, '--yes'], {
    home: env.home,
    env: { HOME: env.userHome, EDITOR: `sed -i -e '${sedScript}'`, VISUAL: '' },
  });
}

async function members(): Promise<DisplayJson['processes']> {
  return (await env.mupJson<DisplayJson>(['cluster', 'display', NAME])).processes;
}

async function adminOn(port: number, command: Document): Promise<Document> {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, {
    serverSelectionTimeoutMS: 10_000,
  });
  try {
    return await client.db('admin').command(command);
  } finally {
    await client.close();
  }
}

function configTexts(): string[] {
  return readdirSync(join(env.userHome, 'reload'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('mongod.conf'))
    .map((f) => readFileSync(join(env.userHome, 'reload', f), 'utf8'));
}

function pending(): unknown {
  const meta = parse(readFileSync(join(env.home, 'storage', 'clusters', NAME, 'meta.yaml'), 'utf8')) as {
    pending?: unknown;
  };
  return meta.pending;
}

async function finishWriter(t: TestContext, writer: Writer): Promise<void> {
  await writer.waitForWrites(writer.acknowledgedCount() + 20);
  const report = await writer.stop();
  t.diagnostic(
    `writer: ${report.acknowledged.length} acknowledged, longest stall ${report.longestStallMs} ms, ` +
      `primaries ${report.primaries.join(' → ')}, failures: ${describeFailures(report)}`,
  );
  assertWriterAvailability(report, Math.max(0, report.primaries.length - 1));
  const lost = await lostWrites(uri, report);
  assert.deepEqual(lost, [], `${lost.length} acknowledged writes lost`);
}

interface ReloadJson {
  plan: { phases: { name: string; steps: { id: string; title: string }[] }[] };
  processes: { id: string; action: string; changed: string[] }[];
}

test('a runtime-settable parameter is set on the live members, none restarts', async (t) => {
  const edit = await editConfig(
    's/^\\( *\\)shutdownTimeoutMillisForSignaledShutdown: 1000$/&\\n\\1cursorTimeoutMillis: 12345/',
  );
  assert.equal(edit.code, 0, edit.stderr);
  assert.ok(pending(), 'edit-config left the change pending');

  const dry = await env.mupJson<ReloadJson>(['cluster', 'reload', NAME, '--dry-run']);
  assert.deepEqual(
    dry.plan.phases.map((p) => p.name),
    ['set-parameters', 'finish'],
  );
  assert.deepEqual(
    dry.processes.map((p) => p.action),
    ['set-parameter', 'set-parameter', 'set-parameter'],
  );
  assert.ok(pending(), 'a dry run changes nothing');

  const before = await members();
  const writer = await startWriter(uri);
  try {
    await writer.waitForWrites(20);
    const result = await env.mupJson<ReloadJson>(['cluster', 'reload', NAME, '--yes'], {
      timeoutMs: 120_000,
    });
    assert.equal(result.processes.length, 3);
    await finishWriter(t, writer);
  } finally {
    await writer.stop();
  }
  const afterReload = await members();
  assert.deepEqual(
    afterReload.map((p) => p.pid),
    before.map((p) => p.pid),
    'no member restarted',
  );
  for (const p of afterReload) {
    const reply = await adminOn(p.port, { getParameter: 1, cursorTimeoutMillis: 1 });
    assert.equal(Number(reply.cursorTimeoutMillis), 12345, `${p.id} runs with the new value`);
  }
  for (const text of configTexts()) assert.match(text, /cursorTimeoutMillis: 12345/);
  assert.equal(pending(), undefined, 'nothing is left to reload');

  const again = await env.mupJson<ReloadJson>(['cluster', 'reload', NAME, '--dry-run']);
  assert.deepEqual(
    again.plan.phases.map((p) => p.name),
    ['finish'],
    'a second reload has nothing to do',
  );
});

test('an option read at startup restarts members one by one; a reload killed midway is resumed', async (t) => {
  const edit = await editConfig('s/^  mongod:$/&\\n    storage.syncPeriodSecs: 30/');
  assert.equal(edit.code, 0, edit.stderr);
  const dry = await env.mupJson<ReloadJson>(['cluster', 'reload', NAME, '--dry-run']);
  const rolling = dry.plan.phases.find((p) => p.name === 'restart-rs');
  assert.ok(rolling, JSON.stringify(dry.plan));
  const primary = (await members()).find((p) => p.status === 'Up|P');
  assert.equal(rolling.steps.at(-1)?.id, `reload:${primary?.id}`, 'the primary restarts last');

  const before = new Map((await members()).map((p) => [p.id, p.pid]));
  const writer = await startWriter(uri);
  let doneBeforeKill: string[] = [];
  try {
    await writer.waitForWrites(20);
    const run = await runMupAndKill(['cluster', 'reload', NAME, '--yes'], {
      home: env.home,
      env: { HOME: env.userHome },
      killAfter: (event) => event.step.startsWith('reload:') && event.state === 'done',
      timeoutMs: 180_000,
    });
    assert.ok(run.killed, `mup was killed after the first member (exit ${run.code})\n${run.stderr}`);
    doneBeforeKill = run.steps
      .filter((e) => e.step.startsWith('reload:') && e.state === 'done')
      .map((e) => e.step.replace(/^reload:/, ''));
    assert.equal(doneBeforeKill.length, 1);
    assert.ok(pending(), 'the pending change is recorded as applied only at the end');
    const atKill = new Map((await members()).map((p) => [p.id, p.pid]));

    const resume = await env.mup(['cluster', 'resume', NAME], { timeoutMs: 180_000 });
    assert.equal(resume.code, 0, resume.stderr);
    await finishWriter(t, writer);

    const afterResume = await members();
    assert.deepEqual(afterResume.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
    for (const p of afterResume) {
      assert.notEqual(p.pid, before.get(p.id), `${p.id} was restarted`);
      if (doneBeforeKill.includes(p.id))
        assert.equal(p.pid, atKill.get(p.id), `${p.id}, reloaded before the kill, was not restarted again`);
      const opts = await adminOn(p.port, { getCmdLineOpts: 1 });
      assert.equal(
        (opts.parsed as { storage?: { syncPeriodSecs?: number } }).storage?.syncPeriodSecs,
        30,
        `${p.id} runs with the new option`,
      );
    }
  } finally {
    await writer.stop();
  }
  assert.equal(pending(), undefined);
});
