// Change streams through mongos with the real driver: a cluster-wide stream merges the events of two
// shards in order, a collection stream follows its collection on its shard, and resuming through mongos
// continues after the token mongos handed out.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChangeStream, Document, MongoClient } from 'mongodb';
import { freePort } from '../helpers/sim.js';
import { ShardedClusterFixture } from './cluster.js';

type Doc = Document & { _id: number };

async function take(cs: ChangeStream, n: number): Promise<Document[]> {
  const out: Document[] = [];
  for (let i = 0; i < n; i++) out.push(await cs.next());
  return out;
}

describe('change streams through mongos (7.0, two shards)', { timeout: 120_000 }, () => {
  const fx = new ShardedClusterFixture('7.0.14');
  let mongos: MongoClient;

  before(async () => {
    await fx.init();
    const cfg = await fx.startSet('cfg', 1, ['--configsvr']);
    const [a, b] = await Promise.all([
      fx.startSet('rsA', 1, ['--shardsvr']),
      fx.startSet('rsB', 1, ['--shardsvr']),
    ]);
    const port = await freePort();
    await fx.startMongos(cfg.connectionString, port);
    mongos = await fx.client(`mongodb://127.0.0.1:${port}/`);
    const admin = mongos.db('admin');
    await admin.command({ addShard: a?.connectionString });
    await admin.command({ addShard: b?.connectionString });
    // Database "left" on rsA, "right" on rsB.
    await mongos.db('left').collection<Doc>('c').insertOne({ _id: 0 });
    await mongos.db('right').collection<Doc>('c').insertOne({ _id: 0 });
    for (const [db, shard] of [
      ['left', 'rsA'],
      ['right', 'rsB'],
    ] as const) {
      const entry = await mongos
        .db('config')
        .collection('databases')
        .findOne({ _id: db as never });
      if (entry?.primary !== shard) await admin.command({ movePrimary: db, to: shard });
    }
  });

  after(async () => {
    await fx.close();
  });

  it('a cluster-wide stream merges both shards in order and resumes through mongos', async () => {
    const cs = mongos.watch();
    let token: unknown;
    try {
      assert.equal(await cs.tryNext(), null);
      await mongos.db('left').collection<Doc>('c').insertOne({ _id: 1 });
      await mongos.db('right').collection<Doc>('c').insertOne({ _id: 2 });
      await mongos
        .db('left')
        .collection<Doc>('c')
        .updateOne({ _id: 1 }, { $set: { x: 1 } });
      const events = await take(cs, 3);
      assert.deepEqual(
        events.map((e) => `${e.operationType} ${e.ns?.db} ${e.documentKey?._id}`),
        ['insert left 1', 'insert right 2', 'update left 1'],
      );
      token = events[0]?._id;
    } finally {
      await cs.close();
    }
    const resumed = mongos.watch([], { resumeAfter: token });
    try {
      const events = await take(resumed, 2);
      assert.deepEqual(
        events.map((e) => `${e.operationType} ${e.ns?.db}`),
        ['insert right', 'update left'],
      );
    } finally {
      await resumed.close();
    }
  });

  it('a collection stream through mongos sees its collection only', async () => {
    const c = mongos.db('right').collection<Doc>('c');
    const cs = c.watch([], { fullDocument: 'updateLookup' });
    try {
      await cs.tryNext();
      await mongos.db('left').collection<Doc>('c').insertOne({ _id: 10 });
      await c.insertOne({ _id: 11, n: 1 });
      await c.updateOne({ _id: 11 }, { $inc: { n: 1 } });
      const [ins, upd] = await take(cs, 2);
      assert.deepEqual(ins?.fullDocument, { _id: 11, n: 1 });
      assert.deepEqual(upd?.fullDocument, { _id: 11, n: 2 });
    } finally {
      await cs.close();
    }
  });
});
