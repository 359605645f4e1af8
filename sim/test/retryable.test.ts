// Retryable writes: a retried (lsid, txnNumber) write returns the recorded result instead of running
// twice; an older txnNumber is refused; a standalone refuses transaction numbers.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Long, UUID } from 'bson';
import { MongoClient } from 'mongodb';
import { WireClient } from '../src/wire/client.js';
import { killAll, removeDir, simBin, startMongod, tempDir, waitFor } from './helpers/sim.js';

describe('retryable writes', () => {
  let root: string;
  before(async () => {
    root = await tempDir();
  });
  after(async () => {
    await killAll();
    await removeDir(root);
  });

  it('a standalone refuses txnNumber with IllegalOperation', async () => {
    const m = await startMongod(await simBin('7.0.14', root), join(root, 'standalone'));
    const c = await WireClient.connect('127.0.0.1', m.port);
    try {
      const r = await c.command('t', {
        insert: 'c',
        documents: [{ _id: 1 }],
        lsid: { id: new UUID() },
        txnNumber: Long.fromNumber(1),
      });
      assert.equal(Number(r.code), 20);
      assert.equal(r.errmsg, 'Transaction numbers are only allowed on a replica set member or mongos');
      assert.equal((await c.command('t', { count: 'c' })).n.valueOf(), 0);
    } finally {
      c.close();
    }
    assert.equal((await m.stop()).code, 0);
  });

  it('a retried insert on a replica set primary returns the first result and writes once', async () => {
    const m = await startMongod(await simBin('7.0.14', root), join(root, 'rs'), ['--replSet', 'rs0']);
    const driver = new MongoClient(`mongodb://127.0.0.1:${m.port}/?directConnection=true`, {
      serverSelectionTimeoutMS: 5000,
    });
    const c = await WireClient.connect('127.0.0.1', m.port);
    try {
      await driver.db('admin').command({
        replSetInitiate: { _id: 'rs0', version: 1, members: [{ _id: 0, host: `127.0.0.1:${m.port}` }] },
      });
      await waitFor(
        async () => (await driver.db('admin').command({ hello: 1 })).isWritablePrimary === true,
        15_000,
        'primary',
      );
      const lsid = { id: new UUID() };
      const body = { insert: 'c', documents: [{ _id: 'once' }], lsid, txnNumber: Long.fromNumber(5) };
      const first = await c.command('t', body);
      assert.equal(first.ok.valueOf(), 1);
      assert.equal(first.n.valueOf(), 1);
      const retry = await c.command('t', body);
      assert.equal(retry.ok.valueOf(), 1, JSON.stringify(retry));
      assert.equal(retry.n.valueOf(), 1);
      assert.equal(retry.writeErrors, undefined, 'no duplicate key error on the retry');
      assert.equal((await c.command('t', { count: 'c' })).n.valueOf(), 1);
      const older = await c.command('t', {
        ...body,
        documents: [{ _id: 'old' }],
        txnNumber: Long.fromNumber(4),
      });
      assert.equal(Number(older.code), 225);
      assert.equal(older.codeName, 'TransactionTooOld');
      const next = await c.command('t', {
        ...body,
        documents: [{ _id: 'twice' }],
        txnNumber: Long.fromNumber(6),
      });
      assert.equal(next.n.valueOf(), 1);
      assert.equal((await c.command('t', { count: 'c' })).n.valueOf(), 2);
    } finally {
      c.close();
      await driver.close();
    }
    assert.equal((await m.stop()).code, 0);
  });
});
