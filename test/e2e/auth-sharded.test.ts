// A sharded cluster with auth (the default): the admin user is created through a mongos (stored on the config
// servers) and on each shard for shard-local maintenance; every later operation authenticates.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MongoClient, MongoServerError } from 'mongodb';
import { stringify } from 'yaml';
import { type DisplayJson, destroyAllClusters, type E2eEnv, e2eEnv, e2ePortBase } from '../helpers/e2e.js';

const NAME = 'auth-sh';
const PORT_BASE = e2ePortBase();

let env: E2eEnv;
let topology: string;

before(async () => {
  env = await e2eEnv();
  topology = join(env.userHome, 'auth-sh.yaml');
  const quick = { setParameter: { shutdownTimeoutMillisForSignaledShutdown: 300 } };
  await writeFile(
    topology,
    stringify({
      global: { deploy_dir: 'auth-sh' },
      server_configs: {
        mongod: quick,
        mongos: { setParameter: { mongosShutdownTimeoutMillisForSignaledShutdown: 300 } },
      },
      config_servers: [{ host: 'localhost', port: 0, replica_set: 'cfg' }],
      mongod_servers: [
        { host: 'localhost', port: 0, replica_set: 'shard1' },
        { host: 'localhost', port: 0, replica_set: 'shard1' },
        { host: 'localhost', port: 0, replica_set: 'shard2' },
      ],
      mongos_servers: [{ host: 'localhost', port: 0 }],
    }),
  );
});

after(async () => {
  await destroyAllClusters(env);
});

async function writeCode(uri: string): Promise<number> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    await client.db('app').collection('items').insertOne({ at: Date.now() });
    return 0;
  } catch (error) {
    if (error instanceof MongoServerError) return Number(error.code);
    throw error;
  } finally {
    await client.close();
  }
}

test('sharded deploy with auth: mongos refuses unauthenticated writes, the credentials write; shards have the user too', async () => {
  const deploy = await env.mup(['--json', ...env.authDeployArgs(NAME, topology, PORT_BASE)], {
    timeoutMs: 300_000,
  });
  assert.equal(deploy.code, 0, deploy.stderr);
  const result = JSON.parse(deploy.stdout) as {
    uri: string;
    plan: { phases: { steps: { id: string }[] }[] };
  };
  const steps = result.plan.phases.flatMap((p) => p.steps.map((s) => s.id));
  assert.deepEqual(
    steps.filter((id) => id.startsWith('admin-user:')).map((id) => id.replace(/:localhost:\d+$/, ':mongos')),
    ['admin-user:mongos', 'admin-user:shard1', 'admin-user:shard2'],
  );
  assert.equal(await writeCode(result.uri), 13);
  const uriRun = await env.mup(['cluster', 'credentials', NAME, '--uri']);
  assert.equal(uriRun.code, 0, uriRun.stderr);
  assert.equal(await writeCode(uriRun.stdout.trim()), 0);

  // Each shard's own user (shard-local maintenance): authenticates directly on the shard's members.
  const password = readFileSync(
    join(env.home, 'storage', 'clusters', NAME, 'secrets', 'admin-password'),
    'utf8',
  );
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  for (const shard of ['shard1', 'shard2']) {
    const primary = view.processes.find((p) => p.replicaSet === shard && p.status === 'Up|P');
    assert.ok(primary, `${shard} has a primary`);
    const client = new MongoClient(
      `mongodb://mup-admin:${encodeURIComponent(password)}@localhost:${primary.port}/?directConnection=true&authSource=admin`,
      { serverSelectionTimeoutMS: 10_000 },
    );
    try {
      const status = await client.db('admin').command({ replSetGetStatus: 1 });
      assert.equal(status.set, shard);
    } finally {
      await client.close();
    }
  }
});

test('rolling restart, stop, start and display of the sharded auth cluster', async () => {
  const restart = await env.mup(['cluster', 'restart', NAME, '--yes'], { timeoutMs: 400_000 });
  assert.equal(restart.code, 0, restart.stderr);
  const stop = await env.mup(['cluster', 'stop', NAME, '--yes'], { timeoutMs: 240_000 });
  assert.equal(stop.code, 0, stop.stderr);
  const start = await env.mup(['cluster', 'start', NAME], { timeoutMs: 240_000 });
  assert.equal(start.code, 0, start.stderr);
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  assert.equal(view.status, 'running');
  assert.ok(
    view.processes.every((p) => p.status.startsWith('Up')),
    JSON.stringify(view.processes),
  );
  const uriRun = await env.mup(['cluster', 'credentials', NAME, '--uri']);
  assert.equal(await writeCode(uriRun.stdout.trim()), 0);
});
