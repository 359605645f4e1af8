// Chunk ranges of a sharded collection over two shards (7.0): split at a key and at the median,
// moveChunk moving documents and ownership (config.chunks and the shards' own data show it), mongos
// routing by range (targeted and scatter-gather reads, split inserts, broadcast writes), the balancer
// evening data between shards, and removeShard draining the chunks to completion.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Document, MaxKey, MinKey, type MongoClient } from 'mongodb';
import { waitFor } from '../helpers/sim.js';
import { type SetHandle, ShardedClusterFixture } from './cluster.js';

type Item = { _id: number; k: number; [field: string]: unknown };

async function expectCode(p: Promise<unknown>, code: number, text?: RegExp): Promise<void> {
  await assert.rejects(p, (err: Document) => {
    assert.equal(err.code, code, `expected code ${code}, got ${String(err.code)}: ${String(err.message)}`);
    if (text) assert.match(String(err.message), text);
    return true;
  });
}

describe('chunks, moveChunk, routing, balancer and draining (7.0)', { timeout: 240_000 }, () => {
  const fx = new ShardedClusterFixture('7.0.14');
  let shardA: SetHandle;
  let shardB: SetHandle;
  let mongos: MongoClient;
  let primary = '';
  let other = '';
  const handle = (name: string): SetHandle => (name === 'rsA' ? shardA : shardB);

  before(async () => {
    await fx.init();
    const cfg = await fx.startSet('cfg', 1, ['--configsvr'], { MONGOD_SIM_BALANCER_ROUND_MS: '300' });
    [shardA, shardB] = await Promise.all([
      fx.startSet('rsA', 1, ['--shardsvr']),
      fx.startSet('rsB', 1, ['--shardsvr']),
    ]);
    const proc = await fx.startMongos(cfg.connectionString);
    mongos = await fx.client(`mongodb://127.0.0.1:${proc.port}/`);
    const admin = mongos.db('admin');
    await admin.command({ addShard: shardA.connectionString });
    await admin.command({ addShard: shardB.connectionString });
    await admin.command({ balancerStop: 1 });
    await admin.command({ enableSharding: 'app' });
    await admin.command({ shardCollection: 'app.items', key: { k: 1 } });
    const db = await mongos
      .db('config')
      .collection('databases')
      .findOne({ _id: 'app' as never });
    primary = String(db?.primary);
    other = primary === 'rsA' ? 'rsB' : 'rsA';
  });
  after(async () => {
    await fx.close();
  });

  const chunks = async (): Promise<Document[]> =>
    (await mongos.db('config').collection('chunks').find({}).toArray()).sort((a, b) =>
      a.min.k instanceof MinKey ? -1 : b.min.k instanceof MinKey ? 1 : a.min.k - b.min.k,
    );
  const onShard = async (name: string): Promise<number> => {
    const c = await fx.direct(handle(name).ports[0] as number);
    return c.db('app').collection('items').countDocuments();
  };

  it('split at a key and at the median cuts the ranges in config.chunks', async () => {
    const items = mongos.db('app').collection<Item>('items');
    await items.insertMany(Array.from({ length: 100 }, (_, i) => ({ _id: i, k: i })));
    const admin = mongos.db('admin');
    await admin.command({ split: 'app.items', middle: { k: 50 } });
    await admin.command({ split: 'app.items', find: { k: 10 } });
    const cs = await chunks();
    assert.equal(cs.length, 3);
    assert.ok(cs[0]?.min.k instanceof MinKey);
    assert.equal(cs[0]?.max.k, 25, 'the median of the 50 keys below 50');
    assert.equal(cs[1]?.min.k, 25);
    assert.equal(cs[1]?.max.k, 50);
    assert.ok(cs[2]?.max.k instanceof MaxKey);
    assert.ok(cs.every((c) => c.shard === primary));
    await expectCode(admin.command({ split: 'app.items', middle: { k: 50 } }), 87);
    await expectCode(admin.command({ split: 'app.nope', middle: { k: 1 } }), 118);
    await expectCode(admin.command({ split: 'app.items', middle: { k: 1 }, find: { k: 1 } }), 2);
  });

  it('moveChunk moves the range: documents, owner and version', async () => {
    const admin = mongos.db('admin');
    const before = (await chunks())[2] as Document;
    const moved = await admin.command({ moveChunk: 'app.items', find: { k: 60 }, to: other });
    assert.equal(typeof moved.millis, 'number');
    const after1 = (await chunks())[2] as Document;
    assert.equal(after1.shard, other);
    assert.ok(after1.lastmod.high > before.lastmod.high, 'a migration bumps the major version');
    assert.equal(await onShard(other), 50);
    assert.equal(await onShard(primary), 50);
    await expectCode(admin.command({ moveChunk: 'app.items', find: { k: 1 }, to: 'rsZ' }), 70);
  });

  it('mongos routes by range: targeted and scatter-gather reads, split inserts, broadcast writes', async () => {
    const items = mongos.db('app').collection<Item>('items');
    assert.equal((await items.findOne({ k: 70 }))?._id, 70);
    const top = await items.find({}).sort({ k: -1 }).limit(5).toArray();
    assert.deepEqual(
      top.map((d) => d.k),
      [99, 98, 97, 96, 95],
    );
    const page = await items
      .find({ k: { $gte: 40 } }, { batchSize: 7 })
      .sort({ k: 1 })
      .toArray();
    assert.equal(page.length, 60, 'getMore over a merged cursor');
    assert.equal(await items.countDocuments({}), 100);
    const [agg] = await items.aggregate([{ $match: { k: { $gte: 45 } } }, { $count: 'n' }]).toArray();
    assert.equal(agg?.n, 55);
    assert.equal((await items.updateMany({}, { $set: { t: 1 } })).modifiedCount, 100);
    assert.equal((await items.deleteOne({ k: 75 })).deletedCount, 1);
    await items.insertMany([
      { _id: 1000, k: 1000 },
      { _id: 1001, k: -5 },
    ]);
    assert.equal(await onShard(other), 50, 'k 1000 in, k 75 out');
    assert.equal(await onShard(primary), 51);
    assert.deepEqual((await items.distinct('t')).sort(), [1]);
  });

  it('the balancer moves chunks until the data is even', async () => {
    const admin = mongos.db('admin');
    const items = mongos.db('app').collection<Item>('items');
    // 6.0+ balances data size: more than 3 × chunksize between shards triggers a migration.
    await mongos
      .db('config')
      .collection('settings')
      .updateOne({ _id: 'chunksize' as never }, { $set: { value: 1 } }, { upsert: true });
    const pad = 'p'.repeat(1000);
    for (let b = 0; b < 4; b++) {
      await items.insertMany(
        Array.from({ length: 1000 }, (_, i) => ({
          _id: 2000 + b * 1000 + i,
          k: 51 + (b * 1000 + i) / 10_000,
          pad,
        })),
      );
    }
    const before = await chunks();
    await admin.command({ balancerStart: 1 });
    await waitFor(
      async () => {
        const now = await chunks();
        return (
          now.filter((c) => c.shard === primary).length > before.filter((c) => c.shard === primary).length
        );
      },
      60_000,
      'a balancer migration toward the lighter shard',
    );
    const status = await admin.command({ balancerStatus: 1 });
    assert.equal(status.mode, 'full');
    assert.equal(await items.countDocuments({}), 4101);
  });

  it('removeShard drains every chunk, then completes; the shard can be added back once empty', async () => {
    const admin = mongos.db('admin');
    const items = mongos.db('app').collection<Item>('items');
    const started = await admin.command({ removeShard: other });
    assert.equal(started.state, 'started');
    assert.deepEqual(started.dbsToMove, []);
    let last: Document = {};
    const seen = new Set<string>();
    await waitFor(
      async () => {
        last = await admin.command({ removeShard: other });
        seen.add(String(last.state));
        return last.state === 'completed';
      },
      90_000,
      'removeShard to complete',
    );
    assert.ok(seen.has('completed'));
    assert.ok((await chunks()).every((c) => c.shard === primary));
    assert.equal(await onShard(other), 0);
    assert.equal(await items.countDocuments({}), 4101);
    const leftovers = await fx.direct(handle(other).ports[0] as number);
    await leftovers.db('app').dropDatabase();
    assert.equal((await admin.command({ addShard: handle(other).connectionString })).shardAdded, other);
  });
});

