// Persistent document store in dbPath. Every acknowledged change is one journal record, written and
// fsync'd before apply() returns, so a SIGKILL never loses an acknowledged write (SIMULATOR.md "Data
// lives in dbPath"). A snapshot file holds the state up to the stable point; the journal holds the
// records after it. Records may carry an oplog timestamp, which lets the replication role roll the
// data back to a common point (recoverToTimestamp) the way modern mongod recovers to a stable timestamp.
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { BSON, type Document, type Timestamp, UUID } from 'bson';
import { cloneValue, idKey } from '../bsonvalues.js';

const DESERIALIZE = { promoteValues: false, promoteLongs: false } as const;

export const JOURNAL_FILE = 'sim-journal.bson';
export const SNAPSHOT_FILE = 'sim-snapshot.bson';

/** One change to the data. Updates are recorded as full post-images so replay is idempotent. */
export type StorageOp =
  | { op: 'createCollection'; db: string; coll: string; options?: Document; uuid?: UUID }
  | { op: 'dropCollection'; db: string; coll: string }
  | { op: 'dropDatabase'; db: string }
  | { op: 'insert'; db: string; coll: string; doc: Document }
  /** `replacement`: written by a replacement-style update (change streams report "replace", not "update"). */
  | { op: 'replace'; db: string; coll: string; doc: Document; replacement?: boolean }
  | { op: 'delete'; db: string; coll: string; id: unknown }
  | { op: 'createIndex'; db: string; coll: string; spec: Document }
  | { op: 'dropIndex'; db: string; coll: string; name: string };

export interface CommitMeta {
  /** Oplog timestamp of the batch (replica sets); records without one are never rolled back. */
  readonly ts?: Timestamp;
}

export class Collection {
  readonly db: string;
  readonly name: string;
  readonly uuid: UUID;
  options: Document;
  indexes: Document[];
  /** idKey(_id) → document, in natural (insertion) order. */
  readonly docs = new Map<string, Document>();

  constructor(db: string, name: string, options: Document = {}, uuid: UUID = new UUID()) {
    this.db = db;
    this.name = name;
    this.options = options;
    this.uuid = uuid;
    this.indexes = name.startsWith('system.') && db !== 'admin' ? [] : [idIndexSpec()];
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  findById(id: unknown): Document | undefined {
    return this.docs.get(idKey(id));
  }

  *all(): IterableIterator<Document> {
    yield* this.docs.values();
  }

  get size(): number {
    return this.docs.size;
  }
}

export function idIndexSpec(): Document {
  return { v: 2, key: { _id: 1 }, name: '_id_' };
}

/** local.oplog.rs entries have no _id: they are keyed by their unique, ordered ts. */
function storedKey(db: string, coll: string, doc: Document): string {
  return db === 'local' && coll === 'oplog.rs' ? `ts:${String(doc.ts)}` : idKey(doc._id);
}

type Catalog = Map<string, Map<string, Collection>>;

/** Thrown when a journal record cannot be applied (a bug in the caller, never user input). */
export class StorageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageError';
  }
}

function applyOp(catalog: Catalog, op: StorageOp): void {
  const dbMap = (db: string): Map<string, Collection> => {
    let m = catalog.get(db);
    if (!m) {
      m = new Map();
      catalog.set(db, m);
    }
    return m;
  };
  const coll = (db: string, name: string): Collection => {
    const c = catalog.get(db)?.get(name);
    if (!c) throw new StorageError(`no collection ${db}.${name}`);
    return c;
  };
  switch (op.op) {
    case 'createCollection':
      if (!catalog.get(op.db)?.has(op.coll)) {
        dbMap(op.db).set(op.coll, new Collection(op.db, op.coll, op.options ?? {}, op.uuid ?? new UUID()));
      }
      return;
    case 'dropCollection':
      catalog.get(op.db)?.delete(op.coll);
      if (catalog.get(op.db)?.size === 0) catalog.delete(op.db);
      return;
    case 'dropDatabase':
      catalog.delete(op.db);
      return;
    case 'insert':
    case 'replace':
      coll(op.db, op.coll).docs.set(storedKey(op.db, op.coll, op.doc), op.doc);
      return;
    case 'delete':
      coll(op.db, op.coll).docs.delete(idKey(op.id));
      return;
    case 'createIndex': {
      const c = coll(op.db, op.coll);
      if (!c.indexes.some((i) => i.name === op.spec.name)) c.indexes.push(op.spec);
      return;
    }
    case 'dropIndex': {
      const c = coll(op.db, op.coll);
      c.indexes = c.indexes.filter((i) => i.name !== op.name);
      return;
    }
  }
}

