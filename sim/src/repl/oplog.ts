// Oplog entries (local.oplog.rs): built from the core's StorageOps on a primary, turned back into
// StorageOps on a secondary, and indexed in memory by optime so fetch, rollback and elections can
// look entries up without scanning the collection.
import { type Document, Long, Timestamp, UUID } from 'bson';
import type { Storage, StorageOp } from '../storage/store.js';
import { compareOpTime, NULL_OPTIME, numberOf, type OpTime, timestampParts } from './optime.js';

export const OPLOG_DB = 'local';
export const OPLOG_COLL = 'oplog.rs';

export interface OplogEntry {
  readonly opTime: OpTime;
  readonly wallMs: number;
  readonly doc: Document;
}

/** Data ops in the 'local' database are never replicated (§3.10: local is per-member). */
export function isReplicated(op: StorageOp): boolean {
  return op.db !== 'local';
}

function nsOf(db: string, coll: string): string {
  return `${db}.${coll}`;
}

/** The oplog document of one StorageOp: {ts, t, v, op, ns, ui?, o, o2?, wall} as 4.4+ writes them. */
export function entryFor(
  op: StorageOp,
  opTime: OpTime,
  wallMs: number,
  uuid: UUID | undefined,
  legacyHash: boolean,
): Document {
  let body: Document;
  switch (op.op) {
    case 'insert':
      body = { op: 'i', ns: nsOf(op.db, op.coll), o: op.doc };
      break;
    case 'replace':
      body = { op: 'u', ns: nsOf(op.db, op.coll), o2: { _id: op.doc._id }, o: op.doc };
      break;
    case 'delete':
      body = { op: 'd', ns: nsOf(op.db, op.coll), o: { _id: op.id } };
      break;
    case 'createCollection':
      body = { op: 'c', ns: `${op.db}.$cmd`, o: { create: op.coll, ...(op.options ?? {}) } };
      break;
    case 'dropCollection':
      body = { op: 'c', ns: `${op.db}.$cmd`, o: { drop: op.coll } };
      break;
    case 'dropDatabase':
      body = { op: 'c', ns: `${op.db}.$cmd`, o: { dropDatabase: 1 } };
      break;
    case 'createIndex':
      body = { op: 'c', ns: `${op.db}.$cmd`, o: { createIndexes: op.coll, ...op.spec } };
      break;
    case 'dropIndex':
      body = { op: 'c', ns: `${op.db}.$cmd`, o: { dropIndexes: op.coll, index: op.name } };
      break;
    case 'renameCollection':
      // mongod's entry: {renameCollection: "<from ns>", to: "<to ns>", stayTemp, dropTarget}; a rename across
      // databases carries the copy's new UUID in o2 (mongod logs the copy's own create and inserts instead).
      body = {
        op: 'c',
        ns: `${op.db}.$cmd`,
        o: {
          renameCollection: nsOf(op.db, op.coll),
          to: nsOf(op.toDb, op.toColl),
          stayTemp: false,
          dropTarget: op.dropTarget,
        },
        ...(op.uuid ? { o2: { uuid: op.uuid } } : {}),
      };
      break;
    case 'collMod': {
      const o: Document = { collMod: op.coll, ...(op.options ?? {}) };
      if (op.index) o.index = { ...op.index };
      body = { op: 'c', ns: `${op.db}.$cmd`, o };
      break;
    }
  }
  const ui = op.op === 'createCollection' ? op.uuid : uuid;
  const doc: Document = { op: body.op, ns: body.ns };
  if (ui && op.op !== 'dropDatabase') doc.ui = ui;
  doc.o = body.o;
  if (body.o2) doc.o2 = body.o2;
  doc.ts = new Timestamp({ t: opTime.secs, i: opTime.inc });
  doc.t = Long.fromNumber(opTime.term);
  if (legacyHash) doc.h = Long.fromNumber(0);
  doc.v = Long.fromNumber(2);
  doc.wall = new Date(wallMs);
  return doc;
}

