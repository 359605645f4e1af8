// A 3-member replica set in 3 simulated mongod processes over TCP, driven by the real driver:
// initiate, election within the configured timeout, majority writes on every member, failover on
// SIGKILL, rejoin after restart, stepDown, priority takeover, a primary cut off from the others.
// References: §2.3 (hello), §3.3 (initiate), §3.7 (stepDown), §3.9 (elections).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Document } from 'mongodb';
import { waitFor } from '../helpers/sim.js';
import { ReplSetFixture, TopologyWatch } from './harness.js';

const ELECTION_TIMEOUT = 1500;
const SETTINGS = {
  electionTimeoutMillis: ELECTION_TIMEOUT,
  heartbeatIntervalMillis: 200,
  heartbeatTimeoutSecs: 2,
};

describe('three-member replica set', { timeout: 180_000 }, () => {
  const rs = new ReplSetFixture('7.0.14');

  before(async () => {
    await rs.start(3);
  });
  after(async () => {
    await rs.close();
  });

  it('members are RSGhost before initiate', async () => {
    const watch = new TopologyWatch();
    await rs.direct(2, watch);
    await waitFor(() => watch.types().join(',') === 'RSGhost', 5000, 'SDAM to classify the member');
    const h = await rs.hello(0);
    assert.equal(h?.isreplicaset, true);
    assert.equal(h?.info, 'Does not have a valid replica set config');
    assert.equal(h?.setName, undefined);
    await assert.rejects(rs.admin(1, { replSetGetStatus: 1 }), (e: Document) => e.code === 94);
  });

  it('initiates and elects one primary through its election timer', async (t) => {
    const started = Date.now();
    const reply = await rs.admin(0, { replSetInitiate: rs.config([{}, {}, {}], SETTINGS) });
    assert.equal(reply.ok, 1);
    const primary = await rs.waitForPrimary(15_000);
    // How soon is a measurement (electionTimeoutMillis + up to 15 % offset), reported, not a gate; what
    // proves the timer fired is the reason the winner records.
    t.diagnostic(`primary after ${Date.now() - started} ms (electionTimeoutMillis ${ELECTION_TIMEOUT})`);
    const status = await rs.admin(primary, { replSetGetStatus: 1 });
    assert.equal(status.electionCandidateMetrics?.lastElectionReason, 'electionTimeout');
    const hellos = await Promise.all([0, 1, 2].map((i) => rs.hello(i)));
    assert.equal(hellos.filter((h) => h?.isWritablePrimary === true).length, 1);
    const p = hellos[primary];
    assert.equal(p?.setName, 'rs0');
    assert.deepEqual(p?.hosts, [rs.host(0), rs.host(1), rs.host(2)]);
    assert.equal(p?.primary, rs.host(primary));
    await rs.admin(0, { replSetGetConfig: 1 }).then((c) => {
      assert.equal(c.config.settings.electionTimeoutMillis, ELECTION_TIMEOUT);
    });
  });

  it('the driver sees ReplicaSetWithPrimary with RSPrimary and RSSecondary members', async () => {
    const watch = new TopologyWatch();
    await rs.rsClient('', watch);
    await waitFor(
      () =>
        watch.topologyType === 'ReplicaSetWithPrimary' &&
        watch.types().join(',') === 'RSPrimary,RSSecondary,RSSecondary',
      15_000,
      'SDAM to see the set',
    );
  });

  it('w:"majority" writes are visible on both secondaries', async () => {
    const client = await rs.rsClient();
    const coll = client.db('app').collection('items');
    for (let i = 0; i < 20; i++) {
      await coll.insertOne(
        { _id: i as unknown as never, v: i },
        { writeConcern: { w: 'majority', wtimeout: 10_000 } },
      );
    }
    await coll.updateOne(
      { _id: 3 as unknown as never },
      { $set: { v: 'three' } },
      { writeConcern: { w: 'majority' } },
    );
    const primary = await rs.waitForPrimary();
    // A majority (primary + one secondary) has every write on acknowledgement; the other follows.
    let atOnce = 0;
    for (const i of [0, 1, 2].filter((x) => x !== primary)) {
      const c = await rs.direct(i);
      const read = () => c.db('app').collection('items').find({}, { readPreference: 'secondary' }).toArray();
      if ((await read()).length === 20) atOnce++;
      await waitFor(
        async () => (await read()).length === 20,
        5000,
        `member ${i} to have every majority write`,
      );
      const docs = await read();
      assert.equal(docs.find((d) => d._id === (3 as unknown))?.v, 'three');
    }
    assert.ok(atOnce >= 1, 'at least one secondary had the writes when they were acknowledged');
    // The collection is one collection everywhere: same UUID on every member (oplog `ui`).
    const uuids = new Set<string>();
    for (const i of [0, 1, 2]) {
      const c = await rs.direct(i);
      const [info] = await c.db('app').listCollections({ name: 'items' }).toArray();
      const uuid = (info as Document | undefined)?.info?.uuid;
      assert.ok(uuid, `member ${i} reports the collection UUID`);
      uuids.add(Buffer.from(uuid.buffer ?? uuid).toString('hex'));
    }
    assert.equal(uuids.size, 1);
    const local = await rs.direct(primary);
    const [oplog] = await local.db('local').listCollections({ name: 'oplog.rs' }).toArray();
    assert.equal((oplog as Document | undefined)?.options?.capped, true, 'the oplog is a capped collection');
    // The oplog reads like any collection: every entry through getMore batches, newest first on request.
    const entries = await local.db('local').collection('oplog.rs').find({}, { batchSize: 5 }).toArray();
    assert.equal(entries.length, await local.db('local').collection('oplog.rs').countDocuments({}));
    assert.ok(entries.length > 20);
    const [newest] = await local
      .db('local')
      .collection('oplog.rs')
      .find({})
      .sort({ $natural: -1 })
      .limit(1)
      .toArray();
    assert.equal(String(newest?.ts), String(entries[entries.length - 1]?.ts));
    const status = await rs.admin(primary, { replSetGetStatus: 1 });
    assert.equal(status.set, 'rs0');
    assert.equal(status.majorityVoteCount, 2);
    assert.equal((status.members as Document[]).filter((m) => m.stateStr === 'SECONDARY').length, 2);
  });

  it('a secondary refuses writes and unflagged reads', async () => {
    const primary = await rs.waitForPrimary();
    const sec = [0, 1, 2].find((i) => i !== primary) as number;
    const c = await rs.direct(sec);
    await assert.rejects(
      c.db('app').collection('items').insertOne({ x: 1 }),
      (e: Document) => e.code === 10107,
    );
    // A direct connection makes the driver send primaryPreferred (§1.6), which a secondary serves.
    const docs = await c.db('app').collection('items').find({}).toArray();
    assert.equal(docs.length, 20);
  });

  it('SIGKILL of the primary elects a new one, loses no majority write, and the member rejoins', async () => {
    const old = await rs.waitForPrimary();
    await rs.kill(old, 'SIGKILL');
    const next = await rs.waitForPrimary(15_000, [old]);
    assert.notEqual(next, old);
    const c = await rs.direct(next);
    assert.equal(await c.db('app').collection('items').countDocuments({}), 20);
    await c
      .db('app')
      .collection('items')
      .insertOne({ _id: 100 as unknown as never }, { writeConcern: { w: 'majority', wtimeout: 10_000 } });
    await rs.startMember(old);
    await rs.waitForState(old, 'SECONDARY', 20_000);
    await waitFor(
      async () => {
        const d = await rs.direct(old);
        return (
          (await d.db('app').collection('items').countDocuments({}, { readPreference: 'secondary' })) === 21
        );
      },
      15_000,
      'the restarted member to catch up',
    );
  });

  it('replSetStepDown moves the primary', async () => {
    const old = await rs.waitForPrimary();
    const reply = await rs.admin(old, { replSetStepDown: 30, secondaryCatchUpPeriodSecs: 10 });
    assert.equal(reply.ok, 1);
    const next = await rs.waitForPrimary(15_000, [old]);
    assert.notEqual(next, old);
    const h = await rs.hello(old);
    assert.equal(h?.secondary, true);
    await assert.rejects(rs.admin(old, { replSetStepDown: 5 }), (e: Document) => e.code === 2);
    await assert.rejects(rs.admin(old, { replSetStepDown: 60 }), (e: Document) => e.code === 10107);
  });

  it('a member given a higher priority takes over once caught up', async () => {
    const primary = await rs.waitForPrimary();
    const target = [0, 1, 2].find((i) => i !== primary) as number;
    // The member that stepped down earlier is frozen for stepDownSecs; lift that first.
    await rs.admin(target, { replSetFreeze: 0 });
    const c = await rs.direct(primary);
    const { config } = await c.db('admin').command({ replSetGetConfig: 1 });
    config.version += 1;
    for (const m of config.members) m.priority = m._id === target ? 5 : 1;
    await c.db('admin').command({ replSetReconfig: config });
    await waitFor(
      async () => (await rs.hello(target))?.isWritablePrimary === true,
      20_000,
      'priority takeover',
    );
    const hellos = await Promise.all([0, 1, 2].map((i) => rs.hello(i)));
    assert.equal(hellos.filter((h) => h?.isWritablePrimary === true).length, 1);
  });

  it('a primary cut off from the others steps down, and the set recovers when they come back', async () => {
    const primary = await rs.waitForPrimary();
    const others = [0, 1, 2].filter((i) => i !== primary);
    for (const i of others) rs.signal(i, 'SIGSTOP');
    try {
      await waitFor(
        async () => (await rs.hello(primary))?.secondary === true,
        15_000,
        'the isolated primary to step down',
      );
    } finally {
      for (const i of others) rs.signal(i, 'SIGCONT');
    }
    const next = await rs.waitForPrimary(20_000);
    assert.ok(next >= 0);
    await rs.waitForState(primary === next ? (others[0] as number) : primary, 'SECONDARY', 20_000);
  });
  it('a SIGSTOPped primary is replaced, and steps down and rejoins when it resumes', async () => {
    const old = await rs.waitForPrimary();
    rs.signal(old, 'SIGSTOP');
    let next = -1;
    try {
      next = await rs.waitForPrimary(20_000, [old]);
    } finally {
      rs.signal(old, 'SIGCONT');
    }
    assert.notEqual(next, old);
    await rs.waitForState(old, 'SECONDARY', 20_000);
    // The resumed member learns who the primary is (the higher-priority member may take over again).
    await waitFor(
      async () => {
        const hellos = await Promise.all([0, 1, 2].map((i) => rs.hello(i)));
        const primaries = hellos.filter((h) => h?.isWritablePrimary === true);
        return primaries.length === 1 && hellos[old]?.primary === primaries[0]?.me;
      },
      10_000,
      'one primary that the resumed member knows',
    );
  });
});
