// `mup cluster upgrade` of a 3-member replica set from 6.0 to 8.0 under a continuous w:"majority" writer,
// binaries from a release mirror on loopback: refused downgrades, a dry run that installs nothing, a run
// killed in the middle of the second hop and finished by `mup cluster resume` with --no-fcv (binaries 8.0,
// FCV 7.0), a downgrade back to 7.0 that this FCV allows, then the FCV raised by an upgrade to the version
// already running; and a config option the next series removed, refused first. No acknowledged write is lost.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Document } from 'mongodb';
import { parse } from 'yaml';
import { makeFakeReleases } from '../../sim/src/releases.js';
import { type ReleaseServer, startReleaseServer } from '../binaries/helpers/release-server.js';
import { tempDir } from '../helpers/cli.js';
import { type DisplayJson, destroyCluster, type E2eEnv, e2eEnv, e2ePortBase } from '../helpers/e2e.js';
import { runMupAndKill } from '../helpers/interrupt.js';
import { assertWriterAvailability, describeFailures, lostWrites, startWriter } from '../helpers/writer.js';

const NAME = 'upgrademe';
const PORT_BASE = e2ePortBase();
const TARGETS = ['ubuntu2204', 'debian12', 'rhel80', 'rhel90'];
let env: E2eEnv;
let server: ReleaseServer;
let uri: string;

