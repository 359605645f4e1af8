// CRUD through the real driver: the subset of SIMULATOR.md drivers, shells and mup's checks use,
// plus durability: acknowledged writes survive SIGKILL.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Db, type Document, MongoClient, type MongoServerError } from 'mongodb';

/** Test documents choose their own _id types. */
type Doc = Document & { _id: string | number };

import { killAll, removeDir, type SimProcess, simBin, startMongod, tempDir } from './helpers/sim.js';

describe('CRUD on a standalone (7.0)', () => {
  let root: string;
  let bin: string;
  let m: SimProcess;
  let client: MongoClient;
  let db: Db;
  before(async () => {
    root = await tempDir();
    bin = await simBin('7.0.14', root);
    m = await startMongod(bin, join(root, 'db'));
    client = new MongoClient(`mongodb://127.0.0.1:${m.port}/`, { serverSelectionTimeoutMS: 5000 });
    db = client.db('shop');
  });
  after(async () => {
    await client.close();
    await m.stop();
    await killAll();
    await removeDir(root);
  });

  it('find with filters, sort, skip, limit and projection; getMore through small batches', async () => {
    const items = db.collection<Doc>('items');
    await items.insertMany(
      Array.from({ length: 250 }, (_, i) => ({
        _id: i,
        n: i,
        tag: i % 2 === 0 ? 'even' : 'odd',
        nested: { k: i % 5 },
      })),
    );
    assert.equal(await items.countDocuments({ tag: 'even' }), 125);
    assert.equal(await items.countDocuments({ n: { $gte: 10, $lt: 20 } }), 10);
    assert.equal(await items.countDocuments({ 'nested.k': 0 }), 50);
    assert.equal(await items.countDocuments({ n: { $in: [1, 2, 300] } }), 2);
    assert.equal(await items.countDocuments({ $or: [{ n: 1 }, { tag: 'even', n: { $lt: 4 } }] }), 3);
    assert.equal(await items.countDocuments({ missing: { $exists: false } }), 250);
    const top = await items
      .find({ tag: 'odd' }, { sort: { n: -1 }, skip: 1, limit: 3, projection: { _id: 0, n: 1 } })
      .toArray();
    assert.deepEqual(top, [{ n: 247 }, { n: 245 }, { n: 243 }]);
    const all = await items.find({}, { batchSize: 7 }).toArray();
    assert.equal(all.length, 250, 'getMore drains every batch');
    assert.equal(await items.estimatedDocumentCount(), 250);
    assert.deepEqual((await items.distinct('nested.k')).sort(), [0, 1, 2, 3, 4]);
  });

  it('update: $set, $inc, replacement, upsert, multi; delete one and many', async () => {
    const c = db.collection<Doc>('accounts');
    await c.insertMany([
      { _id: 'a', balance: 10, owner: 'x' },
      { _id: 'b', balance: 20, owner: 'x' },
    ]);
    const r1 = await c.updateOne({ _id: 'a' }, { $inc: { balance: 5 }, $set: { 'meta.touched': true } });
    assert.deepEqual([r1.matchedCount, r1.modifiedCount], [1, 1]);
    assert.deepEqual(await c.findOne({ _id: 'a' }), {
      _id: 'a',
      balance: 15,
      owner: 'x',
      meta: { touched: true },
    });
    const r2 = await c.updateMany({ owner: 'x' }, { $set: { owner: 'y' } });
    assert.equal(r2.modifiedCount, 2);
    const noop = await c.updateOne({ _id: 'b' }, { $set: { owner: 'y' } });
    assert.deepEqual([noop.matchedCount, noop.modifiedCount], [1, 0]);
    const up = await c.updateOne(
      { _id: 'c' },
      { $set: { balance: 1 }, $setOnInsert: { created: true } },
      { upsert: true },
    );
    assert.equal(up.upsertedId, 'c');
    assert.deepEqual(await c.findOne({ _id: 'c' }), { _id: 'c', balance: 1, created: true });
    await c.replaceOne({ _id: 'b' }, { owner: 'z' });
    assert.deepEqual(await c.findOne({ _id: 'b' }), { _id: 'b', owner: 'z' });
    await assert.rejects(
      c.updateOne({ _id: 'b' }, { $set: { _id: 'other' } }),
      (e: MongoServerError) => e.code === 66,
    );
    const after = await c.findOneAndUpdate(
      { _id: 'a' },
      { $inc: { balance: 1 } },
      { returnDocument: 'after' },
    );
    assert.equal(after?.balance, 16);
    assert.equal((await c.deleteOne({ owner: 'y' })).deletedCount, 1);
    assert.equal((await c.deleteMany({})).deletedCount, 2);
    assert.equal(await c.countDocuments(), 0);
  });

  it('duplicate _id and unique indexes give E11000 write errors; ordered stops, unordered continues', async () => {
    const c = db.collection<Doc>('users');
    await c.insertOne({ _id: 1, email: 'a@x' });
    await assert.rejects(c.insertOne({ _id: 1 }), (e: MongoServerError) => {
      assert.equal(e.code, 11000);
      assert.match(
        e.message,
        /E11000 duplicate key error collection: shop\.users index: _id_ dup key: \{ _id: 1 \}/,
      );
      return true;
    });
    assert.equal(await c.createIndex({ email: 1 }, { unique: true }), 'email_1');
    await assert.rejects(
      c.insertOne({ _id: 2, email: 'a@x' }),
      (e: MongoServerError) => e.code === 11000 && /index: email_1/.test(e.message),
    );
    await assert.rejects(
      c.insertMany([{ _id: 3, email: 'c@x' }, { _id: 1 }, { _id: 4, email: 'd@x' }], { ordered: false }),
    );
    assert.equal(await c.countDocuments(), 3, 'unordered insert kept going after the duplicate');
    const idx = await c.listIndexes().toArray();
    assert.deepEqual(
      idx.map((i) => i.name),
      ['_id_', 'email_1'],
    );
    assert.equal(idx[1]?.unique, true);
    await c.dropIndex('email_1');
    assert.equal((await c.listIndexes().toArray()).length, 1);
  });

  it('aggregate $match/$group/$sum/$count/$limit; collections and databases', async () => {
    const c = db.collection('orders');
    await c.insertMany([
      { cust: 'a', amount: 5 },
      { cust: 'a', amount: 7 },
      { cust: 'b', amount: 1 },
    ]);
    const grouped = await c
      .aggregate([
        { $match: { amount: { $gt: 0 } } },
        { $group: { _id: '$cust', total: { $sum: '$amount' }, n: { $sum: 1 } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    assert.deepEqual(grouped, [
      { _id: 'a', total: 12, n: 2 },
      { _id: 'b', total: 1, n: 1 },
    ]);
    assert.deepEqual(await c.aggregate([{ $match: { cust: 'a' } }, { $count: 'n' }]).toArray(), [{ n: 2 }]);
    assert.equal((await c.aggregate([{ $limit: 1 }]).toArray()).length, 1);
    await assert.rejects(c.aggregate([{ $bogus: {} }]).toArray(), (e: MongoServerError) => e.code === 40324);

    await db.createCollection('made');
    await assert.rejects(db.createCollection('made'), (e: MongoServerError) => e.code === 48);
    const names = (await db.listCollections().toArray()).map((x) => x.name).sort();
    assert.ok(names.includes('made') && names.includes('orders'));
    assert.equal(await db.collection<Doc>('made').drop(), true);
    const dbs = await client.db('admin').admin().listDatabases();
    assert.ok(dbs.databases.some((d) => d.name === 'shop'));
    const [collStats] = await c.aggregate([{ $collStats: { storageStats: {} } }]).toArray();
    assert.equal(collStats?.ns, 'shop.orders');
    assert.equal(collStats?.storageStats.count, 3);
    const stats = await db.stats();
    assert.equal(stats.db, 'shop');
    assert.ok(stats.objects > 0);
    await client.db('scratch').collection('x').insertOne({ a: 1 });
    assert.equal(await client.db('scratch').dropDatabase(), true);
    assert.ok(
      !(await client.db('admin').admin().listDatabases()).databases.some((d) => d.name === 'scratch'),
    );
  });

  it('takes a 25 MB insert batch and returns it in batches under 16 MB', async () => {
    const c = db.collection<Doc>('large');
    const big = 'y'.repeat(5 * 1024 * 1024);
    await c.insertMany(Array.from({ length: 5 }, (_, i) => ({ _id: i, big })));
    const back = await c.find({}, { sort: { _id: 1 } }).toArray();
    assert.deepEqual(
      back.map((d) => [d._id, (d.big as string).length]),
      Array.from({ length: 5 }, (_, i) => [i, big.length]),
    );
  });

  it('write concern: w:"majority" accepted, w:2 refused on a standalone', async () => {
    const c = db.collection('wc');
    await c.insertOne({ a: 1 }, { writeConcern: { w: 'majority', wtimeoutMS: 1000 } });
    await assert.rejects(c.insertOne({ a: 2 }, { writeConcern: { w: 2 } }), (e: MongoServerError) => {
      assert.equal(e.code, 2);
      assert.match(e.message, /cannot use 'w' > 1 on a standalone/);
      return true;
    });
    assert.equal(await c.countDocuments(), 1, 'the refused write did not happen');
  });

  it('serverStatus, getCmdLineOpts, getLog, hostInfo, connectionStatus answer like mongod', async () => {
    const admin = client.db('admin');
    const status = await admin.command({ serverStatus: 1 });
    assert.equal(status.process, 'mongod');
    assert.equal(status.version, '7.0.14');
    assert.equal(status.pid, m.pid);
    assert.ok(status.connections.current >= 1);
    assert.ok(status.opcounters.insert >= 250, 'inserts are counted');
    assert.ok(status.opcounters.command > 0);
    assert.ok(status.network.numRequests > 10 && status.network.bytesIn > 0 && status.network.bytesOut > 0);
    assert.equal('repl' in status, false, 'no repl section on a standalone');
    const opts = await admin.command({ getCmdLineOpts: 1 });
    assert.equal(opts.parsed.net.port, m.port);
    assert.deepEqual(opts.argv.slice(1, 3), ['--port', String(m.port)]);
    assert.equal(opts.argv[0], join(bin, 'mongod'), 'argv[0] is the binary as invoked');
    const dbs = (await admin.admin().listDatabases()).databases.map((d) => d.name);
    assert.ok(dbs.includes('admin') && dbs.includes('local'), `databases: ${dbs.join(',')}`);
    assert.equal(await client.db('local').collection('startup_log').countDocuments(), 1);
    const log = await admin.command({ getLog: 'startupWarnings' });
    assert.ok(Array.isArray(log.log));
    assert.equal((await admin.command({ hostInfo: 1 })).system.cpuArch, 'x86_64');
    assert.deepEqual((await admin.command({ connectionStatus: 1 })).authInfo.authenticatedUsers, []);
    await assert.rejects(
      admin.command({ getParameter: 1, noSuchParameter: 1 }),
      (e: MongoServerError) => e.code === 72,
    );
    await assert.rejects(
      admin.command({ configureFailPoint: 'x', mode: 'off' }),
      (e: MongoServerError) => e.code === 59,
    );
  });
});

describe('durability', () => {
  let root: string;
  before(async () => {
    root = await tempDir();
  });
  after(async () => {
    await killAll();
    await removeDir(root);
  });

  it('every acknowledged write survives SIGKILL', async () => {
    const bin = await simBin('6.0.16', root);
    const dbPath = join(root, 'db');
    const m = await startMongod(bin, dbPath);
    const client = new MongoClient(`mongodb://127.0.0.1:${m.port}/`, { serverSelectionTimeoutMS: 5000 });
    try {
      const c = client.db('d').collection<Doc>('c');
      for (let i = 0; i < 50; i++) await c.insertOne({ _id: i });
      await c.updateOne({ _id: 7 }, { $set: { changed: true } });
      await c.deleteOne({ _id: 8 });
      await c.createIndex({ changed: 1 });
    } finally {
      await client.close();
    }
    assert.equal((await m.stop('SIGKILL')).signal, 'SIGKILL');
    const again = await startMongod(bin, dbPath);
    const c2 = new MongoClient(`mongodb://127.0.0.1:${again.port}/`, { serverSelectionTimeoutMS: 5000 });
    try {
      const c = c2.db('d').collection<Doc>('c');
      assert.equal(await c.countDocuments(), 49);
      assert.deepEqual(await c.findOne({ _id: 7 }), { _id: 7, changed: true });
      assert.equal(await c.findOne({ _id: 8 }), null);
      assert.deepEqual(
        (await c.listIndexes().toArray()).map((i) => i.name),
        ['_id_', 'changed_1'],
      );
    } finally {
      await c2.close();
    }
    assert.equal((await again.stop()).code, 0);
  });
});

describe('failCommand failpoint (enableTestCommands)', () => {
  let root: string;
  before(async () => {
    root = await tempDir();
  });
  after(async () => {
    await killAll();
    await removeDir(root);
  });

  it('fails, closes or delays the listed commands, {times: n} at most n times', async () => {
    const bin = await simBin('7.0.14', root);
    const m = await startMongod(bin, join(root, 'db'), ['--setParameter', 'enableTestCommands=1']);
    const client = new MongoClient(`mongodb://127.0.0.1:${m.port}/`, {
      serverSelectionTimeoutMS: 5000,
      retryWrites: false,
      retryReads: false,
    });
    try {
      const admin = client.db('admin');
      const c = client.db('t').collection('c');
      await admin.command({
        configureFailPoint: 'failCommand',
        mode: { times: 1 },
        data: { failCommands: ['insert'], errorCode: 91 },
      });
      await assert.rejects(c.insertOne({ a: 1 }), (e: MongoServerError) => {
        assert.equal(e.code, 91);
        assert.equal(e.codeName, 'ShutdownInProgress');
        assert.match(e.message, /Failing command via 'failCommand' failpoint/);
        return true;
      });
      await c.insertOne({ a: 2 });
      assert.equal(await c.countDocuments(), 1, 'the failed insert wrote nothing; the failpoint fired once');

      await admin.command({
        configureFailPoint: 'failCommand',
        mode: 'alwaysOn',
        data: { failCommands: ['find'], blockConnection: true, blockTimeMS: 300 },
      });
      const started = Date.now();
      await c.findOne({});
      assert.ok(Date.now() - started >= 250, 'find was delayed by blockTimeMS');

      await admin.command({
        configureFailPoint: 'failCommand',
        mode: { times: 1 },
        data: { failCommands: ['find'], closeConnection: true },
      });
      await assert.rejects(c.findOne({}), (e: Error) => /closed|ECONNRESET|connection/i.test(e.message));
      await admin.command({ configureFailPoint: 'failCommand', mode: 'off' });
      assert.equal((await c.findOne({}))?.a, 2);
    } finally {
      await client.close();
    }
    assert.equal((await m.stop()).code, 0);
  });
});