/**
 * Refuses a batch that could not replay (a write to a collection that does not exist at that point)
 * before anything reaches the journal: a bad record on disk would stop every later start.
 */
function checkBatch(catalog: Catalog, ops: StorageOp[]): void {
  const exists = new Map<string, boolean>();
  const has = (db: string, coll: string): boolean =>
    exists.get(`${db}.${coll}`) ?? catalog.get(db)?.has(coll) ?? false;
  for (const op of ops) {
    switch (op.op) {
      case 'createCollection':
        exists.set(`${op.db}.${op.coll}`, true);
        break;
      case 'dropCollection':
        exists.set(`${op.db}.${op.coll}`, false);
        break;
      case 'dropDatabase':
        for (const key of exists.keys()) if (key.startsWith(`${op.db}.`)) exists.set(key, false);
        for (const coll of catalog.get(op.db)?.keys() ?? []) exists.set(`${op.db}.${coll}`, false);
        break;
      default:
        if (!has(op.db, op.coll)) throw new StorageError(`no collection ${op.db}.${op.coll}`);
    }
  }
}

interface JournalRecord {
  ts?: Timestamp;
  ops: StorageOp[];
}

function readStream(buf: Buffer): { docs: Document[]; ends: number[]; goodLength: number } {
  const docs: Document[] = [];
  const ends: number[] = [];
  let offset = 0;
  while (offset + 4 <= buf.length) {
    const size = buf.readInt32LE(offset);
    if (size < 5 || offset + size > buf.length) break;
    try {
      docs.push(BSON.deserialize(buf.subarray(offset, offset + size), DESERIALIZE));
    } catch {
      break;
    }
    offset += size;
    ends.push(offset);
  }
  return { docs, ends, goodLength: offset };
}

/**
 * A journal record is a header document {h: 1, n, ts?} followed by its n ops, each its own BSON
 * document: one batch may exceed the 16 MB a single BSON document can hold (a 48 MB insert message).
 */
function encodeRecord(rec: JournalRecord): Buffer {
  const header: Document = { h: 1, n: rec.ops.length };
  if (rec.ts) header.ts = rec.ts;
  return Buffer.concat([BSON.serialize(header), ...rec.ops.map((op) => BSON.serialize(op))]);
}

/** Complete records, and the byte length they cover (a torn last record is left out). */
function decodeRecords(buf: Buffer): { records: JournalRecord[]; goodLength: number } {
  const { docs, ends } = readStream(buf);
  const records: JournalRecord[] = [];
  let goodLength = 0;
  let i = 0;
  while (i < docs.length) {
    const header = docs[i] as Document;
    const n = Number(header.n);
    // Anything but a header here, or a header whose ops did not all reach the disk, ends the log.
    if (header.h === undefined || !Number.isInteger(n) || n < 0 || i + 1 + n > docs.length) break;
    const ops = docs.slice(i + 1, i + 1 + n) as StorageOp[];
    records.push(header.ts ? { ts: header.ts as Timestamp, ops } : { ops });
    i += 1 + n;
    goodLength = ends[i - 1] ?? goodLength;
  }
  return { records, goodLength };
}

function loadSnapshot(path: string, catalog: Catalog): void {
  if (!existsSync(path)) return;
  let current: Collection | undefined;
  for (const rec of readStream(readFileSync(path)).docs) {
    if (rec.t === 'coll') {
      current = new Collection(rec.db, rec.coll, rec.options ?? {}, rec.uuid);
      current.indexes = rec.indexes ?? [];
      let m = catalog.get(rec.db);
      if (!m) {
        m = new Map();
        catalog.set(rec.db, m);
      }
      m.set(rec.coll, current);
    } else if (rec.t === 'doc' && current) {
      current.docs.set(storedKey(current.db, current.name, rec.doc), rec.doc);
    }
  }
}