/** A no-op entry ("initiating set", "new primary") that advances the optime without touching data. */
export function noopEntry(msg: string, opTime: OpTime, wallMs: number, legacyHash: boolean): Document {
  const doc: Document = { op: 'n', ns: '', o: { msg } };
  doc.ts = new Timestamp({ t: opTime.secs, i: opTime.inc });
  doc.t = Long.fromNumber(opTime.term);
  if (legacyHash) doc.h = Long.fromNumber(0);
  doc.v = Long.fromNumber(2);
  doc.wall = new Date(wallMs);
  return doc;
}

export function parseEntry(doc: Document): OplogEntry | null {
  const ts = timestampParts(doc.ts);
  const t = numberOf(doc.t);
  if (!ts) return null;
  const wall = doc.wall instanceof Date ? doc.wall.getTime() : ts.secs * 1000;
  return { opTime: { secs: ts.secs, inc: ts.inc, term: t ?? -1 }, wallMs: wall, doc };
}

function splitNs(ns: string): { db: string; coll: string } {
  const i = ns.indexOf('.');
  return i < 0 ? { db: ns, coll: '' } : { db: ns.slice(0, i), coll: ns.slice(i + 1) };
}

/**
 * The StorageOps that apply one fetched entry on a secondary, idempotently (re-applying after a crash
 * is harmless). Collections that do not exist yet are created first, as oplog application does.
 */
export function opsForEntry(entry: Document, storage: Storage): StorageOp[] {
  const kind = entry.op;
  const ns = typeof entry.ns === 'string' ? entry.ns : '';
  const o = (entry.o ?? {}) as Document;
  const { db, coll } = splitNs(ns);
  const ensure = (): StorageOp[] =>
    storage.getCollection(db, coll)
      ? []
      : [{ op: 'createCollection', db, coll, ...(entry.ui instanceof UUID ? { uuid: entry.ui } : {}) }];
  switch (kind) {
    case 'i':
      return [...ensure(), { op: 'insert', db, coll, doc: o }];
    case 'u':
      return [...ensure(), { op: 'replace', db, coll, doc: o }];
    case 'd':
      return storage.getCollection(db, coll) ? [{ op: 'delete', db, coll, id: o._id }] : [];
    case 'c': {
      if (typeof o.create === 'string') {
        if (storage.getCollection(db, o.create)) return [];
        const { create: _c, ...options } = o;
        return [
          {
            op: 'createCollection',
            db,
            coll: o.create,
            options,
            ...(entry.ui instanceof UUID ? { uuid: entry.ui } : {}),
          },
        ];
      }
      if (typeof o.drop === 'string')
        return storage.getCollection(db, o.drop) ? [{ op: 'dropCollection', db, coll: o.drop }] : [];
      if (o.dropDatabase !== undefined) return [{ op: 'dropDatabase', db }];
      if (typeof o.createIndexes === 'string') {
        const { createIndexes: c, ...spec } = o;
        const target = c as string;
        const pre: StorageOp[] = storage.getCollection(db, target)
          ? []
          : [{ op: 'createCollection', db, coll: target }];
        return [...pre, { op: 'createIndex', db, coll: target, spec }];
      }
      if (typeof o.renameCollection === 'string' && typeof o.to === 'string') {
        const from = splitNs(o.renameCollection);
        const to = splitNs(o.to);
        if (!storage.getCollection(from.db, from.coll)) return [];
        const uuid = (entry.o2 as Document | undefined)?.uuid;
        return [
          {
            op: 'renameCollection',
            db: from.db,
            coll: from.coll,
            toDb: to.db,
            toColl: to.coll,
            dropTarget: o.dropTarget === true || o.dropTarget instanceof UUID,
            ...(uuid instanceof UUID ? { uuid } : {}),
          },
        ];
      }
      if (typeof o.collMod === 'string') {
        if (!storage.getCollection(db, o.collMod)) return [];
        const { collMod: target, index, ...options } = o;
        const mod = index as Document | undefined;
        return [
          {
            op: 'collMod',
            db,
            coll: target as string,
            ...(Object.keys(options).length > 0 ? { options } : {}),
            ...(mod && typeof mod.name === 'string'
              ? {
                  index: {
                    name: mod.name,
                    ...(typeof mod.hidden === 'boolean' ? { hidden: mod.hidden } : {}),
                    ...(mod.expireAfterSeconds !== undefined
                      ? { expireAfterSeconds: Number(mod.expireAfterSeconds) }
                      : {}),
                  },
                }
              : {}),
          },
        ];
      }
      if (typeof o.dropIndexes === 'string' && typeof o.index === 'string') {
        return storage.getCollection(db, o.dropIndexes)
          ? [{ op: 'dropIndex', db, coll: o.dropIndexes, name: o.index }]
          : [];
      }
      return [];
    }
    default:
      return [];
  }
}

