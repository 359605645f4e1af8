// Administration commands through the real driver on a standalone: validate, dbHash, collMod (schema
// validation, hidden and TTL indexes), renameCollection, currentOp / $currentOp / killOp, top and explain,
// each with the errors mongod answers.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Db, type Document, MongoClient, MongoServerError } from 'mongodb';
import { killAll, removeDir, type SimProcess, simBin, startMongod, tempDir, waitFor } from './helpers/sim.js';

type Doc = Document & { _id: number };

async function serverError(p: Promise<unknown>): Promise<MongoServerError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof MongoServerError) return err;
    throw err;
  }
  throw new Error('expected the server to refuse the operation');
}

/** The innermost stage of a plan (the scan). */
function leaf(plan: Document): Document {
  let p = plan;
  while (p.inputStage) p = p.inputStage as Document;
  return p;
}

describe('administration commands on a standalone (7.0)', () => {
  let root: string;
  let bin: string;
  let dbPath: string;
  let m: SimProcess;
  let client: MongoClient;
  let db: Db;
  let admin: Db;
  before(async () => {
    root = await tempDir();
    bin = await simBin('7.0.14', root);
    dbPath = join(root, 'db');
    m = await startMongod(bin, dbPath);
    client = new MongoClient(`mongodb://127.0.0.1:${m.port}/`, { serverSelectionTimeoutMS: 5000 });
    db = client.db('app');
    admin = client.db('admin');
  });
  after(async () => {
    await client?.close();
    await m?.stop();
    await killAll();
    await removeDir(root);
  });

  it('validate counts records and index keys; a missing collection or a view is refused', async () => {
    const c = db.collection<Doc>('v');
    await c.insertMany([{ _id: 1, a: 1 }, { _id: 2, a: 2 }, { _id: 3 }]);
    await c.createIndex({ a: 1 }, { sparse: true });
    const r = await db.command({ validate: 'v' });
    assert.equal(r.ns, 'app.v');
    assert.equal(r.valid, true);
    assert.equal(r.nrecords, 3);
    assert.equal(r.nIndexes, 2);
    assert.deepEqual(r.keysPerIndex, { _id_: 3, a_1: 2 });
    assert.deepEqual(r.errors, []);
    assert.equal(r.repaired, false);
    assert.ok(r.uuid, 'uuid from 5.0');
    const missing = await serverError(db.command({ validate: 'nope' }));
    assert.equal(missing.code, 26);
    assert.equal(missing.message, "Collection 'app.nope' does not exist to validate.");
    await db.createCollection('vview', { viewOn: 'v', pipeline: [] });
    const view = await serverError(db.command({ validate: 'vview' }));
    assert.equal(view.code, 166);
  });

  it('dbHash: equal data hashes equal, a change changes it, and collections narrows it', async () => {
    const a = client.db('h1');
    const b = client.db('h2');
    for (const d of [a, b]) {
      await d.collection<Doc>('x').insertMany([
        { _id: 2, v: 'b' },
        { _id: 1, v: 'a' },
      ]);
      await d.collection<Doc>('y').insertOne({ _id: 1 });
    }
    // The same documents inserted in another order hash the same (documents are hashed in _id order).
    await b.collection<Doc>('z').insertOne({ _id: 1 });
    await b.dropCollection('z');
    const ha = await a.command({ dbHash: 1 });
    const hb = await b.command({ dbHash: 1 });
    assert.deepEqual(Object.keys(ha.collections).sort(), ['x', 'y']);
    assert.equal(ha.collections.x, hb.collections.x);
    assert.equal(ha.md5, hb.md5);
    assert.match(ha.md5, /^[0-9a-f]{32}$/);
    assert.ok(ha.uuids.x, 'uuids per collection');
    await b.collection<Doc>('x').updateOne({ _id: 1 }, { $set: { v: 'changed' } });
    const hb2 = await b.command({ dbHash: 1 });
    assert.notEqual(hb2.collections.x, ha.collections.x);
    assert.equal(hb2.collections.y, ha.collections.y);
    assert.notEqual(hb2.md5, ha.md5);
    const only = await a.command({ dbHash: 1, collections: ['y'] });
    assert.deepEqual(Object.keys(only.collections), ['y']);
  });

  it('collMod validator: strict refuses with 121, moderate lets invalid documents be updated, warn and off accept', async () => {
    const c = db.collection<Doc>('people');
    await c.insertMany([
      { _id: 1, age: 30 },
      { _id: 2, age: 'unknown' },
    ]);
    await db.command({ collMod: 'people', validator: { age: { $type: 'number' } } });
    const refused = await serverError(c.insertOne({ _id: 3, age: 'x' }));
    assert.equal(refused.code, 121);
    assert.equal(refused.message, 'Document failed validation');
    assert.equal(refused.errInfo?.failingDocumentId, 3, 'errInfo from 5.0');
    assert.equal(await c.countDocuments({ _id: 3 }), 0, 'nothing stored');
    await c.insertOne({ _id: 4, age: 40 });
    // strict (default): updating the already-invalid document to another invalid value is refused too.
    assert.equal((await serverError(c.updateOne({ _id: 2 }, { $set: { note: 1 } }))).code, 121);
    assert.equal((await serverError(c.updateOne({ _id: 1 }, { $set: { age: 'old' } }))).code, 121);
    const v = await db.command({ validate: 'people' });
    // From 6.2 a document failing the validator is non-compliant, not invalid.
    assert.equal(v.nNonCompliantDocuments, 1, 'the pre-existing invalid document');
    assert.equal(v.nInvalidDocuments, 0);
    assert.equal(v.valid, true);
    assert.equal((v.warnings as string[]).length, 1);
    await db.command({ collMod: 'people', validationLevel: 'moderate' });
    await c.updateOne({ _id: 2 }, { $set: { note: 1 } });
    assert.equal((await serverError(c.updateOne({ _id: 1 }, { $set: { age: 'old' } }))).code, 121);
    await db.command({ collMod: 'people', validationAction: 'warn' });
    await c.insertOne({ _id: 5, age: 'warned' });
    await db.command({ collMod: 'people', validationAction: 'error', validationLevel: 'off' });
    await c.insertOne({ _id: 6, age: 'off' });
    await db.command({ collMod: 'people', validationLevel: 'strict' });
    await c.insertOne({ _id: 7, age: 'bypass' }, { bypassDocumentValidation: true });
    assert.equal((await serverError(c.insertOne({ _id: 8, age: 'x' }))).code, 121);
    const info = (await db.listCollections({ name: 'people' }).toArray())[0] as Document;
    assert.deepEqual(info.options, {
      validator: { age: { $type: 'number' } },
      validationLevel: 'strict',
      validationAction: 'error',
    });
    // A validator given at create is enforced the same way.
    await db.createCollection('typed', { validator: { n: { $gte: 0 } } });
    assert.equal((await serverError(db.collection<Doc>('typed').insertOne({ _id: 1, n: -1 }))).code, 121);
  });

  it('a validation failure explains itself in errInfo.details (5.0+): leaf reasons, $and, $or, $nor', async () => {
    const details = async (validator: Document, doc: Document): Promise<Document> => {
      const name = `why${Math.random().toString(36).slice(2, 8)}`;
      await db.createCollection(name, { validator });
      const err = await serverError(db.collection<Document>(name).insertOne(doc));
      assert.equal(err.code, 121);
      assert.equal(err.errInfo?.failingDocumentId, doc._id);
      return err.errInfo?.details as Document;
    };
    assert.deepEqual(await details({ a: { $gt: 5 } }, { _id: 1, a: 3 }), {
      operatorName: '$gt',
      specifiedAs: { a: { $gt: 5 } },
      reason: 'comparison failed',
      consideredValue: 3,
    });
    assert.deepEqual(await details({ a: { $gt: 5 } }, { _id: 2 }), {
      operatorName: '$gt',
      specifiedAs: { a: { $gt: 5 } },
      reason: 'field was missing',
    });
    assert.deepEqual(await details({ x: { $type: 'string' } }, { _id: 3, x: 1 }), {
      operatorName: '$type',
      specifiedAs: { x: { $type: 'string' } },
      reason: 'type did not match',
      consideredValue: 1,
      consideredType: 'int',
    });
    assert.deepEqual(await details({ tags: { $in: ['a', 'b'] } }, { _id: 4, tags: ['c', 'd'] }), {
      operatorName: '$in',
      specifiedAs: { tags: { $in: ['a', 'b'] } },
      reason: 'no matching value found in array',
      consideredValues: ['c', 'd'],
    });
    // Several fields: an implicit $and listing only the clauses that failed, by index.
    assert.deepEqual(
      await details({ name: { $exists: true }, status: 'A', n: { $lt: 10 } }, { _id: 5, status: 'B', n: 1 }),
      {
        operatorName: '$and',
        clausesNotSatisfied: [
          {
            index: 0,
            details: {
              operatorName: '$exists',
              specifiedAs: { name: { $exists: true } },
              reason: 'path does not exist',
            },
          },
          {
            index: 1,
            details: {
              operatorName: '$eq',
              specifiedAs: { status: 'A' },
              reason: 'comparison failed',
              consideredValue: 'B',
            },
          },
        ],
      },
    );
    const or = await details({ $or: [{ a: 1 }, { b: { $gte: 2 } }] }, { _id: 6, a: 0, b: 1 });
    assert.equal(or.operatorName, '$or');
    assert.deepEqual(
      (or.clausesNotSatisfied as Document[]).map((c) => [c.index, (c.details as Document).reason]),
      [
        [0, 'comparison failed'],
        [1, 'comparison failed'],
      ],
    );
    // $nor fails because a clause matched: explained in the inverted sense.
    assert.deepEqual(await details({ $nor: [{ a: 1 }, { b: 2 }] }, { _id: 7, a: 1, b: 3 }), {
      operatorName: '$nor',
      clausesSatisfied: [
        {
          index: 0,
          details: {
            operatorName: '$eq',
            specifiedAs: { a: 1 },
            reason: 'comparison succeeded',
            consideredValue: 1,
          },
        },
      ],
    });
  });

  it('collMod refuses bad options, missing collections and validators it cannot enforce', async () => {
    await db.createCollection('opts');
    const level = await serverError(db.command({ collMod: 'opts', validationLevel: 'sometimes' }));
    assert.equal(level.code, 2);
    const unknown = await serverError(db.command({ collMod: 'opts', colour: 'red' }));
    assert.equal(unknown.code, 40415);
    assert.equal(unknown.message, "BSON field 'collMod.colour' is an unknown field.");
    const missing = await serverError(db.command({ collMod: 'absent', validationLevel: 'off' }));
    assert.equal(missing.code, 26);
    const schema = await serverError(db.command({ collMod: 'opts', validator: { $jsonSchema: {} } }));
    assert.equal(schema.code, 2);
  });

  it('collMod index: hidden (hidden_old/new, invisible to explain) and expireAfterSeconds', async () => {
    const c = db.collection<Doc>('ix');
    await c.insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i, k: i % 5, at: new Date() })));
    await c.createIndex({ k: 1 });
    await c.createIndex({ at: 1 }, { expireAfterSeconds: 3600 });
    const used = await c.find({ k: 3 }).explain('queryPlanner');
    assert.equal(leaf(used.queryPlanner.winningPlan).stage, 'IXSCAN');
    const hid = await db.command({ collMod: 'ix', index: { keyPattern: { k: 1 }, hidden: true } });
    assert.equal(hid.hidden_old, false);
    assert.equal(hid.hidden_new, true);
    const again = await db.command({ collMod: 'ix', index: { name: 'k_1', hidden: true } });
    assert.equal('hidden_old' in again, false, 'no change, no hidden_old/new');
    const listed = (await c.listIndexes().toArray()).find((i) => i.name === 'k_1');
    assert.equal(listed?.hidden, true);
    const hidden = await c.find({ k: 3 }).explain('queryPlanner');
    assert.equal(leaf(hidden.queryPlanner.winningPlan).stage, 'COLLSCAN');
    await db.command({ collMod: 'ix', index: { name: 'k_1', hidden: false } });
    assert.equal((await c.listIndexes().toArray()).find((i) => i.name === 'k_1')?.hidden, undefined);
    const ttl = await db.command({ collMod: 'ix', index: { name: 'at_1', expireAfterSeconds: 60 } });
    assert.equal(ttl.expireAfterSeconds_old, 3600);
    assert.equal(ttl.expireAfterSeconds_new, 60);
    assert.equal((await c.listIndexes().toArray()).find((i) => i.name === 'at_1')?.expireAfterSeconds, 60);
    const notTtl = await serverError(
      db.command({ collMod: 'ix', index: { name: 'k_1', expireAfterSeconds: 5 } }),
    );
    assert.equal(notTtl.code, 72);
    assert.equal(notTtl.message, 'no expireAfterSeconds field to update');
    const idHide = await serverError(db.command({ collMod: 'ix', index: { name: '_id_', hidden: true } }));
    assert.equal(idHide.code, 2);
    const noIndex = await serverError(db.command({ collMod: 'ix', index: { name: 'zz_1', hidden: true } }));
    assert.equal(noIndex.code, 27);
    assert.equal(noIndex.message, 'cannot find index zz_1 for ns app.ix');
  });

  it('renameCollection within and across databases, dropTarget, and its errors', async () => {
    const src = db.collection<Doc>('before');
    await src.insertMany([{ _id: 1 }, { _id: 2 }]);
    await src.createIndex({ x: 1 });
    const uuid = ((await db.listCollections({ name: 'before' }).toArray())[0] as Document).info?.uuid;
    await admin.command({ renameCollection: 'app.before', to: 'app.after' });
    assert.equal(await db.collection('before').countDocuments(), 0);
    assert.equal(await db.collection('after').countDocuments(), 2);
    const after = (await db.listCollections({ name: 'after' }).toArray())[0] as Document;
    assert.equal(after?.info?.uuid?.toString(), uuid?.toString(), 'same database: the UUID is kept');
    assert.deepEqual(
      (await db.collection('after').listIndexes().toArray()).map((i) => i.name),
      ['_id_', 'x_1'],
    );
    // The driver's own helper runs the same command.
    await db.collection('after').rename('again');
    assert.equal(await db.collection('again').countDocuments(), 2);

    await admin.command({ renameCollection: 'app.again', to: 'other.moved' });
    const moved = (await client.db('other').listCollections({ name: 'moved' }).toArray())[0] as Document;
    assert.notEqual(moved?.info?.uuid?.toString(), uuid?.toString(), 'across databases: a new UUID');
    assert.equal(await client.db('other').collection('moved').countDocuments(), 2);

    await db.collection<Doc>('target').insertOne({ _id: 99 });
    await db.collection<Doc>('source').insertOne({ _id: 7 });
    const exists = await serverError(admin.command({ renameCollection: 'app.source', to: 'app.target' }));
    assert.equal(exists.code, 48);
    assert.equal(exists.message, 'target namespace exists');
    await admin.command({ renameCollection: 'app.source', to: 'app.target', dropTarget: true });
    assert.deepEqual(await db.collection('target').find().toArray(), [{ _id: 7 }]);

    const missing = await serverError(admin.command({ renameCollection: 'app.ghost', to: 'app.g2' }));
    assert.equal(missing.code, 26);
    assert.equal(missing.message, 'Source collection app.ghost does not exist');
    const self = await serverError(admin.command({ renameCollection: 'app.target', to: 'app.target' }));
    assert.equal(self.code, 20);
    await db.createCollection('tview', { viewOn: 'target', pipeline: [] });
    const view = await serverError(admin.command({ renameCollection: 'app.tview', to: 'app.t2' }));
    assert.equal(view.code, 166);
    const notAdmin = await serverError(db.command({ renameCollection: 'app.target', to: 'app.t3' }));
    assert.equal(notAdmin.code, 13);
    const badNs = await serverError(admin.command({ renameCollection: 'nodot', to: 'app.t3' }));
    assert.equal(badNs.code, 73);
  });

  it('currentOp and $currentOp show a blocked write; killOp interrupts it with 11601', async () => {
    const c = db.collection<Doc>('blocked');
    // An idle pooled connection of another client, for $all.
    const idleClient = new MongoClient(`mongodb://127.0.0.1:${m.port}/`, { serverSelectionTimeoutMS: 5000 });
    await idleClient.db('admin').command({ ping: 1 });
    await admin.command({ fsync: 1, lock: true });
    try {
      const pending = c.insertOne({ _id: 1 }).then(
        () => undefined,
        (err: unknown) => err,
      );
      let opid: number | undefined;
      await waitFor(
        async () => {
          const r = await admin.command({ currentOp: 1, ns: 'app.blocked' });
          const op = (r.inprog as Document[]).find((o) => o.op === 'insert');
          opid = op?.opid as number | undefined;
          return opid !== undefined;
        },
        10_000,
        'the blocked insert in currentOp',
      );
      const viaStage = await admin
        .aggregate([
          { $currentOp: {} },
          { $match: { ns: 'app.blocked' } },
          { $project: { op: 1, active: 1 } },
        ])
        .toArray();
      assert.deepEqual(
        viaStage.map((d) => [d.op, d.active]),
        [['insert', true]],
      );
      const self = await admin.command({ currentOp: 1, 'command.currentOp': { $exists: true } });
      assert.equal((self.inprog as Document[]).length, 1, 'currentOp sees itself');
      const idle = await admin.command({ currentOp: 1, $all: true, active: false });
      assert.ok((idle.inprog as Document[]).length >= 1, '$all adds idle connections');
      const killed = await admin.command({ killOp: 1, op: opid });
      assert.equal(killed.info, 'attempting to kill op');
      const err = await pending;
      assert.ok(err instanceof MongoServerError, 'the insert fails');
      assert.equal((err as MongoServerError).code, 11601);
    } finally {
      await admin.command({ fsyncUnlock: 1 });
      await idleClient.close();
    }
    // An unknown opid is still ok; a missing op field is not.
    assert.equal((await admin.command({ killOp: 1, op: 123456 })).ok, 1);
    assert.equal((await serverError(admin.command({ killOp: 1 }))).code, 4);
    assert.equal((await serverError(client.db('app').command({ currentOp: 1 }))).code, 13);
    const wrongDb = await serverError(db.aggregate([{ $currentOp: {} }]).toArray());
    assert.equal(wrongDb.code, 73);
  });

  it('top reports time and counts per namespace and operation kind', async () => {
    const c = db.collection<Doc>('topped');
    await c.insertMany([{ _id: 1 }, { _id: 2 }]);
    await c.insertOne({ _id: 3 });
    await c.find({}).toArray();
    await c.updateOne({ _id: 1 }, { $set: { x: 1 } });
    const r = await admin.command({ top: 1 });
    const t = r.totals['app.topped'] as Document;
    assert.equal(r.totals.note, 'all times in microseconds');
    assert.equal(Number(t.insert.count), 2);
    assert.equal(Number(t.queries.count), 1);
    assert.equal(Number(t.update.count), 1);
    assert.ok(Number(t.total.count) >= 4);
    assert.ok(Number(t.total.time) >= Number(t.insert.time));
    assert.equal((await serverError(db.command({ top: 1 }))).code, 13);
  });

  it('explain: IXSCAN when an index serves the filter, COLLSCAN otherwise, IDHACK for _id; writes are not performed', async () => {
    const c = db.collection<Doc>('plans');
    await c.insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: i, n: i, tag: i % 2 ? 'odd' : 'even' })));
    await c.createIndex({ n: 1 });
    const ix = await c.find({ n: { $gte: 10, $lt: 20 }, tag: 'odd' }).explain('executionStats');
    assert.equal(ix.explainVersion, '1');
    assert.equal(ix.queryPlanner.namespace, 'app.plans');
    const fetch = ix.queryPlanner.winningPlan as Document;
    assert.equal(fetch.stage, 'FETCH');
    assert.deepEqual(fetch.filter, { tag: 'odd' });
    const scan = fetch.inputStage as Document;
    assert.equal(scan.stage, 'IXSCAN');
    assert.equal(scan.indexName, 'n_1');
    assert.deepEqual(scan.indexBounds, { n: ['[10, 20)'] });
    assert.equal(ix.executionStats.nReturned, 5);
    assert.equal(ix.executionStats.totalKeysExamined, 10);
    assert.equal(ix.executionStats.totalDocsExamined, 10);
    assert.equal(ix.serverInfo.port, m.port);

    const coll = await c.find({ tag: 'even' }).explain('executionStats');
    assert.equal(coll.queryPlanner.winningPlan.stage, 'COLLSCAN');
    assert.equal(coll.executionStats.totalDocsExamined, 50);
    assert.equal(coll.executionStats.nReturned, 25);
    assert.equal('executionStats' in (await c.find({ tag: 'even' }).explain('queryPlanner')), false);

    const id = await c.find({ _id: 3 }).explain('queryPlanner');
    assert.equal(id.queryPlanner.winningPlan.stage, 'IDHACK');
    const sorted = await c
      .find({ n: { $in: [3, 1] } }, { sort: { tag: 1 }, limit: 1 })
      .explain('queryPlanner');
    assert.equal(sorted.queryPlanner.winningPlan.stage, 'SORT');
    assert.deepEqual(leaf(sorted.queryPlanner.winningPlan).indexBounds, { n: ['[1, 1]', '[3, 3]'] });

    const count = await db.command({
      explain: { count: 'plans', query: { n: 4 } },
      verbosity: 'executionStats',
    });
    assert.equal(count.queryPlanner.winningPlan.stage, 'COUNT');
    assert.equal(count.executionStats.executionStages.nCounted, 1);
    const distinct = await db.command({
      explain: { distinct: 'plans', key: 'tag', query: { n: { $lt: 5 } } },
    });
    assert.equal(leaf(distinct.queryPlanner.winningPlan).stage, 'IXSCAN');

    const upd = await db.command({
      explain: { update: 'plans', updates: [{ q: { tag: 'odd' }, u: { $set: { x: 1 } }, multi: true }] },
      verbosity: 'executionStats',
    });
    assert.equal(upd.queryPlanner.winningPlan.stage, 'UPDATE');
    assert.equal(upd.executionStats.executionStages.nWouldModify, 25);
    const del = await db.command({
      explain: { delete: 'plans', deletes: [{ q: { n: { $gt: 40 } }, limit: 0 }] },
      verbosity: 'executionStats',
    });
    assert.equal(del.queryPlanner.winningPlan.stage, 'DELETE');
    assert.equal(del.executionStats.executionStages.nWouldDelete, 9);
    assert.equal(await c.countDocuments({ x: 1 }), 0, 'explained update changed nothing');
    assert.equal(await c.countDocuments(), 50, 'explained delete removed nothing');

    const agg = await c
      .aggregate([{ $match: { n: { $lt: 10 } } }, { $group: { _id: '$tag', k: { $sum: 1 } } }])
      .explain();
    const cursorStage = (agg.stages as Document[])[0]?.$cursor as Document;
    assert.equal(leaf(cursorStage.queryPlanner.winningPlan).stage, 'IXSCAN');
    assert.deepEqual((agg.stages as Document[])[1], { $group: { _id: '$tag', k: { $sum: 1 } } });
    const pushed = await c.aggregate([{ $match: { tag: 'odd' } }, { $limit: 2 }]).explain('queryPlanner');
    assert.equal(pushed.queryPlanner.winningPlan.stage, 'COLLSCAN');

    const none = await db.collection('absent').find({ a: 1 }).explain('queryPlanner');
    assert.equal(none.queryPlanner.winningPlan.stage, 'EOF');
    const insert = await serverError(db.command({ explain: { insert: 'plans', documents: [{}] } }));
    assert.equal(insert.code, 20);
    const unknown = await serverError(db.command({ explain: { frobnicate: 'plans' } }));
    assert.equal(unknown.code, 59);
    const verbosity = await serverError(db.command({ explain: { find: 'plans' }, verbosity: 'loud' }));
    assert.equal(verbosity.code, 9);
  });

  it('replSetResizeOplog on a standalone: there is no oplog; unknown admin commands are CommandNotFound', async () => {
    const r = await serverError(admin.command({ replSetResizeOplog: 1, size: 1000 }));
    assert.equal(r.code, 26);
    const unknown = await serverError(admin.command({ frobnicateServer: 1 }));
    assert.equal(unknown.code, 59);
    assert.equal(unknown.codeName, 'CommandNotFound');
  });

  it('collMod and renameCollection survive a restart', async () => {
    await db.createCollection('durable', { validator: { ok: true } });
    await db.collection<Doc>('durable').createIndex({ w: 1 });
    await db.command({ collMod: 'durable', index: { name: 'w_1', hidden: true } });
    await admin.command({ renameCollection: 'app.durable', to: 'app.durable2' });
    await client.close();
    await m.stop('SIGKILL');
    m = await startMongod(bin, dbPath);
    client = new MongoClient(`mongodb://127.0.0.1:${m.port}/`, { serverSelectionTimeoutMS: 5000 });
    db = client.db('app');
    admin = client.db('admin');
    const info = (await db.listCollections({ name: 'durable2' }).toArray())[0] as Document;
    assert.deepEqual(info.options, { validator: { ok: true } });
    assert.equal(
      (await db.collection('durable2').listIndexes().toArray()).find((i) => i.name === 'w_1')?.hidden,
      true,
    );
    assert.equal(
      (await serverError(db.collection<Doc>('durable2').insertOne({ _id: 1, ok: false }))).code,
      121,
    );
  });
});

