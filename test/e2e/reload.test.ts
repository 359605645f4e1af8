// `mup cluster reload` after `edit-config`, under a continuous w:"majority" writer: a runtime-settable
// parameter reaches every member by setParameter with no restart; an option read at startup restarts the
// members one at a time (primary last) — and a reload killed after its first member is finished by
// `mup cluster resume` without restarting that member again. No acknowledged write is lost.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import type { Document } from 'mongodb';
import { parse } from 'yaml';
import { type MupRun, runMup } from '../helpers/cli.js';
import {
  type DisplayJson,
  destroyCluster,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
  waitFor,
} from '../helpers/e2e.js';
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

/** An editor that puts `options` under the member on `port` and appends `tail` to the file. */
async function memberEditor(name: string, options: Map<number, string[]>, tail: string[]): Promise<string> {
  const script = [...options]
    .map(([port, lines]) => `-e 's/^\\( *\\)port: ${port}$/&${lines.map((l) => `\\n\\1${l}`).join('')}/'`)
    .join(' ');
  const path = join(env.home, `${name}.sh`);
  await writeFile(
    path,
    ['#!/bin/sh', `sed -i ${script} "$1"`, ...tail.map((l) => `echo '${l}' >> "$1"`), ''].join('\n'),
  );
  await chmod(path, 0o755);
  return path;
}

function editWith(editor: string): Promise<MupRun> {
  return runMup(['cluster', 'edit-config', NAME, '--yes'], {
    home: env.home,
    env: { HOME: env.userHome, EDITOR: editor, VISUAL: '' },
  });
}

async function liveConfig(port: number): Promise<Document> {
  return (await adminOn(port, { replSetGetConfig: 1 })).config as Document;
}

test('member options and replica_set_settings: replSetReconfig without restart, primary stepped down first; a kill between two reconfigs is resumed', async (t) => {
  // On a loaded machine a display probe can time out: wait for a settled view of the set.
  const view = await waitFor(
    'one primary and two secondaries',
    async () => {
      const seen = await members();
      const statuses = seen.map((p) => p.status).sort();
      return statuses.join() === 'Up|P,Up|S,Up|S' ? seen : undefined;
    },
    60_000,
  );
  const primary = view.find((p) => p.status === 'Up|P');
  const [first, second] = view.filter((p) => p.status === 'Up|S');
  assert.ok(primary && first && second, JSON.stringify(view));
  const meta = readFileSync(join(env.home, 'storage', 'clusters', NAME, 'meta.yaml'), 'utf8');

  // What MongoDB cannot change in place, and a set left without an electable member: refused, nothing stored.
  const buildIndexes = await editWith(
    await memberEditor('bi', new Map([[second.port, ['priority: 0', 'build_indexes: false']]]), []),
  );
  assert.equal(buildIndexes.code, 2, buildIndexes.stderr);
  assert.match(
    buildIndexes.stderr,
    /mongod_servers\.\d\.build_indexes: build_indexes cannot change in place/,
  );
  const noElectable = await editWith(
    await memberEditor('none', new Map(view.map((p) => [p.port, ['priority: 0']] as [number, string[]])), []),
  );
  assert.equal(noElectable.code, 2, noElectable.stderr);
  assert.match(noElectable.stderr, /no member that can become primary/);
  assert.equal(readFileSync(join(env.home, 'storage', 'clusters', NAME, 'meta.yaml'), 'utf8'), meta);

  const edit = await editWith(
    await memberEditor(
      'options',
      new Map([
        [primary.port, ['priority: 0']],
        [first.port, ['votes: 0', 'priority: 0']],
        [second.port, ['priority: 2', 'tags: { dc: west }']],
      ]),
      [
        'replica_set_settings:',
        '  rs: { electionTimeoutMillis: 5000, chainingAllowed: false, writeConcernMajorityJournalDefault: false }',
      ],
    ),
  );
  assert.equal(edit.code, 0, edit.stderr);
  assert.match(edit.stdout, /Replica-set reconfigs `mup cluster reload` will make/);

  const dry = await env.mupJson<ReloadJson & { reconfigs: { step: string; changes: string }[] }>([
    'cluster',
    'reload',
    NAME,
    '--dry-run',
  ]);
  assert.deepEqual(
    dry.plan.phases.map((p) => p.name),
    ['reconfig-rs', 'finish'],
    'no restart, no setParameter',
  );
  assert.deepEqual(
    dry.reconfigs.map((r) => r.step),
    ['reconfig:rs:1', 'reconfig:rs:2'],
  );
  assert.match(dry.reconfigs[0]?.changes ?? '', new RegExp(`${primary.id} priority 1→0`));
  assert.match(dry.reconfigs[0]?.changes ?? '', /settings .*electionTimeoutMillis default→5000/);
  assert.equal(dry.reconfigs[1]?.changes, `${first.id} priority 1→0, votes 1→0`, 'the voting change alone');
  const versionBefore = Number((await liveConfig(primary.port)).version);

  const pids = new Map(view.map((p) => [p.id, p.pid]));
  const writer = await startWriter(uri);
  try {
    await writer.waitForWrites(20);
    const run = await runMupAndKill(['cluster', 'reload', NAME, '--yes'], {
      home: env.home,
      env: { HOME: env.userHome, MUP_FAILPOINT: 'reconfig:rs:2:before-run' },
      killAfter: () => false,
      timeoutMs: 180_000,
    });
    assert.equal(run.signal, 'SIGKILL', `reload was not killed between the reconfigs\n${run.stderr}`);
    const atKill = await liveConfig(second.port);
    const byHost = (config: Document, id: string) =>
      (config.members as Document[]).find((m) => m.host === id) as Document;
    assert.equal(byHost(atKill, primary.id).priority, 0, 'the first reconfig is in');
    assert.equal(byHost(atKill, first.id).votes, 1, 'the second is not');
    assert.ok(pending(), 'still pending at the kill');

    const resume = await env.mup(['cluster', 'resume', NAME], { timeoutMs: 180_000 });
    assert.equal(resume.code, 0, resume.stderr);
    assert.match(resume.stderr, /reconfig:rs:1|done by an earlier attempt|replSetReconfig rs/);
    await finishWriter(t, writer);
  } finally {
    await writer.stop();
  }

  const config = await liveConfig(second.port);
  const member = (id: string) => (config.members as Document[]).find((m) => m.host === id) as Document;
  assert.equal(Number(config.version), versionBefore + 2, 'two reconfigs, none repeated');
  assert.equal(member(primary.id).priority, 0);
  assert.equal(member(first.id).votes, 0);
  assert.equal(member(first.id).priority, 0);
  assert.equal(member(second.id).priority, 2);
  assert.deepEqual(member(second.id).tags, { dc: 'west' });
  assert.equal((config.settings as Document).electionTimeoutMillis, 5000);
  assert.equal((config.settings as Document).chainingAllowed, false);
  assert.equal(config.writeConcernMajorityJournalDefault, false);
  const afterReload = await members();
  for (const p of afterReload) assert.equal(p.pid, pids.get(p.id), `${p.id} was not restarted`);
  assert.equal(pending(), undefined, 'nothing left to reload');
  // Priority 2 makes the second secondary the primary (a priority takeover), as MongoDB does.
  await waitFor(
    `${second.id} primary`,
    async () => ((await members()).find((p) => p.id === second.id)?.status === 'Up|P' ? true : undefined),
    60_000,
  );
});
