// Change events built from oplog entries, as a change stream returns them, and their resume tokens.
// The simulator's oplog stores full post-images ('u' entries hold the whole new document), so an update's
// updateDescription is the difference between the document's previous image (found further back in the
// oplog) and the new one. Source: MongoDB manual "Change Events", "Resume a Change Stream".
import type { Document, Timestamp } from 'bson';
import { idKey, valuesEqual } from '../bsonvalues.js';
import { isPlainDocument } from '../query/paths.js';
import type { OplogEntry } from '../repl/oplog.js';

/** A position in the event sequence: after the event at (secs, inc), or after everything at that time. */
export interface StreamPosition {
  readonly secs: number;
  readonly inc: number;
  /**
   * 'event': after the event at this timestamp; 'highWater': every event at this timestamp was seen (the
   * token of an empty batch); 'invalidate': the invalidate event (only startAfter may resume from it).
   */
  readonly kind: 'event' | 'highWater' | 'invalidate';
  /**
   * Orders events with the same timestamp (shards have their own oplogs, so two shards' events can share
   * one): the entry's wall-clock milliseconds, then a hash of its namespace and document key.
   */
  readonly tie: string;
}

/** The tie of a position that covers every event at its timestamp. */
export const AFTER_ALL = 'F'.repeat(20);

const KIND_CODES = { event: '00', highWater: '01', invalidate: '02' } as const;

const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');

/**
 * Resume tokens are opaque to clients ({_data: "<hex>"}, compared and sent back only). Ours encode the
 * event's timestamp and whether it is a high-water mark, with the 0x82 timestamp prefix mongod's use.
 */
export function encodeToken(pos: StreamPosition): Document {
  return { _data: `82${hex(pos.secs, 8)}${hex(pos.inc, 8)}${KIND_CODES[pos.kind]}${pos.tie}04` };
}

export function decodeToken(token: unknown): StreamPosition | undefined {
  const data = isPlainDocument(token) ? token._data : undefined;
  if (typeof data !== 'string') return undefined;
  const m = /^82([0-9A-F]{8})([0-9A-F]{8})(0[012])([0-9A-F]{20})04$/i.exec(data);
  if (!m) return undefined;
  return {
    secs: Number.parseInt(m[1] as string, 16),
    inc: Number.parseInt(m[2] as string, 16),
    kind: m[3] === '01' ? 'highWater' : m[3] === '02' ? 'invalidate' : 'event',
    tie: (m[4] as string).toUpperCase(),
  };
}

