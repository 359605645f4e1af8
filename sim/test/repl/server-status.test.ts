// serverStatus sections monitoring tools read, checked by moving each counter through the real driver:
// opcounters and metrics.document with inserts/finds, opcountersRepl and metrics.repl.apply on a secondary
// applying them, asserts.user and metrics.commands.failed with a failing command, electionMetrics with an
// election, wiredTiger.cache sizes from cacheSizeGB; getParameter '*' and listCommands cover what is served.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Document } from 'mongodb';
import { ReplSetFixture } from './harness.js';

const QUIET = { electionTimeoutMillis: 60_000, heartbeatIntervalMillis: 200, heartbeatTimeoutSecs: 2 };

async function status(rs: ReplSetFixture, i: number): Promise<Document> {
  const c = await rs.direct(i);
  return c.db('admin').command({ serverStatus: 1 });
}

describe('serverStatus counters on a 7.0 set', { timeout: 180_000 }, () => {
  const rs = new ReplSetFixture('7.0.14');
  before(async () => {
    await rs.start(2, ['--wiredTigerCacheSizeGB', '0.5']);
    await rs.admin(0, { replSetInitiate: rs.config([{}, {}], QUIET) });
    await rs.waitForState(1, 'SECONDARY');
    await rs.admin(0, { replSetStepUp: 1 });
    await rs.waitForState(0, 'PRIMARY');
  });
  after(async () => {
    await rs.close();
  });

  it('inserts and finds move opcounters and metrics.document; the secondary counts them in opcountersRepl', async () => {
    const before = await status(rs, 0);
    const secondaryBefore = await status(rs, 1);
    const client = await rs.rsClient();
    const coll = client.db('stats').collection('c');
    await coll.insertMany(
      Array.from({ length: 5 }, (_, i) => ({ i })),
      { writeConcern: { w: 2 } },
    );
    assert.equal((await coll.find({}).toArray()).length, 5);
    await coll.updateOne({ i: 1 }, { $set: { x: 1 } }, { writeConcern: { w: 2 } });
    await coll.deleteOne({ i: 2 }, { writeConcern: { w: 2 } });
    const after = await status(rs, 0);
    assert.equal(after.opcounters.insert - before.opcounters.insert, 5);
    assert.equal(after.opcounters.query - before.opcounters.query, 1);
    assert.equal(after.metrics.document.inserted - before.metrics.document.inserted, 5);
    assert.equal(after.metrics.document.returned - before.metrics.document.returned, 5);
    assert.equal(after.metrics.document.updated - before.metrics.document.updated, 1);
    assert.equal(after.metrics.document.deleted - before.metrics.document.deleted, 1);
    assert.equal(after.metrics.commands.insert.total - (before.metrics.commands.insert?.total ?? 0), 1);

    const secondary = await status(rs, 1);
    const repl = (d: Document) => d.opcountersRepl as Document;
    assert.equal(repl(secondary).insert - repl(secondaryBefore).insert, 5);
    assert.equal(repl(secondary).update - repl(secondaryBefore).update, 1);
    assert.equal(repl(secondary).delete - repl(secondaryBefore).delete, 1);
    assert.ok(secondary.metrics.repl.apply.ops - secondaryBefore.metrics.repl.apply.ops >= 7);
    assert.ok(secondary.metrics.repl.apply.batches.num > secondaryBefore.metrics.repl.apply.batches.num);
    // The primary applied nothing from an oplog.
    assert.equal(repl(after).insert, repl(before).insert);
  });

  it('a failing command counts as a user assertion and a failed command', async () => {
    const before = await status(rs, 0);
    const client = await rs.direct(0);
    await assert.rejects(client.db('admin').command({ noSuchCommandHere: 1 }));
    await assert.rejects(client.db('stats').command({ find: 'c', skip: -1 }));
    const after = await status(rs, 0);
    assert.equal(after.asserts.user - before.asserts.user, 2);
    assert.equal(after.metrics.commands.find.failed - (before.metrics.commands.find?.failed ?? 0), 1);
    assert.equal(
      after.metrics.commands['<UNKNOWN>'].failed - (before.metrics.commands['<UNKNOWN>']?.failed ?? 0),
      1,
    );
  });

  it('electionMetrics counts the step-up that made member 0 primary; connections, mem, network are there', async () => {
    const s = await status(rs, 0);
    assert.equal(s.electionMetrics.stepUpCmd.called, 1);
    assert.equal(s.electionMetrics.stepUpCmd.successful, 1);
    assert.equal(s.electionMetrics.priorityTakeover.called, 0);
    assert.ok(s.connections.current >= 1);
    assert.ok(s.mem.resident > 0);
    assert.ok(s.network.numRequests > 0);
    assert.ok('transactions' in s, 'replica-set members report transactions');
  });

  it('wiredTiger.cache shows the configured maximum and the bytes held', async () => {
    const s = await status(rs, 0);
    const cache = s.wiredTiger.cache as Document;
    assert.equal(cache['maximum bytes configured'], 0.5 * 1024 ** 3);
    assert.ok(cache['bytes currently in the cache'] > 0);
    assert.ok(cache['bytes currently in the cache'] <= cache['maximum bytes configured']);
  });

  it("getParameter '*' answers every parameter a single getParameter answers", async () => {
    const client = await rs.direct(0);
    const all = await client.db('admin').command({ getParameter: '*' });
    for (const name of ['featureCompatibilityVersion', 'logLevel', 'cursorTimeoutMillis']) {
      assert.ok(name in all, name);
      const one = await client.db('admin').command({ getParameter: 1, [name]: 1 });
      assert.deepEqual(one[name], all[name], name);
    }
    await assert.rejects(
      client.db('admin').command({ getParameter: 1, noSuchParameter: 1 }),
      /no option found/,
    );
  });
});
