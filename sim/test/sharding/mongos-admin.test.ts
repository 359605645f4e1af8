// Administration commands through mongos, driven by the real driver against a config server set, two
// shards and a mongos: fsync (and the cluster fsync lock) on the config servers and every shard, currentOp
// and $currentOp gathered from the shards with "<shard>:<opid>" ids, killOp of such an id, explain with
// mongos' SINGLE_SHARD / SHARD_MERGE / SHARD_MERGE_SORT plans, validate per shard, collMod and
// renameCollection on the primary shard, and the commands mongos has not (top, dbHash,
// replSetResizeOplog) answering 59. A 6.0.5 cluster refuses the fsync lock as mongos did before 6.0.11.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Document, type MongoClient, MongoServerError } from 'mongodb';
import { waitFor } from '../helpers/sim.js';
import { type SetHandle, ShardedClusterFixture } from './cluster.js';

type Item = { _id: number; k: number; name?: string };

async function serverError(p: Promise<unknown>): Promise<MongoServerError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof MongoServerError) return err;
    throw err;
  }
  throw new Error('expected the server to refuse the command');
}

describe('administration commands through mongos (7.0)', { timeout: 240_000 }, () => {
  const fx = new ShardedClusterFixture('7.0.14');
  let cfg: SetHandle;
  let shardA: SetHandle;
  let shardB: SetHandle;
  let mongos: MongoClient;
  let mongosPort = 0;
  let primary = '';
  let other = '';
  const handle = (name: string): SetHandle => (name === 'rsA' ? shardA : shardB);

  before(async () => {
    await fx.init();
    cfg = await fx.startSet('cfg', 1, ['--configsvr']);
    [shardA, shardB] = await Promise.all([
      fx.startSet('rsA', 1, ['--shardsvr']),
      fx.startSet('rsB', 1, ['--shardsvr']),
    ]);
    const proc = await fx.startMongos(cfg.connectionString);
    mongosPort = proc.port;
    mongos = await fx.client(`mongodb://127.0.0.1:${proc.port}/`);
    const admin = mongos.db('admin');
    await admin.command({ addShard: shardA.connectionString });
    await admin.command({ addShard: shardB.connectionString });
    await admin.command({ balancerStop: 1 });
    await admin.command({ enableSharding: 'app' });
    const db = await mongos
      .db('config')
      .collection('databases')
      .findOne({ _id: 'app' as never });
    primary = String(db?.primary);
    other = primary === 'rsA' ? 'rsB' : 'rsA';
    // app.items: sharded on k, [MinKey, 50) on the primary shard, [50, MaxKey) on the other.
    await admin.command({ shardCollection: 'app.items', key: { k: 1 } });
    await mongos
      .db('app')
      .collection<Item>('items')
      .insertMany(Array.from({ length: 100 }, (_, i) => ({ _id: i, k: i })));
    await admin.command({ split: 'app.items', middle: { k: 50 } });
    await admin.command({ moveChunk: 'app.items', find: { k: 70 }, to: other });
    // app.plain: unsharded, on the primary shard.
    await mongos
      .db('app')
      .collection<Item>('plain')
      .insertMany([
        { _id: 1, k: 1 },
        { _id: 2, k: 2 },
        { _id: 3, k: 3 },
      ]);
  });
  after(async () => {
    await fx.close();
  });

  it('fsync runs on the config servers and every shard; the cluster lock holds writes until fsyncUnlock', async () => {
    const admin = mongos.db('admin');
    const r = await admin.command({ fsync: 1 });
    assert.equal(r.numFiles, 1);
    const raw = (r.all as Document).raw as Document;
    assert.deepEqual(Object.keys(raw).sort(), [
      cfg.connectionString,
      shardA.connectionString,
      shardB.connectionString,
    ]);
    for (const reply of Object.values(raw)) assert.equal((reply as Document).ok, 1);

    const locked = await admin.command({ fsync: 1, lock: true });
    const lockReplies = Object.values((locked.all as Document).raw as Document) as Document[];
    assert.deepEqual(
      lockReplies.map((x) => Number(x.lockCount)),
      [1, 1, 1],
    );
    // The shard itself reports the lock: a direct write there waits too (seen in its currentOp).
    const items = mongos.db('app').collection<Item>('plain');
    const pending = items.insertOne({ _id: 10, k: 10 }).then(
      () => 'written',
      (err: unknown) => err,
    );
    let blocked: Document | undefined;
    await waitFor(
      async () => {
        const ops = await admin.command({ currentOp: 1, ns: 'app.plain', op: 'insert' });
        blocked = (ops.inprog as Document[])[0];
        return blocked !== undefined;
      },
      10_000,
      'the held insert in currentOp through mongos',
    );
    assert.equal(blocked?.shard, primary);
    const unlocked = await admin.command({ fsyncUnlock: 1 });
    assert.equal(Object.keys(unlocked.raw as Document).length, 3);
    assert.equal(await pending, 'written');
    assert.equal(await items.countDocuments({ _id: 10 }), 1);
    const notLocked = await admin.command({ fsyncUnlock: 1 }).then(
      () => undefined,
      (err: unknown) => err as MongoServerError,
    );
    assert.ok(notLocked instanceof MongoServerError, 'a second fsyncUnlock fails');
    assert.match(notLocked.message, /fsyncUnlock called when not locked/);
    assert.equal((await serverError(mongos.db('app').command({ fsync: 1 }))).code, 13);
  });

  it('currentOp gathers the shards\u2019 operations with "<shard>:<opid>"; killOp through mongos interrupts one', async () => {
    const admin = mongos.db('admin');
    // Hold writes on the other shard only, so an insert routed there waits.
    const shardClient = await fx.direct(handle(other).ports[0] as number);
    await shardClient.db('admin').command({ fsync: 1, lock: true });
    try {
      const items = mongos.db('app').collection<Item>('items');
      const pending = items.insertOne({ _id: 500, k: 500 }).then(
        () => undefined,
        (err: unknown) => err,
      );
      let op: Document | undefined;
      await waitFor(
        async () => {
          const r = await admin.command({ currentOp: 1, ns: 'app.items', op: 'insert' });
          op = (r.inprog as Document[])[0];
          return op !== undefined;
        },
        10_000,
        'the held insert in currentOp through mongos',
      );
      assert.equal(op?.shard, other);
      assert.match(String(op?.opid), new RegExp(`^${other}:\\d+$`));
      assert.equal(op?.active, true);
      const viaStage = await admin
        .aggregate([{ $currentOp: {} }, { $match: { ns: 'app.items', op: 'insert' } }])
        .toArray();
      assert.deepEqual(
        viaStage.map((d) => [d.shard, d.opid]),
        [[other, op?.opid]],
      );
      const killed = await admin.command({ killOp: 1, op: op?.opid });
      const shardOpid = Number(String(op?.opid).split(':')[1]);
      assert.equal(killed.shard, other);
      assert.equal(killed.shardid, shardOpid);
      const err = await pending;
      assert.ok(err instanceof MongoServerError, 'the insert fails');
      assert.equal((err as MongoServerError).code, 11601);
    } finally {
      await shardClient.db('admin').command({ fsyncUnlock: 1 });
    }
    assert.equal(await mongos.db('app').collection<Item>('items').countDocuments({ _id: 500 }), 0);
    // Every shard is asked; mongos's own operations only with localOps.
    const all = await admin.command({ currentOp: 1 });
    const shards = new Set((all.inprog as Document[]).map((d) => d.shard));
    assert.deepEqual([...shards].sort(), ['rsA', 'rsB']);
    const local = await admin.aggregate([{ $currentOp: { localOps: true } }]).toArray();
    assert.ok(local.length >= 1);
    assert.ok(
      local.every((d) => d.shard === undefined && typeof d.opid === 'number'),
      'mongos operations carry a plain opid and no shard',
    );
  });

  it('killOp refuses what mongos refuses', async () => {
    const admin = mongos.db('admin');
    assert.equal((await serverError(admin.command({ killOp: 1 }))).code, 50759);
    const badFormat = await serverError(admin.command({ killOp: 1, op: 'rsA' }));
    assert.equal(badFormat.code, 28625);
    assert.match(badFormat.message, /must be of the format shardid:opid but found "rsA"/);
    assert.equal((await serverError(admin.command({ killOp: 1, op: ':12' }))).code, 28625);
    assert.equal((await serverError(admin.command({ killOp: 1, op: 'rsA:' }))).code, 28625);
    assert.equal((await serverError(admin.command({ killOp: 1, op: 'rsZ:12' }))).code, 70);
    assert.equal((await serverError(admin.command({ killOp: 1, op: 'rsA:x1' }))).code, 9);
    assert.equal((await serverError(admin.command({ killOp: 1, op: { a: 1 } }))).code, 50760);
    // A local opid (mongos' own) is accepted whether or not it runs.
    assert.equal((await admin.command({ killOp: 1, op: 987654 })).ok, 1);
    assert.equal((await serverError(mongos.db('app').command({ killOp: 1, op: 1 }))).code, 13);
  });

  it('explain wraps the shards\u2019 plans: SINGLE_SHARD, SHARD_MERGE, SHARD_MERGE_SORT', async () => {
    const app = mongos.db('app');
    const single = await app.command({ explain: { find: 'plain', filter: { k: 2 } } });
    const plan = (single.queryPlanner as Document).winningPlan as Document;
    assert.equal((single.queryPlanner as Document).mongosPlannerVersion, 1);
    assert.equal(plan.stage, 'SINGLE_SHARD');
    const [s0] = plan.shards as Document[];
    assert.equal(s0?.shardName, primary);
    assert.equal(s0?.connectionString, handle(primary).connectionString);
    assert.equal(s0?.namespace, 'app.plain');
    assert.equal((s0?.winningPlan as Document | undefined)?.stage, 'COLLSCAN');
    const stats = single.executionStats as Document;
    assert.equal(Number(stats.nReturned), 1);
    assert.equal(Number(stats.totalDocsExamined), 4);
    assert.equal((stats.executionStages as Document).stage, 'SINGLE_SHARD');
    assert.equal(single.serverInfo.port, mongosPort, 'serverInfo is mongos\u2019 own');

    const merged = await app
      .collection<Item>('items')
      .find({ k: { $gte: 40, $lt: 60 } })
      .explain('executionStats');
    const mPlan = (merged.queryPlanner as Document).winningPlan as Document;
    assert.equal(mPlan.stage, 'SHARD_MERGE');
    assert.deepEqual((mPlan.shards as Document[]).map((s) => s.shardName).sort(), ['rsA', 'rsB']);
    assert.equal(Number((merged.executionStats as Document).nReturned), 20);
    const perShard = ((merged.executionStats as Document).executionStages as Document).shards as Document[];
    assert.deepEqual(perShard.map((s) => Number(s.nReturned)).sort(), [10, 10]);

    const sorted = await app.command({
      explain: { find: 'items', filter: {}, sort: { k: -1 } },
      verbosity: 'queryPlanner',
    });
    assert.equal(((sorted.queryPlanner as Document).winningPlan as Document).stage, 'SHARD_MERGE_SORT');
    assert.equal(sorted.executionStats, undefined);
    const targeted = await app.command({ explain: { find: 'items', filter: { k: 75 } } });
    const tPlan = (targeted.queryPlanner as Document).winningPlan as Document;
    assert.equal(tPlan.stage, 'SINGLE_SHARD');
    assert.equal((tPlan.shards as Document[])[0]?.shardName, other);
    const write = await app.command({
      explain: { update: 'items', updates: [{ q: {}, u: { $set: { x: 1 } }, multi: true }] },
      verbosity: 'executionStats',
    });
    assert.equal(((write.queryPlanner as Document).winningPlan as Document).stage, 'SHARD_WRITE');
    assert.equal(await app.collection('items').countDocuments({ x: 1 }), 0, 'explain writes nothing');

    const pipeline = await app.command({
      explain: { aggregate: 'plain', pipeline: [{ $match: { k: 1 } }], cursor: {} },
    });
    assert.equal(pipeline.splitPipeline, null);
    assert.deepEqual(Object.keys(pipeline.shards as Document), [primary]);
    const over2 = await serverError(
      app.command({ explain: { aggregate: 'items', pipeline: [], cursor: {} } }),
    );
    assert.equal(over2.code, 115);
    assert.equal((await serverError(app.command({ explain: { top: 1 } }))).code, 59);
    assert.equal((await serverError(mongos.db('nodb').command({ explain: { find: 'x' } }))).code, 26);
  });

  it('validate runs on each shard holding the collection; collMod and renameCollection on the primary shard', async () => {
    const app = mongos.db('app');
    const unsharded = await app.command({ validate: 'plain' });
    assert.equal(unsharded.valid, true);
    assert.equal(unsharded.ns, 'app.plain');
    assert.ok(unsharded.nrecords >= 3);
    assert.deepEqual(Object.keys(unsharded.raw as Document), [primary]);
    const sharded = await app.command({ validate: 'items' });
    assert.equal(sharded.valid, true);
    assert.deepEqual(Object.keys(sharded.raw as Document).sort(), ['rsA', 'rsB']);
    assert.equal(sharded.nrecords, undefined, 'a sharded collection answers valid + raw only');
    assert.equal((await serverError(app.command({ validate: 'nope' }))).code, 26);
    assert.equal((await serverError(mongos.db('nodb').command({ validate: 'c' }))).code, 26);

    await app.command({ collMod: 'plain', validator: { k: { $type: 'number' } } });
    const invalid = await serverError(
      app.collection<{ _id: number; k: unknown }>('plain').insertOne({ _id: 99, k: 'text' }),
    );
    assert.equal(invalid.code, 121);
    const shardSide = await fx.direct(handle(primary).ports[0] as number);
    const [info] = (await shardSide.db('app').listCollections({ name: 'plain' }).toArray()) as Document[];
    assert.deepEqual((info?.options as Document | undefined)?.validator, { k: { $type: 'number' } });
    assert.equal((await serverError(app.command({ collMod: 'items', validationLevel: 'off' }))).code, 115);
    assert.equal((await serverError(app.command({ collMod: 'nope', validationLevel: 'off' }))).code, 26);

    const admin = mongos.db('admin');
    await admin.command({ renameCollection: 'app.plain', to: 'app.renamed' });
    assert.equal(await app.collection('renamed').countDocuments(), 4);
    assert.equal(await shardSide.db('app').collection('plain').countDocuments(), 0);
    assert.equal(
      (await serverError(admin.command({ renameCollection: 'app.items', to: 'app.i2' }))).code,
      115,
    );
    assert.equal(
      (await serverError(admin.command({ renameCollection: 'app.missing', to: 'app.m2' }))).code,
      26,
    );
    // A database whose primary is the other shard: the rename would cross shards.
    await admin.command({ enableSharding: 'elsewhere' });
    const dbs = mongos.db('config').collection('databases');
    if ((await dbs.findOne({ _id: 'elsewhere' as never }))?.primary === primary) {
      await admin.command({ movePrimary: 'elsewhere', to: other });
    }
    const cross = await serverError(admin.command({ renameCollection: 'app.renamed', to: 'elsewhere.r' }));
    assert.equal(cross.code, 13137);
    assert.equal((await serverError(app.command({ renameCollection: 'app.renamed', to: 'app.x' }))).code, 13);
  });

  it('commands mongos does not have answer 59; listCommands, getParameter and serverStatus are mongos\u2019', async () => {
    const admin = mongos.db('admin');
    for (const cmd of [{ top: 1 }, { replSetResizeOplog: 1, size: 1000 }, { replSetGetStatus: 1 }]) {
      assert.equal((await serverError(admin.command(cmd))).code, 59, JSON.stringify(cmd));
    }
    assert.equal((await serverError(mongos.db('app').command({ dbHash: 1 }))).code, 59);
    const listed = Object.keys((await admin.command({ listCommands: 1 })).commands as Document);
    for (const name of ['fsync', 'fsyncUnlock', 'currentOp', 'killOp', 'explain', 'validate', 'collMod']) {
      assert.ok(listed.includes(name), `${name} listed`);
    }
    for (const name of ['top', 'dbHash', 'replSetResizeOplog', 'replSetGetStatus']) {
      assert.ok(!listed.includes(name), `${name} not listed on mongos`);
    }
    const params = await admin.command({ getParameter: '*' });
    assert.equal(params.featureCompatibilityVersion, undefined, 'mongos has no FCV parameter');
    assert.ok('mongosShutdownTimeoutMillisForSignaledShutdown' in params);
    const status = await admin.command({ serverStatus: 1 });
    assert.equal(status.process, 'mongos');
    assert.equal((status.sharding as Document).configsvrConnectionString, cfg.connectionString);
    for (const section of ['opcounters', 'connections', 'mem', 'network', 'asserts', 'metrics']) {
      assert.ok(status[section] !== undefined, `serverStatus.${section}`);
    }
    for (const section of ['repl', 'opcountersRepl', 'wiredTiger', 'electionMetrics']) {
      assert.equal(status[section], undefined, `no serverStatus.${section} on mongos`);
    }
  });
});

