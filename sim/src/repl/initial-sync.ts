// Initial sync of a member that joins with no data: note the sync source's newest oplog entry (where
// oplog application will begin), clone every database over the wire (listDatabases, listCollections,
// listIndexes, find/getMore, each fetched batch written at once), seed the local oplog with that entry,
// then let the oplog fetcher replay what the source wrote meanwhile (full-image entries converge on
// the source's state). Progress is kept in the shape replSetGetStatus reports as `initialSyncStatus`:
// from 4.2.1 during STARTUP2, on every version with `{replSetGetStatus: 1, initialSync: 1}`; the
// byte-based estimates (approxTotalDataSize, approxTotalBytesCopied, bytesToCopy, approxBytesCopied,
// totalInitialSyncElapsedMillis, remainingInitialSyncEstimatedMillis, databasesToClone) are those of
// SERVER-47863, backported to the latest 3.6/4.0/4.2/4.4 patches the simulator emulates.
// Sources: MongoDB manual "replSetGetStatus" (initialSyncStatus), SERVER-47863, DOCS-8598.
import { BSON, type Document, Int32, Long, type Timestamp, UUID } from 'bson';
import type { StorageOp } from '../storage/store.js';
import { numberOf } from './optime.js';
import type { PeerPool } from './peers.js';

const SECONDARY_OK = { $readPreference: { mode: 'secondaryPreferred' } };
const TIMEOUT_MS = 30_000;
/** mongod's collection cloner asks for 16 MB batches; a count cap keeps each write bounded here. */
const CLONE_BATCH = 5000;
export const MAX_FAILED_INITIAL_SYNC_ATTEMPTS = 10;

interface CollectionProgress {
  documentsToCopy: number;
  documentsCopied: number;
  indexes: number;
  fetchedBatches: number;
  bytesToCopy: number;
  approxBytesCopied: number;
  start: number;
  end?: number;
  receivedBatches: number;
}

interface DatabaseProgress {
  collections: number;
  clonedCollections: number;
  start: number;
  end?: number;
  colls: Map<string, CollectionProgress>;
}

/** What one initial sync has done so far (this process; a restart begins a new one). */
export class InitialSyncProgress {
  readonly startMs: number;
  endMs: number | undefined;
  syncSource = '';
  failedAttempts = 0;
  readonly attempts: { durationMillis: number; status: string; syncSource: string }[] = [];
  attemptStartMs: number;
  oplogStart: Timestamp | undefined;
  appliedOps = 0;
  approxTotalDataSize = 0;
  databasesToClone = 0;
  readonly dbs = new Map<string, DatabaseProgress>();

  constructor(now = Date.now()) {
    this.startMs = now;
    this.attemptStartMs = now;
  }

  get approxTotalBytesCopied(): number {
    let n = 0;
    for (const d of this.dbs.values()) for (const c of d.colls.values()) n += c.approxBytesCopied;
    return n;
  }

  get databasesCloned(): number {
    let n = 0;
    for (const d of this.dbs.values()) if (d.end !== undefined) n++;
    return n;
  }

  /** A failed attempt is recorded and the next starts from nothing (the caller drops the data). */
  attemptFailed(error: string, now = Date.now()): void {
    this.failedAttempts++;
    this.attempts.push({
      durationMillis: now - this.attemptStartMs,
      status: error,
      syncSource: this.syncSource,
    });
    this.attemptStartMs = now;
    this.dbs.clear();
    this.databasesToClone = 0;
    this.approxTotalDataSize = 0;
    this.appliedOps = 0;
    this.oplogStart = undefined;
  }

  finished(now = Date.now()): void {
    this.endMs = now;
    this.attempts.push({
      durationMillis: now - this.attemptStartMs,
      status: 'OK',
      syncSource: this.syncSource,
    });
  }

