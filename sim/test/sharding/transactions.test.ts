// Transactions through mongos with the real driver: statements reach the shard owning the data inside
// one transaction there, commit makes them visible at once, abort discards them, and a write conflict
// on the shard reaches the client with its TransientTransactionError label (withTransaction retries).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Document, type MongoClient, MongoServerError } from 'mongodb';
import { freePort } from '../helpers/sim.js';
import { type SetHandle, ShardedClusterFixture } from './cluster.js';

type Doc = Document & { _id: number };

describe('transactions through mongos (7.0)', { timeout: 120_000 }, () => {
  const fx = new ShardedClusterFixture('7.0.14');
  let shard: SetHandle;
  let mongos: MongoClient;
  let other: MongoClient;
  let onShard: MongoClient;

  before(async () => {
    await fx.init();
    const cfg = await fx.startSet('cfg', 1, ['--configsvr']);
    shard = await fx.startSet('rsT', 1, ['--shardsvr']);
    const port = await freePort();
    await fx.startMongos(cfg.connectionString, port);
    mongos = await fx.client(`mongodb://127.0.0.1:${port}/`);
    other = await fx.client(`mongodb://127.0.0.1:${port}/`);
    onShard = await fx.direct(shard.ports[0] as number);
    await mongos.db('admin').command({ addShard: shard.connectionString });
    await mongos
      .db('shop')
      .collection<Doc>('stock')
      .insertMany([
        { _id: 1, qty: 10 },
        { _id: 2, qty: 0 },
      ]);
  });

  after(async () => {
    await fx.close();
  });

  it('withTransaction through mongos commits on the shard; nothing shows before the commit', async () => {
    const c = mongos.db('shop').collection<Doc>('stock');
    const session = mongos.startSession();
    try {
      await session.withTransaction(async () => {
        await c.updateOne({ _id: 1 }, { $inc: { qty: -4 } }, { session });
        await c.updateOne({ _id: 2 }, { $inc: { qty: 4 } }, { session });
        assert.equal((await c.findOne({ _id: 1 }, { session }))?.qty, 6);
        assert.equal((await other.db('shop').collection<Doc>('stock').findOne({ _id: 1 }))?.qty, 10);
      });
    } finally {
      await session.endSession();
    }
    const direct = onShard.db('shop').collection<Doc>('stock');
    assert.deepEqual(await direct.find({}, { sort: { _id: 1 } }).toArray(), [
      { _id: 1, qty: 6 },
      { _id: 2, qty: 4 },
    ]);
  });

  it('abortTransaction through mongos discards the writes on the shard', async () => {
    const c = mongos.db('shop').collection<Doc>('stock');
    const session = mongos.startSession();
    try {
      session.startTransaction();
      await c.insertOne({ _id: 9, qty: 1 }, { session });
      await c.deleteOne({ _id: 1 }, { session });
      await session.abortTransaction();
    } finally {
      await session.endSession();
    }
    assert.equal(await c.countDocuments({ _id: { $in: [1, 9] } }), 1);
    assert.equal(await onShard.db('shop').collection<Doc>('stock').findOne({ _id: 9 }), null);
  });

  it('a write conflict reaches the client with TransientTransactionError through mongos', async () => {
    const c = mongos.db('shop').collection<Doc>('stock');
    const c2 = other.db('shop').collection<Doc>('stock');
    const s1 = mongos.startSession();
    const s2 = other.startSession();
    try {
      s1.startTransaction();
      s2.startTransaction();
      await c.updateOne({ _id: 2 }, { $inc: { qty: 1 } }, { session: s1 });
      let caught: MongoServerError | undefined;
      try {
        await c2.updateOne({ _id: 2 }, { $inc: { qty: 100 } }, { session: s2 });
      } catch (err) {
        if (!(err instanceof MongoServerError)) throw err;
        caught = err;
      }
      assert.equal(caught?.code, 112);
      assert.ok(caught?.hasErrorLabel('TransientTransactionError'), JSON.stringify(caught?.errorLabels));
      await s1.commitTransaction();
      await s2.abortTransaction();
    } finally {
      await s1.endSession();
      await s2.endSession();
    }
    assert.equal((await c.findOne({ _id: 2 }))?.qty, 5);
  });
});
