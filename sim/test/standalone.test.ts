// Every version family: a standalone starts, the real driver connects and sees a Standalone in a
// Single topology, writes and reads back, and the data survives a restart on the same dbPath.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { killAll, removeDir, simBin, startMongod, tempDir, VERSION_FAMILIES } from './helpers/sim.js';

const EXPECTED_WIRE: Record<string, number> = {
  '3.6': 6,
  '4.0': 7,
  '4.2': 8,
  '4.4': 9,
  '5.0': 13,
  '6.0': 17,
  '7.0': 21,
  '8.0': 25,
};

describe('standalone mongod per version family', () => {
  let root: string;
  before(async () => {
    root = await tempDir();
  });
  after(async () => {
    await killAll();
    await removeDir(root);
  });

  for (const version of VERSION_FAMILIES) {
    const series = version.split('.').slice(0, 2).join('.');
    it(`${version}: connect, insert, read back, restart keeps the data`, async () => {
      const bin = await simBin(version, root);
      const dbPath = join(root, `db-${version}`);
      const first = await startMongod(bin, dbPath);
      const client = new MongoClient(`mongodb://127.0.0.1:${first.port}/`, {
        serverSelectionTimeoutMS: 5000,
      });
      const topologyTypes: string[] = [];
      const serverTypes: string[] = [];
      client.on('topologyDescriptionChanged', (e) => topologyTypes.push(e.newDescription.type));
      client.on('serverDescriptionChanged', (e) => serverTypes.push(e.newDescription.type));
      try {
        await client.connect();
        const coll = client.db('app').collection<{ _id: number; name: string }>('people');
        await coll.insertMany([
          { _id: 1, name: 'ada' },
          { _id: 2, name: 'grace' },
        ]);
        assert.deepEqual(await coll.find({}, { sort: { _id: 1 } }).toArray(), [
          { _id: 1, name: 'ada' },
          { _id: 2, name: 'grace' },
        ]);
        const hello = await client.db('admin').command({ hello: 1 });
        assert.equal(hello.isWritablePrimary, true);
        assert.equal(hello.maxWireVersion, EXPECTED_WIRE[series]);
        assert.equal(hello.minWireVersion, 0);
        assert.equal('topologyVersion' in hello, series >= '4.4', 'topologyVersion only from 4.4');
        assert.equal('connectionId' in hello, series >= '4.2', 'connectionId only from 4.2');
        const info = await client.db('admin').command({ buildInfo: 1 });
        assert.equal(info.version, version);
        assert.equal(topologyTypes.at(-1), 'Single');
        assert.ok(serverTypes.includes('Standalone'), `server types seen: ${serverTypes.join(',')}`);
      } finally {
        await client.close();
      }
      assert.deepEqual(await first.stop('SIGTERM'), { code: 0, signal: null });

      const second = await startMongod(bin, dbPath);
      const again = new MongoClient(`mongodb://127.0.0.1:${second.port}/`, {
        serverSelectionTimeoutMS: 5000,
      });
      try {
        const docs = await again
          .db('app')
          .collection('people')
          .find({}, { sort: { _id: 1 } })
          .toArray();
        assert.deepEqual(docs, [
          { _id: 1, name: 'ada' },
          { _id: 2, name: 'grace' },
        ]);
      } finally {
        await again.close();
      }
      assert.deepEqual(await second.stop('SIGINT'), { code: 0, signal: null });
    });
  }

  it('an old patch without the hello command (4.0.20) still serves the driver through isMaster', async () => {
    const bin = await simBin('4.0.20', root);
    const m = await startMongod(bin, join(root, 'db-4.0.20'));
    const client = new MongoClient(`mongodb://127.0.0.1:${m.port}/`, {
      serverSelectionTimeoutMS: 5000,
      heartbeatFrequencyMS: 500,
    });
    try {
      await client.db('x').collection('y').insertOne({ a: 1 });
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(await client.db('x').collection('y').countDocuments(), 1);
      await assert.rejects(
        client.db('admin').command({ hello: 1 }),
        (e: Error & { code?: number }) => e.code === 59,
      );
      const im = await client.db('admin').command({ isMaster: 1, helloOk: true });
      assert.equal(im.ismaster, true);
      assert.equal('helloOk' in im, false);
    } finally {
      await client.close();
    }
    assert.equal((await m.stop()).code, 0);
  });
});
