// A sharded cluster stopped and started again, as `mup cluster stop` / `start` do: the catalog lives in
// the config servers' dbPath and the data in the shards', so after a clean restart of every process
// mongos finds the same shards, databases and documents.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Document, MongoClient } from 'mongodb';
import type { SimProcess } from '../helpers/sim.js';
import { type SetHandle, ShardedClusterFixture } from './cluster.js';

describe('sharded cluster restart (6.0)', { timeout: 120_000 }, () => {
  const fx = new ShardedClusterFixture('6.0.16');
  let cfg: SetHandle;
  let shard: SetHandle;
  let mongosProc: SimProcess;

  before(async () => {
    await fx.init();
    cfg = await fx.startSet('cfg', 1, ['--configsvr']);
    shard = await fx.startSet('data', 1, ['--shardsvr']);
    mongosProc = await fx.startMongos(cfg.connectionString);
    const m = await fx.client(`mongodb://127.0.0.1:${mongosProc.port}/`);
    await m.db('admin').command({ addShard: shard.connectionString });
    await m.db('admin').command({ enableSharding: 'kept' });
    await m.db('admin').command({ shardCollection: 'kept.events', key: { _id: 1 } });
    await m
      .db('kept')
      .collection('notes')
      .insertOne({ _id: 'n1' as never, text: 'survives' }, { writeConcern: { w: 'majority' } });
    await m
      .db('kept')
      .collection('events')
      .insertOne({ _id: 1 as never }, { writeConcern: { w: 'majority' } });
    await m.close();
  });

  after(async () => {
    await fx.close();
  });

  it('keeps shards, databases, sharded collections and documents', async () => {
    assert.equal((await mongosProc.stop('SIGTERM')).code, 0);
    await fx.restartSet(shard);
    await fx.restartSet(cfg);
    await Promise.all([fx.waitForPrimary(cfg), fx.waitForPrimary(shard)]);
    const again = await fx.startMongos(cfg.connectionString, mongosProc.port);
    const m: MongoClient = await fx.client(`mongodb://127.0.0.1:${again.port}/`);
    const { shards } = await m.db('admin').command({ listShards: 1 });
    assert.deepEqual(
      (shards as Document[]).map((s) => s._id),
      ['data'],
    );
    assert.equal(
      (
        await m
          .db('kept')
          .collection('notes')
          .findOne({ _id: 'n1' as never })
      )?.text,
      'survives',
    );
    assert.equal(await m.db('kept').collection('events').countDocuments(), 1);
    const coll = await m
      .db('config')
      .collection('collections')
      .findOne({ _id: 'kept.events' as never });
    assert.deepEqual(coll?.key, { _id: 1 });
    const version = await m.db('config').collection('version').findOne({});
    assert.ok(version?.clusterId, 'config.version keeps the cluster id');
  });
});
