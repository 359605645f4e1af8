// The sharded example topology (3 config servers, 2 shards × 3, 2 mongos), deployed with its own dirs at a
// distinct port base: deploy, writes through mongos, listShards, and a rolling restart under a majority writer.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MongoClient } from 'mongodb';
import {
  type DisplayJson,
  destroyCluster,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
  shortenQuiesce,
  topologyPath,
} from '../helpers/e2e.js';
import { lockSystemDirs } from '../helpers/system-dirs.js';
import {
  assertWriterAvailability,
  describeFailures,
  lostWrites,
  startWriter,
  uniqueCollection,
  type WriterReport,
  type WriterTarget,
  watchPrimaries,
} from '../helpers/writer.js';

const NAME = 'sharded-e2e';
const PORT_BASE = e2ePortBase();
let env: E2eEnv;
let uri: string;
let release: () => Promise<void>;

before(async () => {
  // The example's dirs are absolute (/opt/mongodb...): the standalone example test uses them too.
  release = await lockSystemDirs();
  env = await e2eEnv();
});

after(async () => {
  try {
    await destroyCluster(env, NAME, 180_000);
  } finally {
    await release();
  }
});

async function display(): Promise<DisplayJson> {
  return env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
}

test('the sharded example deploys unchanged: every process up, both shards listed, writes through mongos', async () => {
  const result = await env.mupJson<{ kind: string; uri: string; instances: unknown[] }>(
    env.deployArgs(NAME, topologyPath('sharded-cluster'), PORT_BASE),
    { timeoutMs: 300_000 },
  );
  assert.equal(result.kind, 'sharded');
  assert.equal(result.instances.length, 11);
  assert.match(result.uri, /^mongodb:\/\/localhost:(\d+),localhost:(\d+)\/$/);
  for (const port of result.uri.match(/\d+(?=[,/])/g) ?? [])
    assert.ok(Number(port) >= PORT_BASE && Number(port) < PORT_BASE + 100, `mongos port ${port}`);
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

/** Two databases whose primary shards differ, so that unsharded writes reach both shards' primaries. */
async function databasesOnBothShards(): Promise<WriterTarget[]> {
  const targets = [
    { db: 'mup_e2e_a', collection: uniqueCollection() },
    { db: 'mup_e2e_b', collection: uniqueCollection() },
  ];
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    for (const t of targets)
      await client
        .db(t.db)
        .collection<{ _id: number }>(t.collection)
        .insertOne({ _id: -1 }, { writeConcern: { w: 'majority' } });
    const primaryOf = async (db: string) =>
      (
        await client
          .db('config')
          .collection<{ _id: string; primary: string }>('databases')
          .findOne({ _id: db })
      )?.primary;
    const a = await primaryOf('mup_e2e_a');
    const b = await primaryOf('mup_e2e_b');
    assert.ok(a && b, `primary shards: ${a}, ${b}`);
    if (a === b)
      await client
        .db('admin')
        .command({ movePrimary: 'mup_e2e_b', to: a === 'shard1' ? 'shard2' : 'shard1' });
    const after = [await primaryOf('mup_e2e_a'), await primaryOf('mup_e2e_b')].sort();
    assert.deepEqual(after, ['shard1', 'shard2'], 'the two databases live on different shards');
  } finally {
    await client.close();
  }
  return targets;
}

test('rolling restart of the sharded cluster under a majority writer to both shards loses nothing, fails no write; at most two primary changes per set', async (t) => {
  const view = await display();
  assert.equal(view.processes.length, 11);
  const sets = new Map<string, string[]>();
  for (const p of view.processes) {
    if (p.replicaSet) sets.set(p.replicaSet, [...(sets.get(p.replicaSet) ?? []), p.id]);
  }
  // The example is deployed unchanged (15 s quiesce); the 3-member example's rolling restart is the test
  // that keeps the default. Here every process's quiesce is shortened at run time.
  await shortenQuiesce(view, 500);
  const targets = await databasesOnBothShards();
  const watch = watchPrimaries(sets);
  const writer = await startWriter(uri, { targets });
  let report: WriterReport;
  let primaries: Map<string, string[]>;
  try {
    await writer.waitForWrites(20);
    const restart = await env.mup(['cluster', 'restart', NAME, '--yes'], { timeoutMs: 600_000 });
    assert.equal(restart.code, 0, restart.stderr);
    await writer.waitForWrites(writer.acknowledgedCount() + 20);
  } finally {
    report = await writer.stop();
    primaries = await watch.stop();
  }
  t.diagnostic(
    `writer: ${report.acknowledged.length} acknowledged, longest stall ${report.longestStallMs} ms, ` +
      `failures: ${describeFailures(report)}`,
  );
  const changes = [...primaries.values()].reduce((n, seq) => n + Math.max(0, seq.length - 1), 0);
  assertWriterAvailability(report, changes);
  // Both targets (so both shards) took writes.
  for (const i of [0, 1])
    assert.ok(
      report.acknowledged.some((id) => id % 2 === i),
      `target ${i} written`,
    );
  const lost = await lostWrites(uri, report);
  assert.deepEqual(lost, [], `${lost.length} acknowledged writes lost`);
  assert.deepEqual([...primaries.keys()].sort(), ['configRS', 'shard1', 'shard2']);
  for (const [name, seq] of primaries) {
    assert.ok(seq.length >= 1, `${name}: a primary was seen`);
    assert.ok(seq.length - 1 <= 2, `${name}: primary changed ${seq.length - 1} times (${seq.join(' → ')})`);
  }
  const after = await display();
  assert.equal(after.processes.length, 11);
  assert.ok(
    after.processes.every((p) => p.status.startsWith('Up')),
    JSON.stringify(after.processes.map((p) => p.status)),
  );
  for (const p of after.processes)
    assert.notEqual(p.pid, view.processes.find((b) => b.id === p.id)?.pid, `${p.id} was restarted`);
});
