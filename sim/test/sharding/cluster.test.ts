// A sharded cluster of separate simulator processes over TCP: a config server replica set, two shard
// replica sets and a mongos, driven through the real `mongodb` driver. Covers mongos waiting for its
// config servers, addShard (with its refusals), listShards, enableSharding, routing of writes to the
// primary shard (checked on the shard itself), shardCollection, the balancer switch, movePrimary and
// removeShard draining to completion, and the driver's Mongos / Sharded classification.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Document, MongoClient } from 'mongodb';
import { freePort, type SimProcess, waitFor } from '../helpers/sim.js';
import { type SetHandle, ShardedClusterFixture } from './cluster.js';

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function expectCode(p: Promise<unknown>, code: number, text?: RegExp): Promise<void> {
  await assert.rejects(p, (err: Document) => {
    assert.equal(err.code, code, `expected code ${code}, got ${String(err.code)}: ${String(err.message)}`);
    if (text) assert.match(String(err.message), text);
    return true;
  });
}

describe('sharded cluster (7.0): config servers, two shards, mongos', { timeout: 180_000 }, () => {
  const fx = new ShardedClusterFixture('7.0.14');
  let cfg: SetHandle;
  let shardA: SetHandle;
  let shardB: SetHandle;
  let plain: SetHandle;
  let mongosPort = 0;
  let mongosProc: SimProcess;
  let mongos: MongoClient;
  const serverTypes: string[] = [];
  const topologyTypes: string[] = [];

  before(async () => {
    await fx.init();
    // Config server started but not initiated yet: mongos must stay up and keep retrying.
    cfg = await fx.startSet('cfg', 1, ['--configsvr'], { MONGOD_SIM_BALANCER_ROUND_MS: '300' }, false);
    mongosPort = await freePort();
    const mongosLog = join(fx.root, 'mongos.log');
    const mongosStarting = fx.startMongos(cfg.connectionString, mongosPort, mongosLog);
    // Observed below; a failure before then must not surface as an unhandled rejection.
    mongosStarting.catch(() => undefined);
    [shardA, shardB, plain] = await Promise.all([
      fx.startSet('rsA', 1, ['--shardsvr']),
      fx.startSet('rsB', 2, ['--shardsvr']),
      fx.startSet('plain', 1, []),
    ]);
    const retryLine = /Error initializing sharding state, sleeping for 2 seconds and trying again/;
    await waitFor(
      async () => existsSync(mongosLog) && retryLine.test(await readFile(mongosLog, 'utf8')),
      10_000,
      'mongos to report that the config servers are not ready',
    );
    assert.equal(
      await listening(mongosPort),
      false,
      'mongos must not listen before the config servers answer',
    );
    await fx.initiate(cfg, true);
    mongosProc = await mongosStarting;
    mongos = await fx.client(`mongodb://127.0.0.1:${mongosPort}/`);
  });

  after(async () => {
    await fx.close();
  });

  it('is seen by the driver as a Mongos in a Sharded topology', async () => {
    const c = new MongoClient(`mongodb://127.0.0.1:${mongosPort}/`, { heartbeatFrequencyMS: 500 });
    c.on('serverDescriptionChanged', (e) => serverTypes.push(e.newDescription.type));
    c.on('topologyDescriptionChanged', (e) => topologyTypes.push(e.newDescription.type));
    try {
      await c.connect();
      await c.db('admin').command({ ping: 1 });
      await waitFor(
        () => serverTypes.includes('Mongos') && topologyTypes.includes('Sharded'),
        5000,
        'SDAM events',
      );
      const hello = await c.db('admin').command({ hello: 1 });
      assert.equal(hello.msg, 'isdbgrid');
      assert.equal(hello.isWritablePrimary, true);
      assert.equal(hello.setName, undefined);
    } finally {
      await c.close();
    }
    const cfgHello = await fx.command(cfg.ports[0] as number, { hello: 1 });
    assert.equal(cfgHello.configsvr, 2);
  });

  it('addShard adds both shard replica sets and listShards shows them', async () => {
    const admin = mongos.db('admin');
    assert.equal((await admin.command({ addShard: shardA.connectionString })).shardAdded, 'rsA');
    assert.equal((await admin.command({ addShard: shardB.connectionString, name: 'rsB' })).shardAdded, 'rsB');
    // Adding the same set again is a no-op that succeeds.
    assert.equal((await admin.command({ addShard: shardA.connectionString })).shardAdded, 'rsA');
    const { shards } = await admin.command({ listShards: 1 });
    const byId = new Map((shards as Document[]).map((s) => [s._id, s]));
    assert.deepEqual([...byId.keys()].sort(), ['rsA', 'rsB']);
    assert.equal(byId.get('rsA')?.host, shardA.connectionString);
    assert.equal(byId.get('rsB')?.host, shardB.connectionString);
    assert.equal(byId.get('rsA')?.state, 1);
    // The catalog lives on the config server, readable through mongos.
    const stored = await mongos.db('config').collection('shards').countDocuments();
    assert.equal(stored, 2);
    // The shard now carries its shardIdentity document.
    const a = await fx.direct(shardA.ports[0] as number);
    const identity = await a
      .db('admin')
      .collection('system.version')
      .findOne({ _id: 'shardIdentity' as never });
    assert.equal(identity?.shardName, 'rsA');
    assert.match(String(identity?.configsvrConnectionString), /^cfg\//);
  });

  it('addShard refuses with the real codes and messages', async () => {
    const admin = mongos.db('admin');
    const plainHost = `127.0.0.1:${plain.ports[0]}`;
    await expectCode(
      admin.command({ addShard: `wrong/${plainHost}` }),
      96,
      /does not match the actual set name plain/,
    );
    await expectCode(
      admin.command({ addShard: plainHost }),
      96,
      /host is part of set plain; use replica set url format/,
    );
    await expectCode(admin.command({ addShard: plain.connectionString }), 193, /not started with --shardsvr/);
    await expectCode(admin.command({ addShard: cfg.connectionString }), 96, /since it is a config server/);
    await expectCode(
      admin.command({ addShard: `other/127.0.0.1:${shardA.ports[0]}` }),
      20,
      new RegExp(`'127.0.0.1:${shardA.ports[0]}' is already a member of the existing shard 'rsA/`),
    );
    await expectCode(
      admin.command({ addShard: shardB.connectionString, name: 'rsA' }),
      20,
      /A shard named rsA already exists/,
    );
    await expectCode(mongos.db('test').command({ addShard: shardA.connectionString }), 13, /admin database/);
    const stranger = `127.0.0.1:${await freePort()}`;
    await expectCode(
      admin.command({ addShard: `${plain.connectionString},${stranger}` }),
      96,
      new RegExp(`host ${stranger} does not belong to replica set plain`),
    );
    await expectCode(admin.command({ addShard: `gone/127.0.0.1:${await freePort()}` }), 133, /for set gone/);
    assert.deepEqual(
      ((await admin.command({ listShards: 1 })).shards as Document[]).map((s) => s._id).sort(),
      ['rsA', 'rsB'],
      'refused shards are not recorded',
    );
  });

  it('enableSharding records the database and writes land on its primary shard', async () => {
    await mongos.db('admin').command({ enableSharding: 'app' });
    const dbDoc = await mongos
      .db('config')
      .collection('databases')
      .findOne({ _id: 'app' as never });
    assert.ok(dbDoc, 'config.databases has app');
    const primary = String(dbDoc.primary);
    assert.ok(['rsA', 'rsB'].includes(primary));
    const items = mongos.db('app').collection('items');
    await items.insertMany(
      Array.from({ length: 25 }, (_, i) => ({ _id: i as never, n: i })),
      { writeConcern: { w: 'majority' } },
    );
    await items.updateOne({ _id: 3 as never }, { $set: { touched: true } });
    await items.deleteOne({ _id: 4 as never });
    assert.equal(await items.countDocuments(), 24);
    // Through mongos with small batches: getMore is routed back to the shard's cursor.
    const all = await items.find({}, { batchSize: 5 }).sort({ _id: 1 }).toArray();
    assert.equal(all.length, 24);
    assert.equal(all[3]?.touched, true);

    const onPrimary = await fx.direct((primary === 'rsA' ? shardA : shardB).ports[0] as number);
    const onOther = await fx.direct((primary === 'rsA' ? shardB : shardA).ports[0] as number);
    assert.equal(await onPrimary.db('app').collection('items').countDocuments(), 24);
    assert.equal(await onOther.db('app').collection('items').countDocuments(), 0);

    // A first write to an unknown database creates its entry and picks a primary shard.
    await mongos.db('other').collection('c').insertOne({ x: 1 });
    const other = await mongos
      .db('config')
      .collection('databases')
      .findOne({ _id: 'other' as never });
    assert.ok(other && ['rsA', 'rsB'].includes(String(other.primary)));
    const names = ((await mongos.db('admin').command({ listDatabases: 1 })).databases as Document[]).map(
      (d) => d.name,
    );
    assert.ok(names.includes('app') && names.includes('other') && names.includes('config'));
  });

  it('shardCollection registers the collection and its chunk', async () => {
    const r = await mongos.db('admin').command({ shardCollection: 'app.events', key: { _id: 1 } });
    assert.equal(r.collectionsharded, 'app.events');
    const coll = await mongos
      .db('config')
      .collection('collections')
      .findOne({ _id: 'app.events' as never });
    assert.deepEqual(coll?.key, { _id: 1 });
    await mongos
      .db('app')
      .collection('events')
      .insertMany([{ _id: 1 as never }, { _id: 2 as never }]);
    assert.equal(await mongos.db('app').collection('events').countDocuments(), 2);
    // Same key again is accepted; another key is refused.
    await mongos.db('admin').command({ shardCollection: 'app.events', key: { _id: 1 } });
    await expectCode(mongos.db('admin').command({ shardCollection: 'app.events', key: { other: 1 } }), 23);
  });

  it('drop and dropDatabase through mongos clean the shards and the catalog', async () => {
    await mongos.db('admin').command({ shardCollection: 'app.temp', key: { _id: 1 } });
    await mongos
      .db('app')
      .collection('temp')
      .insertOne({ _id: 1 as never });
    assert.equal(await mongos.db('app').collection('temp').drop(), true);
    assert.equal(
      await mongos
        .db('config')
        .collection('collections')
        .countDocuments({ _id: 'app.temp' as never }),
      0,
    );

    const other = await mongos
      .db('config')
      .collection('databases')
      .findOne({ _id: 'other' as never });
    const holder = await fx.direct((other?.primary === 'rsA' ? shardA : shardB).ports[0] as number);
    assert.equal(await holder.db('other').collection('c').countDocuments(), 1);
    assert.equal((await mongos.db('other').command({ dropDatabase: 1 })).dropped, 'other');
    assert.equal(
      await mongos
        .db('config')
        .collection('databases')
        .countDocuments({ _id: 'other' as never }),
      0,
    );
    assert.equal(await holder.db('other').collection('c').countDocuments(), 0);
    const names = ((await mongos.db('admin').command({ listDatabases: 1 })).databases as Document[]).map(
      (d) => d.name,
    );
    assert.ok(!names.includes('other'));
  });

  it('balancerStop / balancerStart / balancerStatus switch the balancer mode', async () => {
    const admin = mongos.db('admin');
    assert.equal((await admin.command({ balancerStatus: 1 })).mode, 'full');
    await admin.command({ balancerStop: 1 });
    const stopped = await admin.command({ balancerStatus: 1 });
    assert.equal(stopped.mode, 'off');
    assert.equal(typeof stopped.inBalancerRound, 'boolean');
    const settings = await mongos
      .db('config')
      .collection('settings')
      .findOne({ _id: 'balancer' as never });
    assert.equal(settings?.stopped, true);
    await admin.command({ balancerStart: 1 });
    assert.equal((await admin.command({ balancerStatus: 1 })).mode, 'full');
  });

  it('removeShard drains through started, ongoing and completed', async () => {
    const admin = mongos.db('admin');
    const appDoc = await mongos
      .db('config')
      .collection('databases')
      .findOne({ _id: 'app' as never });
    const victim = String(appDoc?.primary);
    const keeper = victim === 'rsA' ? 'rsB' : 'rsA';
    const keeperSet = keeper === 'rsA' ? shardA : shardB;

    const started = await admin.command({ removeShard: victim });
    assert.equal(started.state, 'started');
    assert.equal(started.msg, 'draining started successfully');
    assert.ok((started.dbsToMove as string[]).includes('app'));
    const listed = ((await admin.command({ listShards: 1 })).shards as Document[]).find(
      (s) => s._id === victim,
    );
    assert.equal(listed?.draining, true);

    const ongoing = await admin.command({ removeShard: victim });
    assert.equal(ongoing.state, 'ongoing');
    assert.ok(Number(ongoing.remaining.dbs) >= 1);
    await expectCode(admin.command({ removeShard: keeper }), 117, /more than one draining shard/);

    for (const db of started.dbsToMove as string[]) await admin.command({ movePrimary: db, to: keeper });
    const moved = await mongos
      .db('config')
      .collection('databases')
      .findOne({ _id: 'app' as never });
    assert.equal(moved?.primary, keeper);
    // Unsharded data moved with the primary; reads through mongos follow it.
    const keeperDirect = await fx.direct(keeperSet.ports[0] as number);
    assert.equal(await keeperDirect.db('app').collection('items').countDocuments(), 24);
    assert.equal(await mongos.db('app').collection('items').countDocuments(), 24);

    // The balancer moves the sharded collection's chunk off the draining shard; then removal completes.
    let last: Document = {};
    await waitFor(
      async () => {
        last = await admin.command({ removeShard: victim });
        return last.state === 'completed';
      },
      30_000,
      'removeShard to complete',
    );
    assert.equal(last.msg, 'removeshard completed successfully');
    assert.equal(last.shard, victim);
    const remaining = ((await admin.command({ listShards: 1 })).shards as Document[]).map((s) => s._id);
    assert.deepEqual(remaining, [keeper]);
    assert.equal(await mongos.db('app').collection('events').countDocuments(), 2);
    assert.equal(await keeperDirect.db('app').collection('events').countDocuments(), 2);
    await expectCode(admin.command({ removeShard: keeper }), 20, /Can't remove last shard/);
  });

  it('a removed shard comes back only once its leftover databases are dropped', async () => {
    const admin = mongos.db('admin');
    const listed = ((await admin.command({ listShards: 1 })).shards as Document[]).map((s) => String(s._id));
    const removed = listed.includes('rsA') ? shardB : shardA;
    // The migrated collection's donor copy stays behind (empty), so 'app' still exists there.
    await expectCode(
      admin.command({ addShard: removed.connectionString }),
      96,
      new RegExp(
        `can't add shard '${removed.connectionString}' because a local database 'app' exists in another rs[AB]`,
      ),
    );
    const leftovers = await fx.direct(removed.ports[0] as number);
    await leftovers.db('app').dropDatabase();
    assert.equal((await admin.command({ addShard: removed.connectionString })).shardAdded, removed.name);
    const p = await fx.direct(plain.ports[0] as number);
    await p.db('app').collection('local').insertOne({ x: 1 });
    await expectCode(
      admin.command({ addShard: plain.connectionString }),
      96,
      /because a local database 'app' exists in another rs[AB]/,
    );
  });

  it('mongos answers as a router: no replica-set commands, getCmdLineOpts, serverStatus', async () => {
    const admin = mongos.db('admin');
    await expectCode(admin.command({ replSetGetStatus: 1 }), 59);
    const opts = await admin.command({ getCmdLineOpts: 1 });
    assert.equal(opts.parsed.sharding.configDB, cfg.connectionString);
    const status = await admin.command({ serverStatus: 1 });
    assert.equal(status.process, 'mongos');
    assert.equal(status.sharding.configsvrConnectionString, cfg.connectionString);
    const registered = await mongos.db('config').collection('mongos').find().toArray();
    assert.equal(registered.length, 1, 'the router registers itself in config.mongos');
    assert.equal(registered[0]?.mongoVersion, '7.0.14');
    assert.ok(registered[0]?.ping instanceof Date);
    assert.equal(status.storageEngine, undefined);
    assert.equal(status.repl, undefined);
  });

  it('setFeatureCompatibilityVersion through mongos reaches the config servers and the shards', async () => {
    const admin = mongos.db('admin');
    await expectCode(admin.command({ setFeatureCompatibilityVersion: '6.0' }), 7369100, /confirm: true/);
    await admin.command({ setFeatureCompatibilityVersion: '6.0', confirm: true });
    const fcvOf = async (port: number): Promise<string> =>
      (await fx.command(port, { getParameter: 1, featureCompatibilityVersion: 1 }))
        .featureCompatibilityVersion.version;
    const shards = ((await admin.command({ listShards: 1 })).shards as Document[]).map((s) => String(s._id));
    const shardPorts = shards.map((id) => (id === 'rsA' ? shardA : shardB).ports[0] as number);
    assert.equal(await fcvOf(cfg.ports[0] as number), '6.0');
    for (const port of shardPorts) assert.equal(await fcvOf(port), '6.0');
    await admin.command({ setFeatureCompatibilityVersion: '7.0', confirm: true });
    assert.equal(await fcvOf(cfg.ports[0] as number), '7.0');
    for (const port of shardPorts) assert.equal(await fcvOf(port), '7.0');
  });

  it('the shutdown command stops mongos with exit 0', async () => {
    await mongos
      .db('admin')
      // timeoutSecs bounds mongos's quiesce mode (5.0+, §5.7); the default would be 15 s.
      .command({ shutdown: 1, timeoutSecs: 1 })
      .catch(() => undefined);
    const exit = await mongosProc.waitExit(15_000);
    assert.equal(exit.code, 0);
  });
});
