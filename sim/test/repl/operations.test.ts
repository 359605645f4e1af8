// Day-two operations on a running set: write concern timeouts, a member shown DOWN, adding and removing
// members by reconfig, and the shutdown command on a primary (reference §3.4, §3.6, §5.7; SIMULATOR.md).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Document } from 'mongodb';
import { waitFor } from '../helpers/sim.js';
import { ReplSetFixture } from './harness.js';

const SETTINGS = { electionTimeoutMillis: 1500, heartbeatIntervalMillis: 200, heartbeatTimeoutSecs: 2 };

describe('operating a replica set', { timeout: 180_000 }, () => {
  const rs = new ReplSetFixture('7.0.14');
  before(async () => {
    await rs.start(4);
    // Members 0–2 form the set; member 3 runs uninitialized until it is added.
    const cfg = rs.config([{}, {}, {}], SETTINGS);
    await rs.admin(0, { replSetInitiate: cfg });
    await rs.waitForPrimary(15_000);
  });
  after(async () => {
    await rs.close();
  });

  it('w:3 times out with WriteConcernFailed while a member is stopped; w:"majority" still succeeds', async () => {
    const primary = await rs.waitForPrimary();
    const victim = [0, 1, 2].find((i) => i !== primary) as number;
    rs.signal(victim, 'SIGSTOP');
    try {
      const c = await rs.direct(primary);
      const coll = c.db('app').collection('wc');
      await coll.insertOne({ a: 1 }, { writeConcern: { w: 'majority', wtimeout: 5000 } });
      const started = Date.now();
      await assert.rejects(
        coll.insertOne({ a: 2 }, { writeConcern: { w: 3, wtimeout: 400 } }),
        (e: Document) => {
          assert.equal(e.code, 64);
          assert.equal(e.codeName, 'WriteConcernFailed');
          assert.equal(e.errInfo?.wtimeout, true);
          return true;
        },
      );
      assert.ok(Date.now() - started >= 350, 'wtimeout is honoured');
      assert.equal(await coll.countDocuments({}), 2, 'the write itself is applied on the primary');
      await waitFor(
        async () => {
          const s = await rs.admin(primary, { replSetGetStatus: 1 });
          const m = (s.members as Document[]).find((x) => x.name === rs.host(victim));
          return m?.health === 0 && m.state === 8 && m.stateStr === '(not reachable/healthy)';
        },
        10_000,
        'the stopped member to be reported DOWN',
      );
    } finally {
      rs.signal(victim, 'SIGCONT');
    }
    await rs.waitForState(victim, 'SECONDARY');
  });

  it('adds a fourth member by reconfig; it syncs and becomes SECONDARY', async () => {
    const primary = await rs.waitForPrimary();
    const c = await rs.direct(primary);
    const { config } = await c.db('admin').command({ replSetGetConfig: 1 });
    config.version += 1;
    config.members.push({ _id: 3, host: rs.host(3), priority: 0, votes: 0 });
    await c.db('admin').command({ replSetReconfig: config });
    await rs.waitForState(3, 'SECONDARY', 20_000);
    const m3 = await rs.direct(3);
    assert.equal(await m3.db('app').collection('wc').countDocuments({}, { readPreference: 'secondary' }), 2);
    const hello = await rs.hello(3);
    assert.equal(hello?.passive, true);
    assert.deepEqual(hello?.passives, [rs.host(3)]);
    await waitFor(
      async () => (await rs.admin(0, { replSetGetConfig: 1 })).config.version === config.version,
      10_000,
      'every member to learn the new config',
    );
    // Chaining: the new member pulls from a secondary when told to, and still gets every write.
    const secondary = [0, 1, 2].find((i) => i !== primary) as number;
    await rs.admin(3, { replSetSyncFrom: rs.host(secondary) });
    await waitFor(
      async () => (await rs.admin(3, { replSetGetStatus: 1 })).syncSourceHost === rs.host(secondary),
      10_000,
      'the new sync source',
    );
    await c
      .db('app')
      .collection('wc')
      .insertOne({ chained: true }, { writeConcern: { w: 4, wtimeout: 10_000 } });
    assert.equal(
      await m3.db('app').collection('wc').countDocuments({ chained: true }, { readPreference: 'secondary' }),
      1,
    );
  });

  it('a removed member reports REMOVED and the RSGhost shape with setName', async () => {
    const primary = await rs.waitForPrimary();
    const c = await rs.direct(primary);
    const { config } = await c.db('admin').command({ replSetGetConfig: 1 });
    config.version += 1;
    config.members = config.members.filter((m: Document) => m._id !== 3);
    await c.db('admin').command({ replSetReconfig: config });
    await waitFor(
      async () => (await rs.hello(3))?.setName === 'rs0' && (await rs.hello(3))?.isreplicaset === true,
      10_000,
      'REMOVED',
    );
    await assert.rejects(rs.admin(3, { replSetGetStatus: 1 }), (e: Document) => e.code === 93);
  });

  it('a voting member added back joins as newlyAdded and the primary clears that with its own reconfig', async () => {
    const primary = await rs.waitForPrimary();
    const c = await rs.direct(primary);
    const { config } = await c.db('admin').command({ replSetGetConfig: 1 });
    config.version += 1;
    config.members.push({ _id: 3, host: rs.host(3) });
    await c.db('admin').command({ replSetReconfig: config });
    const internal = await c.db('admin').command({ replSetGetConfig: 1, $_internalIncludeNewlyAdded: true });
    const added = (internal.config.members as Document[]).find((m) => m._id === 3);
    // Either still newlyAdded, or already promoted by the automatic reconfig (version + 1).
    assert.ok(added?.newlyAdded === true || internal.config.version === config.version + 1);
    await waitFor(
      async () => {
        const now = await c.db('admin').command({ replSetGetConfig: 1, $_internalIncludeNewlyAdded: true });
        return (
          now.config.version === config.version + 1 &&
          !(now.config.members as Document[]).some((m) => 'newlyAdded' in m)
        );
      },
      15_000,
      'the automatic reconfig that removes newlyAdded',
    );
    const status = await c.db('admin').command({ replSetGetStatus: 1 });
    assert.equal(status.votingMembersCount, 4);
    assert.equal(status.majorityVoteCount, 3);
    await rs.waitForState(3, 'SECONDARY', 10_000);
  });

  it('shutdown on a primary without a caught-up secondary fails with 262; with one it steps down and exits', async () => {
    const primary = await rs.waitForPrimary();
    const others = [0, 1, 2, 3].filter((i) => i !== primary);
    for (const i of others) rs.signal(i, 'SIGSTOP');
    try {
      const c = await rs.direct(primary);
      // Isolated: no secondary can catch up within timeoutSecs.
      await c
        .db('app')
        .collection('wc')
        .insertOne({ a: 3 }, { writeConcern: { w: 1 } });
      await assert.rejects(c.db('admin').command({ shutdown: 1, timeoutSecs: 1 }), (e: Document) => {
        assert.equal(e.code, 262);
        assert.match(e.message, /^No electable secondaries caught up as of /);
        return true;
      });
    } finally {
      for (const i of others) rs.signal(i, 'SIGCONT');
    }
    const current = await rs.waitForPrimary(20_000);
    const c = await rs.direct(current);
    await c
      .db('admin')
      // timeoutSecs bounds the wait for a caught-up secondary and then quiesce mode (5.0+, §5.7).
      .command({ shutdown: 1, timeoutSecs: 3 })
      .catch(() => undefined);
    const exit = await rs.procs[current]?.waitExit(20_000);
    assert.equal(exit?.code, 0);
    rs.procs[current] = undefined;
    const next = await rs.waitForPrimary(20_000, [current]);
    assert.notEqual(next, current);
  });
});

