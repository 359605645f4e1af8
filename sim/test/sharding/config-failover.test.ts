// mongos with a config server replica set that has lost its primary: routing keeps working because the
// catalog is read with read preference "nearest" (a secondary serves it), while metadata changes, which
// need the config primary, fail with FailedToSatisfyReadPreference.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Document, MongoClient } from 'mongodb';
import { type SetHandle, ShardedClusterFixture } from './cluster.js';

describe('mongos while the config servers have no primary (7.0)', { timeout: 120_000 }, () => {
  const fx = new ShardedClusterFixture('7.0.14');
  let cfg: SetHandle;
  let mongos: MongoClient;

  before(async () => {
    await fx.init();
    // Member 1 has priority 0: once member 0 dies the set has no primary and cannot elect one.
    cfg = await fx.startSet('cfg', 2, ['--configsvr']);
    const shard = await fx.startSet('sh', 1, ['--shardsvr']);
    const proc = await fx.startMongos(cfg.connectionString);
    mongos = await fx.client(`mongodb://127.0.0.1:${proc.port}/`);
    await mongos.db('admin').command({ addShard: shard.connectionString });
    await mongos
      .db('inv')
      .collection('items')
      .insertOne({ _id: 1 as never, sku: 'a' }, { writeConcern: { w: 'majority' } });
  });

  after(async () => {
    await fx.close();
  });

  it('reads and writes still route; catalog changes fail without a config primary', async () => {
    await cfg.procs[0]?.stop('SIGKILL');
    const found = await mongos
      .db('inv')
      .collection('items')
      .findOne({ _id: 1 as never });
    assert.equal(found?.sku, 'a');
    await mongos
      .db('inv')
      .collection('items')
      .insertOne({ _id: 2 as never, sku: 'b' });
    assert.equal(await mongos.db('inv').collection('items').countDocuments(), 2);
    const { shards } = await mongos.db('admin').command({ listShards: 1 });
    assert.deepEqual(
      (shards as Document[]).map((s) => s._id),
      ['sh'],
    );
    await assert.rejects(mongos.db('admin').command({ enableSharding: 'newdb' }), (err: Document) => {
      assert.equal(err.code, 133);
      assert.equal(err.codeName, 'FailedToSatisfyReadPreference');
      return true;
    });
  });
});
