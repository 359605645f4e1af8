// Change streams through the real driver's watch(): collection, database and cluster streams over the
// oplog, the events' shapes, fullDocument "updateLookup", resumeAfter / startAfter with the tokens the
// server handed out, invalidate on drop, awaitData getMore waking on a new write, and the standalone's
// refusal.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ChangeStream, type Document, MongoClient, type MongoServerError } from 'mongodb';
import { killAll, removeDir, type SimProcess, simBin, startMongod, tempDir, waitFor } from './helpers/sim.js';

type Doc = Document & { _id: number };

/** The next `n` events of a stream (each next() is an awaitData getMore loop in the driver). */
async function take(cs: ChangeStream, n: number): Promise<Document[]> {
  const out: Document[] = [];
  for (let i = 0; i < n; i++) out.push(await cs.next());
  return out;
}

describe('change streams on a replica set (7.0)', () => {
  let root: string;
  let m: SimProcess;
  let client: MongoClient;
  before(async () => {
    root = await tempDir();
    m = await startMongod(await simBin('7.0.14', root), join(root, 'rs'), ['--replSet', 'rs0']);
    const direct = new MongoClient(`mongodb://127.0.0.1:${m.port}/?directConnection=true`, {
      serverSelectionTimeoutMS: 5000,
    });
    await direct.db('admin').command({
      replSetInitiate: { _id: 'rs0', version: 1, members: [{ _id: 0, host: `127.0.0.1:${m.port}` }] },
    });
    await waitFor(
      async () => (await direct.db('admin').command({ hello: 1 })).isWritablePrimary === true,
      15_000,
      'primary',
    );
    await direct.close();
    client = new MongoClient(`mongodb://127.0.0.1:${m.port}/?replicaSet=rs0`, {
      serverSelectionTimeoutMS: 5000,
    });
  });
  after(async () => {
    await client?.close();
    await m?.stop();
    await killAll();
    await removeDir(root);
  });

  it('collection.watch() sees insert, update, replace and delete with their fields', async () => {
    const c = client.db('shop').collection<Doc>('orders');
    await c.insertOne({ _id: 0, before: true });
    const cs = c.watch();
    try {
      assert.equal(await cs.tryNext(), null, 'the stream starts now: earlier writes are not replayed');
      await c.insertOne({ _id: 1, qty: 1, tags: ['a'] });
      await c.updateOne({ _id: 1 }, { $set: { qty: 2, 'meta.by': 'x' }, $unset: { tags: '' } });
      await c.replaceOne({ _id: 1 }, { qty: 3 });
      await c.deleteOne({ _id: 1 });
      const [ins, upd, rep, del] = await take(cs, 4);
      assert.equal(ins?.operationType, 'insert');
      assert.deepEqual(ins?.fullDocument, { _id: 1, qty: 1, tags: ['a'] });
      assert.deepEqual(ins?.ns, { db: 'shop', coll: 'orders' });
      assert.deepEqual(ins?.documentKey, { _id: 1 });
      assert.ok(ins?.clusterTime, 'clusterTime');
      assert.ok(ins?.wallTime instanceof Date, 'wallTime (6.0+)');
      assert.equal(upd?.operationType, 'update');
      assert.deepEqual(upd?.updateDescription?.updatedFields, { qty: 2, meta: { by: 'x' } });
      assert.deepEqual(upd?.updateDescription?.removedFields, ['tags']);
      assert.equal(upd?.fullDocument, undefined, 'no fullDocument by default');
      assert.equal(rep?.operationType, 'replace');
      assert.deepEqual(rep?.fullDocument, { _id: 1, qty: 3 });
      assert.equal(del?.operationType, 'delete');
      assert.deepEqual(del?.documentKey, { _id: 1 });
      assert.notDeepEqual(ins?._id, upd?._id, 'every event has its own resume token');
    } finally {
      await cs.close();
    }
  });

  it('fullDocument "updateLookup" returns the current document with update events', async () => {
    const c = client.db('shop').collection<Doc>('lookup');
    const cs = c.watch([], { fullDocument: 'updateLookup' });
    try {
      await cs.tryNext();
      await c.insertOne({ _id: 1, n: 1 });
      await c.updateOne({ _id: 1 }, { $inc: { n: 5 } });
      const [, upd] = await take(cs, 2);
      assert.equal(upd?.operationType, 'update');
      assert.deepEqual(upd?.fullDocument, { _id: 1, n: 6 });
    } finally {
      await cs.close();
    }
  });

  it('resumeAfter continues after a token; a $match stage filters events', async () => {
    const c = client.db('shop').collection<Doc>('resume');
    const cs = c.watch();
    let token: unknown;
    try {
      await cs.tryNext();
      await c.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
      const [first] = await take(cs, 1);
      token = first?._id;
    } finally {
      await cs.close();
    }
    const resumed = c.watch([], { resumeAfter: token });
    try {
      const events = await take(resumed, 2);
      assert.deepEqual(
        events.map((e) => e.documentKey?._id),
        [2, 3],
      );
    } finally {
      await resumed.close();
    }
    const inserts = c.watch([{ $match: { operationType: 'delete' } }], { resumeAfter: token });
    try {
      await c.deleteOne({ _id: 3 });
      const [del] = await take(inserts, 1);
      assert.equal(del?.operationType, 'delete');
      assert.deepEqual(del?.documentKey, { _id: 3 });
    } finally {
      await inserts.close();
    }
  });

  it('a dropped collection ends its stream with invalidate; startAfter that token watches on', async () => {
    const db = client.db('shop');
    const c = db.collection<Doc>('temp');
    await c.insertOne({ _id: 1 });
    const cs = c.watch();
    let invalidate: Document | undefined;
    try {
      await cs.tryNext();
      await c.drop();
      const [drop, inv] = await take(cs, 2);
      assert.equal(drop?.operationType, 'drop');
      assert.deepEqual(drop?.ns, { db: 'shop', coll: 'temp' });
      assert.equal(inv?.operationType, 'invalidate');
      invalidate = inv;
    } finally {
      await cs.close();
    }
    const refused = db.collection('temp').watch([], { resumeAfter: invalidate?._id });
    await assert.rejects(refused.next(), (err: MongoServerError) => err.code === 260);
    await refused.close();
    const after = c.watch([], { startAfter: invalidate?._id });
    try {
      await c.insertOne({ _id: 2 });
      const [ins] = await take(after, 1);
      assert.equal(ins?.operationType, 'insert');
      assert.deepEqual(ins?.documentKey, { _id: 2 });
    } finally {
      await after.close();
    }
  });

  it('database and cluster streams see every collection; a getMore waits for the next write', async () => {
    const dbStream = client.db('multi').watch();
    const clusterStream = client.watch();
    try {
      await dbStream.tryNext();
      await clusterStream.tryNext();
      await client.db('multi').collection<Doc>('a').insertOne({ _id: 1 });
      await client.db('multi').collection<Doc>('b').insertOne({ _id: 2 });
      await client.db('elsewhere').collection<Doc>('c').insertOne({ _id: 3 });
      const dbEvents = await take(dbStream, 2);
      assert.deepEqual(
        dbEvents.map((e) => e.ns?.coll),
        ['a', 'b'],
      );
      const clusterEvents = await take(clusterStream, 3);
      assert.deepEqual(
        clusterEvents.map((e) => `${e.ns?.db}.${e.ns?.coll}`),
        ['multi.a', 'multi.b', 'elsewhere.c'],
      );
      // The getMore is already waiting when the write happens.
      const waiting = dbStream.next();
      await new Promise((r) => setTimeout(r, 100));
      await client.db('multi').collection<Doc>('a').insertOne({ _id: 9 });
      assert.deepEqual(((await waiting) as Document).documentKey, { _id: 9 });
    } finally {
      await dbStream.close();
      await clusterStream.close();
    }
  });
});

