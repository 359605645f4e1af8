// Behaviours the simulator used to acknowledge while doing something else: array update operators,
// views, sparse and partial unique indexes, the position of _id, --storageEngine and --port 0. Each is
// checked through the real driver (or the process's exit code and log) against MongoDB's documented result.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Db, type Document, MongoClient, MongoServerError } from 'mongodb';
import {
  killAll,
  removeDir,
  runToExit,
  type SimProcess,
  simBin,
  startMongod,
  startSim,
  tempDir,
} from './helpers/sim.js';

async function serverError(p: Promise<unknown>): Promise<MongoServerError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof MongoServerError) return err;
    throw err;
  }
  throw new Error('expected the server to refuse the operation');
}

describe('faithful answers on a standalone (7.0)', () => {
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
    db = client.db('faith');
  });
  after(async () => {
    await client.close();
    await m.stop();
    await killAll();
    await removeDir(root);
  });

  it('listCommands lists what this mongod answers, with their flags', async () => {
    const { commands } = await client.db('admin').command({ listCommands: 1 });
    const names = Object.keys(commands as Document);
    assert.deepEqual(names, [...names].sort(), 'sorted by name');
    for (const name of ['find', 'insert', 'aggregate', 'commitTransaction', 'listCommands', 'serverStatus']) {
      assert.ok(names.includes(name), name);
    }
    assert.equal(names.includes('configureFailPoint'), false, 'test commands only when enabled');
    assert.equal(names.includes('addShard'), false, 'mongos commands are not mongod commands');
    const find = (commands as Document).find as Document;
    assert.equal(find.secondaryOk, true);
    assert.equal(find.adminOnly, false);
    assert.equal(((commands as Document).commitTransaction as Document).adminOnly, true);
    assert.deepEqual(find.apiVersions, []);
  });

  it('fsync with lock holds writes until the last fsyncUnlock; reads go on', async () => {
    const admin = client.db('admin');
    const c = db.collection('locked');
    assert.equal(Number((await admin.command({ fsync: 1, lock: true })).lockCount), 1);
    assert.equal(Number((await admin.command({ fsync: 1, lock: true })).lockCount), 2);
    let written = false;
    const write = c.insertOne({ _id: 1 } as Document).then(() => {
      written = true;
    });
    assert.equal(await c.countDocuments(), 0, 'reads are served while locked');
    assert.equal(Number((await admin.command({ fsyncUnlock: 1 })).lockCount), 1);
    assert.equal(await c.countDocuments(), 0);
    assert.equal(written, false, 'still locked once');
    const last = await admin.command({ fsyncUnlock: 1 });
    assert.equal(last.info, 'fsyncUnlock completed');
    assert.equal(Number(last.lockCount), 0);
    await write;
    assert.equal(await c.countDocuments(), 1);
    const notLocked = await serverError(admin.command({ fsyncUnlock: 1 }));
    assert.equal(notLocked.code, 20);
    assert.equal(notLocked.message, 'fsyncUnlock called when not locked');
  });

  it('stores _id as the first field wherever the client put it', async () => {
    const c = db.collection('order');
    await c.insertOne({ a: 1, b: 2, _id: 7 } as Document);
    const raw = await c.findOne({ _id: 7 } as Document);
    assert.deepEqual(Object.keys(raw ?? {}), ['_id', 'a', 'b']);
    await c.updateOne({ z: 1 } as Document, { $set: { y: 2 } }, { upsert: true });
    const upserted = await c.findOne({ z: 1 } as Document);
    assert.equal(Object.keys(upserted ?? {})[0], '_id');
  });

  it('filtered positional $[id] with arrayFilters, all-positional $[] and the positional $', async () => {
    const c = db.collection('students');
    await c.insertMany([
      {
        _id: 1,
        grades: [95, 92, 90],
        items: [
          { sku: 'a', qty: 1 },
          { sku: 'b', qty: 2 },
        ],
      },
      { _id: 2, grades: [98, 100, 102], items: [{ sku: 'b', qty: 3 }] },
      { _id: 3, grades: [80, 70], items: [] },
    ] as Document[]);
    const r = await c.updateMany(
      {},
      { $set: { 'grades.$[element]': 100 } },
      { arrayFilters: [{ element: { $gte: 100 } }] },
    );
    assert.equal(r.matchedCount, 3);
    assert.equal(r.modifiedCount, 1, 'only the document with a grade >= 100 changes');
    assert.deepEqual((await c.findOne({ _id: 2 } as Document))?.grades, [98, 100, 100]);
    await c.updateOne({ _id: 3 } as Document, { $inc: { 'grades.$[]': 10 } });
    assert.deepEqual((await c.findOne({ _id: 3 } as Document))?.grades, [90, 80]);
    await c.updateOne(
      { _id: 1 } as Document,
      { $set: { 'items.$[it].qty': 9 } },
      { arrayFilters: [{ 'it.sku': 'b' }] },
    );
    assert.deepEqual((await c.findOne({ _id: 1 } as Document))?.items, [
      { sku: 'a', qty: 1 },
      { sku: 'b', qty: 9 },
    ]);
    // The positional $ is the element the query matched.
    await c.updateOne({ _id: 1, 'items.sku': 'a' } as Document, { $set: { 'items.$.qty': 5 } });
    assert.deepEqual((await c.findOne({ _id: 1 } as Document))?.items, [
      { sku: 'a', qty: 5 },
      { sku: 'b', qty: 9 },
    ]);
    await c.updateOne({ grades: 90 } as Document, { $set: { 'grades.$': 91 } });
    assert.deepEqual((await c.findOne({ _id: 1 } as Document))?.grades, [95, 92, 91]);
    await c.findOneAndUpdate({ _id: 2, items: { $elemMatch: { sku: 'b' } } } as Document, {
      $inc: { 'items.$.qty': 1 },
    });
    assert.deepEqual((await c.findOne({ _id: 2 } as Document))?.items, [{ sku: 'b', qty: 4 }]);
  });

  it('refuses array updates it cannot resolve, with mongod codes, and changes nothing', async () => {
    const c = db.collection('arr');
    await c.insertOne({ _id: 1, a: [1, 2], s: 'x' } as Document);
    const noMatch = await serverError(c.updateOne({ _id: 1 } as Document, { $set: { 'a.$': 5 } }));
    assert.equal(noMatch.code, 2);
    assert.equal(noMatch.message, 'The positional operator did not find the match needed from the query.');
    const noFilter = await serverError(c.updateOne({ _id: 1 } as Document, { $set: { 'a.$[x]': 5 } }));
    assert.equal(noFilter.code, 2);
    assert.equal(noFilter.message, "No array filter found for identifier 'x' in path 'a.$[x]'");
    const unused = await serverError(
      c.updateOne({ _id: 1 } as Document, { $set: { 'a.0': 5 } }, { arrayFilters: [{ y: 1 }] }),
    );
    assert.equal(unused.code, 9);
    assert.match(unused.message, /^The array filter for identifier 'y' was not used in the update/);
    const badName = await serverError(
      c.updateOne({ _id: 1 } as Document, { $set: { 'a.$[X]': 5 } }, { arrayFilters: [{ X: 1 }] }),
    );
    assert.equal(badName.code, 2);
    const notArray = await serverError(c.updateOne({ _id: 1 } as Document, { $set: { 's.$[]': 5 } }));
    assert.equal(notArray.code, 2);
    assert.match(notArray.message, /^Cannot apply array updates to non-array element s/);
    assert.deepEqual(await c.findOne({ _id: 1 } as Document), { _id: 1, a: [1, 2], s: 'x' });
  });

  it('a view reads its pipeline over the source, is listed as a view and refuses writes', async () => {
    const src = db.collection('people');
    await src.insertMany([
      { _id: 1, name: 'ann', age: 30, city: 'x' },
      { _id: 2, name: 'bob', age: 17, city: 'y' },
      { _id: 3, name: 'cy', age: 45, city: 'x' },
    ] as Document[]);
    await db.createCollection('adults', {
      viewOn: 'people',
      pipeline: [{ $match: { age: { $gte: 18 } } }, { $project: { _id: 0, name: 1, city: 1 } }],
    });
    const v = db.collection('adults');
    assert.deepEqual(await v.find({}, { sort: { name: 1 } }).toArray(), [
      { name: 'ann', city: 'x' },
      { name: 'cy', city: 'x' },
    ]);
    assert.deepEqual(await v.find({ name: 'cy' }).toArray(), [{ name: 'cy', city: 'x' }]);
    assert.equal(await v.countDocuments({ city: 'x' }), 2);
    assert.deepEqual(await v.aggregate([{ $group: { _id: '$city', n: { $sum: 1 } } }]).toArray(), [
      { _id: 'x', n: 2 },
    ]);
    const info = (await db.listCollections({ name: 'adults' }).toArray()) as Document[];
    assert.equal(info[0]?.type, 'view');
    assert.equal((info[0]?.options as Document | undefined)?.viewOn, 'people');
    const write = await serverError(v.insertOne({ name: 'dan' }));
    assert.equal(write.code, 166);
    assert.equal(write.codeName, 'CommandNotSupportedOnView');
    assert.equal(write.message, 'Namespace faith.adults is a view, not a collection');
    const again = await serverError(db.createCollection('adults', { viewOn: 'people' }));
    assert.equal(again.code, 48);
    assert.equal(await src.countDocuments(), 3, 'the source is untouched');
    await v.drop();
    assert.equal((await db.listCollections({ name: 'adults' }).toArray()).length, 0);
  });

  it('a sparse or partial unique index admits any number of documents it does not index', async () => {
    const sparse = db.collection('sparse');
    await sparse.createIndex({ email: 1 }, { unique: true, sparse: true });
    await sparse.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3, email: 'a@x' }] as Document[]);
    const dup = await serverError(sparse.insertOne({ _id: 4, email: 'a@x' } as Document));
    assert.equal(dup.code, 11000);
    const dense = db.collection('dense');
    await dense.createIndex({ email: 1 }, { unique: true });
    await dense.insertOne({ _id: 1 } as Document);
    const missingTwice = await serverError(dense.insertOne({ _id: 2 } as Document));
    assert.equal(missingTwice.code, 11000, 'a non-sparse unique index indexes a missing field as null');
    const partial = db.collection('partial');
    await partial.createIndex({ user: 1 }, { unique: true, partialFilterExpression: { active: true } });
    await partial.insertMany([
      { _id: 1, user: 'u', active: false },
      { _id: 2, user: 'u', active: false },
      { _id: 3, user: 'u', active: true },
    ] as Document[]);
    const partialDup = await serverError(partial.insertOne({ _id: 4, user: 'u', active: true } as Document));
    assert.equal(partialDup.code, 11000);
    // Building a sparse unique index over documents without the field succeeds as well.
    const later = db.collection('later');
    await later.insertMany([{ _id: 1 }, { _id: 2 }] as Document[]);
    await later.createIndex({ k: 1 }, { unique: true, sparse: true });
    await assert.rejects(later.createIndex({ j: 1 }, { unique: true }), { code: 11000 });
  });
});

