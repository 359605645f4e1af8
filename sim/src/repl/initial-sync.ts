// Initial sync's cloning phase: a member that joins with no data copies every database of its sync
// source over the wire (listDatabases, listCollections, listIndexes, find/getMore) before it replays the
// source's oplog. Replaying full-image oplog entries over the clone converges on the source's state.
import { type Document, Int32, Long, UUID } from 'bson';
import type { StorageOp } from '../storage/store.js';
import { numberOf } from './optime.js';
import type { PeerPool } from './peers.js';

const SECONDARY_OK = { $readPreference: { mode: 'secondaryPreferred' } };
const TIMEOUT_MS = 30_000;

async function cursorAll(peers: PeerPool, host: string, db: string, first: Document): Promise<Document[]> {
  const reply = await peers.run(host, 'fetch', { ...first, ...SECONDARY_OK }, TIMEOUT_MS, db);
  if (numberOf(reply.ok) !== 1)
    throw new Error(`${Object.keys(first)[0]} on ${host}: ${String(reply.errmsg)}`);
  const cursor = reply.cursor as Document;
  const docs = [...((cursor.firstBatch as Document[]) ?? [])];
  let id = cursor.id;
  const ns = String(cursor.ns ?? '');
  const coll = ns.slice(ns.indexOf('.') + 1);
  while (numberOf(id) !== 0 && numberOf(id) !== null) {
    const more = await peers.run(
      host,
      'fetch',
      {
        getMore: id instanceof Long ? id : Long.fromNumber(numberOf(id) ?? 0),
        collection: coll,
        ...SECONDARY_OK,
      },
      TIMEOUT_MS,
      db,
    );
    if (numberOf(more.ok) !== 1) throw new Error(`getMore on ${host}: ${String(more.errmsg)}`);
    const c = more.cursor as Document;
    docs.push(...((c.nextBatch as Document[]) ?? []));
    id = c.id;
  }
  return docs;
}

/** Copies every non-local database of `host`; returns the ops that recreate them locally. */
export async function cloneFrom(peers: PeerPool, host: string): Promise<StorageOp[]> {
  const list = await peers.run(
    host,
    'fetch',
    { listDatabases: 1, nameOnly: true, ...SECONDARY_OK },
    TIMEOUT_MS,
  );
  if (numberOf(list.ok) !== 1) throw new Error(`listDatabases on ${host}: ${String(list.errmsg)}`);
  const ops: StorageOp[] = [];
  for (const d of (list.databases as Document[]) ?? []) {
    const db = String(d.name);
    if (db === 'local') continue;
    const colls = await cursorAll(peers, host, db, { listCollections: 1, cursor: {} });
    for (const info of colls) {
      const coll = String(info.name);
      const uuid = (info.info as Document | undefined)?.uuid;
      ops.push({
        op: 'createCollection',
        db,
        coll,
        options: (info.options as Document) ?? {},
        ...(uuid instanceof UUID ? { uuid } : {}),
      });
      const indexes = await cursorAll(peers, host, db, { listIndexes: coll, cursor: {} });
      for (const spec of indexes) {
        if (spec.name !== '_id_') ops.push({ op: 'createIndex', db, coll, spec });
      }
      const docs = await cursorAll(peers, host, db, { find: coll, filter: {}, batchSize: new Int32(10_000) });
      for (const doc of docs) ops.push({ op: 'insert', db, coll, doc });
    }
  }
  return ops;
}