describe('administration commands by version', () => {
  let root: string;
  const procs: SimProcess[] = [];
  before(async () => {
    root = await tempDir();
  });
  after(async () => {
    for (const p of procs) await p.stop();
    await killAll();
    await removeDir(root);
  });

  it('4.2: no hidden indexes, collMod refuses unknown options with 72, explain carries plannerVersion, no errInfo on 121', async () => {
    const m = await startMongod(await simBin('4.2.24', root), join(root, 'v42'));
    procs.push(m);
    const client = new MongoClient(`mongodb://127.0.0.1:${m.port}/`, { serverSelectionTimeoutMS: 5000 });
    try {
      const db = client.db('app');
      await db.collection<Doc>('c').insertOne({ _id: 1, k: 1 });
      await db.collection<Doc>('c').createIndex({ k: 1 });
      const hidden = await serverError(db.command({ collMod: 'c', index: { name: 'k_1', hidden: true } }));
      assert.equal(hidden.code, 72);
      const unknown = await serverError(db.command({ collMod: 'c', colour: 1 }));
      assert.equal(unknown.code, 72);
      assert.equal(unknown.message, 'unknown option to collMod: colour');
      const ex = await db.command({ explain: { find: 'c', filter: { _id: 1 } }, verbosity: 'queryPlanner' });
      assert.equal(ex.queryPlanner.plannerVersion, 1);
      assert.equal('explainVersion' in ex, false);
      await db.createCollection('checked', { validator: { n: { $gte: 0 } } });
      const refused = await serverError(db.collection<Doc>('checked').insertOne({ _id: 1, n: -1 }));
      assert.equal(refused.code, 121);
      assert.equal(refused.errInfo, undefined, 'no errInfo before 5.0');
      const v = await db.command({ validate: 'c' });
      assert.equal('uuid' in v, false);
      assert.equal('repaired' in v, false);
    } finally {
      await client.close();
    }
  });

  it('8.0: an _id equality is an EXPRESS_IXSCAN', async () => {
    const m = await startMongod(await simBin('8.0.4', root), join(root, 'v80'));
    procs.push(m);
    const client = new MongoClient(`mongodb://127.0.0.1:${m.port}/`, { serverSelectionTimeoutMS: 5000 });
    try {
      const c = client.db('app').collection<Doc>('c');
      await c.insertOne({ _id: 1 });
      const ex = await c.find({ _id: 1 }).explain('queryPlanner');
      assert.equal(ex.queryPlanner.winningPlan.stage, 'EXPRESS_IXSCAN');
    } finally {
      await client.close();
    }
  });
});