/** The tie of an oplog entry's events (see StreamPosition.tie). */
export function entryTie(e: OplogEntry): string {
  const o = (e.doc.o ?? {}) as Document;
  const text = `${String(e.doc.ns)}\u0000${idKey(o._id)}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return `${hex(e.wallMs, 12)}${hex(h, 8)}`;
}

/** Whether an oplog entry's events come after the position. */
export function isAfter(e: OplogEntry, pos: StreamPosition): boolean {
  const { secs, inc } = e.opTime;
  if (secs !== pos.secs) return secs > pos.secs;
  if (inc !== pos.inc) return inc > pos.inc;
  return pos.kind === 'event' && entryTie(e) > pos.tie;
}

/** What the stream watches. */
export type StreamScope =
  | { kind: 'collection'; db: string; coll: string }
  | { kind: 'database'; db: string }
  | { kind: 'cluster' };

const INTERNAL_DBS = new Set(['admin', 'config', 'local']);

function splitNs(ns: string): { db: string; coll: string } {
  const i = ns.indexOf('.');
  return i < 0 ? { db: ns, coll: '' } : { db: ns.slice(0, i), coll: ns.slice(i + 1) };
}

function watches(scope: StreamScope, db: string, coll: string | undefined): boolean {
  if (INTERNAL_DBS.has(db)) return false;
  if (coll?.startsWith('system.')) return false;
  if (scope.kind === 'cluster') return true;
  if (scope.kind === 'database') return scope.db === db;
  return scope.db === db && (coll === undefined || scope.coll === coll);
}

/** Field paths that differ between two images (dotted into embedded documents), as updateDescription. */
export function diffImages(before: Document, after: Document): Document {
  const updatedFields: Document = {};
  const removedFields: string[] = [];
  const walk = (a: Document, b: Document, prefix: string): void => {
    for (const [k, v] of Object.entries(b)) {
      const path = `${prefix}${k}`;
      if (!(k in a)) updatedFields[path] = v;
      else if (isPlainDocument(a[k]) && isPlainDocument(v)) walk(a[k] as Document, v, `${path}.`);
      else if (!valuesEqual(a[k], v)) updatedFields[path] = v;
    }
    for (const k of Object.keys(a)) if (!(k in b)) removedFields.push(`${prefix}${k}`);
  };
  walk(before, after, '');
  return { updatedFields, removedFields, truncatedArrays: [] };
}

export interface EventContext {
  readonly scope: StreamScope;
  /** The previous full image of a document, from oplog entries before `entry`. */
  readonly previousImage: (entry: OplogEntry, ns: string, id: unknown) => Document | undefined;
  /** Whether the 'u' entry was written by a replacement (not an update with operators). */
  readonly wasReplacement: (ns: string, doc: Document) => boolean;
  /** The document as it is now (fullDocument: "updateLookup"), null when gone. */
  readonly lookup: (db: string, coll: string, id: unknown) => Document | null;
  readonly fullDocument: 'default' | 'updateLookup' | 'whenAvailable' | 'required';
  /** wallTime is part of every event from 6.0. */
  readonly withWallTime: boolean;
}

/** The events (usually one; a drop seen by a collection stream adds an invalidate) of one oplog entry. */
export function eventsFor(entry: OplogEntry, ctx: EventContext): Document[] {
  const d = entry.doc;
  const ns = typeof d.ns === 'string' ? d.ns : '';
  const { db, coll } = splitNs(ns);
  const o = (d.o ?? {}) as Document;
  const ts = d.ts as Timestamp;
  const head = (operationType: string): Document => {
    const kind = operationType === 'invalidate' ? 'invalidate' : 'event';
    const ev: Document = {
      _id: encodeToken({ secs: entry.opTime.secs, inc: entry.opTime.inc, kind, tie: entryTie(entry) }),
      operationType,
      clusterTime: ts,
    };
    if (ctx.withWallTime) ev.wallTime = new Date(entry.wallMs);
    return ev;
  };
  switch (d.op) {
    case 'i': {
      if (!watches(ctx.scope, db, coll)) return [];
      return [{ ...head('insert'), fullDocument: o, ns: { db, coll }, documentKey: { _id: o._id } }];
    }
    case 'u': {
      if (!watches(ctx.scope, db, coll)) return [];
      const before = ctx.previousImage(entry, ns, o._id);
      if (!before || ctx.wasReplacement(ns, o)) {
        return [{ ...head('replace'), fullDocument: o, ns: { db, coll }, documentKey: { _id: o._id } }];
      }
      const ev: Document = {
        ...head('update'),
        ns: { db, coll },
        documentKey: { _id: o._id },
        updateDescription: diffImages(before, o),
      };
      if (ctx.fullDocument === 'updateLookup') ev.fullDocument = ctx.lookup(db, coll, o._id);
      else if (ctx.fullDocument === 'whenAvailable') ev.fullDocument = null;
      return [ev];
    }
    case 'd': {
      if (!watches(ctx.scope, db, coll)) return [];
      return [{ ...head('delete'), ns: { db, coll }, documentKey: { _id: o._id } }];
    }
    case 'c': {
      if (typeof o.drop === 'string') {
        if (!watches(ctx.scope, db, o.drop)) return [];
        const drop = { ...head('drop'), ns: { db, coll: o.drop } };
        // A collection stream ends with the collection: invalidate follows the drop.
        return ctx.scope.kind === 'collection' ? [drop, { ...head('invalidate') }] : [drop];
      }
      if (typeof o.renameCollection === 'string' && typeof o.to === 'string') {
        const from = splitNs(o.renameCollection);
        const to = splitNs(o.to);
        const seesFrom = watches(ctx.scope, from.db, from.coll);
        // A collection stream sees the rename of its own collection only; wider streams see either side.
        const seesTo = ctx.scope.kind !== 'collection' && watches(ctx.scope, to.db, to.coll);
        if (!seesFrom && !seesTo) return [];
        const rename = { ...head('rename'), ns: from, to };
        // A stream on the renamed collection ends with it, as after a drop (manual: "Change Events", rename).
        return ctx.scope.kind === 'collection' && seesFrom ? [rename, { ...head('invalidate') }] : [rename];
      }
      if (o.dropDatabase !== undefined) {
        if (ctx.scope.kind === 'cluster' ? INTERNAL_DBS.has(db) : ctx.scope.db !== db) return [];
        if (ctx.scope.kind === 'collection') {
          return [{ ...head('drop'), ns: { db, coll: ctx.scope.coll } }, { ...head('invalidate') }];
        }
        const dropped = { ...head('dropDatabase'), ns: { db } };
        return ctx.scope.kind === 'database' ? [dropped, { ...head('invalidate') }] : [dropped];
      }
      return [];
    }
    default:
      return [];
  }
}

/** Keys of documents written by replacement, remembered so their 'u' entries read as "replace". */
export class ReplacementLog {
  private readonly keys = new Set<string>();

  private key(ns: string, doc: Document): string {
    return `${ns}\u0000${idKey(doc._id)}\u0000${JSON.stringify(doc)}`;
  }

  add(ns: string, doc: Document): void {
    this.keys.add(this.key(ns, doc));
    // Bounded: only recent writes are still waiting to be read by a stream.
    if (this.keys.size > 10_000) {
      const oldest = this.keys.values().next().value;
      if (oldest !== undefined) this.keys.delete(oldest);
    }
  }

  has(ns: string, doc: Document): boolean {
    return this.keys.has(this.key(ns, doc));
  }
}
