// Durability across restarts and rollback of unreplicated writes (SIMULATOR.md "Replication";
// reference §3.9): a primary that acknowledged w:1 writes nobody else has, then lost its primacy,
// rolls them back when it rejoins; majority writes survive everything; a whole set restarts from dbPath.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BSON } from 'bson';
import { waitFor } from '../helpers/sim.js';
import { ReplSetFixture } from './harness.js';

const SETTINGS = { electionTimeoutMillis: 1500, heartbeatIntervalMillis: 200, heartbeatTimeoutSecs: 2 };

describe('rollback and restart', { timeout: 180_000 }, () => {
  const rs = new ReplSetFixture('8.0.3');
  before(async () => {
    await rs.start(3, ['--setParameter', 'enableTestCommands=1']);
    await rs.admin(0, { replSetInitiate: rs.config([{}, {}, {}], SETTINGS) });
    await rs.waitForPrimary(15_000);
  });
  after(async () => {
    await rs.close();
  });

  it('rolls back w:1 writes of an isolated primary when it rejoins', async () => {
    const old = await rs.waitForPrimary();
    const others = [0, 1, 2].filter((i) => i !== old);
    const p = await rs.direct(old);
    const coll = p.db('app').collection('r');
    await coll.insertOne(
      { _id: 'kept' as unknown as never },
      { writeConcern: { w: 'majority', wtimeout: 10_000 } },
    );
    // The secondaries stop pulling the oplog (mongod's stopReplProducer failpoint). A batch that arrives
    // once the failpoint is on is dropped, and any batch holding the next write is answered after it is on:
    // no wait is needed for a fetch in flight.
    for (const i of others) {
      await rs.admin(i, { configureFailPoint: 'stopReplProducer', mode: 'alwaysOn' });
    }
    // Acknowledged by the primary alone: nobody else can have it.
    await coll.insertOne({ _id: 'lost' as unknown as never }, { writeConcern: { w: 1 } });
    await rs.kill(old, 'SIGKILL');
    for (const i of others) {
      await rs.admin(i, { configureFailPoint: 'stopReplProducer', mode: 'off' });
    }
    const next = await rs.waitForPrimary(20_000, [old]);
    const n = await rs.direct(next);
    await n
      .db('app')
      .collection('r')
      .insertOne({ _id: 'after' as unknown as never }, { writeConcern: { w: 'majority', wtimeout: 10_000 } });
    await rs.startMember(old);
    await rs.waitForState(old, 'SECONDARY', 20_000);
    await waitFor(
      async () => {
        const c = await rs.direct(old);
        const ids = (await c.db('app').collection('r').find({}).toArray()).map((d) => String(d._id)).sort();
        return ids.join(',') === 'after,kept';
      },
      20_000,
      'the rejoined member to hold exactly the majority history',
    );
    // 4.4+ layout: rollback/<collection UUID>/removed.<time>.bson holding the rolled-back document.
    const rollbackDir = join(rs.dbPath(old), 'rollback');
    assert.ok(existsSync(rollbackDir), 'rolled-back documents are saved');
    // One directory per collection touched (retryable-write bookkeeping included); find the lost document.
    const savedIds: unknown[] = [];
    for (const uuidDir of readdirSync(rollbackDir)) {
      for (const file of readdirSync(join(rollbackDir, uuidDir))) {
        assert.match(file, /^removed\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.0\.bson$/);
        const buf = readFileSync(join(rollbackDir, uuidDir, file));
        for (let at = 0; at < buf.length; at += buf.readInt32LE(at)) {
          savedIds.push(BSON.deserialize(buf.subarray(at, at + buf.readInt32LE(at)))._id);
        }
      }
    }
    assert.ok(savedIds.includes('lost'), `the lost document is saved (${savedIds.length} documents)`);
    // The surviving primary never had the lost write.
    assert.equal(
      await n
        .db('app')
        .collection('r')
        .countDocuments({ _id: 'lost' as unknown as never }),
      0,
    );
  });

  it('the whole set restarts from its dbPaths with config, term and data', async () => {
    const before = await rs.admin(await rs.waitForPrimary(), { replSetGetStatus: 1 });
    // Secondaries first, then the primary with shutdown {force: true}: with no secondary left, a
    // plain SIGTERM would spend its timeout trying to hand over (§5.7). timeoutSecs also bounds the
    // quiesce mode the stepped-down primary goes through (5.0+).
    const oldPrimary = await rs.waitForPrimary();
    for (const i of [0, 1, 2].filter((x) => x !== oldPrimary)) await rs.kill(i, 'SIGTERM');
    await rs.admin(oldPrimary, { shutdown: 1, force: true, timeoutSecs: 1 }).catch(() => undefined);
    assert.equal((await rs.procs[oldPrimary]?.waitExit(15_000))?.code, 0);
    rs.procs[oldPrimary] = undefined;
    for (let i = 0; i < 3; i++) await rs.startMember(i);
    const primary = await rs.waitForPrimary(20_000);
    const status = await rs.admin(primary, { replSetGetStatus: 1 });
    assert.equal(status.set, 'rs0');
    assert.ok(Number(status.term) > Number(before.term), 'terms only grow');
    const c = await rs.direct(primary);
    const ids = (await c.db('app').collection('r').find({}).toArray()).map((d) => String(d._id)).sort();
    assert.deepEqual(ids, ['after', 'kept']);
  });
});