describe('fsync through a 6.0.5 mongos: no cluster lock yet', { timeout: 120_000 }, () => {
  const fx = new ShardedClusterFixture('6.0.5');
  let mongos: MongoClient;
  before(async () => {
    await fx.init();
    const cfg = await fx.startSet('cfg', 1, ['--configsvr']);
    const shard = await fx.startSet('rsA', 1, ['--shardsvr']);
    const proc = await fx.startMongos(cfg.connectionString);
    mongos = await fx.client(`mongodb://127.0.0.1:${proc.port}/`);
    await mongos.db('admin').command({ addShard: shard.connectionString });
  });
  after(async () => {
    await fx.close();
  });

  it('fsync reaches the shards only; lock is refused and fsyncUnlock is unknown', async () => {
    const admin = mongos.db('admin');
    const r = await admin.command({ fsync: 1 });
    assert.deepEqual(Object.keys(r.all as Document), ['rsA']);
    const lock = await serverError(admin.command({ fsync: 1, lock: true }));
    assert.equal(lock.message, "can't do lock through mongos");
    assert.equal(lock.code, undefined, 'an errmsg-only failure carries no code');
    assert.equal((await serverError(admin.command({ fsyncUnlock: 1 }))).code, 59);
    // Nothing was locked: a write goes through.
    await mongos.db('app').collection<{ _id: number }>('c').insertOne({ _id: 1 });
  });
});
