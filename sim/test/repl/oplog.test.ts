// Oplog entries: the shape a primary writes for each kind of change, and the idempotent ops a
// secondary derives from them (applying twice changes nothing).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Document, UUID } from 'bson';
import {
  entryFor,
  noopEntry,
  OplogIndex,
  oplogInsertOp,
  opsForEntry,
  parseEntry,
} from '../../src/repl/oplog.js';
import { Storage, type StorageOp } from '../../src/storage/store.js';

describe('oplog entries', () => {
  let dir = '';
  let storage: Storage;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mup-sim-oplog-'));
    storage = Storage.open(dir);
    storage.apply([{ op: 'createCollection', db: 'local', coll: 'oplog.rs' }]);
  });
  after(async () => {
    storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('has the 4.4+ field order and optime', () => {
    const e = entryFor(
      { op: 'insert', db: 'app', coll: 'c', doc: { _id: 1, a: 1 } },
      { secs: 100, inc: 2, term: 3 },
      5000,
      undefined,
      false,
    );
    assert.deepEqual(Object.keys(e), ['op', 'ns', 'o', 'ts', 't', 'v', 'wall']);
    assert.equal(e.op, 'i');
    assert.equal(e.ns, 'app.c');
    assert.deepEqual(parseEntry(e)?.opTime, { secs: 100, inc: 2, term: 3 });
    const legacy = noopEntry('initiating set', { secs: 1, inc: 1, term: -1 }, 0, true);
    assert.ok('h' in legacy, 'servers before 4.2 write the h field');
  });

  it('replays every kind of change idempotently on a secondary', () => {
    const uuid = new UUID();
    const changes: StorageOp[] = [
      { op: 'createCollection', db: 'app', coll: 'c', uuid },
      { op: 'insert', db: 'app', coll: 'c', doc: { _id: 1, a: 1 } },
      { op: 'insert', db: 'app', coll: 'c', doc: { _id: 2, a: 2 } },
      { op: 'replace', db: 'app', coll: 'c', doc: { _id: 1, a: 10 } },
      { op: 'delete', db: 'app', coll: 'c', id: 2 },
      { op: 'createIndex', db: 'app', coll: 'c', spec: { v: 2, key: { a: 1 }, name: 'a_1' } },
      { op: 'insert', db: 'app', coll: 'gone', doc: { _id: 'x' } },
      { op: 'dropCollection', db: 'app', coll: 'gone' },
    ];
    const entries: Document[] = changes.map((c, i) =>
      entryFor(c, { secs: 10, inc: i + 1, term: 1 }, 0, uuid, false),
    );
    const index = new OplogIndex();
    for (let round = 0; round < 2; round++) {
      for (const e of entries) {
        storage.apply([...opsForEntry(e, storage), ...(round === 0 ? [oplogInsertOp(e)] : [])]);
        if (round === 0) index.append(parseEntry(e) as NonNullable<ReturnType<typeof parseEntry>>);
      }
      const c = storage.getCollection('app', 'c');
      assert.ok(c, `round ${round}: collection exists`);
      assert.equal(c.uuid.toHexString(), uuid.toHexString(), 'the collection keeps the primary UUID');
      assert.deepEqual([...c.all()], [{ _id: 1, a: 10 }]);
      assert.ok(c.indexes.some((i) => i.name === 'a_1'));
      assert.equal(storage.getCollection('app', 'gone'), undefined);
    }
    assert.equal(index.size, entries.length);
    assert.equal(index.from(10, 3, true, 100).length, 6);
    assert.equal(index.from(10, 3, false, 100).length, 5);
    assert.equal(index.at(10, 4)?.doc.op, 'u');
    // Stored in local.oplog.rs, keyed by ts: every entry is there.
    assert.equal(OplogIndex.load(storage).size, entries.length);
  });
});
