// A rolling binary upgrade of a replica set (SIMULATOR.md: "restarting members on new binaries"):
// secondaries first, then the stepped-down primary, each restarted on the same dbPath with the next
// version; the set keeps a primary and its data, then FCV is raised and replicates (reference §6).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { waitFor } from '../helpers/sim.js';
import { ReplSetFixture } from './harness.js';

const SETTINGS = { electionTimeoutMillis: 1500, heartbeatIntervalMillis: 200, heartbeatTimeoutSecs: 2 };

describe('rolling upgrade 6.0 → 7.0', { timeout: 180_000 }, () => {
  const rs = new ReplSetFixture('6.0.16');
  after(async () => {
    await rs.close();
  });

  it('keeps a primary and the data, then raises FCV on every member', async () => {
    await rs.start(3);
    await rs.admin(0, { replSetInitiate: rs.config([{}, {}, {}], SETTINGS) });
    let primary = await rs.waitForPrimary(15_000);
    const fcv0 = await rs.admin(primary, { getParameter: 1, featureCompatibilityVersion: 1 });
    assert.equal(fcv0.featureCompatibilityVersion.version, '6.0');
    const c = await rs.direct(primary);
    await c
      .db('app')
      .collection('u')
      .insertMany([{ n: 1 }, { n: 2 }], { writeConcern: { w: 'majority', wtimeout: 10_000 } });

    for (const i of [0, 1, 2].filter((x) => x !== primary)) {
      await rs.kill(i, 'SIGTERM');
      await rs.startMember(i, [], false, '7.0.14');
      await rs.waitForState(i, 'SECONDARY', 20_000);
    }
    await rs.admin(primary, { replSetStepDown: 60, secondaryCatchUpPeriodSecs: 10 });
    const old = primary;
    primary = await rs.waitForPrimary(20_000, [old]);
    await rs.kill(old, 'SIGTERM');
    await rs.startMember(old, [], false, '7.0.14');
    await rs.waitForState(old, 'SECONDARY', 20_000);

    for (let i = 0; i < 3; i++) {
      const info = await rs.admin(i, { buildInfo: 1 });
      assert.equal(info.version, '7.0.14');
    }
    const p = await rs.direct(primary);
    assert.equal(await p.db('app').collection('u').countDocuments({}), 2);
    await p.db('admin').command({
      setFeatureCompatibilityVersion: '7.0',
      confirm: true,
      writeConcern: { w: 'majority', wtimeout: 10_000 },
    });
    for (let i = 0; i < 3; i++) {
      await waitFor(
        async () =>
          (await rs.admin(i, { getParameter: 1, featureCompatibilityVersion: 1 })).featureCompatibilityVersion
            .version === '7.0',
        10_000,
        `member ${i} to reach FCV 7.0`,
      );
    }
  });
});
