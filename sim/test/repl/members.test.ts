// Arbiters, member-level commands and invalid configs, on a primary–secondary–arbiter set (6.0).
// References: §2.3 (arbiter hello), §3.2/§3.3 (validation, code 93), §3.6 (reconfig), §3.8, §3.10.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Document } from 'mongodb';
import { WireClient } from '../../src/wire/client.js';
import { waitFor } from '../helpers/sim.js';
import { ReplSetFixture, TopologyWatch } from './harness.js';

const SETTINGS = { electionTimeoutMillis: 1500, heartbeatIntervalMillis: 200, heartbeatTimeoutSecs: 2 };

function codeIs(code: number, message?: string | RegExp) {
  return (e: Document): boolean => {
    assert.equal(e.code, code, `code ${e.code}: ${e.message}`);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return true;
  };
}

describe('invalid replica-set configs', { timeout: 60_000 }, () => {
  const rs = new ReplSetFixture('7.0.14');
  before(async () => {
    await rs.start(1);
  });
  after(async () => {
    await rs.close();
  });

  const initiate = (config: Document) => rs.admin(0, { replSetInitiate: config });
  const base = (members: Document[], extra: Document = {}) => ({ _id: 'rs0', version: 1, members, ...extra });

  it('answers 93 InvalidReplicaSetConfig with the real messages', async () => {
    const me = rs.host(0);
    await assert.rejects(
      initiate(
        base([
          { _id: 0, host: me },
          { _id: 0, host: '127.0.0.1:1' },
        ]),
      ),
      codeIs(93, 'Found two member configurations with same _id field, members.0._id == members.1._id == 0'),
    );
    await assert.rejects(
      initiate(
        base([
          { _id: 0, host: me },
          { _id: 1, host: me },
        ]),
      ),
      codeIs(
        93,
        `Found two member configurations with same host field, members.0.host == members.1.host == ${me}`,
      ),
    );
    const eight = Array.from({ length: 8 }, (_, i) => ({
      _id: i,
      host: i === 0 ? me : `127.0.0.1:${i + 1}`,
    }));
    await assert.rejects(
      initiate(base(eight)),
      codeIs(
        93,
        'Replica set configuration contains 8 voting members, but must be at least 1 and no more than 7',
      ),
    );
    await assert.rejects(
      initiate(base([{ _id: 0, host: me, hidden: true }])),
      codeIs(93, 'priority must be 0 when hidden=true'),
    );
    await assert.rejects(
      initiate(base([{ _id: 0, host: me, votes: 0 }])),
      codeIs(93, 'priority must be 0 when non-voting (votes:0)'),
    );
    await assert.rejects(
      initiate(base([{ _id: 0, host: me, priority: 0, secondaryDelaySecs: 10 }])),
      codeIs(93, 'Replica set configuration must contain at least one non-arbiter member with priority > 0'),
    );
    await assert.rejects(
      initiate(
        base([
          { _id: 0, host: me },
          { _id: 1, host: '127.0.0.1:2', arbiterOnly: true, priority: 3 },
        ]),
      ),
      codeIs(93, 'Member 127.0.0.1:2 is an arbiter but has priority 3. Arbiter priority must be 0.'),
    );
    await assert.rejects(
      initiate({ _id: 'other', version: 1, members: [{ _id: 0, host: me }] }),
      codeIs(
        93,
        'Attempting to initiate a replica set with name other, but command line reports rs0; rejecting',
      ),
    );
    await assert.rejects(
      initiate(base([{ _id: 0, host: '127.0.0.1:1' }])),
      codeIs(
        93,
        /No host described in new configuration with \{version: 1, term: 0\} for replica set rs0 maps to this node/,
      ),
    );
  });

  it('fails the quorum check when a member does not answer', async () => {
    await assert.rejects(
      initiate(
        base([
          { _id: 0, host: rs.host(0) },
          { _id: 1, host: '127.0.0.1:9' },
        ]),
      ),
      codeIs(
        74,
        /^replSetInitiate quorum check failed because not all proposed set members responded affirmatively: 127\.0\.0\.1:9 failed with/,
      ),
    );
    assert.equal((await rs.hello(0))?.isreplicaset, true, 'still uninitialized');
  });

  it('a single-node set elects itself and then refuses a second initiate', async () => {
    await initiate(base([{ _id: 0, host: rs.host(0) }], { settings: SETTINGS }));
    await rs.waitForPrimary(10_000);
    await assert.rejects(initiate(base([{ _id: 0, host: rs.host(0) }])), codeIs(23, 'already initialized'));
    const c = await rs.direct(0);
    const { config } = await c.db('admin').command({ replSetGetConfig: 1 });
    await assert.rejects(
      c.db('admin').command({ replSetReconfig: config }),
      codeIs(
        103,
        /^New replica set configuration version and term must be greater than old, but \{version: 1, term: 1\} is not greater than \{version: 1, term: 1\} for replica set rs0$/,
      ),
    );
    await assert.rejects(c.db('admin').command({ replSetFreeze: 10 }), codeIs(95));
    await assert.rejects(
      c.db('admin').command({ replSetMaintenance: true }),
      codeIs(95, "primaries can't modify maintenance mode"),
    );
    await assert.rejects(
      c.db('admin').command({ replSetStepDown: 10 }),
      codeIs(262, /^No electable secondaries caught up as of /),
    );
  });
});

