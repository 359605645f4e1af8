// Administration commands on a replica set: renameCollection and collMod replicate through the oplog (the
// secondary's dbHash matches the primary's), a change stream reports the rename, and replSetResizeOplog
// resizes local.oplog.rs on each member where it runs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Document } from 'mongodb';
import { waitFor } from '../helpers/sim.js';
import { ReplSetFixture } from './harness.js';

const SETTINGS = { electionTimeoutMillis: 1500, heartbeatIntervalMillis: 200 };

describe('administration commands on a replica set (7.0)', { timeout: 180_000 }, () => {
  const rs = new ReplSetFixture('7.0.14');
  let primary = 0;
  let secondary = 1;
  before(async () => {
    await rs.start(2);
    await rs.admin(0, { replSetInitiate: rs.config([{ priority: 2 }, { priority: 1 }], SETTINGS) });
    primary = await rs.waitForPrimary(20_000);
    secondary = primary === 0 ? 1 : 0;
    await rs.waitForState(secondary, 'SECONDARY');
  });
  after(async () => {
    await rs.close();
  });

  it('renameCollection and collMod replicate; the members hash the same', async () => {
    const client = await rs.rsClient();
    const db = client.db('app');
    const stream = db.watch([], { maxAwaitTimeMS: 500 });
    // The stream's cursor is opened (its start point fixed) before the changes it must see.
    await stream.tryNext();
    await db.collection('orders').insertMany([{ _id: 1, total: 5 } as Document, { _id: 2, total: 7 }]);
    await db.collection('orders').createIndex({ total: 1 });
    await db.command({ collMod: 'orders', index: { name: 'total_1', hidden: true } });
    await db.command({ collMod: 'orders', validator: { total: { $gte: 0 } } });
    await client
      .db('admin')
      .command({ renameCollection: 'app.orders', to: 'app.invoices', writeConcern: { w: 'majority' } });
    const direct = await rs.direct(secondary);
    const sdb = direct.db('app');
    await waitFor(
      async () =>
        (await sdb.listCollections({ name: 'invoices' }, { nameOnly: true }).toArray()).length === 1,
      20_000,
      'the rename on the secondary',
    );
    assert.equal((await sdb.listCollections({ name: 'orders' }).toArray()).length, 0);
    const info = (await sdb.listCollections({ name: 'invoices' }).toArray())[0] as Document;
    assert.deepEqual(info.options, { validator: { total: { $gte: 0 } } });
    const idx = (await sdb.collection('invoices').listIndexes().toArray()).find((i) => i.name === 'total_1');
    assert.equal(idx?.hidden, true, 'the hidden index replicated');
    const p = await (await rs.direct(primary)).db('app').command({ dbHash: 1 });
    const s = await sdb.command({ dbHash: 1 });
    assert.deepEqual(s.collections, p.collections);
    assert.equal(s.md5, p.md5);
    assert.equal(
      s.uuids.invoices.toString(),
      p.uuids.invoices.toString(),
      'same UUID on both members (same-database rename)',
    );

    const kinds: string[] = [];
    let rename: Document | undefined;
    await waitFor(
      async () => {
        const ev = await stream.tryNext();
        if (ev) {
          kinds.push(ev.operationType);
          if (ev.operationType === 'rename') rename = ev;
        }
        return rename !== undefined;
      },
      20_000,
      'the rename event',
    );
    assert.deepEqual(kinds, ['insert', 'insert', 'rename']);
    assert.deepEqual(rename?.ns, { db: 'app', coll: 'orders' });
    assert.deepEqual(rename?.to, { db: 'app', coll: 'invoices' });
    await stream.close();
  });

  it('replSetResizeOplog changes the oplog maxSize of the member it runs on, within 990 MB – 1 PB', async () => {
    const before = await (await rs.direct(secondary)).db('local').command({ collStats: 'oplog.rs' });
    const resized = await rs.admin(primary, { replSetResizeOplog: 1, size: 2000.5 });
    assert.equal(resized.ok, 1);
    const stats = await (await rs.direct(primary)).db('local').command({ collStats: 'oplog.rs' });
    assert.equal(Number(stats.maxSize), Math.floor(2000.5 * 1024 * 1024));
    const other = await (await rs.direct(secondary)).db('local').command({ collStats: 'oplog.rs' });
    assert.equal(Number(other.maxSize), Number(before.maxSize), 'each member resizes its own oplog');
    await assert.rejects(rs.admin(primary, { replSetResizeOplog: 1, size: 100 }), (e: Document) => {
      assert.equal(e.code, 72);
      assert.equal(e.message, 'oplog size should be 990MB at least');
      return true;
    });
    await assert.rejects(rs.admin(primary, { replSetResizeOplog: 1, size: 'big' }), (e: Document) => {
      assert.equal(e.code, 72);
      return true;
    });
    await assert.rejects(rs.admin(primary, { replSetResizeOplog: 1 }), (e: Document) => e.code === 72);
    // On a secondary too (AllowedOnSecondary::kAlways).
    assert.equal((await rs.admin(secondary, { replSetResizeOplog: 1, size: 990 })).ok, 1);
  });
});
