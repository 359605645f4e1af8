// Persistent document store in dbPath. Every acknowledged change is one journal record, written and
// fsync'd before apply() returns, so a SIGKILL never loses an acknowledged write (SIMULATOR.md "Data
// lives in dbPath"). A snapshot file holds the state up to the stable point; the journal holds the
// records after it. Records may carry an oplog timestamp, which lets the replication role roll the
// data back to a common point (recoverToTimestamp) the way modern mongod recovers to a stable timestamp.
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  linkSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BSON, type Document, type Timestamp, UUID } from 'bson';
import { cloneValue, idKey } from '../bsonvalues.js';

const DESERIALIZE = { promoteValues: false, promoteLongs: false } as const;

export const JOURNAL_FILE = 'sim-journal.bson';
export const SNAPSHOT_FILE = 'sim-snapshot.bson';
/** A sealed journal segment: the active journal renamed aside when a compaction starts (replayed in order). */
const SEGMENT = /^sim-journal\.(\d+)\.bson$/;
export const segmentFile = (gen: number): string => `sim-journal.${gen}.bson`;
const SNAPSHOT_TMP = `${SNAPSHOT_FILE}.tmp`;
const REMAINDER_TMP = 'sim-journal.remainder.tmp';
/** Files a fold replaced, waiting to be deleted (`sim-discarded.<n>`); any found at open are left from a crash. */
const DISCARDED = /^sim-discarded\.\d+$/;

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
  | { op: 'dropIndex'; db: string; coll: string; name: string }
  /**
   * renameCollection: the collection moves with its documents and indexes (dropping an existing target when
   * `dropTarget`); across databases it gets `uuid`, a new UUID, as mongod gives the copy a new one.
   */
  | {
      op: 'renameCollection';
      db: string;
      coll: string;
      toDb: string;
      toColl: string;
      dropTarget: boolean;
      uuid?: UUID;
    }
  /** collMod: collection options set (validator, validationLevel, ...) and one index's options changed. */
  | { op: 'collMod'; db: string; coll: string; options?: Document; index?: IndexMod };

/** The index options collMod changes (`index: {name | keyPattern, hidden, expireAfterSeconds}`). */
export interface IndexMod {
  readonly name: string;
  readonly hidden?: boolean;
  readonly expireAfterSeconds?: number;
}

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

  /** The same documents and indexes under another namespace (renameCollection). */
  renamed(db: string, name: string, uuid: UUID): Collection {
    const c = new Collection(db, name, this.options, uuid);
    c.indexes = this.indexes;
    for (const [k, d] of this.docs) c.docs.set(k, d);
    return c;
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

export type Catalog = Map<string, Map<string, Collection>>;

/** Thrown when a journal record cannot be applied (a bug in the caller, never user input). */
export class StorageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageError';
  }
}

export function applyOp(catalog: Catalog, op: StorageOp): void {
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
    case 'renameCollection': {
      const source = catalog.get(op.db)?.get(op.coll);
      // Replayed after the fact (idempotent): the source is gone and the target already holds it.
      if (!source) return;
      if (catalog.get(op.toDb)?.has(op.toColl)) {
        if (!op.dropTarget) throw new StorageError(`target ${op.toDb}.${op.toColl} exists`);
        catalog.get(op.toDb)?.delete(op.toColl);
      }
      catalog.get(op.db)?.delete(op.coll);
      if (catalog.get(op.db)?.size === 0) catalog.delete(op.db);
      dbMap(op.toDb).set(op.toColl, source.renamed(op.toDb, op.toColl, op.uuid ?? source.uuid));
      return;
    }
    case 'collMod': {
      const c = coll(op.db, op.coll);
      if (op.options) c.options = { ...c.options, ...op.options };
      const mod = op.index;
      if (mod) {
        c.indexes = c.indexes.map((i) => {
          if (i.name !== mod.name) return i;
          const next: Document = { ...i };
          if (mod.expireAfterSeconds !== undefined) next.expireAfterSeconds = mod.expireAfterSeconds;
          // mongod removes the field when an index is unhidden rather than storing hidden: false.
          if (mod.hidden === true) next.hidden = true;
          else if (mod.hidden === false) delete next.hidden;
          return next;
        });
      }
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
      case 'renameCollection':
        if (!has(op.db, op.coll)) throw new StorageError(`no collection ${op.db}.${op.coll}`);
        if (has(op.toDb, op.toColl) && !op.dropTarget) {
          throw new StorageError(`target ${op.toDb}.${op.toColl} exists`);
        }
        exists.set(`${op.db}.${op.coll}`, false);
        exists.set(`${op.toDb}.${op.toColl}`, true);
        break;
      default:
        if (!has(op.db, op.coll)) throw new StorageError(`no collection ${op.db}.${op.coll}`);
    }
  }
}