describe('process options mongod refuses or resolves', () => {
  let root: string;
  before(async () => {
    root = await tempDir();
  });
  after(async () => {
    await killAll();
    await removeDir(root);
  });

  it('refuses a storage engine other than wiredTiger with exit 100 and error 18656', async () => {
    const bin = await simBin('7.0.14', root);
    for (const engine of ['inMemory', 'mmapv1', 'rocksdb']) {
      const dbPath = join(root, `engine-${engine}`);
      await mkdir(dbPath, { recursive: true });
      const r = await runToExit(join(bin, 'mongod'), [
        '--port',
        '27990',
        '--dbpath',
        dbPath,
        '--storageEngine',
        engine,
      ]);
      assert.equal(r.code, 100, r.stdout);
      assert.match(r.stdout, new RegExp(`Cannot start server with an unknown storage engine: ${engine}`));
    }
    const ok = await startMongod(bin, join(root, 'engine-wt'), ['--storageEngine', 'wiredTiger']);
    assert.equal((await ok.stop()).code, 0);
  });

  it('--port 0 listens on a port the kernel chose and logs and reports it', async () => {
    const bin = await simBin('7.0.14', root);
    const dbPath = join(root, 'port0');
    await mkdir(dbPath, { recursive: true });
    const p = await startSim(
      join(bin, 'mongod'),
      ['--port', '0', '--bind_ip', '127.0.0.1', '--dbpath', dbPath],
      {
        port: 0,
      },
    );
    const line = p
      .output()
      .split('\n')
      .find((l) => l.includes('"id":23016'));
    const port = Number((JSON.parse(line ?? '{}') as { attr?: { port?: number } }).attr?.port);
    assert.ok(port > 0, `a real port in "Waiting for connections": ${line}`);
    const client = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, {
      serverSelectionTimeoutMS: 5000,
    });
    try {
      const status = await client.db('admin').command({ serverStatus: 1 });
      assert.match(String(status.host), new RegExp(`:${port}$`));
      const opts = await client.db('admin').command({ getCmdLineOpts: 1 });
      assert.equal(opts.parsed.net.port, 0, 'the parsed options keep what was given');
    } finally {
      await client.close();
    }
    assert.equal((await p.stop()).code, 0);
  });

  it('--port 0 on two addresses fails to listen (exit 48) as mongod does', async () => {
    const bin = await simBin('7.0.14', root);
    const dbPath = join(root, 'port0-two');
    await mkdir(dbPath, { recursive: true });
    const r = await runToExit(join(bin, 'mongod'), [
      '--port',
      '0',
      '--bind_ip',
      '127.0.0.1,127.0.0.2',
      '--dbpath',
      dbPath,
    ]);
    assert.equal(r.code, 48, r.stdout);
    assert.match(
      r.stdout,
      /Port 0 \(ephemeral port\) is not allowed when listening on multiple IP interfaces/,
    );
  });
});
