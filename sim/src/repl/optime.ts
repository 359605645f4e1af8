// Replication optimes: {ts: Timestamp, t: term} as MongoDB's protocol version 1 uses them (reference §2.3,
// lastWrite.opTime). Kept as plain numbers internally so the pure logic needs no BSON; converted at the edges.
import { Long, Timestamp } from 'bson';

export interface OpTime {
  /** Seconds part of the BSON Timestamp. */
  readonly secs: number;
  /** Increment part of the BSON Timestamp. */
  readonly inc: number;
  /** Election term the entry was written in (-1 before any term, as the server's null optime). */
  readonly term: number;
}

export const NULL_OPTIME: OpTime = Object.freeze({ secs: 0, inc: 0, term: -1 });

/** Compares timestamps first, then terms (the order of OpTime::operator< in PV1). */
export function compareOpTime(a: OpTime, b: OpTime): number {
  if (a.secs !== b.secs) return a.secs < b.secs ? -1 : 1;
  if (a.inc !== b.inc) return a.inc < b.inc ? -1 : 1;
  if (a.term !== b.term) return a.term < b.term ? -1 : 1;
  return 0;
}

export function opTimeEquals(a: OpTime, b: OpTime): boolean {
  return compareOpTime(a, b) === 0;
}

export function maxOpTime(a: OpTime, b: OpTime): OpTime {
  return compareOpTime(a, b) >= 0 ? a : b;
}

export function isNullOpTime(o: OpTime): boolean {
  return o.secs === 0 && o.inc === 0;
}

export function tsToBson(o: OpTime): Timestamp {
  return new Timestamp({ t: o.secs, i: o.inc });
}

/** `{ts: Timestamp, t: NumberLong}` as in hello's lastWrite and replSetGetStatus optimes. */
export function opTimeToBson(o: OpTime): { ts: Timestamp; t: Long } {
  return { ts: tsToBson(o), t: Long.fromNumber(o.term) };
}

/** Reads a BSON timestamp in any shape the wire may deliver (Timestamp, Long, bigint). */
export function timestampParts(v: unknown): { secs: number; inc: number } | null {
  if (v instanceof Timestamp) return { secs: v.t, inc: v.i };
  if (typeof v === 'bigint') return { secs: Number(v >> 32n), inc: Number(v & 0xffffffffn) };
  if (typeof v === 'object' && v !== null && '_bsontype' in v) {
    const tag = (v as { _bsontype: string })._bsontype;
    if (tag === 'Timestamp' || tag === 'Long') {
      const x = v as unknown as { high: number; low: number };
      return { secs: x.high >>> 0, inc: x.low >>> 0 };
    }
  }
  return null;
}

export function opTimeFromBson(v: unknown): OpTime | null {
  if (typeof v !== 'object' || v === null) return null;
  const doc = v as { ts?: unknown; t?: unknown };
  const ts = timestampParts(doc.ts);
  const t = numberOf(doc.t);
  if (ts === null || t === null) return null;
  return { secs: ts.secs, inc: ts.inc, term: t };
}

/** Reads any BSON numeric (number, Int32, Double, Long, bigint) as a JS number; null if not numeric. */
export function numberOf(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'object' && v !== null && '_bsontype' in v) {
    const tag = (v as { _bsontype: string })._bsontype;
    if (tag === 'Long') return (v as Long).toNumber();
    if (tag === 'Int32' || tag === 'Double') return (v as { valueOf(): number }).valueOf();
  }
  return null;
}

/** The next optime to assign on a primary: wall-clock seconds, increment within the second. */
export function nextOpTime(last: OpTime, nowMs: number, term: number): OpTime {
  const secs = Math.floor(nowMs / 1000);
  if (secs > last.secs) return { secs, inc: 1, term };
  return { secs: last.secs, inc: last.inc + 1, term };
}

export function opTimeToString(o: OpTime): string {
  return `{ ts: Timestamp(${o.secs}, ${o.inc}), t: ${o.term} }`;
}