export interface JournalRecord {
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
export function encodeRecord(rec: JournalRecord): Buffer {
  const header: Document = { h: 1, n: rec.ops.length };
  if (rec.ts) header.ts = rec.ts;
  return Buffer.concat([BSON.serialize(header), ...rec.ops.map((op) => BSON.serialize(op))]);
}

/** Complete records, and the byte length they cover (a torn last record is left out). */
export function decodeRecords(buf: Buffer): { records: JournalRecord[]; goodLength: number } {
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

export function loadSnapshot(path: string, catalog: Catalog): void {
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

/** Dirty snapshot bytes the fold lets build up before flushing them (see writeSnapshotFile). */
const SNAPSHOT_FLUSH_BYTES = 8 * 1024 * 1024;

/** Writes a snapshot of `catalog` to `path` (fsync'd): one header per collection, then its documents. */
function writeSnapshotFile(path: string, catalog: Catalog): void {
  const fd = openSync(path, 'w');
  // The snapshot is flushed as it is written, not only at the end: the journal's fsync (every acknowledged
  // write) commits the file system's journal, which on ext4 (data=ordered) first writes out the data blocks
  // allocated meanwhile; a whole snapshot's dirty pages would be written then, inside a client's write.
  let unflushed = 0;
  const write = (bytes: Uint8Array) => {
    writeSync(fd, bytes);
    unflushed += bytes.length;
    if (unflushed >= SNAPSHOT_FLUSH_BYTES) {
      fdatasyncSync(fd);
      unflushed = 0;
    }
  };
  try {
    for (const colls of catalog.values()) {
      for (const c of colls.values()) {
        write(
          BSON.serialize({
            t: 'coll',
            db: c.db,
            coll: c.name,
            options: c.options,
            indexes: c.indexes,
            uuid: c.uuid,
          }),
        );
        for (const doc of c.docs.values()) write(BSON.serialize({ t: 'doc', doc }));
      }
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeRecordsFile(path: string, records: JournalRecord[]): number {
  const bytes = Buffer.concat(records.map(encodeRecord));
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return bytes.length;
}

function readRecords(path: string): JournalRecord[] {
  return existsSync(path) ? decodeRecords(readFileSync(path)).records : [];
}

/** A stable point as plain numbers, so it crosses to the compaction worker. */
export interface StablePoint {
  readonly t: number;
  readonly i: number;
}

function stableRecord(rec: JournalRecord, stable: StablePoint | null): boolean {
  if (stable === null || !rec.ts) return true;
  const t = rec.ts.getHighBitsUnsigned();
  const i = rec.ts.getLowBitsUnsigned();
  return t < stable.t || (t === stable.t && i <= stable.i);
}

export interface FoldResult {
  /** A new snapshot was written to the snapshot's .tmp file. */
  readonly folded: boolean;
  /** Bytes of the records kept (past the stable point), written to the remainder .tmp file. */
  readonly remainderBytes: number;
}

/**
 * The compaction itself, from files only: the snapshot plus the stable prefix of the sealed segments `gens`
 * (in order) become a new snapshot (.tmp), and the records past the stable point a remainder segment (.tmp).
 * It reads nothing the writer changes (sealed segments are immutable), so it runs in a worker thread while
 * writes go on; Storage renames the results into place.
 */
export function foldSegments(
  dbPath: string,
  gens: readonly number[],
  stable: StablePoint | null,
): FoldResult {
  const records = gens.flatMap((g) => readRecords(join(dbPath, segmentFile(g))));
  let cut = 0;
  while (cut < records.length && stableRecord(records[cut] as JournalRecord, stable)) cut++;
  if (cut === 0) return { folded: false, remainderBytes: 0 };
  const scratch: Catalog = new Map();
  loadSnapshot(join(dbPath, SNAPSHOT_FILE), scratch);
  for (const rec of records.slice(0, cut)) for (const op of rec.ops) applyOp(scratch, op);
  writeSnapshotFile(join(dbPath, SNAPSHOT_TMP), scratch);
  const rest = records.slice(cut);
  const remainderBytes = rest.length > 0 ? writeRecordsFile(join(dbPath, REMAINDER_TMP), rest) : 0;
  return { folded: true, remainderBytes };
}

/** How much of a discarded file one truncation frees (see deleteGradually). */
const DISCARD_STEP_BYTES = 16 * 1024 * 1024;

/**
 * Deletes a large file a slice at a time from its end, off the main thread: freeing hundreds of MiB of
 * blocks at once lands in one file-system journal commit, which the journal's fsync of a client's write then
 * waits for (measured: a 90 ms write right after a 1 GiB fold, with a plain unlink).
 */
async function deleteGradually(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    let { size } = await handle.stat();
    while (size > 0) {
      size = Math.max(0, size - DISCARD_STEP_BYTES);
      await handle.truncate(size);
    }
  } finally {
    await handle.close();
  }
  await unlink(path);
}

/**
 * Active-journal bytes beyond which a compaction starts. Each compaction rewrites the whole snapshot (in a
 * worker thread, off the write path), so the next one waits until the journal has grown by as much as the
 * snapshot: constant work per journal byte however large the data grows.
 */
const COMPACT_THRESHOLD = 8 * 1024 * 1024;

/** The compaction worker's entry point, beside this module (.ts when run from source through tsx, .js once built). */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(FROM_SOURCE ? './fold-worker.ts' : './fold-worker.js', import.meta.url);
/** A worker thread does not inherit tsx's loader: from source, a small bootstrap registers it first. */
function startWorker(workerData: unknown): Worker {
  if (!FROM_SOURCE) return new Worker(WORKER_URL, { workerData });
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

export interface StorageOptions {
  /** Fold the journal inside the write that crosses the threshold (the old behaviour, for comparison). */
  readonly syncCompaction?: boolean;
}

interface RunningFold {
  readonly worker: Worker;
  readonly gens: readonly number[];
  readonly done: Promise<void>;
  cancelled: boolean;
}

export class Storage {
  readonly dbPath: string;
  private catalog: Catalog = new Map();
  private journalFd: number;
  /** Bytes of the active journal (sim-journal.bson). */
  private journalSize = 0;
  /** Sealed journal segments not yet folded into the snapshot, oldest first (replayed before the active one). */
  private segments: number[] = [];
  private nextGen = 1;
  /** Active-journal size at which the next compaction starts. */
  private compactAt = COMPACT_THRESHOLD;
  /** Records after this timestamp are kept in the journal (rollback may still need them). */
  private stable: Timestamp | 'all' = 'all';
  private running: RunningFold | undefined;
  /** Suffix of the next discard name (see installFold). */
  private nextDiscard = 0;
  /** Compactions finished by a worker since open (diagnostics and tests). */
  backgroundCompactions = 0;
  /** Number of records replayed from the journal at open (diagnostics). */
  readonly replayedRecords: number;

  /** Compaction in the write path instead of a worker thread (MONGOD_SIM_SYNC_COMPACTION, benchmarks). */
  private readonly syncCompaction: boolean;

  private constructor(dbPath: string, options: StorageOptions) {
    this.dbPath = dbPath;
    this.syncCompaction = options.syncCompaction === true;
    writeEngineMarkers(dbPath);
    // Results of a compaction that never finished are left over from a crash: the inputs are intact.
    for (const tmp of [SNAPSHOT_TMP, REMAINDER_TMP])
      if (existsSync(join(dbPath, tmp))) unlinkSync(join(dbPath, tmp));
    const files = readdirSync(dbPath);
    for (const f of files) if (DISCARDED.test(f)) unlinkSync(join(dbPath, f));
    loadSnapshot(join(dbPath, SNAPSHOT_FILE), this.catalog);
    this.segments = files
      .map((f) => SEGMENT.exec(f)?.[1])
      .filter((g): g is string => g !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    this.nextGen = (this.segments[this.segments.length - 1] ?? 0) + 1;
    let replayed = 0;
    for (const gen of this.segments) {
      for (const rec of readRecords(join(dbPath, segmentFile(gen)))) {
        for (const op of rec.ops) applyOp(this.catalog, op);
        replayed++;
      }
    }
    const journalPath = join(dbPath, JOURNAL_FILE);
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
  static open(dbPath: string, options: StorageOptions = {}): Storage {
    return new Storage(dbPath, options);
  }

  /** True when the dbPath held no data of ours before this process (a brand-new data directory). */
  get isEmpty(): boolean {
    return this.catalog.size === 0;
  }

  /**
   * Applies a batch atomically: one journal record, fsync'd, then the in-memory state.
   * Synchronous on purpose: a check-then-write in a command handler cannot interleave with another.
   * The only compaction work on this path is starting one (sealing the journal: a rename); the fold itself
   * runs in a worker thread, so a write never waits for the data to be rewritten.
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
    if (this.journalSize > this.compactAt && !this.running) {
      if (this.syncCompaction) this.compact();
      else this.startCompaction();
    }
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

  private stablePoint(): StablePoint | null {
    return this.stable === 'all'
      ? null
      : { t: this.stable.getHighBitsUnsigned(), i: this.stable.getLowBitsUnsigned() };
  }

  /** Every journal record not in the snapshot, in order: sealed segments, then the active journal. */
  private readJournal(): JournalRecord[] {
    return [
      ...this.segments.flatMap((g) => readRecords(join(this.dbPath, segmentFile(g)))),
      ...readRecords(join(this.dbPath, JOURNAL_FILE)),
    ];
  }

  /** Replaces every segment and the active journal with `records` (rollback). */
  private rewriteJournal(records: JournalRecord[]): void {
    const path = join(this.dbPath, JOURNAL_FILE);
    const tmp = `${path}.tmp`;
    const size = writeRecordsFile(tmp, records);
    closeSync(this.journalFd);
    renameSync(tmp, path);
    for (const g of this.segments) unlinkSync(join(this.dbPath, segmentFile(g)));
    this.segments = [];
    this.journalFd = openSync(path, 'a');
    this.journalSize = size;
  }

  /** Renames the active journal aside as the newest sealed segment and opens a new, empty one. */
  private sealJournal(): void {
    if (this.journalSize === 0) return;
    const gen = this.nextGen++;
    closeSync(this.journalFd);
    renameSync(join(this.dbPath, JOURNAL_FILE), join(this.dbPath, segmentFile(gen)));
    this.journalFd = openSync(join(this.dbPath, JOURNAL_FILE), 'a');
    this.journalSize = 0;
    this.segments.push(gen);
  }

  /**
   * Puts a fold's results in place. Crash-safe: the snapshot first (a crash then replays the folded segments
   * again, which the idempotent ops allow), then the remainder replaces the newest folded segment, then the
   * older folded segments go. Only names change here: freeing a replaced file's blocks (hundreds of MiB once
   * the data grows) took over 200 ms inside a client's write, so every file replaced or removed is first given
   * a discard name and deleted on the thread pool.
   */
  private installFold(gens: readonly number[], result: FoldResult): void {
    if (!result.folded) return;
    const discarded: string[] = [];
    const replace = (from: string, to: string) => {
      // A second link keeps the old file's blocks allocated through the rename, which then only drops a name.
      if (existsSync(join(this.dbPath, to))) {
        const keep = this.discardName();
        linkSync(join(this.dbPath, to), join(this.dbPath, keep));
        discarded.push(keep);
      }
      renameSync(join(this.dbPath, from), join(this.dbPath, to));
    };
    const remove = (name: string) => {
      const keep = this.discardName();
      renameSync(join(this.dbPath, name), join(this.dbPath, keep));
      discarded.push(keep);
    };
    replace(SNAPSHOT_TMP, SNAPSHOT_FILE);
    const newest = gens[gens.length - 1] as number;
    if (result.remainderBytes > 0) replace(REMAINDER_TMP, segmentFile(newest));
    else remove(segmentFile(newest));
    for (const g of gens.slice(0, -1)) remove(segmentFile(g));
    const kept = result.remainderBytes > 0 ? [newest] : [];
    this.segments = [...kept, ...this.segments.filter((g) => !gens.includes(g))];
    // A file not deleted now (the process ends first) is deleted at the next open.
    for (const name of discarded) deleteGradually(join(this.dbPath, name)).catch(() => {});
  }

  private discardName(): string {
    return `sim-discarded.${this.nextDiscard++}`;
  }

  /** The next compaction waits for the active journal to grow by a snapshot's worth (see COMPACT_THRESHOLD). */
  private scheduleNext(): void {
    this.compactAt = this.journalSize + Math.max(COMPACT_THRESHOLD, this.snapshotSize());
  }

  /** Seals the journal and folds the sealed segments into the snapshot in a worker thread. */
  private startCompaction(): void {
    this.sealJournal();
    const gens = [...this.segments];
    if (gens.length === 0) {
      this.scheduleNext();
      return;
    }
    const worker = startWorker({ dbPath: this.dbPath, gens, stable: this.stablePoint() });
    // The worker must not keep a process that is otherwise done alive.
    worker.unref();
    const run: RunningFold = {
      worker,
      gens,
      cancelled: false,
      done: new Promise<void>((resolve) => {
        let finished = false;
        const finish = (result: FoldResult | undefined) => {
          // 'message' is followed by 'exit': only the first counts.
          if (finished) return;
          finished = true;
          if (this.running === run) this.running = undefined;
          if (!run.cancelled && result) {
            this.installFold(gens, result);
            this.backgroundCompactions++;
          }
          this.scheduleNext();
          resolve();
        };
        worker.once('message', (m: FoldResult) => finish(m));
        // A failed fold changes nothing: its inputs stay, and the next compaction takes them again.
        worker.once('error', () => finish(undefined));
        worker.once('exit', () => finish(undefined));
      }),
    };
    this.running = run;
  }

  /** Resolves when no compaction is running (tests and benchmarks wait on it). */
  async compactionIdle(): Promise<void> {
    while (this.running) await this.running.done;
  }

  /** Whether a compaction is running in the background now. */
  get compacting(): boolean {
    return this.running !== undefined;
  }

  /** Stops a running fold and discards what it wrote (rollback and close take the files over). */
  private cancelCompaction(): void {
    const run = this.running;
    if (!run) return;
    run.cancelled = true;
    this.running = undefined;
    void run.worker.terminate();
    for (const tmp of [SNAPSHOT_TMP, REMAINDER_TMP]) {
      try {
        unlinkSync(join(this.dbPath, tmp));
      } catch {
        // not written yet
      }
    }
  }

  /**
   * Folds the stable prefix of every journal record into the snapshot now, in this thread (at close, and
   * when a caller needs it done before going on).
   */
  compact(): void {
    this.cancelCompaction();
    this.sealJournal();
    const gens = [...this.segments];
    if (gens.length > 0) {
      const stable = this.stablePoint();
      const allStable =
        stable === null ||
        gens.every((g) =>
          readRecords(join(this.dbPath, segmentFile(g))).every((r) => stableRecord(r, stable)),
        );
      if (allStable) {
        // Everything is stable: the in-memory state is the new snapshot.
        writeSnapshotFile(join(this.dbPath, SNAPSHOT_TMP), this.catalog);
        this.installFold(gens, { folded: true, remainderBytes: 0 });
      } else {
        this.installFold(gens, foldSegments(this.dbPath, gens, stable));
      }
    }
    this.scheduleNext();
  }

  /** Bytes of the snapshot file (0 before the first compaction). */
  private snapshotSize(): number {
    try {
      return statSync(join(this.dbPath, SNAPSHOT_FILE)).size;
    } catch {
      return 0;
    }
  }

  private segmentsSize(): number {
    let n = 0;
    for (const g of this.segments) {
      try {
        n += statSync(join(this.dbPath, segmentFile(g))).size;
      } catch {
        // removed meanwhile
      }
    }
    return n;
  }

  /**
   * Rolls the data back to `ts`: drops every journal record stamped after it and rebuilds the state.
   * Fails if the point is older than the stable snapshot (mongod would need a resync then).
   */
  recoverToTimestamp(ts: Timestamp): void {
    if (this.stable !== 'all' && ts.compare(this.stable) < 0) {
      throw new StorageError('cannot recover to a timestamp before the stable snapshot');
    }
    this.cancelCompaction();
    const kept = this.readJournal().filter((r) => !r.ts || r.ts.compare(ts) <= 0);
    const catalog: Catalog = new Map();
    loadSnapshot(join(this.dbPath, SNAPSHOT_FILE), catalog);
    for (const rec of kept) for (const op of rec.ops) applyOp(catalog, op);
    this.rewriteJournal(kept);
    this.catalog = catalog;
  }

  /** Approximate on-disk size (dbStats/listDatabases sizeOnDisk). */
  diskSize(): number {
    return this.journalSize + this.segmentsSize() + this.snapshotSize();
  }

  close(): void {
    try {
      this.compact();
    } finally {
      closeSync(this.journalFd);
    }
  }
}
