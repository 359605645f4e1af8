// Query filters: equality (with array membership and dotted paths), comparison, $in/$nin, $exists,
// $type, $regex, $size, $all, $elemMatch, $not and the logical $and/$or/$nor.
import { BSONRegExp, type Document } from 'bson';
import { asNumber, bsonType, compareValues, valuesEqual } from '../bsonvalues.js';
import { CommandError, ErrorCode } from '../errors.js';
import { isPlainDocument, valuesAtPath } from './paths.js';

export type Predicate = (doc: Document) => boolean;

/** $type aliases → the fine-grained type names typeName() returns. */
const TYPE_ALIASES: Record<string, string[]> = {
  double: ['double'],
  string: ['string'],
  object: ['object'],
  array: ['array'],
  binData: ['binary'],
  objectId: ['objectid'],
  bool: ['bool'],
  date: ['date'],
  null: ['null'],
  regex: ['regex'],
  int: ['int'],
  timestamp: ['timestamp'],
  long: ['long'],
  decimal: ['decimal'],
  number: ['double', 'int', 'long', 'decimal'],
};

/** bsonType() with numbers split into their BSON types (a plain JS number serializes as int32 or double). */
function typeName(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) <= 2147483647 ? 'int' : 'double';
  if (v && typeof v === 'object') {
    const t = (v as { _bsontype?: unknown })._bsontype;
    if (t === 'Int32') return 'int';
    if (t === 'Double') return 'double';
    if (t === 'Long') return 'long';
    if (t === 'Decimal128') return 'decimal';
  }
  return bsonType(v);
}
const TYPE_NUMBERS: Record<number, string> = {
  1: 'double',
  2: 'string',
  3: 'object',
  4: 'array',
  5: 'binData',
  7: 'objectId',
  8: 'bool',
  9: 'date',
  10: 'null',
  11: 'regex',
  16: 'int',
  17: 'timestamp',
  18: 'long',
  19: 'decimal',
};

function toRegExp(v: unknown, options?: unknown): RegExp {
  if (v instanceof RegExp) return v;
  if (v instanceof BSONRegExp)
    return new RegExp(v.pattern, v.options.replace(/[^imsx]/g, '').replace('x', ''));
  if (typeof v === 'string')
    return new RegExp(v, typeof options === 'string' ? options.replace('x', '') : '');
  throw new CommandError(ErrorCode.BadValue, '$regex has to be a string');
}

function isRegex(v: unknown): boolean {
  return v instanceof RegExp || v instanceof BSONRegExp;
}

/** Equality as a query means it: a value matches itself, and an array matches if any element does. */
function matchesEquality(candidates: unknown[], expected: unknown): boolean {
  for (const c of candidates) {
    if (isRegex(expected) && typeof c === 'string' && toRegExp(expected).test(c)) return true;
    if (c === undefined) {
      if (expected === null) return true;
      continue;
    }
    if (valuesEqual(c, expected)) return true;
    if (Array.isArray(c) && c.some((el) => valuesEqual(el, expected))) return true;
  }
  return false;
}

/** Flattens one level of arrays: comparison operators look at array elements too. */
function expand(candidates: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const c of candidates) {
    out.push(c);
    if (Array.isArray(c)) out.push(...c);
  }
  return out;
}

function sameTypeClass(a: unknown, b: unknown): boolean {
  return bsonType(a) === bsonType(b) || (bsonType(a) === 'undefined' && bsonType(b) === 'null');
}

