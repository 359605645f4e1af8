// Initial sync of a member added by replSetReconfig: it is in STARTUP2 while it clones the primary's
// databases and replays the oplog written meanwhile, reports its progress in replSetGetStatus
// `initialSyncStatus` (the fields mongod reports), becomes SECONDARY, and holds the same data.
// The initialSyncHangAfterDataCloning failpoint (mongod's own) holds it between cloning and replay so
// the progress can be read without depending on timing.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Document } from 'mongodb';
import { waitFor } from '../helpers/sim.js';
import { ReplSetFixture } from './harness.js';

// A long election timeout: the bulk loads below must not cost the primary its term on a busy machine.
const SETTINGS = { electionTimeoutMillis: 10_000, heartbeatIntervalMillis: 200, heartbeatTimeoutSecs: 10 };
/** Test documents use their own _id values. */
type Doc = { _id: number | string; [field: string]: unknown };
const TEST_ARGS = ['--setParameter', 'enableTestCommands=1'];

async function selfStatus(rs: ReplSetFixture, i: number, extra: Document = {}): Promise<Document> {
  return rs.admin(i, { replSetGetStatus: 1, ...extra });
}

for (const version of ['7.0.14', '4.4.29']) {
  describe(`initial sync of a member added by reconfig (${version})`, { timeout: 120_000 }, () => {
    const rs = new ReplSetFixture(version);
    after(async () => {
      await rs.close();
    });

    it('clones, reports initialSyncStatus in STARTUP2, replays the oplog and ends SECONDARY with the same data', async () => {
      await rs.start(3, TEST_ARGS);
      await rs.admin(0, { replSetInitiate: rs.config([{ priority: 2 }, {}], SETTINGS) });
      await rs.waitForPrimary(20_000);
      await rs.waitForState(1, 'SECONDARY');
      const c = await rs.direct(0);
      const payload = 'x'.repeat(400);
      const docs = Array.from({ length: 3000 }, (_, i) => ({ _id: i, n: i, payload }));
      for (let i = 0; i < docs.length; i += 2000) {
        const batch = docs.slice(i, i + 2000);
        await c
          .db('app')
          .collection<Doc>('items')
          .insertMany(batch, { writeConcern: { w: 'majority' } });
      }
      await c.db('app').collection<Doc>('items').createIndex({ n: 1 }, { name: 'n_1' });
      await c
        .db('other')
        .collection<Doc>('small')
        .insertOne({ _id: 'a', v: 1 }, { writeConcern: { w: 'majority' } });

      await rs.admin(2, { configureFailPoint: 'initialSyncHangAfterDataCloning', mode: 'alwaysOn' });
      const { config } = await rs.admin(0, { replSetGetConfig: 1 });
      const joined = {
        ...config,
        version: config.version + 1,
        members: [...config.members, { _id: 2, host: rs.host(2), votes: 0, priority: 0 }],
      };
      await rs.admin(0, { replSetReconfig: joined });

      let status: Document = {};
      await waitFor(
        async () => {
          try {
            status = await selfStatus(rs, 2);
          } catch {
            return false;
          }
          const db = status.initialSyncStatus?.databases;
          return db !== undefined && db.databasesToClone > 0 && db.databasesCloned === db.databasesToClone;
        },
        60_000,
        'the clone to finish',
      );
      assert.equal(status.myState, 5, 'STARTUP2 while syncing');
      assert.equal((await rs.hello(2))?.secondary, false);
      const iss = status.initialSyncStatus as Document;
      assert.equal(iss.failedInitialSyncAttempts, 0);
      assert.equal(iss.maxFailedInitialSyncAttempts, 10);
      assert.ok(iss.initialSyncStart instanceof Date);
      assert.ok(iss.totalInitialSyncElapsedMillis >= 0);
      assert.ok(
        Number(iss.approxTotalDataSize) >= 3000 * 400,
        `approxTotalDataSize ${iss.approxTotalDataSize}`,
      );
      assert.ok(Number(iss.approxTotalBytesCopied) >= 3000 * 400);
      assert.equal(iss.initialSyncOplogStart?._bsontype, 'Timestamp');
      const app = iss.databases.app as Document;
      assert.equal(app.collections, 1);
      assert.equal(app.clonedCollections, 1);
      const items = app['app.items'] as Document;
      assert.equal(items.documentsToCopy, 3000);
      assert.equal(items.documentsCopied, 3000);
      assert.equal(items.indexes, 2);
      assert.ok(items.fetchedBatches >= 1);
      assert.ok(items.end instanceof Date);
      assert.equal((iss.databases.other as Document)['other.small'].documentsCopied, 1);
      // Member list order is kept: initialSyncStatus comes before members.
      const keys = Object.keys(status);
      assert.ok(keys.indexOf('initialSyncStatus') < keys.indexOf('members'));

      // Writes made while it is held are replayed from the oplog after the clone.
      await c
        .db('app')
        .collection<Doc>('items')
        .insertMany(
          Array.from({ length: 50 }, (_, i) => ({ _id: 20_000 + i, n: -i })),
          { writeConcern: { w: 2 } },
        );
      await c
        .db('app')
        .collection<Doc>('items')
        .updateOne({ _id: 5 }, { $set: { n: 'changed' } }, { writeConcern: { w: 2 } });
      await rs.admin(2, { configureFailPoint: 'initialSyncHangAfterDataCloning', mode: 'off' });
      await rs.waitForState(2, 'SECONDARY', 30_000);

      const after = await selfStatus(rs, 2);
      assert.equal(after.initialSyncStatus, undefined, 'not shown once the member left STARTUP2');
      const asked = (await selfStatus(rs, 2, { initialSync: 1 })).initialSyncStatus as Document;
      assert.ok(asked.initialSyncEnd instanceof Date);
      assert.equal(asked.initialSyncAttempts.length, 1);
      assert.equal(asked.initialSyncAttempts[0].status, 'OK');
      assert.equal(asked.initialSyncAttempts[0].syncSource.length > 0, true);
      assert.ok(asked.appliedOps >= 51, `appliedOps ${asked.appliedOps}`);

      const s = await rs.direct(2);
      const coll = s.db('app').collection<Doc>('items');
      const read = { readPreference: 'secondaryPreferred' as const };
      assert.equal(await coll.countDocuments({}, read), 3050);
      assert.deepEqual(await coll.findOne({ _id: 5 }, read), { _id: 5, n: 'changed', payload });
      const idx = await coll.listIndexes().toArray();
      assert.deepEqual(idx.map((x) => x.name).sort(), ['_id_', 'n_1']);
      assert.deepEqual(await s.db('other').collection<Doc>('small').findOne({ _id: 'a' }, read), {
        _id: 'a',
        v: 1,
      });
    });
  });
}
