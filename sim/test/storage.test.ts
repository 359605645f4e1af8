// The dbPath store: atomic fsync'd batches, replay after a crash (torn tail cut off), compaction that
// never folds records past the stable point, and rollback to a common point (recoverToTimestamp).
import assert from 'node:assert/strict';
import { appendFile, cp, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BSON, Timestamp } from 'bson';
import { JOURNAL_FILE, SNAPSHOT_FILE, Storage } from '../src/storage/store.js';
import { removeDir, tempDir } from './helpers/sim.js';

const ts = (t: number) => new Timestamp({ t, i: 1 });
/** _ids as plain values (replayed documents carry BSON Int32 wrappers, as documents from the wire do). */
const ids = (s: Storage, coll = 'c') =>
  [...(s.getCollection('d', coll)?.all() ?? [])].map((d) =>
    typeof d._id === 'object' ? Number(d._id) : d._id,
  );

describe('storage', () => {
  let root: string;
  before(async () => {
    root = await tempDir();
  });
  after(async () => {
    await removeDir(root);
  });

  it('replays acknowledged batches after an unclean stop and cuts a torn tail', async () => {
    const dir = await tempDir();
    const s = Storage.open(dir);
    assert.equal(s.isEmpty, true);
    s.apply([
      { op: 'createCollection', db: 'd', coll: 'c' },
      { op: 'insert', db: 'd', coll: 'c', doc: { _id: 1, v: 'a' } },
    ]);
    s.apply([{ op: 'replace', db: 'd', coll: 'c', doc: { _id: 1, v: 'b' } }]);
    s.apply([{ op: 'insert', db: 'd', coll: 'c', doc: { _id: 2 } }]);
    s.apply([{ op: 'delete', db: 'd', coll: 'c', id: 2 }]);
    // No close(): like SIGKILL. Then a half-written record, as a crash mid-write would leave.
    await appendFile(join(dir, JOURNAL_FILE), Buffer.from([200, 0, 0, 0, 3, 1]));
    const again = Storage.open(dir);
    assert.equal(again.getCollection('d', 'c')?.findById(1)?.v, 'b');
    assert.deepEqual(ids(again), [1]);
    assert.equal(again.replayedRecords, 4);
    const size = (await stat(join(dir, JOURNAL_FILE))).size;
    again.apply([{ op: 'insert', db: 'd', coll: 'c', doc: { _id: 3 } }]);
    assert.ok((await stat(join(dir, JOURNAL_FILE))).size > size);
    assert.deepEqual(ids(Storage.open(dir)), [1, 3], 'records after the cut tail are readable');
    await removeDir(dir);
  });

  it('keeps a batch larger than one BSON document (16 MB) and drops a record whose ops are incomplete', async () => {
    const dir = await tempDir();
    const s = Storage.open(dir);
    const big = 'x'.repeat(7 * 1024 * 1024);
    s.apply([
      { op: 'createCollection', db: 'd', coll: 'c' },
      { op: 'insert', db: 'd', coll: 'c', doc: { _id: 1, big } },
      { op: 'insert', db: 'd', coll: 'c', doc: { _id: 2, big } },
      { op: 'insert', db: 'd', coll: 'c', doc: { _id: 3, big } },
    ]);
    // A record cut after its header and first op, as a crash in the middle of the write leaves it.
    await appendFile(
      join(dir, JOURNAL_FILE),
      Buffer.concat([
        BSON.serialize({ h: 1, n: 2 }),
        BSON.serialize({ op: 'delete', db: 'd', coll: 'c', id: 1 }),
      ]),
    );
    const again = Storage.open(dir);
    assert.deepEqual(ids(again), [1, 2, 3]);
    assert.equal(again.getCollection('d', 'c')?.findById(3)?.big.length, big.length);
    again.close();
    assert.deepEqual(ids(Storage.open(dir)), [1, 2, 3], 'and the same after compaction into the snapshot');
    await removeDir(dir);
  });

  it('compacts into a snapshot on close and reopens from it', async () => {
    const dir = join(root, 'compact');
    await (await import('node:fs/promises')).mkdir(dir);
    const s = Storage.open(dir);
    s.apply([
      { op: 'createCollection', db: 'd', coll: 'c' },
      { op: 'createIndex', db: 'd', coll: 'c', spec: { v: 2, key: { a: 1 }, name: 'a_1', unique: true } },
      { op: 'insert', db: 'd', coll: 'c', doc: { _id: 'x', a: 1 } },
    ]);
    s.close();
    assert.equal((await stat(join(dir, JOURNAL_FILE))).size, 0, 'everything folded into the snapshot');
    assert.ok((await stat(join(dir, SNAPSHOT_FILE))).size > 0);
    const r = Storage.open(dir);
    assert.deepEqual(ids(r), ['x']);
    assert.deepEqual(
      r.getCollection('d', 'c')?.indexes.map((i) => i.name),
      ['_id_', 'a_1'],
    );
    r.close();
  });

  it('compacts again only once the journal grew by as much as the snapshot', async () => {
    const dir = join(root, 'geometric');
    await (await import('node:fs/promises')).mkdir(dir);
    const s = Storage.open(dir);
    const mib = 'x'.repeat(1024 * 1024);
    const journal = async () => (await stat(join(dir, JOURNAL_FILE))).size;
    let id = 0;
    const docs = (n: number) =>
      Array.from({ length: n }, () => ({
        op: 'insert' as const,
        db: 'd',
        coll: 'c',
        doc: { _id: id++, pad: mib },
      }));
    // One 20 MiB batch: past the first threshold (8 MiB), so it is folded into a 20 MiB snapshot at once.
    s.apply([{ op: 'createCollection', db: 'd', coll: 'c' }, ...docs(20)]);
    assert.equal(await journal(), 0, 'the first compaction came after 8 MiB (the journal was sealed)');
    await s.compactionIdle();
    assert.equal(s.backgroundCompactions, 1);
    for (let k = 0; k < 12; k++) s.apply(docs(1));
    assert.ok((await journal()) > 12 * 1024 * 1024, 'no compaction at 8 MiB: the snapshot is larger');
    // About 20 MiB more (the snapshot's size) starts the next one: the journal is sealed and starts again.
    let sealedAt = 0;
    for (let k = 13; k <= 24 && sealedAt === 0; k++) {
      s.apply(docs(1));
      if ((await journal()) < 2 * 1024 * 1024) sealedAt = k;
    }
    assert.ok(
      sealedAt >= 20 && sealedAt <= 22,
      `compacted once the journal outgrew the snapshot (${sealedAt} MiB)`,
    );
    await s.compactionIdle();
    assert.equal(s.backgroundCompactions, 2);
    s.close();
    assert.equal(ids(Storage.open(dir)).length, id);
    await removeDir(dir);
  });

  it('writes go on while a compaction folds the data in the background, and a crash mid-fold loses nothing', async () => {
    const dir = await tempDir();
    const s = Storage.open(dir);
    const pad = 'y'.repeat(64 * 1024);
    let id = 0;
    const batch = (n: number) =>
      Array.from({ length: n }, () => ({
        op: 'insert' as const,
        db: 'd',
        coll: 'c',
        doc: { _id: id++, pad },
      }));
    s.apply([{ op: 'createCollection', db: 'd', coll: 'c' }]);
    // 40 MiB in 1 MiB batches: the 8 MiB threshold starts a compaction on the way.
    for (let k = 0; k < 40; k++) s.apply(batch(16));
    await s.compactionIdle();
    const before = s.backgroundCompactions;
    assert.ok(before >= 1, 'the threshold started a background compaction');
    // The next compaction starts once the journal has grown by the snapshot's size; then writes continue
    // while it runs. What is measured is a count of writes acknowledged meanwhile, not a duration.
    let started = false;
    for (let k = 0; k < 200 && !started; k++) {
      s.apply(batch(16));
      started = s.compacting;
    }
    assert.ok(started, 'a second compaction started');
    const crashed = join(dir, '..', `${dir.split('/').pop()}-crash`);
    // A copy of the files as they are mid-fold stands for a SIGKILL now (this thread holds the renames).
    // (Files a finished fold replaced are being deleted meanwhile: not part of the state, and the open
    // deletes any left.)
    await cp(dir, crashed, {
      recursive: true,
      filter: (path) => !basename(path).startsWith('sim-discarded.'),
    });
    let during = 0;
    const deadline = Date.now() + 60_000;
    while (s.compacting && during < 100_000 && Date.now() < deadline) {
      s.apply(batch(1));
      during++;
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(s.compacting, false, 'the compaction finished');
    assert.ok(during > 0, `writes were acknowledged while the compaction ran (${during})`);
    assert.equal(s.backgroundCompactions, before + 1);
    const total = id;
    assert.equal(ids(s).length, total);
    s.close();
    const reopened = Storage.open(dir);
    assert.equal(ids(reopened).length, total, 'everything is there after the fold and a restart');
    reopened.close();
    const recovered = Storage.open(crashed);
    assert.equal(
      ids(recovered).length,
      total - during,
      'a store killed mid-fold reopens with every write acknowledged before the kill',
    );
    recovered.close();
    assert.deepEqual(
      (await readdir(crashed)).filter((f) => f.endsWith('.tmp')),
      [],
      'the unfinished fold was discarded',
    );
    await removeDir(dir);
    await removeDir(crashed);
  });

  it('deletes the files a fold replaced off the write path, and a crash before that leaves them for the next open', async () => {
    const dir = await tempDir();
    const s = Storage.open(dir);
    const pad = 'z'.repeat(64 * 1024);
    let id = 0;
    s.apply([{ op: 'createCollection', db: 'd', coll: 'c' }]);
    // 1 MiB batches, each fold let finish, until a second fold has replaced the first one's snapshot.
    for (let k = 0; k < 200 && s.backgroundCompactions < 2; k++) {
      s.apply(
        Array.from({ length: 16 }, () => ({
          op: 'insert' as const,
          db: 'd',
          coll: 'c',
          doc: { _id: id++, pad },
        })),
      );
      await s.compactionIdle();
    }
    assert.ok(s.backgroundCompactions >= 2, `folds: ${s.backgroundCompactions}`);
    const discarded = async () => (await readdir(dir)).filter((f) => f.startsWith('sim-discarded.'));
    // Deleted on the thread pool a slice at a time: polled, bounded.
    for (let i = 0; i < 200 && (await discarded()).length > 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await discarded(), []);
    s.close();
    // As a kill would leave one: a replaced file not yet deleted. The next open deletes it and reads the rest.
    await appendFile(join(dir, 'sim-discarded.3'), Buffer.alloc(1024, 1));
    const reopened = Storage.open(dir);
    assert.deepEqual(await discarded(), []);
    assert.equal(ids(reopened).length, id);
    reopened.close();
    await removeDir(dir);
  });

  it('rolls back records after a common point, keeping what the stable point protects', async () => {
    const dir = await tempDir();
    const s = Storage.open(dir);
    s.apply([{ op: 'createCollection', db: 'd', coll: 'c' }], { ts: ts(1) });
    for (let t = 2; t <= 6; t++)
      s.apply([{ op: 'insert', db: 'd', coll: 'c', doc: { _id: t } }], { ts: ts(t) });
    assert.throws(
      () => s.apply([{ op: 'insert', db: 'local', coll: 'meta', doc: { _id: 'x' } }]),
      /no collection local\.meta/,
    );
    s.apply([
      { op: 'createCollection', db: 'local', coll: 'meta' },
      { op: 'insert', db: 'local', coll: 'meta', doc: { _id: 'untimed' } },
    ]);
    s.setStableTimestamp(ts(3));
    s.compact();
    assert.deepEqual(ids(s), [2, 3, 4, 5, 6]);
    s.recoverToTimestamp(ts(4));
    assert.deepEqual(ids(s), [2, 3, 4], 'entries after the common point are gone');
    assert.throws(() => s.recoverToTimestamp(ts(2)), /before the stable snapshot/);
    assert.ok(
      s.getCollection('local', 'meta')?.findById('untimed'),
      'records without a timestamp are never rolled back',
    );
    const reopened = Storage.open(dir);
    assert.deepEqual(ids(reopened), [2, 3, 4], 'the rollback is durable');
    await removeDir(dir);
  });
});
