// FCV: a new dbPath starts at the binary's FCV; a binary opens only its own FCV or the previous
// major's (else exit 62, "Wrong mongod version"); setFeatureCompatibilityVersion moves one step at a
// time and needs confirm:true from 7.0. Reference §6.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Document, MongoClient } from 'mongodb';

/** Test documents choose their own _id types. */
type Doc = Document & { _id: string | number };

import { freePort, killAll, removeDir, runToExit, simBin, startMongod, tempDir } from './helpers/sim.js';

async function withClient<T>(port: number, fn: (c: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(`mongodb://127.0.0.1:${port}/`, { serverSelectionTimeoutMS: 5000 });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

const getFcv = (c: MongoClient) => c.db('admin').command({ getParameter: 1, featureCompatibilityVersion: 1 });

describe('feature compatibility version', () => {
  let root: string;
  const bins: Record<string, string> = {};
  before(async () => {
    root = await tempDir();
    for (const v of ['5.0.28', '6.0.16', '7.0.14', '8.0.3']) bins[v.slice(0, 3)] = await simBin(v, root);
  });
  after(async () => {
    await killAll();
    await removeDir(root);
  });

  it('data written by 6.0 opens on 7.0, not on 8.0 until FCV is raised step by step', async () => {
    const dbPath = join(root, 'upgrade');
    const m60 = await startMongod(bins['6.0'] as string, dbPath);
    await withClient(m60.port, async (c) => {
      assert.deepEqual((await getFcv(c)).featureCompatibilityVersion, { version: '6.0' });
      await c.db('app').collection<Doc>('items').insertOne({ _id: 'kept', v: 1 });
      const sys = await c
        .db('admin')
        .collection<Doc>('system.version')
        .findOne({ _id: 'featureCompatibilityVersion' });
      assert.deepEqual(sys, { _id: 'featureCompatibilityVersion', version: '6.0' });
    });
    assert.equal((await m60.stop()).code, 0);

    // 8.0 accepts only 7.0 / 7.3 / 8.0: 6.0 data is refused with exit 62.
    const port = await freePort();
    const refused = await runToExit(join(bins['8.0'] as string, 'mongod'), [
      '--dbpath',
      dbPath,
      '--port',
      String(port),
    ]);
    assert.equal(refused.code, 62);
    const fatal = refused.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((l) => l.id === 20573);
    assert.equal(fatal.s, 'F');
    assert.equal(fatal.msg, 'Wrong mongod version');
    assert.match(
      fatal.attr.error,
      /UPGRADE PROBLEM: Found an invalid featureCompatibilityVersion document .*Invalid feature compatibility version value '6\.0'; expected '7\.0' or '7\.3' or '8\.0'/,
    );

    const m70 = await startMongod(bins['7.0'] as string, dbPath);
    await withClient(m70.port, async (c) => {
      assert.deepEqual((await getFcv(c)).featureCompatibilityVersion, { version: '6.0' });
      assert.deepEqual(await c.db('app').collection<Doc>('items').findOne({ _id: 'kept' }), {
        _id: 'kept',
        v: 1,
      });
      await assert.rejects(
        c.db('admin').command({ setFeatureCompatibilityVersion: '7.0' }),
        (e: Error & { code?: number }) => {
          assert.equal(e.code, 7369100);
          assert.match(e.message, /Please re-run this command with 'confirm: true'/);
          return true;
        },
      );
      await assert.rejects(
        c.db('admin').command({ setFeatureCompatibilityVersion: '8.0', confirm: true }),
        (e: Error & { code?: number }) => {
          assert.equal(e.code, 2);
          return true;
        },
      );
      await c.db('admin').command({ setFeatureCompatibilityVersion: '7.0', confirm: true });
      assert.deepEqual((await getFcv(c)).featureCompatibilityVersion, { version: '7.0' });
    });
    assert.equal((await m70.stop()).code, 0);

    const m80 = await startMongod(bins['8.0'] as string, dbPath);
    await withClient(m80.port, async (c) => {
      assert.deepEqual((await getFcv(c)).featureCompatibilityVersion, { version: '7.0' });
      assert.equal(await c.db('app').collection<Doc>('items').countDocuments(), 1);
    });
    assert.equal((await m80.stop()).code, 0);

    // And back: 6.0 cannot open data at FCV 7.0.
    const older = await runToExit(join(bins['6.0'] as string, 'mongod'), [
      '--dbpath',
      dbPath,
      '--port',
      String(port),
    ]);
    assert.equal(older.code, 62);
  });

  it('setFCV rules: admin only, no confirm before 7.0, same value is a no-op, downgrade to last LTS', async () => {
    const m50 = await startMongod(bins['5.0'] as string, join(root, 'rules50'));
    await withClient(m50.port, async (c) => {
      await assert.rejects(
        c.db('admin').command({ setFeatureCompatibilityVersion: '4.4', confirm: true }),
        (e: Error & { code?: number }) => {
          assert.equal(e.code, 40415);
          assert.match(
            e.message,
            /BSON field 'setFeatureCompatibilityVersion\.confirm' is an unknown field\./,
          );
          return true;
        },
      );
      await assert.rejects(
        c.db('test').command({ setFeatureCompatibilityVersion: '4.4' }),
        (e: Error & { code?: number }) => e.code === 13,
      );
      assert.equal((await c.db('admin').command({ setFeatureCompatibilityVersion: '5.0' })).ok, 1);
      await c.db('admin').command({ setFeatureCompatibilityVersion: '4.4' });
      assert.deepEqual((await getFcv(c)).featureCompatibilityVersion, { version: '4.4' });
      await assert.rejects(
        c.db('admin').command({ setFeatureCompatibilityVersion: '4.2' }),
        (e: Error & { code?: number }) => e.code === 2,
      );
    });
    assert.equal((await m50.stop()).code, 0);

    const m70 = await startMongod(bins['7.0'] as string, join(root, 'rules70'));
    await withClient(m70.port, async (c) => {
      await assert.rejects(
        c.db('admin').command({ setFeatureCompatibilityVersion: '6.0' }),
        (e: Error & { code?: number; codeName?: string }) => {
          assert.equal(e.code, 7369100);
          assert.match(e.message, /FCV downgrade/);
          return true;
        },
      );
      await c.db('admin').command({ setFeatureCompatibilityVersion: '6.0', confirm: true });
      assert.deepEqual((await getFcv(c)).featureCompatibilityVersion, { version: '6.0' });
    });
    assert.equal((await m70.stop()).code, 0);
  });
});
