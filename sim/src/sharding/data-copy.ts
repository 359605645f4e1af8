// Moving user data between shards over the wire, as movePrimary and chunk migrations do: the
// collection's options and indexes are recreated on the recipient, documents are copied in batches
// with majority write concern, then the donor's copy is dropped or emptied. Only CRUD commands every
// shard primary answers are used.
import type { Document } from 'bson';
import { CommandError } from '../errors.js';
import { type RunOptions, replyError, replyOk, type SetTarget } from './remote.js';

const MAJORITY = { w: 'majority', wtimeout: 60_000 } as const;
const BATCH = 500;

async function must(target: SetTarget, db: string, body: Document, opts?: RunOptions): Promise<Document> {
  const reply = await target.runOnPrimary(db, body, opts);
  if (!replyOk(reply)) throw replyError(reply);
  return reply;
}

/** Every document of a cursor-returning command (find, listCollections, listIndexes), following getMore. */
export async function drainCursor(
  target: SetTarget,
  db: string,
  body: Document,
  opts?: RunOptions,
): Promise<Document[]> {
  const first = await must(target, db, body, opts);
  const cursor = first.cursor as Document;
  const out: Document[] = [...((cursor.firstBatch as Document[]) ?? [])];
  let id = cursor.id;
  const ns = String(cursor.ns ?? '');
  const coll = ns.slice(ns.indexOf('.') + 1);
  for (let i = 0; i < 100_000 && id !== undefined && Number(id) !== 0; i++) {
    const more = await must(target, db, { getMore: id, collection: coll, batchSize: BATCH }, opts);
    const c = more.cursor as Document;
    out.push(...((c.nextBatch as Document[]) ?? []));
    id = c.id;
  }
  return out;
}

/** Like drainCursor, on one member (a secondary may serve it); getMore must go where the cursor lives. */
export async function drainCursorOnHost(
  target: SetTarget,
  host: string,
  db: string,
  body: Document,
  timeoutMs = 10_000,
): Promise<Document[]> {
  const run = async (b: Document): Promise<Document> => {
    const reply = await target.runOnHost(host, db, { ...b, $readPreference: { mode: 'nearest' } }, timeoutMs);
    if (!replyOk(reply)) throw replyError(reply);
    return reply;
  };
  const first = await run(body);
  const cursor = first.cursor as Document;
  const out: Document[] = [...((cursor.firstBatch as Document[]) ?? [])];
  let id = cursor.id;
  const ns = String(cursor.ns ?? '');
  const coll = ns.slice(ns.indexOf('.') + 1);
  for (let i = 0; i < 100_000 && id !== undefined && Number(id) !== 0; i++) {
    const c = (await run({ getMore: id, collection: coll, batchSize: BATCH })).cursor as Document;
    out.push(...((c.nextBatch as Document[]) ?? []));
    id = c.id;
  }
  return out;
}

/** Collection names of a database on a shard (system collections excluded). */
export async function listCollectionInfos(target: SetTarget, db: string): Promise<Document[]> {
  const infos = await drainCursor(target, db, { listCollections: 1, filter: {} });
  return infos.filter((i) => typeof i.name === 'string' && !String(i.name).startsWith('system.'));
}

/** Copies one collection (options, secondary indexes, documents) from donor to recipient. */
export async function copyCollection(
  donor: SetTarget,
  recipient: SetTarget,
  db: string,
  info: Document,
): Promise<number> {
  const coll = String(info.name);
  const options = (info.options as Document | undefined) ?? {};
  const create = await recipient.runOnPrimary(db, { create: coll, ...options, writeConcern: MAJORITY });
  if (!replyOk(create) && Number(create.code) !== 48) throw replyError(create);
  const indexes = (await drainCursor(donor, db, { listIndexes: coll })).filter((i) => i.name !== '_id_');
  if (indexes.length > 0) {
    const specs = indexes.map((i) => {
      const { v: _v, ns: _ns, ...rest } = i;
      return rest;
    });
    await must(recipient, db, { createIndexes: coll, indexes: specs, writeConcern: MAJORITY });
  }
  const docs = await drainCursor(donor, db, { find: coll, filter: {}, batchSize: BATCH });
  for (let i = 0; i < docs.length; i += BATCH) {
    const reply = await must(recipient, db, {
      insert: coll,
      documents: docs.slice(i, i + BATCH),
      ordered: false,
      writeConcern: MAJORITY,
    });
    const errors = (reply.writeErrors as Document[] | undefined) ?? [];
    // A retried copy may find documents already there; anything else is a real failure.
    const bad = errors.find((e) => Number(e.code) !== 11000);
    if (bad) throw new CommandError(Number(bad.code), String(bad.errmsg));
  }
  return docs.length;
}

export async function dropCollection(target: SetTarget, db: string, coll: string): Promise<void> {
  const reply = await target.runOnPrimary(db, { drop: coll, writeConcern: MAJORITY });
  if (!replyOk(reply) && Number(reply.code) !== 26) throw replyError(reply);
}

export async function emptyCollection(target: SetTarget, db: string, coll: string): Promise<void> {
  await must(target, db, { delete: coll, deletes: [{ q: {}, limit: 0 }], writeConcern: MAJORITY });
}