/**
 * The files a WiredTiger dbPath always has (`WiredTiger`, `storage.bson`), so tools that recognise an
 * initialised data directory by them see one. The data itself lives in the sim-* files.
 */
function writeEngineMarkers(dbPath: string): void {
  const wt = join(dbPath, 'WiredTiger');
  if (!existsSync(wt)) writeFileSync(wt, 'WiredTiger\nWiredTiger 11.2.0: (December 12, 2023)\n');
  const sb = join(dbPath, 'storage.bson');
  if (!existsSync(sb)) {
    writeFileSync(
      sb,
      BSON.serialize({
        storage: { engine: 'wiredTiger', options: { directoryPerDB: false, directoryForIndexes: false } },
      }),
    );
  }
}

/**
 * Journal bytes beyond which a compaction is first attempted after a write. A compaction rewrites the whole
 * snapshot synchronously (every document and oplog entry so far), so the next one waits until the journal has
 * grown by as much as the snapshot: constant work per journal byte, instead of a pause every 8 MiB that grows
 * with the data.
 */
const COMPACT_THRESHOLD = 8 * 1024 * 1024;

export class Storage {
  readonly dbPath: string;
  private catalog: Catalog = new Map();
  private journalFd: number;
  private journalSize = 0;
  /** Journal size at which the next compaction is attempted. */
  private compactAt = COMPACT_THRESHOLD;
  /** Records after this timestamp are kept in the journal (rollback may still need them). */
  private stable: Timestamp | 'all' = 'all';
  /** Number of records replayed from the journal at open (diagnostics). */
  readonly replayedRecords: number;

  private constructor(dbPath: string) {
    this.dbPath = dbPath;
    writeEngineMarkers(dbPath);
    loadSnapshot(join(dbPath, SNAPSHOT_FILE), this.catalog);
    const journalPath = join(dbPath, JOURNAL_FILE);
    let replayed = 0;
    if (existsSync(journalPath)) {
      const buf = readFileSync(journalPath);
      const { records, goodLength } = decodeRecords(buf);
      for (const rec of records) {
        for (const op of rec.ops) applyOp(this.catalog, op);
        replayed++;
      }
      // A torn tail (killed mid-write of an unacknowledged record) is cut off, as a WAL would.
      if (goodLength < buf.length) writeFileSync(journalPath, buf.subarray(0, goodLength));
      this.journalSize = goodLength;
    }
    this.replayedRecords = replayed;
    this.journalFd = openSync(journalPath, 'a');
  }

  /** Opens (creating if needed) the store in an existing dbPath. */
  static open(dbPath: string): Storage {
    return new Storage(dbPath);
  }

  /** True when the dbPath held no data of ours before this process (a brand-new data directory). */
  get isEmpty(): boolean {
    return this.catalog.size === 0;
  }

  /**
   * Applies a batch atomically: one journal record, fsync'd, then the in-memory state.
   * Synchronous on purpose: a check-then-write in a command handler cannot interleave with another.
   */
  apply(ops: StorageOp[], meta: CommitMeta = {}): void {
    if (ops.length === 0) return;
    // Callers validate (duplicate keys, missing collections) before calling: nothing here can fail
    // half-way except the disk itself.
    checkBatch(this.catalog, ops);
    const record: JournalRecord = meta.ts ? { ts: meta.ts, ops } : { ops };
    const bytes = encodeRecord(record);
    const stored = ops.map((op) =>
      op.op === 'insert' || op.op === 'replace' ? { ...op, doc: cloneValue(op.doc) } : op,
    );
    writeSync(this.journalFd, bytes);
    fsyncSync(this.journalFd);
    this.journalSize += bytes.length;
    for (const op of stored) applyOp(this.catalog, op);
    if (this.journalSize > this.compactAt) this.compact();
  }

  getCollection(db: string, coll: string): Collection | undefined {
    return this.catalog.get(db)?.get(coll);
  }

  databaseNames(): string[] {
    return [...this.catalog.keys()];
  }

  collections(db: string): Collection[] {
    return [...(this.catalog.get(db)?.values() ?? [])];
  }