describe('the balancer before 6.0 evens chunk counts (5.0)', { timeout: 180_000 }, () => {
  const fx = new ShardedClusterFixture('5.0.28');
  after(async () => {
    await fx.close();
  });

  it('moves chunks until the shards differ by less than the migration threshold', async () => {
    await fx.init();
    const cfg = await fx.startSet('cfg', 1, ['--configsvr'], { MONGOD_SIM_BALANCER_ROUND_MS: '300' });
    const [a, b] = await Promise.all([
      fx.startSet('rsA', 1, ['--shardsvr']),
      fx.startSet('rsB', 1, ['--shardsvr']),
    ]);
    const proc = await fx.startMongos(cfg.connectionString);
    const mongos = await fx.client(`mongodb://127.0.0.1:${proc.port}/`);
    const admin = mongos.db('admin');
    await admin.command({ addShard: a.connectionString });
    await admin.command({ addShard: b.connectionString });
    await admin.command({ balancerStop: 1 });
    await admin.command({ enableSharding: 'app' });
    await admin.command({ shardCollection: 'app.items', key: { k: 1 } });
    const items = mongos.db('app').collection<Item>('items');
    await items.insertMany(Array.from({ length: 60 }, (_, i) => ({ _id: i, k: i })));
    for (const k of [10, 20, 30, 40, 50]) await admin.command({ split: 'app.items', middle: { k } });
    const perShard = async (): Promise<number[]> => {
      const cs = await mongos.db('config').collection('chunks').find({}).toArray();
      return ['rsA', 'rsB'].map((s) => cs.filter((c) => c.shard === s).length).sort();
    };
    assert.deepEqual(await perShard(), [0, 6], 'all six chunks on the primary shard');
    await admin.command({ balancerStart: 1 });
    await waitFor(async () => (await perShard())[0] === 3, 60_000, 'three chunks on each shard');
    assert.deepEqual(await perShard(), [3, 3]);
    assert.equal(await items.countDocuments({}), 60);
    assert.equal((await items.find({ k: { $gte: 25 } }).toArray()).length, 35);

    // No acknowledged write is lost while the chunk it targets migrates: the donor's critical section
    // sends writes that arrive during the commit back to mongos (StaleConfig), which re-routes them.
    await admin.command({ balancerStop: 1 });
    const cs = await mongos.db('config').collection('chunks').findOne({ 'min.k': 20 });
    const to = cs?.shard === 'rsA' ? 'rsB' : 'rsA';
    let stop = false;
    let inserted = 0;
    let increments = 0;
    const writer = (async () => {
      for (let i = 0; i < 5000 && !stop; i++) {
        await items.insertOne({ _id: 10_000 + i, k: 20 + (i % 1000) / 100 });
        inserted++;
        await items.updateOne({ k: 25 }, { $inc: { hits: 1 } } as never);
        increments++;
      }
    })();
    await admin.command({ moveChunk: 'app.items', find: { k: 25 }, to });
    stop = true;
    await writer;
    const moved = await mongos.db('config').collection('chunks').findOne({ 'min.k': 20 });
    assert.equal(moved?.shard, to);
    assert.ok(inserted > 0, 'the writer ran during the migration');
    assert.equal(await items.countDocuments({ _id: { $gte: 10_000 } }), inserted);
    assert.equal((await items.findOne({ k: 25 }))?.hits, increments);
    assert.equal(await items.countDocuments({}), 60 + inserted);
  });
});
