// Recovering a set that lost its majority: a surviving secondary cannot elect itself, refuses a normal
// reconfig, accepts a force reconfig (version bumped by a large random amount, §3.6) and becomes primary;
// the lost members, back again, learn they were removed.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Document } from 'mongodb';
import { waitFor } from '../helpers/sim.js';
import { ReplSetFixture } from './harness.js';

const SETTINGS = { electionTimeoutMillis: 1500, heartbeatIntervalMillis: 200, heartbeatTimeoutSecs: 2 };

describe('force reconfig after losing the majority', { timeout: 120_000 }, () => {
  const rs = new ReplSetFixture('7.0.14');
  after(async () => {
    await rs.close();
  });

  it('the survivor is reconfigured alone and elects itself', async () => {
    await rs.start(3);
    await rs.admin(0, { replSetInitiate: rs.config([{}, {}, {}], SETTINGS) });
    const primary = await rs.waitForPrimary(15_000);
    const c = await rs.direct(primary);
    await c
      .db('app')
      .collection('f')
      .insertOne({ n: 1 }, { writeConcern: { w: 3, wtimeout: 10_000 } });
    const survivor = [0, 1, 2].find((i) => i !== primary) as number;
    const lost = [0, 1, 2].filter((i) => i !== survivor);
    for (const i of lost) await rs.kill(i, 'SIGKILL');
    await rs.waitForState(survivor, 'SECONDARY', 10_000);
    // Alone, it cannot win an election.
    await new Promise((r) => setTimeout(r, 3 * SETTINGS.electionTimeoutMillis));
    assert.equal((await rs.hello(survivor))?.isWritablePrimary, false);

    const s = await rs.direct(survivor);
    const { config } = await s.db('admin').command({ replSetGetConfig: 1 });
    const alone = { ...config, version: config.version + 1, members: [config.members[survivor]] };
    await assert.rejects(
      s.db('admin').command({ replSetReconfig: alone }),
      (e: Document) => e.code === 10107,
    );
    await s.db('admin').command({ replSetReconfig: alone, force: true });
    const after = await s.db('admin').command({ replSetGetConfig: 1 });
    assert.ok(after.config.version > config.version + 1, 'force bumps the version by a large amount');
    await waitFor(
      async () => (await rs.hello(survivor))?.isWritablePrimary === true,
      15_000,
      'the survivor to become primary',
    );
    assert.equal(await s.db('app').collection('f').countDocuments({}), 1);

    const back = lost[0] as number;
    await rs.startMember(back);
    await waitFor(
      async () => {
        const h = await rs.hello(back);
        return h?.isreplicaset === true && h.setName === 'rs0';
      },
      15_000,
      'the returning member to find itself removed',
    );
  });
});

describe('reconfig while the set cannot commit a config (4.4+)', { timeout: 90_000 }, () => {
  const rs = new ReplSetFixture('7.0.14');
  after(async () => {
    await rs.close();
  });

  it('times out with maxTimeMS, and the next reconfig is refused until the config is committed', async () => {
    await rs.start(3);
    await rs.admin(0, {
      replSetInitiate: rs.config([{}, {}, {}], { ...SETTINGS, electionTimeoutMillis: 5000 }),
    });
    const primary = await rs.waitForPrimary(20_000);
    const others = [0, 1, 2].filter((i) => i !== primary);
    const c = await rs.direct(primary);
    const { config } = await c.db('admin').command({ replSetGetConfig: 1 });
    for (const i of others) rs.signal(i, 'SIGSTOP');
    try {
      const next = { ...config, version: config.version + 1 };
      next.members[others[0] as number].priority = 2;
      await assert.rejects(
        c.db('admin').command({ replSetReconfig: next, maxTimeMS: 500 }),
        (e: Document) => e.code === 50,
      );
      await assert.rejects(
        c.db('admin').command({ replSetReconfig: { ...next, version: next.version + 1 } }),
        (e: Document) => {
          assert.equal(e.code, 308);
          assert.equal(e.codeName, 'CurrentConfigNotCommittedYet');
          return true;
        },
      );
    } finally {
      for (const i of others) rs.signal(i, 'SIGCONT');
    }
    await waitFor(
      async () =>
        (await rs.admin(others[0] as number, { replSetGetConfig: 1 })).config.version === config.version + 1,
      15_000,
      'the config to reach the resumed members',
    );
  });
});