  /**
   * Sets the point up to which data may be folded into the snapshot. Standalone: 'all'.
   * A replica set passes its majority commit point so rollback can still reach any later point.
   */
  setStableTimestamp(ts: Timestamp | 'all'): void {
    this.stable = ts;
  }

  private isStable(rec: JournalRecord): boolean {
    if (this.stable === 'all' || !rec.ts) return true;
    return rec.ts.compare(this.stable) <= 0;
  }

  private readJournal(): JournalRecord[] {
    const path = join(this.dbPath, JOURNAL_FILE);
    if (!existsSync(path)) return [];
    return decodeRecords(readFileSync(path)).records;
  }

  private rewriteJournal(records: JournalRecord[]): void {
    const path = join(this.dbPath, JOURNAL_FILE);
    const tmp = `${path}.tmp`;
    const bytes = Buffer.concat(records.map(encodeRecord));
    const fd = openSync(tmp, 'w');
    writeSync(fd, bytes);
    fsyncSync(fd);
    closeSync(fd);
    closeSync(this.journalFd);
    renameSync(tmp, path);
    this.journalFd = openSync(path, 'a');
    this.journalSize = bytes.length;
  }

  private writeSnapshot(catalog: Catalog): void {
    const path = join(this.dbPath, SNAPSHOT_FILE);
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w');
    for (const colls of catalog.values()) {
      for (const c of colls.values()) {
        writeSync(
          fd,
          BSON.serialize({
            t: 'coll',
            db: c.db,
            coll: c.name,
            options: c.options,
            indexes: c.indexes,
            uuid: c.uuid,
          }),
        );
        for (const doc of c.docs.values()) writeSync(fd, BSON.serialize({ t: 'doc', doc }));
      }
    }
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  }

  /** Folds the stable prefix of the journal into the snapshot. Crash-safe: snapshot first, then journal. */
  compact(): void {
    const records = this.readJournal();
    let cut = 0;
    while (cut < records.length && this.isStable(records[cut] as JournalRecord)) cut++;
    // Whatever happens below, the next attempt waits for the journal to grow by a snapshot's worth (an attempt
    // that cannot fold anything yet must not re-read the journal on every write).
    const scheduleNext = () => {
      this.compactAt = this.journalSize + Math.max(COMPACT_THRESHOLD, this.snapshotSize());
    };
    if (cut === 0) {
      scheduleNext();
      return;
    }
    if (cut === records.length) {
      this.writeSnapshot(this.catalog);
    } else {
      const scratch: Catalog = new Map();
      loadSnapshot(join(this.dbPath, SNAPSHOT_FILE), scratch);
      for (const rec of records.slice(0, cut)) for (const op of rec.ops) applyOp(scratch, op);
      this.writeSnapshot(scratch);
    }
    // Replaying already-folded records is harmless (idempotent ops), so a crash between the two
    // renames leaves a consistent store.
    this.rewriteJournal(records.slice(cut));
    scheduleNext();
  }

  /** Bytes of the snapshot file (0 before the first compaction). */
  private snapshotSize(): number {
    try {
      return statSync(join(this.dbPath, SNAPSHOT_FILE)).size;
    } catch {
      return 0;
    }
  }

  /**
   * Rolls the data back to `ts`: drops every journal record stamped after it and rebuilds the state.
   * Fails if the point is older than the stable snapshot (mongod would need a resync then).
   */
  recoverToTimestamp(ts: Timestamp): void {
    if (this.stable !== 'all' && ts.compare(this.stable) < 0) {
      throw new StorageError('cannot recover to a timestamp before the stable snapshot');
    }
    const kept = this.readJournal().filter((r) => !r.ts || r.ts.compare(ts) <= 0);
    const catalog: Catalog = new Map();
    loadSnapshot(join(this.dbPath, SNAPSHOT_FILE), catalog);
    for (const rec of kept) for (const op of rec.ops) applyOp(catalog, op);
    this.rewriteJournal(kept);
    this.catalog = catalog;
  }

  /** Approximate on-disk size (dbStats/listDatabases sizeOnDisk). */
  diskSize(): number {
    return this.journalSize + this.snapshotSize();
  }

  close(): void {
    try {
      this.compact();
    } finally {
      closeSync(this.journalFd);
    }
  }
}