before(async () => {
  env = await e2eEnv('6.0.16');
  const mirrorRoot = await tempDir('mup-e2e-releases-');
  await makeFakeReleases({
    outDir: mirrorRoot,
    versions: ['6.0.16', '7.0.14', '8.0.4'].map((version) => ({ version, targets: TARGETS })),
  });
  server = await startReleaseServer(mirrorRoot);
  const topology = join(env.home, 'upgrade.yaml');
  await writeFile(
    topology,
    [
      'global:',
      '  deploy_dir: upgrade',
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
  await server?.close();
});

const upgradeArgs = (version: string, ...extra: string[]) => [
  'cluster',
  'upgrade',
  NAME,
  version,
  '--mirror',
  server.url,
  ...extra,
];

function metaPath(): string {
  return join(env.home, 'storage', 'clusters', NAME, 'meta.yaml');
}

function storedVersion(): string {
  return (parse(readFileSync(metaPath(), 'utf8')) as { version: string }).version;
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

async function versionsAndFcv(): Promise<{ versions: string[]; fcv: string[] }> {
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  const versions: string[] = [];
  const fcv: string[] = [];
  for (const p of view.processes) {
    versions.push(String((await adminOn(p.port, { buildInfo: 1 })).version));
    const reply = await adminOn(p.port, { getParameter: 1, featureCompatibilityVersion: 1 });
    fcv.push(String((reply.featureCompatibilityVersion as { version: string }).version));
  }
  return { versions, fcv };
}

function installedPackages(): string[] {
  const dir = join(env.home, 'storage', 'packages');
  return existsSync(dir) ? readdirSync(dir) : [];
}

test('a downgrade the FCV does not allow is refused and changes nothing', async () => {
  const meta = readFileSync(metaPath(), 'utf8');
  const run = await env.mup(upgradeArgs('5.0'));
  assert.equal(run.code, 2, run.stderr);
  assert.match(
    run.stderr,
    /cannot downgrade cluster 'upgrademe' from 6\.0\.16 to 5\.0: its featureCompatibilityVersion is 6\.0/,
  );
  assert.equal(readFileSync(metaPath(), 'utf8'), meta);
});

test('--dry-run shows every hop and installs nothing', async () => {
  const result = await env.mupJson<{ plan: { phases: { name: string }[] }; hops: { series: string }[] }>(
    upgradeArgs('8.0', '--dry-run'),
  );
  assert.deepEqual(
    result.plan.phases.map((p) => p.name),
    [
      '7.0:preflight',
      '7.0:binaries',
      '7.0:restart-rs',
      '7.0:record',
      '7.0:fcv',
      '8.0:preflight',
      '8.0:binaries',
      '8.0:restart-rs',
      '8.0:record',
      '8.0:fcv',
    ],
  );
  assert.deepEqual(installedPackages(), []);
  assert.equal(storedVersion(), '6.0.16');
});

test('6.0 → 8.0 with --no-fcv, killed in the second hop, finished by resume; nothing lost', async (t) => {
  const writer = await startWriter(uri);
  try {
    await writer.waitForWrites(20);
    const run = await runMupAndKill(upgradeArgs('8.0', '--no-fcv', '--yes'), {
      home: env.home,
      env: { HOME: env.userHome },
      killAfter: (event) => event.step.startsWith('upgrade:8.0:') && event.state === 'done',
      timeoutMs: 300_000,
    });
    assert.ok(run.killed, `mup was killed in the second hop (exit ${run.code})\n${run.stderr}`);
    assert.equal(storedVersion(), '7.0.14', 'the first hop is recorded');
    assert.ok(
      run.steps.some((e) => e.step === 'fcv:7.0' && e.state === 'done'),
      'the first hop raised the FCV to 7.0',
    );

    const resume = await env.mup(['cluster', 'resume', NAME], { timeoutMs: 300_000 });
    assert.equal(resume.code, 0, resume.stderr);
    await writer.waitForWrites(writer.acknowledgedCount() + 20);
    const report = await writer.stop();
    t.diagnostic(
      `writer: ${report.acknowledged.length} acknowledged, longest stall ${report.longestStallMs} ms, ` +
        `primaries ${report.primaries.join(' → ')}, failures: ${describeFailures(report)}`,
    );
    assertWriterAvailability(report, Math.max(0, report.primaries.length - 1));
    const lost = await lostWrites(uri, report);
    assert.deepEqual(lost, [], `${lost.length} acknowledged writes lost`);
  } finally {
    await writer.stop();
  }
  assert.equal(storedVersion(), '8.0.4');
  const now = await versionsAndFcv();
  assert.deepEqual(now.versions, ['8.0.4', '8.0.4', '8.0.4']);
  assert.deepEqual(now.fcv, ['7.0', '7.0', '7.0'], '--no-fcv left the FCV at 7.0');
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  assert.deepEqual(view.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
});

test('two series back is refused even inside the rollback window', async () => {
  const run = await env.mup(upgradeArgs('6.0'));
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /cannot downgrade cluster 'upgrademe' from 8\.0\.4 to 6\.0/);
});

test('inside the rollback window a binary downgrade one series back is allowed', async () => {
  const down = await env.mupJson<{ version: string }>(upgradeArgs('7.0', '--yes'), { timeoutMs: 300_000 });
  assert.equal(down.version, '7.0.14');
  assert.deepEqual(await versionsAndFcv(), {
    versions: ['7.0.14', '7.0.14', '7.0.14'],
    fcv: ['7.0', '7.0', '7.0'],
  });
  const up = await env.mupJson<{ version: string }>(upgradeArgs('8.0', '--no-fcv', '--yes'), {
    timeoutMs: 300_000,
  });
  assert.equal(up.version, '8.0.4');
});

test('a later upgrade to the same version raises the FCV only', async () => {
  const result = await env.mupJson<{ plan: { phases: { name: string }[] } }>(upgradeArgs('8.0', '--yes'), {
    timeoutMs: 120_000,
  });
  assert.deepEqual(
    result.plan.phases.map((p) => p.name),
    ['8.0:preflight', '8.0:fcv'],
  );
  assert.deepEqual((await versionsAndFcv()).fcv, ['8.0', '8.0', '8.0']);
  const again = await env.mup(upgradeArgs('8.0'));
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already runs 8\.0\.4 at featureCompatibilityVersion 8\.0/);
});

test('an option the next series removed is refused before anything changes', async () => {
  // storage.journal.enabled exists until 6.0 and is refused from 6.1: a 6.0 cluster may have it, 7.0 cannot.
  const topology = join(env.home, 'journal.yaml');
  await writeFile(
    topology,
    [
      'global:',
      '  deploy_dir: journal',
      'server_configs:',
      '  mongod:',
      '    storage.journal.enabled: true',
      'mongod_servers:',
      '  - { host: localhost, port: 0 }',
      '',
    ].join('\n'),
  );
  await env.mupJson(env.deployArgs('journal', topology, PORT_BASE + 50), { timeoutMs: 120_000 });
  try {
    const meta = join(env.home, 'storage', 'clusters', 'journal', 'meta.yaml');
    const before = readFileSync(meta, 'utf8');
    const run = await env.mup(['cluster', 'upgrade', 'journal', '7.0', '--mirror', server.url, '--yes']);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /does not fit MongoDB 7\.0\.14:\nlocalhost:\d+: storage\.journal\.enabled/);
    assert.equal(readFileSync(meta, 'utf8'), before);
  } finally {
    await destroyCluster(env, 'journal');
  }
});
