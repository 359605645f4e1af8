// Routing through mongos follows a shard's primary: when the primary of the database's primary shard
// is killed and the shard elects another member, mongos rediscovers the shard and writes through it
// keep working, with every majority-acknowledged document still there.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MongoClient } from 'mongodb';
import { type SetHandle, ShardedClusterFixture } from './cluster.js';

describe('mongos across a shard failover (7.0)', { timeout: 120_000 }, () => {
  const fx = new ShardedClusterFixture('7.0.14');
  let shard: SetHandle;
  let mongos: MongoClient;

  before(async () => {
    await fx.init();
    const cfg = await fx.startSet('cfg', 1, ['--configsvr']);
    shard = await fx.startSet('sh', 3, ['--shardsvr'], {}, false);
    await fx.initiate(shard, false, true);
    const proc = await fx.startMongos(cfg.connectionString);
    mongos = await fx.client(`mongodb://127.0.0.1:${proc.port}/`);
    await mongos.db('admin').command({ addShard: shard.connectionString });
  });

  after(async () => {
    await fx.close();
  });

  it('keeps routing writes and reads to the new primary', async () => {
    const coll = mongos.db('ha').collection('log');
    await coll.insertMany([{ _id: 1 as never }, { _id: 2 as never }], { writeConcern: { w: 'majority' } });
    let primary = -1;
    for (let i = 0; i < shard.ports.length; i++) {
      if ((await fx.command(shard.ports[i] as number, { hello: 1 })).isWritablePrimary === true) primary = i;
    }
    assert.ok(primary >= 0);
    await shard.procs[primary]?.stop('SIGKILL');
    // The write waits inside mongos while the shard elects; the driver's own retry covers the rest.
    await coll.insertOne({ _id: 3 as never }, { writeConcern: { w: 'majority' } });
    assert.equal(await coll.countDocuments(), 3);
    const survivors = shard.ports.filter((_, i) => i !== primary);
    let newPrimary = false;
    for (const port of survivors) {
      if ((await fx.command(port, { hello: 1 })).isWritablePrimary === true) newPrimary = true;
    }
    assert.ok(newPrimary, 'a surviving member is primary');
  });
});
