// The sharded example topology (3 config servers, 2 shards × 3, 2 mongos), deployed with its own dirs at a
// distinct port base: deploy, writes through mongos, listShards, and a rolling restart under a majority writer.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MongoClient } from 'mongodb';
import { type DisplayJson, type E2eEnv, e2eEnv, topologyPath } from '../helpers/e2e.js';
import { lockSystemDirs } from '../helpers/system-dirs.js';
import { readIds, startWriter, watchPrimaries } from '../helpers/writer.js';

const NAME = 'sharded-e2e';
let env: E2eEnv;
let uri: string;
let release: () => Promise<void>;

before(async () => {
  // The example's dirs are absolute (/opt/mongodb...): the standalone example test uses them too.
  release = await lockSystemDirs();
  env = await e2eEnv();
});

after(async () => {
  await env.mup(['cluster', 'destroy', NAME, '--yes'], { timeoutMs: 180_000 });
  await release();
});

async function display(): Promise<DisplayJson> {
  return env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
}

test('the sharded example deploys unchanged: every process up, both shards listed, writes through mongos', async () => {
  const result = await env.mupJson<{ kind: string; uri: string; instances: unknown[] }>(
    env.deployArgs(NAME, topologyPath('sharded-cluster'), '25000'),
    { timeoutMs: 300_000 },
  );
  assert.equal(result.kind, 'sharded');
  assert.equal(result.instances.length, 11);
  assert.match(result.uri, /^mongodb:\/\/localhost:250\d\d,localhost:250\d\d\/$/);
  uri = result.uri;

  const view = await display();
  const byRole = (role: string) =>
    view.processes
      .filter((p) => p.role === role)
      .map((p) => p.status)
      .sort();
  assert.deepEqual(byRole('config'), ['Up|P', 'Up|S', 'Up|S']);
  assert.deepEqual(byRole('mongos'), ['Up', 'Up']);
  for (const shard of ['shard1', 'shard2']) {
    assert.deepEqual(
      view.processes
        .filter((p) => p.replicaSet === shard)
        .map((p) => p.status)
        .sort(),
      ['Up|P', 'Up|S', 'Up|S'],
    );
  }

  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    const shards = await client.db('admin').command({ listShards: 1 });
    assert.deepEqual((shards.shards as { _id: string }[]).map((s) => s._id).sort(), ['shard1', 'shard2']);
    const write = await client
      .db('app')
      .collection('c')
      .insertOne({ through: 'mongos' }, { writeConcern: { w: 'majority' } });
    assert.ok(write.acknowledged);
    assert.ok(await client.db('app').collection('c').findOne({ through: 'mongos' }));
  } finally {
    await client.close();
  }
});

test('rolling restart of the sharded cluster under a majority writer loses nothing; at most two primary changes per set', async () => {
  const view = await display();
  const sets = new Map<string, string[]>();
  for (const p of view.processes) {
    if (p.replicaSet) sets.set(p.replicaSet, [...(sets.get(p.replicaSet) ?? []), p.id]);
  }
  const watch = watchPrimaries(sets);
  const writer = await startWriter(uri);
  await writer.waitForWrites(20);
  const restart = await env.mup(['cluster', 'restart', NAME], { timeoutMs: 600_000 });
  await writer.waitForWrites(40);
  const report = await writer.stop();
  const primaries = await watch.stop();
  assert.equal(restart.code, 0, restart.stderr);
  const present = await readIds(uri);
  const lost = report.acknowledged.filter((id) => !present.has(id));
  assert.deepEqual(lost, [], `${lost.length} acknowledged writes lost`);
  for (const [name, seq] of primaries) {
    assert.ok(seq.length >= 1, `${name}: a primary was seen`);
    assert.ok(seq.length - 1 <= 2, `${name}: primary changed ${seq.length - 1} times (${seq.join(' → ')})`);
  }
  const after = await display();
  assert.ok(
    after.processes.every((p) => p.status.startsWith('Up')),
    JSON.stringify(after.processes.map((p) => p.status)),
  );
});