/** The StorageOp that stores an oplog document in local.oplog.rs. */
export function oplogInsertOp(doc: Document): StorageOp {
  return { op: 'insert', db: OPLOG_DB, coll: OPLOG_COLL, doc };
}

/** In-memory view of local.oplog.rs ordered by optime. */
export class OplogIndex {
  private entries: OplogEntry[] = [];

  static load(storage: Storage): OplogIndex {
    const idx = new OplogIndex();
    idx.reload(storage);
    return idx;
  }

  reload(storage: Storage): void {
    const coll = storage.getCollection(OPLOG_DB, OPLOG_COLL);
    const out: OplogEntry[] = [];
    if (coll) {
      for (const doc of coll.all()) {
        const e = parseEntry(doc);
        if (e) out.push(e);
      }
    }
    out.sort((a, b) => compareOpTime(a.opTime, b.opTime));
    this.entries = out;
  }

  get size(): number {
    return this.entries.length;
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  last(): OplogEntry | undefined {
    return this.entries[this.entries.length - 1];
  }

  lastOpTime(): OpTime {
    return this.last()?.opTime ?? NULL_OPTIME;
  }

  first(): OplogEntry | undefined {
    return this.entries[0];
  }

  append(e: OplogEntry): void {
    const last = this.last();
    if (last && compareOpTime(e.opTime, last.opTime) <= 0) {
      // Out of order (never expected): keep the index sorted anyway.
      this.entries.push(e);
      this.entries.sort((a, b) => compareOpTime(a.opTime, b.opTime));
      return;
    }
    this.entries.push(e);
  }

  /** Index of the first entry whose timestamp is >= (secs, inc). */
  private lowerBound(secs: number, inc: number): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const o = (this.entries[mid] as OplogEntry).opTime;
      if (o.secs < secs || (o.secs === secs && o.inc < inc)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Entries with ts >= (or >) the given timestamp, at most `limit`. */
  from(secs: number, inc: number, inclusive: boolean, limit: number): OplogEntry[] {
    let i = this.lowerBound(secs, inc);
    if (!inclusive) {
      const e = this.entries[i];
      if (e && e.opTime.secs === secs && e.opTime.inc === inc) i++;
    }
    return this.entries.slice(i, i + limit);
  }

  /** The entry at exactly this timestamp, if any. */
  at(secs: number, inc: number): OplogEntry | undefined {
    const e = this.entries[this.lowerBound(secs, inc)];
    return e && e.opTime.secs === secs && e.opTime.inc === inc ? e : undefined;
  }

  /** Entries newest first, for the rollback common-point search. */
  newestFirst(limit: number): OplogEntry[] {
    return this.entries.slice(Math.max(0, this.entries.length - limit)).reverse();
  }

  all(): readonly OplogEntry[] {
    return this.entries;
  }
}
