// Multi-document transactions through the real driver: snapshot reads, commit and abort, write
// conflicts (112 + TransientTransactionError), writes outside waiting for a transaction's documents,
// retried commits, and a standalone refusing transactions as mongod does.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Collection, type Document, Long, MongoClient, MongoServerError } from 'mongodb';
import { killAll, removeDir, type SimProcess, simBin, startMongod, tempDir, waitFor } from './helpers/sim.js';

type Doc = Document & { _id: number };

async function serverError(p: Promise<unknown>): Promise<MongoServerError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof MongoServerError) return err;
    throw err;
  }
  throw new Error('expected the server to refuse the operation');
}

describe('transactions on a replica set (7.0)', () => {
  let root: string;
  let m: SimProcess;
  let client: MongoClient;
  let other: MongoClient;
  let c: Collection<Doc>;
  before(async () => {
    root = await tempDir();
    m = await startMongod(await simBin('7.0.14', root), join(root, 'rs'), [
      '--replSet',
      'rs0',
      '--setParameter',
      'enableTestCommands=1',
    ]);
    const direct = new MongoClient(`mongodb://127.0.0.1:${m.port}/?directConnection=true`, {
      serverSelectionTimeoutMS: 5000,
    });
    await direct.db('admin').command({
      replSetInitiate: { _id: 'rs0', version: 1, members: [{ _id: 0, host: `127.0.0.1:${m.port}` }] },
    });
    await waitFor(
      async () => (await direct.db('admin').command({ hello: 1 })).isWritablePrimary === true,
      15_000,
      'primary',
    );
    await direct.close();
    client = new MongoClient(`mongodb://127.0.0.1:${m.port}/?replicaSet=rs0`, {
      serverSelectionTimeoutMS: 5000,
    });
    other = new MongoClient(`mongodb://127.0.0.1:${m.port}/?replicaSet=rs0`, {
      serverSelectionTimeoutMS: 5000,
    });
    c = client.db('bank').collection<Doc>('accounts');
  });
  after(async () => {
    await client?.close();
    await other?.close();
    await m?.stop();
    await killAll();
    await removeDir(root);
  });

  it('withTransaction commits every write at once; nothing is visible before the commit', async () => {
    await c.insertMany([
      { _id: 1, balance: 100 },
      { _id: 2, balance: 0 },
    ]);
    const outside = other.db('bank').collection<Doc>('accounts');
    const session = client.startSession();
    try {
      await session.withTransaction(async () => {
        await c.updateOne({ _id: 1 }, { $inc: { balance: -30 } }, { session });
        await c.updateOne({ _id: 2 }, { $inc: { balance: 30 } }, { session });
        await c.insertOne({ _id: 3, balance: 5 }, { session });
        // Inside: the transaction sees its own writes.
        assert.equal((await c.findOne({ _id: 1 }, { session }))?.balance, 70);
        assert.equal(await c.countDocuments({}, { session }), 3);
        // Outside: nothing yet.
        assert.equal((await outside.findOne({ _id: 1 }))?.balance, 100);
        assert.equal(await outside.findOne({ _id: 3 }), null);
      });
    } finally {
      await session.endSession();
    }
    assert.deepEqual(await outside.find({}, { sort: { _id: 1 } }).toArray(), [
      { _id: 1, balance: 70 },
      { _id: 2, balance: 30 },
      { _id: 3, balance: 5 },
    ]);
  });

  it('serverStatus.transactions counts started, committed, aborted and open transactions', async () => {
    const status = async (): Promise<Document> =>
      (await client.db('admin').command({ serverStatus: 1 })).transactions as Document;
    const before = await status();
    const session = client.startSession();
    try {
      await session.withTransaction(async () => {
        await c.insertOne({ _id: 900, balance: 0 }, { session });
      });
      session.startTransaction();
      await c.insertOne({ _id: 901, balance: 0 }, { session });
      assert.equal(Number((await status()).currentOpen), Number(before.currentOpen) + 1);
      await session.abortTransaction();
    } finally {
      await session.endSession();
    }
    const after = await status();
    assert.equal(Number(after.totalStarted), Number(before.totalStarted) + 2);
    assert.equal(Number(after.totalCommitted), Number(before.totalCommitted) + 1);
    assert.equal(Number(after.totalAborted), Number(before.totalAborted) + 1);
    assert.equal(Number(after.currentOpen), Number(before.currentOpen));
    await c.deleteOne({ _id: 900 });
  });

  it('an aborted transaction leaves no trace, and its number cannot be committed afterwards', async () => {
    const before = await c.find({}, { sort: { _id: 1 } }).toArray();
    const session = client.startSession();
    try {
      session.startTransaction();
      await c.insertOne({ _id: 50, balance: 1 }, { session });
      await c.deleteOne({ _id: 1 }, { session });
      await c.updateOne({ _id: 2 }, { $set: { balance: 999 } }, { session });
      const txnNumber = Long.fromNumber(session.serverSession?.txnNumber ?? -1);
      await session.abortTransaction();
      assert.deepEqual(await c.find({}, { sort: { _id: 1 } }).toArray(), before);
      // The same transaction number on the wire: committing it is refused.
      const res = await client
        .db('admin')
        .command({ commitTransaction: 1, txnNumber, autocommit: false }, { session });
      assert.fail(`commit of an aborted transaction answered ${JSON.stringify(res)}`);
    } catch (err) {
      if (!(err instanceof MongoServerError)) throw err;
      assert.equal(err.code, 251);
      assert.equal(err.codeName, 'NoSuchTransaction');
      assert.match(err.message, /^Transaction with \{ txnNumber: \d+ \} has been aborted\.$/);
      assert.ok(err.hasErrorLabel('TransientTransactionError'));
    } finally {
      await session.endSession();
    }
  });

  it('reads inside a transaction come from its snapshot', async () => {
    const session = client.startSession();
    const outside = other.db('bank').collection<Doc>('accounts');
    try {
      session.startTransaction({ readConcern: { level: 'snapshot' } });
      assert.equal((await c.findOne({ _id: 2 }, { session }))?.balance, 30);
      await outside.updateOne({ _id: 2 }, { $set: { balance: 31 } });
      await outside.insertOne({ _id: 60, balance: 0 });
      await outside.deleteOne({ _id: 3 });
      assert.equal((await c.findOne({ _id: 2 }, { session }))?.balance, 30, 'a later write is not seen');
      assert.equal(await c.findOne({ _id: 60 }, { session }), null, 'a later insert is not seen');
      assert.equal((await c.findOne({ _id: 3 }, { session }))?.balance, 5, 'a later delete is not seen');
      await session.commitTransaction();
    } finally {
      await session.endSession();
    }
    assert.equal((await c.findOne({ _id: 2 }))?.balance, 31);
  });

  it('a second writer of a document gets WriteConflict (112, TransientTransactionError) and is aborted', async () => {
    const s1 = client.startSession();
    const s2 = other.startSession();
    const c2 = other.db('bank').collection<Doc>('accounts');
    try {
      s1.startTransaction();
      s2.startTransaction();
      await c.updateOne({ _id: 1 }, { $inc: { balance: 1 } }, { session: s1 });
      await c2.findOne({ _id: 2 }, { session: s2 });
      const err = await serverError(c2.updateOne({ _id: 1 }, { $inc: { balance: 10 } }, { session: s2 }));
      assert.equal(err.code, 112);
      assert.equal(err.codeName, 'WriteConflict');
      assert.ok(err.hasErrorLabel('TransientTransactionError'), JSON.stringify(err.errorLabels));
      await s1.commitTransaction();
      await s2.abortTransaction();
    } finally {
      await s1.endSession();
      await s2.endSession();
    }
    assert.equal((await c.findOne({ _id: 1 }))?.balance, 71);
  });

  it('a transaction writing a document changed after its snapshot conflicts; withTransaction retries it', async () => {
    const s1 = client.startSession();
    let attempts = 0;
    try {
      await s1.withTransaction(async () => {
        attempts++;
        const doc = await c.findOne({ _id: 2 }, { session: s1 });
        if (attempts === 1) {
          // Someone else commits a change to the document after this transaction's snapshot.
          await other
            .db('bank')
            .collection<Doc>('accounts')
            .updateOne({ _id: 2 }, { $inc: { balance: 100 } });
        }
        await c.updateOne({ _id: 2 }, { $set: { balance: (doc?.balance ?? 0) + 1 } }, { session: s1 });
      });
    } finally {
      await s1.endSession();
    }
    assert.equal(attempts, 2, 'the first attempt hit a write conflict and was retried');
    assert.equal((await c.findOne({ _id: 2 }))?.balance, 132, 'the retry read the committed value');
  });

  it('a write outside any transaction waits for the transaction holding its document', async () => {
    const s1 = client.startSession();
    const c2 = other.db('bank').collection<Doc>('accounts');
    try {
      s1.startTransaction();
      await c.updateOne({ _id: 1 }, { $inc: { balance: 1000 } }, { session: s1 });
      let done = false;
      const outsideWrite = c2.updateOne({ _id: 1 }, { $inc: { balance: 1 } }).then((r) => {
        done = true;
        return r;
      });
      // Unrelated documents are not held.
      await c2.updateOne({ _id: 2 }, { $inc: { balance: 1 } });
      assert.equal(done, false, 'the write to the held document is still waiting');
      await s1.commitTransaction();
      assert.equal((await outsideWrite).modifiedCount, 1);
    } finally {
      await s1.endSession();
    }
    assert.equal((await c.findOne({ _id: 1 }))?.balance, 1072);
    const timed = await serverError(
      (async () => {
        const s = client.startSession();
        try {
          s.startTransaction();
          await c.updateOne({ _id: 2 }, { $set: { held: true } }, { session: s });
          try {
            await c2.updateOne({ _id: 2 }, { $set: { x: 1 } }, { maxTimeMS: 200 });
          } finally {
            await s.abortTransaction();
          }
        } finally {
          await s.endSession();
        }
      })(),
    );
    assert.equal(timed.code, 50, 'maxTimeMS bounds the wait');
  });

  it('a statement error aborts the transaction; commands not allowed in one are refused', async () => {
    const session = client.startSession();
    try {
      session.startTransaction();
      const dup = await serverError(c.insertOne({ _id: 1, balance: 0 }, { session }));
      assert.equal(dup.code, 11000);
      const after = await serverError(c.insertOne({ _id: 70, balance: 0 }, { session }));
      assert.equal(after.code, 251);
      assert.ok(after.hasErrorLabel('TransientTransactionError'));
      await session.abortTransaction().catch(() => undefined);
      session.startTransaction();
      const count = await serverError(client.db('bank').command({ count: 'accounts' }, { session }));
      assert.equal(count.code, 263);
      assert.equal(count.message, "Cannot run 'count' in a multi-document transaction.");
      await session.abortTransaction().catch(() => undefined);
    } finally {
      await session.endSession();
    }
    assert.equal(await c.findOne({ _id: 70 }), null);
  });

  it('a commit that failed with a retryable error is retried by the driver and applied once', async () => {
    const admin = client.db('admin');
    await admin.command({
      configureFailPoint: 'failCommand',
      mode: { times: 1 },
      data: { failCommands: ['commitTransaction'], errorCode: 91, errorLabels: ['RetryableWriteError'] },
    });
    const session = client.startSession();
    try {
      await session.withTransaction(async () => {
        await c.insertOne({ _id: 80, balance: 8 }, { session });
      });
      // A commit sent again for a committed transaction succeeds (UnknownTransactionCommitResult retries).
      await session.commitTransaction();
    } finally {
      await session.endSession();
    }
    assert.equal(await c.countDocuments({ _id: 80 }), 1);
  });

  it('a step-down aborts the open transaction: its commit on the next primary term is refused', async () => {
    const session = client.startSession();
    try {
      session.startTransaction();
      await c.insertOne({ _id: 950, balance: 0 }, { session });
      const admin = other.db('admin');
      await admin.command({ replSetStepDown: 1, force: true }).catch(() => undefined);
      await waitFor(
        async () =>
          (await admin.command({ hello: 1 }).catch((): Document => ({}))).isWritablePrimary === true,
        20_000,
        'primary again in a new term',
      );
      const err = await serverError(session.commitTransaction());
      assert.equal(err.code, 251);
      assert.equal(err.codeName, 'NoSuchTransaction');
    } finally {
      await session.endSession();
    }
    assert.equal(await c.findOne({ _id: 950 }), null);
  });
});

describe('transactions on a standalone', () => {
  let root: string;
  after(async () => {
    await killAll();
    if (root) await removeDir(root);
  });

  it('are refused with 20 IllegalOperation and write nothing', async () => {
    root = await tempDir();
    const m = await startMongod(await simBin('7.0.14', root), join(root, 'standalone'));
    const client = new MongoClient(`mongodb://127.0.0.1:${m.port}/`, { serverSelectionTimeoutMS: 5000 });
    try {
      const session = client.startSession();
      const err = await serverError(
        session.withTransaction(async () => {
          await client
            .db('t')
            .collection('c')
            .insertOne({ _id: 1 } as Document, { session });
        }),
      );
      assert.equal(err.code, 20);
      assert.equal(err.message, 'Transaction numbers are only allowed on a replica set member or mongos');
      await session.endSession();
      assert.equal(await client.db('t').collection('c').countDocuments(), 0);
    } finally {
      await client.close();
    }
    assert.equal((await m.stop()).code, 0);
  });
});