  toBson(now = Date.now()): Document {
    const elapsed = (this.endMs ?? now) - this.startMs;
    const copied = this.approxTotalBytesCopied;
    const doc: Document = {
      failedInitialSyncAttempts: new Int32(this.failedAttempts),
      maxFailedInitialSyncAttempts: new Int32(MAX_FAILED_INITIAL_SYNC_ATTEMPTS),
      initialSyncStart: new Date(this.startMs),
    };
    if (this.endMs !== undefined) doc.initialSyncEnd = new Date(this.endMs);
    doc.totalInitialSyncElapsedMillis = new Int32(elapsed);
    doc.initialSyncAttempts = this.attempts.map((a) => ({
      durationMillis: new Int32(a.durationMillis),
      status: a.status,
      syncSource: a.syncSource,
    }));
    doc.approxTotalDataSize = Long.fromNumber(this.approxTotalDataSize);
    doc.approxTotalBytesCopied = Long.fromNumber(copied);
    if (this.endMs === undefined && copied > 0) {
      // The same linear estimate mongod makes: time so far scaled by the bytes still to copy.
      const cloneElapsed = now - this.attemptStartMs;
      const rest = Math.max(0, this.approxTotalDataSize - copied);
      doc.remainingInitialSyncEstimatedMillis = new Int32(Math.round((cloneElapsed * rest) / copied));
    }
    doc.appliedOps = new Int32(this.appliedOps);
    if (this.oplogStart) doc.initialSyncOplogStart = this.oplogStart;
    doc.totalTimeUnreachableMillis = Long.fromNumber(0);
    const databases: Document = {
      databasesToClone: new Int32(this.databasesToClone),
      databasesCloned: new Int32(this.databasesCloned),
    };
    for (const [name, d] of this.dbs) {
      const dd: Document = {
        collections: new Int32(d.collections),
        clonedCollections: new Int32(d.clonedCollections),
        start: new Date(d.start),
      };
      if (d.end !== undefined) dd.end = new Date(d.end);
      dd.elapsedMillis = new Int32((d.end ?? now) - d.start);
      for (const [ns, c] of d.colls) {
        const cd: Document = {
          documentsToCopy: new Int32(c.documentsToCopy),
          documentsCopied: new Int32(c.documentsCopied),
          indexes: new Int32(c.indexes),
          fetchedBatches: new Int32(c.fetchedBatches),
          bytesToCopy: Long.fromNumber(c.bytesToCopy),
          approxBytesCopied: Long.fromNumber(c.approxBytesCopied),
          start: new Date(c.start),
        };
        if (c.end !== undefined) cd.end = new Date(c.end);
        cd.elapsedMillis = new Int32((c.end ?? now) - c.start);
        cd.receivedBatches = new Int32(c.receivedBatches);
        dd[ns] = cd;
      }
      databases[name] = dd;
    }
    doc.databases = databases;
    return doc;
  }
}

async function run(peers: PeerPool, host: string, db: string, body: Document): Promise<Document> {
  const reply = await peers.run(host, 'fetch', { ...body, ...SECONDARY_OK }, TIMEOUT_MS, db);
  if (numberOf(reply.ok) !== 1) {
    throw new Error(`${Object.keys(body)[0]} on ${host}: ${String(reply.errmsg)}`);
  }
  return reply;
}

/** Runs a cursor command and hands each batch to `onBatch` as it arrives. */
async function eachBatch(
  peers: PeerPool,
  host: string,
  db: string,
  first: Document,
  onBatch: (docs: Document[]) => void,
): Promise<void> {
  const reply = await run(peers, host, db, first);
  const cursor = reply.cursor as Document;
  onBatch((cursor.firstBatch as Document[]) ?? []);
  let id = cursor.id;
  const ns = String(cursor.ns ?? '');
  const coll = ns.slice(ns.indexOf('.') + 1);
  while (numberOf(id) !== 0 && numberOf(id) !== null) {
    const more = await run(peers, host, db, {
      getMore: id instanceof Long ? id : Long.fromNumber(numberOf(id) ?? 0),
      collection: coll,
      batchSize: new Int32(CLONE_BATCH),
    });
    const c = more.cursor as Document;
    onBatch((c.nextBatch as Document[]) ?? []);
    id = c.id;
  }
}

