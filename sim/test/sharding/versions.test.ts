// The version-dependent parts of sharding, one small cluster per release family: enableSharding
// before shardCollection until 6.0 (implicit from 6.0), the catalog's per-version fields
// (config.databases.partitioned before 6.0, chunks keyed by ns before 5.0 and by collection UUID
// after), removeShard's reply, and routing to the primary shard — through the real driver.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Document, MongoClient } from 'mongodb';
import { freePort, startSim } from '../helpers/sim.js';
import { type SetHandle, ShardedClusterFixture } from './cluster.js';

const major = (v: string): number => Number(v.split('.')[0]);

for (const version of ['3.6.23', '4.2.25', '5.0.28', '8.0.3']) {
  describe(`sharding on ${version}`, { timeout: 120_000 }, () => {
    const fx = new ShardedClusterFixture(version);
    let shards: SetHandle[] = [];
    let mongos: MongoClient;

    before(async () => {
      await fx.init();
      const cfg = await fx.startSet('cfg', 1, ['--configsvr']);
      shards = await Promise.all([
        fx.startSet('s1', 1, ['--shardsvr']),
        fx.startSet('s2', 1, ['--shardsvr']),
      ]);
      const proc = await fx.startMongos(cfg.connectionString);
      mongos = await fx.client(`mongodb://127.0.0.1:${proc.port}/`);
      for (const s of shards) await mongos.db('admin').command({ addShard: s.connectionString });
    });

    after(async () => {
      await fx.close();
    });

    it('lists both shards', async () => {
      const { shards: listed } = await mongos.db('admin').command({ listShards: 1 });
      assert.deepEqual((listed as Document[]).map((s) => s._id).sort(), ['s1', 's2']);
      for (const s of listed as Document[]) assert.equal(s.topologyTime !== undefined, major(version) >= 5);
    });

    it('shardCollection needs enableSharding before 6.0, and routes writes to the primary shard', async () => {
      const admin = mongos.db('admin');
      if (major(version) < 6) {
        await assert.rejects(
          admin.command({ shardCollection: 'shop.orders', key: { _id: 1 } }),
          (err: Document) => {
            assert.equal(err.code, 20);
            assert.match(String(err.message), /sharding not enabled for db shop/);
            return true;
          },
        );
        await admin.command({ enableSharding: 'shop' });
      }
      const r = await admin.command({ shardCollection: 'shop.orders', key: { _id: 1 } });
      assert.equal(r.collectionsharded, 'shop.orders');
      const dbDoc = await mongos
        .db('config')
        .collection('databases')
        .findOne({ _id: 'shop' as never });
      assert.equal(dbDoc?.partitioned, major(version) < 6 ? true : undefined);
      const coll = await mongos
        .db('config')
        .collection('collections')
        .findOne({ _id: 'shop.orders' as never });
      const chunk = await mongos
        .db('config')
        .collection('chunks')
        .findOne(major(version) >= 5 ? { uuid: coll?.uuid } : { ns: 'shop.orders' });
      assert.ok(chunk, 'the initial chunk is recorded');
      assert.equal(chunk.shard, dbDoc?.primary);

      await mongos
        .db('shop')
        .collection('customers')
        .insertMany([{ a: 1 }, { a: 2 }, { a: 3 }]);
      const primary = shards.find((s) => s.name === dbDoc?.primary) as SetHandle;
      const other = shards.find((s) => s !== primary) as SetHandle;
      const p = await fx.direct(primary.ports[0] as number);
      const o = await fx.direct(other.ports[0] as number);
      assert.equal(await p.db('shop').collection('customers').countDocuments(), 3);
      assert.equal(await o.db('shop').collection('customers').countDocuments(), 0);
    });

    it('removeShard starts draining with the databases to move', async () => {
      const dbDoc = await mongos
        .db('config')
        .collection('databases')
        .findOne({ _id: 'shop' as never });
      const r = await mongos.db('admin').command({ removeShard: String(dbDoc?.primary) });
      assert.equal(r.state, 'started');
      assert.deepEqual(r.dbsToMove, ['shop']);
      const again = await mongos.db('admin').command({ removeShard: String(dbDoc?.primary) });
      assert.equal(again.state, 'ongoing');
      assert.equal(again.remaining.jumboChunks !== undefined, major(version) >= 5);
    });
  });
}

describe('a replica set without --shardsvr before 5.0 (4.2)', { timeout: 60_000 }, () => {
  const fx = new ShardedClusterFixture('4.2.25');
  after(async () => {
    await fx.close();
  });

  it('is added, but refuses the first sharding command with 193', async () => {
    await fx.init();
    const cfg = await fx.startSet('cfg', 1, ['--configsvr']);
    const plain = await fx.startSet('plain', 1, []);
    const proc = await fx.startMongos(cfg.connectionString);
    const mongos = await fx.client(`mongodb://127.0.0.1:${proc.port}/`);
    assert.equal(
      (await mongos.db('admin').command({ addShard: plain.connectionString })).shardAdded,
      'plain',
    );
    await mongos.db('admin').command({ enableSharding: 'web' });
    await assert.rejects(
      mongos.db('admin').command({ shardCollection: 'web.hits', key: { _id: 1 } }),
      (err: Document) => {
        assert.equal(err.code, 193);
        assert.match(String(err.message), /Cannot accept sharding commands if not started with --shardsvr/);
        return true;
      },
    );
  });
});

describe('a standalone --shardsvr shard before 5.0 (4.4)', { timeout: 60_000 }, () => {
  const fx = new ShardedClusterFixture('4.4.29');
  after(async () => {
    await fx.close();
  });

  it('is added under a generated shardNNNN name and receives routed writes', async () => {
    await fx.init();
    const cfg = await fx.startSet('cfg', 1, ['--configsvr']);
    const port = await freePort();
    const dbPath = join(fx.root, 'standalone');
    await mkdir(dbPath, { recursive: true });
    fx.track(
      await startSim(
        join(fx.bin, 'mongod'),
        ['--port', String(port), '--bind_ip', '127.0.0.1', '--dbpath', dbPath, '--shardsvr'],
        { port },
      ),
    );
    const proc = await fx.startMongos(cfg.connectionString);
    const mongos = await fx.client(`mongodb://127.0.0.1:${proc.port}/`);
    const r = await mongos.db('admin').command({ addShard: `127.0.0.1:${port}` });
    assert.equal(r.shardAdded, 'shard0000');
    await mongos.db('solo').collection('c').insertOne({ v: 1 });
    const direct = await fx.direct(port);
    assert.equal(await direct.db('solo').collection('c').countDocuments(), 1);
  });
});
