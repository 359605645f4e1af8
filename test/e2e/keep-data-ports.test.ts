// `destroy --keep-data` remembers the kept members' ports: a later deploy of the same cluster with `port: 0`
// gives each member its own port, so its data dir (named after the port) and the replica-set config inside
// it fit again, whatever port base the new deploy starts from.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MongoClient } from 'mongodb';
import { destroyAllClusters, type E2eEnv, e2eEnv, e2ePortBase } from '../helpers/e2e.js';

const PORT_BASE = e2ePortBase();
let env: E2eEnv | undefined;

after(async () => {
  if (env) await destroyAllClusters(env, 120_000);
});

interface Deployed {
  uri: string;
  reusedData: string[];
  instances: { id: string; port: number }[];
}

test('a redeploy over kept data gives every port: 0 member its kept port back and the set is healthy', async () => {
  env = await e2eEnv();
  const topology = join(env.userHome, 'kept.yaml');
  await writeFile(
    topology,
    `global: { deploy_dir: kept }\nmongod_servers:\n${'  - { host: localhost, port: 0, replica_set: rs0 }\n'.repeat(3)}`,
  );
  const first = await env.mupJson<Deployed>(env.deployArgs('kept', topology, PORT_BASE), {
    timeoutMs: 180_000,
  });
  assert.deepEqual(first.reusedData, []);
  const client = new MongoClient(first.uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    await client
      .db('app')
      .collection('c')
      .insertOne({ marker: 'kept' }, { writeConcern: { w: 'majority' } });
  } finally {
    await client.close();
  }
  const destroyed = await env.mupJson<{ keptData: string[] }>(
    ['cluster', 'destroy', 'kept', '--keep-data', '--yes'],
    {
      timeoutMs: 120_000,
    },
  );
  assert.equal(destroyed.keptData.length, 3);
  const record = join(env.home, 'storage', 'kept-data', 'kept.json');
  assert.ok(existsSync(record), 'the kept ports are recorded');

  // Another port base: without the record the members would get other ports and other (empty) data dirs.
  const again = await env.mupJson<Deployed>(env.deployArgs('kept', topology, PORT_BASE + 50), {
    timeoutMs: 180_000,
  });
  assert.deepEqual(
    again.instances.map((i) => i.port),
    first.instances.map((i) => i.port),
  );
  assert.deepEqual([...again.reusedData].sort(), [...destroyed.keptData].sort());
  const reader = new MongoClient(again.uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    assert.ok(
      await reader.db('app').collection('c').findOne({ marker: 'kept' }),
      'the kept document is back',
    );
  } finally {
    await reader.close();
  }
  assert.equal(existsSync(record), false, 'the record goes once the cluster runs on its ports again');
});
