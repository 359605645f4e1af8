// `mup playground` from nothing with --binary-path: a working replica set, data kept across stop/start,
// tagged playgrounds side by side, and destroy leaving nothing behind.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
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
} from '../helpers/e2e.js';

let env: E2eEnv;
const PORT_BASE = e2ePortBase();

before(async () => {
  env = await e2eEnv();
});

after(async () => {
  await destroyAllClusters(env, 120_000);
});

test('playground start prints only the URI on stdout and gives a working replica set', async () => {
  const run = await env.mup(
    ['playground', 'start', '--binary-path', env.binDir, '--port', String(PORT_BASE), ...ALLOW_ROOT],
    {
      timeoutMs: 180_000,
    },
  );
  assert.equal(run.code, 0, run.stderr);
  const uri = run.stdout.trim();
  assert.equal(
    uri,
    `mongodb://localhost:${PORT_BASE},localhost:${PORT_BASE + 1},localhost:${PORT_BASE + 2}/?replicaSet=rs0`,
  );
  assert.equal(run.stdout.split('\n').filter((l) => l.trim() !== '').length, 1);

  const status = await env.mupJson<DisplayJson>(['playground', 'status']);
  assert.equal(status.cluster, 'playground');
  assert.deepEqual(status.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);

  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    await client
      .db('play')
      .collection('c')
      .insertOne({ kept: true }, { writeConcern: { w: 'majority' } });
  } finally {
    await client.close();
  }

  // stop keeps data; start again (the same command) brings it back.
  assert.equal((await env.mup(['playground', 'stop'])).code, 0);
  assert.equal(simPidsMatching(join(env.home, 'playground', 'playground')).length, 0);
  const again = await env.mup(['playground', 'start', '--binary-path', env.binDir], { timeoutMs: 180_000 });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.trim(), uri);
  const reader = new MongoClient(uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    assert.ok(await reader.db('play').collection('c').findOne({ kept: true }));
  } finally {
    await reader.close();
  }
});

test('a tagged playground runs beside the default one; --json start has the documented shape', async () => {
  const started = await env.mupJson<{
    schemaVersion: number;
    cluster: string;
    uri: string;
    restarted: boolean;
    kind: string;
  }>(
    [
      'playground',
      'start',
      '--tag',
      'two',
      '--topology',
      'standalone',
      '--binary-path',
      env.binDir,
      '--port',
      String(PORT_BASE + 50),
      ...ALLOW_ROOT,
    ],
    { timeoutMs: 180_000 },
  );
  assert.equal(started.schemaVersion, 1);
  assert.equal(started.cluster, 'playground-two');
  assert.equal(started.kind, 'standalone');
  assert.equal(started.restarted, false);
  assert.equal(started.uri, `mongodb://localhost:${PORT_BASE + 50}/`);
  const list = await env.mupJson<{ clusters: { name: string; desiredStatus: string }[] }>([
    'cluster',
    'list',
  ]);
  assert.deepEqual(list.clusters.map((c) => `${c.name}:${c.desiredStatus}`).sort(), [
    'playground-two:running',
    'playground:running',
  ]);
  const first = await env.mupJson<DisplayJson>(['playground', 'status']);
  assert.deepEqual(first.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
});

test('destroy leaves nothing behind: no processes, no files', async () => {
  for (const tag of [[], ['--tag', 'two']]) {
    const run = await env.mup(['playground', 'destroy', ...tag, '--yes'], { timeoutMs: 120_000 });
    assert.equal(run.code, 0, run.stderr);
  }
  assert.equal(simPidsMatching(env.home).length, 0);
  assert.equal(existsSync(join(env.home, 'playground')), false);
  assert.deepEqual(readdirSync(join(env.home, 'storage', 'clusters')), []);
});