async function cursorAll(peers: PeerPool, host: string, db: string, first: Document): Promise<Document[]> {
  const out: Document[] = [];
  await eachBatch(peers, host, db, first, (docs) => out.push(...docs));
  return out;
}

/** The sync source's newest oplog entry: oplog application starts there once the data is cloned. */
export async function newestOplogEntry(peers: PeerPool, host: string): Promise<Document | undefined> {
  const reply = await run(peers, host, 'local', {
    find: 'oplog.rs',
    filter: {},
    sort: { $natural: -1 },
    limit: new Int32(1),
  });
  return ((reply.cursor as Document).firstBatch as Document[] | undefined)?.[0];
}

/**
 * Copies every non-local database of `host`, writing each fetched batch through `apply` as it
 * arrives and recording the progress.
 */
export async function cloneFrom(
  peers: PeerPool,
  host: string,
  apply: (ops: StorageOp[]) => void,
  progress: InitialSyncProgress,
): Promise<void> {
  const list = await run(peers, host, 'admin', { listDatabases: 1, nameOnly: true });
  const names = ((list.databases as Document[]) ?? [])
    .map((d) => String(d.name))
    .filter((n) => n !== 'local');
  progress.databasesToClone = names.length;
  for (const db of names) {
    const stats = await run(peers, host, db, { dbStats: 1 });
    progress.approxTotalDataSize += numberOf(stats.dataSize) ?? 0;
  }
  for (const db of names) {
    const colls = await cursorAll(peers, host, db, { listCollections: 1, cursor: {} });
    const dbp: DatabaseProgress = {
      collections: colls.length,
      clonedCollections: 0,
      start: Date.now(),
      colls: new Map(),
    };
    progress.dbs.set(db, dbp);
    for (const info of colls) {
      const coll = String(info.name);
      if (info.type === 'view') {
        dbp.clonedCollections++;
        continue;
      }
      const uuid = (info.info as Document | undefined)?.uuid;
      const cs = await run(peers, host, db, { collStats: coll });
      const cp: CollectionProgress = {
        documentsToCopy: numberOf(cs.count) ?? 0,
        documentsCopied: 0,
        indexes: 0,
        fetchedBatches: 0,
        bytesToCopy: numberOf(cs.size) ?? 0,
        approxBytesCopied: 0,
        start: Date.now(),
        receivedBatches: 0,
      };
      dbp.colls.set(`${db}.${coll}`, cp);
      const setup: StorageOp[] = [
        {
          op: 'createCollection',
          db,
          coll,
          options: (info.options as Document) ?? {},
          ...(uuid instanceof UUID ? { uuid } : {}),
        },
      ];
      const indexes = await cursorAll(peers, host, db, { listIndexes: coll, cursor: {} });
      cp.indexes = indexes.length;
      for (const spec of indexes) {
        if (spec.name !== '_id_') setup.push({ op: 'createIndex', db, coll, spec });
      }
      apply(setup);
      await eachBatch(
        peers,
        host,
        db,
        { find: coll, filter: {}, batchSize: new Int32(CLONE_BATCH) },
        (docs) => {
          cp.receivedBatches++;
          if (docs.length === 0) return;
          apply(docs.map((doc) => ({ op: 'insert', db, coll, doc })));
          cp.fetchedBatches++;
          cp.documentsCopied += docs.length;
          for (const d of docs) cp.approxBytesCopied += BSON.calculateObjectSize(d);
        },
      );
      cp.end = Date.now();
      dbp.clonedCollections++;
    }
    dbp.end = Date.now();
  }
}