describe('converting a standalone with data into a replica set', { timeout: 90_000 }, () => {
  const rs = new ReplSetFixture('6.0.16');
  after(async () => {
    await rs.close();
  });

  it('the new member copies the pre-existing data by initial sync', async () => {
    await rs.start(2);
    await rs.kill(0, 'SIGTERM');
    await rs.startMember(0, [], true);
    const standalone = await rs.direct(0);
    await standalone
      .db('legacy')
      .collection('docs')
      .insertMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await standalone.db('legacy').collection('docs').createIndex({ n: 1 }, { name: 'n_1' });
    await standalone.close();
    await rs.kill(0, 'SIGTERM');
    await rs.startMember(0);
    await rs.admin(0, { replSetInitiate: rs.config([{}, {}], SETTINGS) });
    await rs.waitForState(1, 'SECONDARY', 20_000);
    const m1 = await rs.direct(1);
    const docs = await m1.db('legacy').collection('docs').find({}, { readPreference: 'secondary' }).toArray();
    assert.deepEqual(docs.map((d) => d.n).sort(), [1, 2, 3]);
    const indexes = await m1.db('legacy').collection('docs').listIndexes().toArray();
    assert.ok(indexes.some((i) => i.name === 'n_1'));
    const primary = await rs.waitForPrimary(15_000);
    const p = await rs.direct(primary);
    await p
      .db('legacy')
      .collection('docs')
      .insertOne({ n: 4 }, { writeConcern: { w: 2, wtimeout: 10_000 } });
  });
});