describe('the oplog as rs.printReplicationInfo() reads it', () => {
  let root: string;
  after(async () => {
    await killAll();
    if (root) await removeDir(root);
  });

  it('local.oplog.rs reports its configured size (maxSize) and its first and last entries', async () => {
    root = await tempDir();
    const m = await startMongod(await simBin('7.0.14', root), join(root, 'rs'), [
      '--replSet',
      'rs0',
      '--oplogSize',
      '1024',
    ]);
    const client = new MongoClient(`mongodb://127.0.0.1:${m.port}/?directConnection=true`, {
      serverSelectionTimeoutMS: 5000,
    });
    try {
      await client.db('admin').command({
        replSetInitiate: { _id: 'rs0', version: 1, members: [{ _id: 0, host: `127.0.0.1:${m.port}` }] },
      });
      await waitFor(
        async () => (await client.db('admin').command({ hello: 1 })).isWritablePrimary === true,
        15_000,
        'primary',
      );
      await client.db('t').collection('c').insertOne({ a: 1 });
      const oplog = client.db('local').collection('oplog.rs');
      const [stats] = await oplog.aggregate([{ $collStats: { storageStats: {} } }]).toArray();
      assert.equal(stats?.storageStats?.capped, true);
      assert.equal(Number(stats?.storageStats?.maxSize), 1024 * 1024 * 1024);
      assert.ok(Number(stats?.storageStats?.size) > 0);
      const collStats = await client.db('local').command({ collStats: 'oplog.rs' });
      assert.equal(Number(collStats.maxSize), 1024 * 1024 * 1024);
      const first = await oplog.find().sort({ $natural: 1 }).limit(1).next();
      const last = await oplog.find().sort({ $natural: -1 }).limit(1).next();
      assert.ok(first?.ts && last?.ts && first.ts.lessThan(last.ts), 'first entry before the last');
      const insert = await oplog.findOne({ ns: 't.c' });
      assert.ok(insert?.ts && !insert.ts.greaterThan(last?.ts), 'the insert is within the oplog window');
    } finally {
      await client.close();
    }
    assert.equal((await m.stop()).code, 0);
  });
});

describe('change streams on a standalone', () => {
  let root: string;
  after(async () => {
    await killAll();
    if (root) await removeDir(root);
  });

  it('are refused with 40573', async () => {
    root = await tempDir();
    const m = await startMongod(await simBin('7.0.14', root), join(root, 'standalone'));
    const client = new MongoClient(`mongodb://127.0.0.1:${m.port}/`, { serverSelectionTimeoutMS: 5000 });
    try {
      const cs = client.db('t').collection('c').watch();
      await assert.rejects(cs.next(), (err: MongoServerError) => {
        assert.equal(err.code, 40573);
        assert.equal(err.message, 'The $changeStream stage is only supported on replica sets');
        return true;
      });
      await cs.close();
    } finally {
      await client.close();
    }
    assert.equal((await m.stop()).code, 0);
  });
});