describe('primary–secondary–arbiter set', { timeout: 120_000 }, () => {
  const rs = new ReplSetFixture('6.0.16');
  before(async () => {
    await rs.start(3);
    await rs.admin(0, { replSetInitiate: rs.config([{}, {}, { arbiterOnly: true }], SETTINGS) });
  });
  after(async () => {
    await rs.close();
  });

  it('the arbiter is RSArbiter and the set ReplicaSetWithPrimary', async () => {
    await rs.waitForPrimary(15_000);
    const watch = new TopologyWatch();
    await rs.rsClient('', watch);
    await waitFor(
      () =>
        watch.topologyType === 'ReplicaSetWithPrimary' &&
        watch.types().join(',') === 'RSArbiter,RSPrimary,RSSecondary',
      15_000,
      'SDAM to see the arbiter',
    );
    const h = await rs.hello(2);
    assert.equal(h?.arbiterOnly, true);
    assert.equal(h?.secondary, false);
    assert.deepEqual(h?.arbiters, [rs.host(2)]);
  });

  it('the arbiter holds no data', async () => {
    const primary = await rs.waitForPrimary();
    const c = await rs.direct(primary);
    await c
      .db('app')
      .collection('x')
      .insertMany([{ a: 1 }, { a: 2 }], { writeConcern: { w: 'majority', wtimeout: 10_000 } });
    const arb = await rs.direct(2);
    assert.equal(await arb.db('local').collection('oplog.rs').countDocuments({}), 0);
    const dbs = await arb.db('admin').command({ listDatabases: 1 });
    assert.ok(!(dbs.databases as Document[]).some((d) => d.name === 'app'));
    const sec = primary === 0 ? 1 : 0;
    const s = await rs.direct(sec);
    assert.equal(await s.db('app').collection('x').countDocuments({}), 2);
  });

  it('the arbiter votes: with the primary gone, secondary and arbiter elect a new primary', async () => {
    const old = await rs.waitForPrimary();
    await rs.kill(old, 'SIGKILL');
    const next = await rs.waitForPrimary(15_000, [old]);
    assert.equal(next, old === 0 ? 1 : 0);
    await rs.startMember(old);
    await rs.waitForState(old, 'SECONDARY');
  });

  it('maintenance mode, freeze and syncFrom on a secondary', async () => {
    const primary = await rs.waitForPrimary();
    const sec = primary === 0 ? 1 : 0;
    const c = await rs.direct(sec);
    const admin = c.db('admin');
    await admin.command({ replSetMaintenance: true });
    await rs.waitForState(sec, 'RECOVERING', 5000);
    assert.equal((await rs.hello(sec))?.secondary, false);
    const status = await admin.command({ replSetGetStatus: 1 });
    assert.equal(status.maintenanceMode, 1);
    await admin.command({ replSetMaintenance: false });
    await rs.waitForState(sec, 'SECONDARY', 5000);
    await assert.rejects(
      admin.command({ replSetMaintenance: false }),
      codeIs(96, 'already out of maintenance mode'),
    );
    assert.deepEqual((await admin.command({ replSetFreeze: 0 })).info, 'unfreezing');
    await assert.rejects(
      admin.command({ replSetSyncFrom: rs.host(sec) }),
      codeIs(72, 'I cannot sync from myself'),
    );
    const sf = await admin.command({ replSetSyncFrom: rs.host(primary) });
    assert.equal(sf.syncFromRequested, rs.host(primary));
  });

  it('a secondary answers 13435 to a read without secondaryOk and 10107 to a write', async () => {
    const primary = await rs.waitForPrimary();
    const sec = primary === 0 ? 1 : 0;
    // The simulator's own wire client sends no $readPreference, as a driver does for mode primary.
    const wire = await WireClient.connect('127.0.0.1', rs.ports[sec] as number);
    try {
      const read = await wire.command('app', { find: 'x', filter: {} });
      assert.equal(Number(read.code), 13435);
      assert.equal(read.codeName, 'NotPrimaryNoSecondaryOk');
      assert.equal(read.errmsg, 'not primary and secondaryOk=false');
      const write = await wire.command('app', { insert: 'x', documents: [{ b: 1 }] });
      assert.equal(Number(write.code), 10107);
      assert.equal(write.errmsg, 'not primary');
    } finally {
      wire.close();
    }
  });

  it('a non-force reconfig may change one voter at a time and only on the primary', async () => {
    const primary = await rs.waitForPrimary();
    const sec = primary === 0 ? 1 : 0;
    const c = await rs.direct(primary);
    const { config } = await c.db('admin').command({ replSetGetConfig: 1 });
    const twoVoters = { ...config, version: config.version + 1, members: [config.members[primary]] };
    await assert.rejects(
      c.db('admin').command({ replSetReconfig: twoVoters }),
      codeIs(103, 'Non force replica set reconfig can only add or remove at most 1 voting member.'),
    );
    const s = await rs.direct(sec);
    await assert.rejects(
      s.db('admin').command({ replSetReconfig: { ...config, version: config.version + 1 } }),
      codeIs(10107, /replSetReconfig should only be run on a writable PRIMARY\. Current state SECONDARY;/),
    );
  });
  it('5.0+: removing the arbiter changes the implicit default write concern and needs setDefaultRWConcern', async () => {
    const primary = await rs.waitForPrimary();
    const c = await rs.direct(primary);
    const admin = c.db('admin');
    const before = await admin.command({ getDefaultRWConcern: 1 });
    assert.equal(before.defaultWriteConcernSource, 'implicit');
    assert.equal(before.defaultWriteConcern.w, 1, 'PSA: implicit w:1');
    const { config } = await admin.command({ replSetGetConfig: 1 });
    const withoutArbiter = {
      ...config,
      version: config.version + 1,
      members: config.members.filter((m: Document) => !m.arbiterOnly),
    };
    await assert.rejects(
      admin.command({ replSetReconfig: withoutArbiter }),
      codeIs(
        103,
        'Reconfig attempted to install a config that would change the implicit default write concern. Use the setDefaultRWConcern command to set a cluster-wide write concern and try the reconfig again.',
      ),
    );
    const set = await admin.command({ setDefaultRWConcern: 1, defaultWriteConcern: { w: 1 } });
    assert.equal(set.defaultWriteConcernSource, 'global');
    await admin.command({ replSetReconfig: withoutArbiter });
    const after = await admin.command({ replSetGetConfig: 1 });
    assert.equal(after.config.members.length, 2);
  });
});

