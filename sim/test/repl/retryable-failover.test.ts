// Retryable writes across a failover: from 4.4 mongod labels a retryable write that fails with a retriable
// code (a member that is not, or no longer, primary) RetryableWriteError, and drivers talking to 4.4+ retry
// on that label alone. Without it an application sees one error per step-down, which MongoDB never shows.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Long, UUID } from 'bson';
import { WireClient } from '../../src/wire/client.js';
import { ReplSetFixture } from './harness.js';

const SETTINGS = { electionTimeoutMillis: 1000, heartbeatIntervalMillis: 200, heartbeatTimeoutSecs: 2 };

async function onSecondary(rs: ReplSetFixture, body: Record<string, unknown>) {
  const primary = await rs.waitForPrimary(15_000);
  const secondary = [0, 1, 2].find((i) => i !== primary) as number;
  const client = await WireClient.connect('127.0.0.1', rs.ports[secondary] as number);
  try {
    return await client.command('app', body);
  } finally {
    client.close();
  }
}

for (const [version, labelled] of [
  ['7.0.14', true],
  ['4.2.24', false],
] as const) {
  describe(`retryable writes on a member that is not primary (${version})`, { timeout: 120_000 }, () => {
    const rs = new ReplSetFixture(version);
    before(async () => {
      await rs.start(3);
      await rs.admin(0, { replSetInitiate: rs.config([{}, {}, {}], SETTINGS) });
      await rs.waitForPrimary(15_000);
    });
    after(async () => {
      await rs.close();
    });

    it(`an insert with lsid and txnNumber fails NotWritablePrimary ${labelled ? 'labelled' : 'without the label (before 4.4)'}`, async () => {
      const reply = await onSecondary(rs, {
        insert: 'c',
        documents: [{ _id: 1 }],
        lsid: { id: new UUID() },
        txnNumber: Long.fromNumber(1),
      });
      assert.equal(Number(reply.code), 10107);
      assert.deepEqual(reply.errorLabels, labelled ? ['RetryableWriteError'] : undefined);
    });

    it('a plain insert (no txnNumber) is not labelled', async () => {
      const reply = await onSecondary(rs, { insert: 'c', documents: [{ _id: 2 }] });
      assert.equal(Number(reply.code), 10107);
      assert.equal(reply.errorLabels, undefined);
    });
  });
}

describe('a driver writing through step-downs', { timeout: 180_000 }, () => {
  const rs = new ReplSetFixture('7.0.14');
  before(async () => {
    await rs.start(3);
    await rs.admin(0, { replSetInitiate: rs.config([{}, {}, {}], SETTINGS) });
    await rs.waitForPrimary(15_000);
  });
  after(async () => {
    await rs.close();
  });

  it('sees no error through three step-downs, and every acknowledged write is there', async () => {
    const client = await rs.rsClient();
    const coll = client.db('app').collection<{ _id: number }>('w');
    const failures: string[] = [];
    const acknowledgedIds: number[] = [];
    let acknowledged = 0;
    let running = true;
    const deadline = Date.now() + 120_000;
    const writer = (async () => {
      for (let i = 0; running && Date.now() < deadline; i++) {
        try {
          await coll.insertOne({ _id: i }, { writeConcern: { w: 'majority' } });
          acknowledgedIds.push(i);
          acknowledged++;
        } catch (error) {
          failures.push(String(error));
        }
      }
    })();
    try {
      for (let k = 0; k < 3; k++) {
        const primary = await rs.waitForPrimary(20_000);
        const before = acknowledged;
        await rs.admin(primary, { replSetStepDown: 5, secondaryCatchUpPeriodSecs: 5 }).catch(() => undefined);
        await rs.waitForPrimary(20_000, [primary]);
        // Writes go on after the new primary: the driver found it.
        for (let n = 0; acknowledged < before + 5 && n < 400; n++)
          await new Promise((resolve) => setTimeout(resolve, 50));
        assert.ok(acknowledged >= before + 5, `writes resumed after step-down ${k + 1}`);
      }
    } finally {
      running = false;
      await writer;
    }
    assert.deepEqual(failures, []);
    const ids = new Set((await coll.find({}).toArray()).map((d) => d._id));
    assert.deepEqual(
      acknowledgedIds.filter((id) => !ids.has(id)),
      [],
      'acknowledged writes missing',
    );
  });
});