function operatorMatches(op: string, arg: unknown, candidates: unknown[], whole: Document): boolean {
  switch (op) {
    case '$eq':
      return matchesEquality(candidates, arg);
    case '$ne':
      return !matchesEquality(candidates, arg);
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      return expand(candidates).some((c) => {
        if (c === undefined || !sameTypeClass(c, arg))
          return arg === null && c === undefined && (op === '$gte' || op === '$lte');
        const r = compareValues(c, arg);
        return op === '$gt' ? r > 0 : op === '$gte' ? r >= 0 : op === '$lt' ? r < 0 : r <= 0;
      });
    case '$in':
      if (!Array.isArray(arg)) throw new CommandError(ErrorCode.BadValue, '$in needs an array');
      return arg.some((a) => matchesEquality(candidates, a));
    case '$nin':
      if (!Array.isArray(arg)) throw new CommandError(ErrorCode.BadValue, '$nin needs an array');
      return !arg.some((a) => matchesEquality(candidates, a));
    case '$exists': {
      const present = candidates.some((c) => c !== undefined);
      return truthy(arg) ? present : !present;
    }
    case '$type': {
      const wanted = (Array.isArray(arg) ? arg : [arg]).flatMap((t) => {
        const alias = typeof t === 'string' ? t : TYPE_NUMBERS[asNumber(t) ?? -1];
        return alias ? (TYPE_ALIASES[alias] ?? []) : [];
      });
      return expand(candidates).some((c) => c !== undefined && wanted.includes(typeName(c)));
    }
    case '$regex': {
      const re = toRegExp(arg, (whole as Document).$options);
      return expand(candidates).some((c) => typeof c === 'string' && re.test(c));
    }
    case '$options':
      return true;
    case '$size': {
      const n = asNumber(arg);
      return candidates.some((c) => Array.isArray(c) && c.length === n);
    }
    case '$all': {
      if (!Array.isArray(arg)) throw new CommandError(ErrorCode.BadValue, '$all needs an array');
      return arg.length > 0 && arg.every((a) => matchesEquality(candidates, a));
    }
    case '$elemMatch': {
      if (!isPlainDocument(arg)) throw new CommandError(ErrorCode.BadValue, '$elemMatch needs an Object');
      const keys = Object.keys(arg);
      const isOperatorForm =
        keys.length > 0 &&
        keys.every((k) => k.startsWith('$') && k !== '$and' && k !== '$or' && k !== '$nor');
      const inner = isOperatorForm ? undefined : compileFilter(arg);
      return candidates.some(
        (c) =>
          Array.isArray(c) &&
          c.some((el) => (inner ? isPlainDocument(el) && inner(el) : fieldMatches(arg, [el], arg))),
      );
    }
    case '$not':
      if (isRegex(arg)) return !operatorMatches('$regex', arg, candidates, whole);
      if (!isPlainDocument(arg))
        throw new CommandError(ErrorCode.BadValue, '$not needs a regex or a document');
      return !fieldMatches(arg, candidates, arg);
    case '$mod': {
      if (!Array.isArray(arg) || arg.length !== 2)
        throw new CommandError(ErrorCode.BadValue, 'malformed mod, needs to be an array');
      const d = asNumber(arg[0]) ?? 0;
      const r = asNumber(arg[1]) ?? 0;
      return expand(candidates).some((c) => {
        const n = asNumber(c);
        return n !== undefined && Math.trunc(n) % d === r;
      });
    }
    case '$comment':
      return true;
    default:
      throw new CommandError(ErrorCode.BadValue, `unknown operator: ${op}`);
  }
}

function truthy(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  const n = asNumber(v);
  return n === undefined ? v !== null && v !== undefined : n !== 0;
}

/** `spec` is the value given for a field: a plain value (equality) or an operator document. */
function fieldMatches(spec: unknown, candidates: unknown[], whole: Document): boolean {
  if (isPlainDocument(spec)) {
    const keys = Object.keys(spec);
    if (keys.length > 0 && keys[0]?.startsWith('$')) {
      return keys.every((k) => operatorMatches(k, spec[k], candidates, whole));
    }
  }
  return matchesEquality(candidates, spec);
}

export function compileFilter(filter: Document | undefined): Predicate {
  if (!filter || Object.keys(filter).length === 0) return () => true;
  const clauses: Predicate[] = [];
  for (const [key, spec] of Object.entries(filter)) {
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (!Array.isArray(spec) || spec.length === 0) {
        throw new CommandError(ErrorCode.BadValue, `${key} argument must be a non-empty array`);
      }
      const subs = spec.map((s) => compileFilter(s as Document));
      if (key === '$and') clauses.push((d) => subs.every((p) => p(d)));
      else if (key === '$or') clauses.push((d) => subs.some((p) => p(d)));
      else clauses.push((d) => !subs.some((p) => p(d)));
      continue;
    }
    if (key === '$comment') continue;
    if (key === '$expr' || key === '$where' || key === '$text') {
      throw new CommandError(ErrorCode.BadValue, `${key} is not supported by this server`);
    }
    if (key.startsWith('$')) throw new CommandError(ErrorCode.BadValue, `unknown top level operator: ${key}`);
    const s = spec as Document;
    clauses.push((d) => fieldMatches(s, valuesAtPath(d, key), isPlainDocument(s) ? s : {}));
  }
  return (d) => clauses.every((p) => p(d));
}

/** Equality fields of a filter, used to seed an upserted document. */
export function equalityFields(filter: Document | undefined): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(filter ?? {})) {
    if (k === '$and' && Array.isArray(v)) {
      for (const sub of v) out.push(...equalityFields(sub as Document));
      continue;
    }
    if (k.startsWith('$')) continue;
    if (isPlainDocument(v)) {
      const keys = Object.keys(v);
      if (keys[0]?.startsWith('$')) {
        if (keys.length === 1 && keys[0] === '$eq') out.push([k, v.$eq]);
        continue;
      }
    }
    if (isRegex(v)) continue;
    out.push([k, v]);
  }
  return out;
}
