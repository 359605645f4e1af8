// Replica sets on older release series: no topologyVersion before 4.4 (the driver polls), config
// without term and with slaveDelay, legacy codeNames before 5.0 (reference §2.5, §3.2, §3.10).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Document } from 'mongodb';
import { WireClient } from '../../src/wire/client.js';
import { ReplSetFixture } from './harness.js';

const SETTINGS = { electionTimeoutMillis: 1500, heartbeatIntervalMillis: 200, heartbeatTimeoutSecs: 2 };

for (const version of ['3.6.23', '4.4.29']) {
  describe(`replica set on ${version}`, { timeout: 90_000 }, () => {
    const rs = new ReplSetFixture(version);
    after(async () => {
      await rs.close();
    });

    it('initiates, elects, replicates with w:"majority" and speaks the version', async () => {
      await rs.start(3);
      await rs.admin(0, {
        replSetInitiate: rs.config([{}, {}, { priority: 0, hidden: true, slaveDelay: 1 }], SETTINGS),
      });
      const primary = await rs.waitForPrimary(15_000);
      const client = await rs.rsClient();
      await client
        .db('app')
        .collection('v')
        .insertOne({ version }, { writeConcern: { w: 'majority', wtimeout: 10_000 } });
      const { config } = await rs.admin(primary, { replSetGetConfig: 1 });
      assert.equal('term' in config, version.startsWith('4.4'));
      assert.ok('slaveDelay' in config.members[0]);
      const hello = await rs.admin(primary, { isMaster: 1 });
      assert.equal(hello.ismaster, true);
      assert.equal('topologyVersion' in hello, version.startsWith('4.4'));
      assert.deepEqual(hello.hosts, [rs.host(0), rs.host(1)], 'the hidden member is not listed');
      const hidden = await rs.admin(2, { isMaster: 1 });
      assert.equal(hidden.hidden, true);
      assert.equal(Number(hidden.slaveDelay), 1);
      const sec = primary === 0 ? 1 : 0;
      const wire = await WireClient.connect('127.0.0.1', rs.ports[sec] as number);
      try {
        const write = await wire.command('app', { insert: 'v', documents: [{ b: 1 }] });
        assert.equal(write.codeName, 'NotMaster');
        assert.equal(write.errmsg, 'not master');
      } finally {
        wire.close();
      }
      // The delayed member applies the write only after its delay.
      const delayed = await rs.direct(2);
      const waitStart = Date.now();
      let found: Document | null = null;
      while (!found && Date.now() - waitStart < 20_000) {
        // Until its initial sync ends the member refuses reads (13436 NotPrimaryOrSecondary), as mongod does.
        found = await delayed
          .db('app')
          .collection('v')
          .findOne({}, { readPreference: 'secondary' })
          .catch((error: Document) => {
            if (error.code === 13436) return null;
            throw error;
          });
        if (!found) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(found, 'the delayed member eventually has the write');
      // §3.7: up to 4.0 the stepped-down primary closes the caller's connection; 4.2+ replies ok.
      const stepDown = rs.admin(primary, { replSetStepDown: 30, secondaryCatchUpPeriodSecs: 10 });
      if (version.startsWith('3.6')) {
        await assert.rejects(stepDown, (e: Document) =>
          /MongoNetworkError|closed/.test(`${e.name} ${e.message}`),
        );
      } else {
        assert.equal((await stepDown).ok, 1);
      }
      const next = await rs.waitForPrimary(15_000, [primary]);
      assert.notEqual(next, primary);
    });
  });
}
