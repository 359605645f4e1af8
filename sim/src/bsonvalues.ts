// BSON value semantics mongod applies everywhere: numeric equality across Int32/Int64/Double,
// the cross-type sort order, and a canonical key for _id uniqueness.
// Source: MongoDB manual "Comparison/Sort Order" (MinKey < null < numbers < string < object < array <
// BinData < ObjectId < bool < Date < Timestamp < RegExp < MaxKey).
import { Binary, BSONRegExp, type Document, Long, ObjectId, Timestamp } from 'bson';

export type BsonValue = unknown;

interface BsonTyped {
  _bsontype: string;
}

export function bsonType(v: BsonValue): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' || typeof v === 'bigint') return 'number';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof Date) return 'date';
  if (Array.isArray(v)) return 'array';
  if (v instanceof RegExp) return 'regex';
  if (typeof v === 'object' && typeof (v as BsonTyped)._bsontype === 'string') {
    const t = (v as BsonTyped)._bsontype;
    if (t === 'Int32' || t === 'Double' || t === 'Long' || t === 'Decimal128') return 'number';
    if (t === 'BSONRegExp') return 'regex';
    return t.toLowerCase();
  }
  return 'object';
}

/** The numeric value of Int32/Double/Long/number, or undefined for non-numbers. */
export function asNumber(v: BsonValue): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v && typeof v === 'object') {
    const t = (v as BsonTyped)._bsontype;
    if (t === 'Int32' || t === 'Double') return (v as { value: number }).value;
    if (t === 'Long') return (v as Long).toNumber();
    if (t === 'Decimal128') return Number(String(v));
  }
  return undefined;
}

export function isNumeric(v: BsonValue): boolean {
  return asNumber(v) !== undefined;
}

const TYPE_ORDER: Record<string, number> = {
  minkey: 1,
  undefined: 2,
  null: 2,
  number: 3,
  string: 4,
  symbol: 4,
  object: 5,
  array: 6,
  binary: 7,
  objectid: 8,
  bool: 9,
  date: 10,
  timestamp: 11,
  regex: 12,
  maxkey: 100,
};

function typeRank(v: BsonValue): number {
  return TYPE_ORDER[bsonType(v)] ?? 50;
}

function cmp(a: number | string | bigint, b: number | string | bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Total order of BSON values as mongod sorts them. */
export function compareValues(a: BsonValue, b: BsonValue): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  switch (bsonType(a)) {
    case 'number':
      return cmp(asNumber(a) ?? 0, asNumber(b) ?? 0);
    case 'string':
      return cmp(String(a), String(b));
    case 'bool':
      return cmp(Number(a), Number(b));
    case 'date':
      return cmp((a as Date).getTime(), (b as Date).getTime());
    case 'objectid':
      return cmp((a as ObjectId).toHexString(), (b as ObjectId).toHexString());
    case 'timestamp':
      return (a as Timestamp).compare(b as Timestamp);
    case 'binary':
      return Buffer.compare(Buffer.from((a as Binary).buffer), Buffer.from((b as Binary).buffer));
    case 'array': {
      const xa = a as BsonValue[];
      const xb = b as BsonValue[];
      for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
        const c = compareValues(xa[i], xb[i]);
        if (c !== 0) return c;
      }
      return xa.length - xb.length;
    }
    case 'object': {
      const ea = Object.entries(a as Document);
      const eb = Object.entries(b as Document);
      for (let i = 0; i < Math.min(ea.length, eb.length); i++) {
        const [ka, va] = ea[i] as [string, BsonValue];
        const [kb, vb] = eb[i] as [string, BsonValue];
        const c = compareValues(va, vb) || cmp(ka, kb);
        if (c !== 0) return c;
      }
      return ea.length - eb.length;
    }
    case 'regex':
      return cmp(String(a), String(b));
    default:
      return 0;
  }
}

export function valuesEqual(a: BsonValue, b: BsonValue): boolean {
  return typeRank(a) === typeRank(b) && compareValues(a, b) === 0;
}

/** Canonical string for _id uniqueness: numerically equal ids collide, as in mongod. */
export function idKey(v: BsonValue): string {
  const t = bsonType(v);
  switch (t) {
    case 'number':
      return `n:${asNumber(v)}`;
    case 'string':
      return `s:${String(v)}`;
    case 'objectid':
      return `o:${(v as ObjectId).toHexString()}`;
    case 'null':
    case 'undefined':
      return 'z:null';
    case 'bool':
      return `b:${String(v)}`;
    case 'date':
      return `d:${(v as Date).getTime()}`;
    case 'array':
      return `a:[${(v as BsonValue[]).map(idKey).join(',')}]`;
    case 'object':
      return `O:{${Object.entries(v as Document)
        .map(([k, x]) => `${JSON.stringify(k)}:${idKey(x)}`)
        .join(',')}}`;
    case 'binary':
      return `B:${(v as Binary).sub_type}:${Buffer.from((v as Binary).buffer).toString('hex')}`;
    default:
      return `${t}:${String(v)}`;
  }
}

/** Deep copy of a document so stored state never aliases a request or a reply. */
export function cloneValue<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(cloneValue) as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (v instanceof ObjectId || v instanceof Long || v instanceof Timestamp || v instanceof Binary) return v;
  if (v instanceof BSONRegExp) return v;
  if (typeof (v as unknown as BsonTyped)._bsontype === 'string') return v;
  const out: Document = {};
  for (const [k, x] of Object.entries(v as Document)) out[k] = cloneValue(x);
  return out as T;
}

/** Timestamp ordering helper (oplog positions, stable points). */
export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.compare(b);
}