describe('replica-set commands on a standalone', { timeout: 30_000 }, () => {
  const rs = new ReplSetFixture('7.0.14');
  after(async () => {
    await rs.close();
  });

  it('answer 76 NoReplicationEnabled', async () => {
    await rs.start(0);
    await rs.startStandalone();
    await assert.rejects(rs.admin(0, { replSetGetStatus: 1 }), codeIs(76, 'not running with --replSet'));
    await assert.rejects(
      rs.admin(0, { replSetInitiate: {} }),
      codeIs(76, 'This node was not started with replication enabled.'),
    );
  });
});

describe('single-node replica set with default settings', { timeout: 60_000 }, () => {
  const rs = new ReplSetFixture('8.0.3');
  after(async () => {
    await rs.close();
  });

  it('is primary right after initiate and again right after a restart', async () => {
    await rs.start(1);
    const reply = await rs.admin(0, { replSetInitiate: {} });
    assert.equal(reply.info2, 'no configuration specified. Using a default configuration for the set');
    await rs.waitForPrimary(3000);
    await rs.kill(0, 'SIGTERM');
    const started = Date.now();
    await rs.startMember(0);
    await rs.waitForPrimary(9500);
    // Under the default electionTimeoutMillis of 10000: a lone voter does not wait for it.
    assert.ok(Date.now() - started < 9500);
  });
});
