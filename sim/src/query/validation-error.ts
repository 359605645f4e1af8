// Why a document fails a query-operator validator, in the shape mongod 5.0+ puts in `errInfo.details` of a
// 121 DocumentValidationFailure (and in the "Document would fail validation" warning): for a leaf operator
// `operatorName`, `specifiedAs` (the clause as written), `reason` and the `consideredValue(s)` /
// `consideredType(s)` found at its path; for $and / $or `clausesNotSatisfied: [{index, details}]` of the
// failing clauses, for $nor `clausesSatisfied` of the matching ones, for $not the `details` of its child.
// Under $nor / $not a clause is explained in the inverted sense ("comparison succeeded", "path does exist").
// A top-level filter of one clause is that clause; of several, an implicit $and.
// Source: mongo src/mongo/db/matcher/doc_validation_error.cpp (reasons, field names); the manual's "Schema
// Validation" page (errInfo). Not modelled: $jsonSchema (the simulator refuses such validators), $expr,
// geo operators.
import type { Document } from 'bson';
import { compileFilter } from './match.js';
import { isPlainDocument, valuesAtPath } from './paths.js';

interface Reasons {
  readonly normal: string;
  readonly inverted: string;
}

const COMPARISON: Reasons = { normal: 'comparison failed', inverted: 'comparison succeeded' };
const LEAF_REASONS: Record<string, Reasons> = {
  $eq: COMPARISON,
  $ne: COMPARISON,
  $gt: COMPARISON,
  $gte: COMPARISON,
  $lt: COMPARISON,
  $lte: COMPARISON,
  $in: { normal: 'no matching value found in array', inverted: 'matching value found in array' },
  $nin: { normal: 'matching value found in array', inverted: 'no matching value found in array' },
  $exists: { normal: 'path does not exist', inverted: 'path does exist' },
  $type: { normal: 'type did not match', inverted: 'type did match' },
  $regex: { normal: 'regular expression did not match', inverted: 'regular expression did match' },
  $size: {
    normal: 'array length was not equal to given size',
    inverted: 'array length was equal to given size',
  },
  $mod: {
    normal: '$mod did not evaluate to expected remainder',
    inverted: '$mod did evaluate to expected remainder',
  },
  $all: {
    normal: 'array did not contain all specified values',
    inverted: 'array did contain all specified values',
  },
  $elemMatch: {
    normal: 'array did not satisfy the child predicate',
    inverted: 'array did satisfy the child predicate',
  },
};

/** Operators that look at the array itself, not at its elements. */
const NO_TRAVERSAL = new Set(['$size', '$elemMatch', '$all']);

/** mongod's type names (typeName() in bsontypes.cpp). */
export function bsonTypeName(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'missing';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'double';
  if (typeof v === 'bigint') return 'long';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof Date) return 'date';
  if (v instanceof RegExp) return 'regex';
  if (Array.isArray(v)) return 'array';
  const t = (v as { _bsontype?: unknown })._bsontype;
  switch (t) {
    case 'Int32':
      return 'int';
    case 'Double':
      return 'double';
    case 'Long':
      return 'long';
    case 'Decimal128':
      return 'decimal';
    case 'ObjectId':
      return 'objectId';
    case 'Binary':
      return 'binData';
    case 'BSONRegExp':
      return 'regex';
    case 'Timestamp':
      return 'timestamp';
    case 'MinKey':
      return 'minKey';
    case 'MaxKey':
      return 'maxKey';
    case 'Code':
      return 'javascript';
    default:
      return 'object';
  }
}

function matches(filter: Document, doc: Document): boolean {
  return compileFilter(filter)(doc);
}

/** The values a leaf considers at `path`: its elements when it traverses an array; undefined when missing. */
function considered(doc: Document, path: string, traverse: boolean): unknown[] | undefined {
  const found = valuesAtPath(doc, path).filter((v) => v !== undefined);
  if (found.length === 0) return undefined;
  if (!traverse) return found;
  return found.flatMap((v) => (Array.isArray(v) ? v : [v]));
}

function leafDetails(
  path: string,
  op: string,
  arg: unknown,
  implicit: boolean,
  doc: Document,
  inverted: boolean,
): Document {
  const out: Document = { operatorName: op };
  out.specifiedAs = implicit ? { [path]: arg } : { [path]: { [op]: arg } };
  const values = considered(doc, path, !NO_TRAVERSAL.has(op));
  const reasons = LEAF_REASONS[op] ?? COMPARISON;
  if (!values && op !== '$exists') out.reason = 'field was missing';
  else out.reason = inverted ? reasons.inverted : reasons.normal;
  if (values && values.length > 0) {
    if (values.length === 1) out.consideredValue = values[0];
    else out.consideredValues = values;
    if (op === '$type') {
      const types = [...new Set(values.map(bsonTypeName))].sort();
      if (types.length === 1) out.consideredType = types[0];
      else out.consideredTypes = types;
    }
  }
  return out;
}

type Clause = { filter: Document; explain: (doc: Document, inverted: boolean) => Document };

/** A field's clauses: `{a: 5}` is one $eq; `{a: {$gt: 1, $lt: 9}}` one clause per operator. */
function fieldClauses(path: string, spec: unknown): Clause[] {
  const ops = isPlainDocument(spec) ? Object.keys(spec) : [];
  if (ops.length > 0 && ops.every((k) => k.startsWith('$'))) {
    const doc = spec as Document;
    // $regex travels with its $options.
    return ops
      .filter((op) => op !== '$options')
      .map((op) => {
        if (op === '$not') {
          const inner = { [path]: doc.$not };
          return {
            filter: { [path]: { $not: doc.$not } },
            explain: (d: Document, inverted: boolean) => ({
              operatorName: '$not',
              details: explainFilter(inner, d, !inverted),
            }),
          };
        }
        const arg = op === '$regex' && doc.$options !== undefined ? doc.$regex : (doc[op] as unknown);
        const filter: Document =
          op === '$regex' && doc.$options !== undefined
            ? { [path]: { $regex: doc.$regex, $options: doc.$options } }
            : { [path]: { [op]: arg } };
        return {
          filter,
          explain: (d: Document, inverted: boolean) => leafDetails(path, op, arg, false, d, inverted),
        };
      });
  }
  return [
    {
      filter: { [path]: spec },
      explain: (d: Document, inverted: boolean) => leafDetails(path, '$eq', spec, true, d, inverted),
    },
  ];
}

function logical(op: string, list: unknown): Clause {
  const clauses = Array.isArray(list) ? (list as Document[]) : [];
  return {
    filter: { [op]: clauses },
    explain: (doc: Document, inverted: boolean) => {
      // Which clauses explain the outcome: the failing ones of a failing $and / $or, the matching ones of
      // a failing $nor (or of an $and / $or that matched where it should not have).
      const childInverted = op === '$nor' ? !inverted : inverted;
      const wantMatch = childInverted;
      const items: Document[] = [];
      clauses.forEach((c, index) => {
        if (matches(c, doc) === wantMatch)
          items.push({ index, details: explainFilter(c, doc, childInverted) });
      });
      const key = (op === '$nor') !== inverted ? 'clausesSatisfied' : 'clausesNotSatisfied';
      return { operatorName: op, [key]: items };
    },
  };
}

function topClauses(filter: Document): Clause[] {
  const out: Clause[] = [];
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' || k === '$or' || k === '$nor') out.push(logical(k, v));
    else if (!k.startsWith('$')) out.push(...fieldClauses(k, v));
    else
      out.push({
        filter: { [k]: v },
        explain: () => ({ operatorName: k, specifiedAs: { [k]: v }, reason: 'expression did not match' }),
      });
  }
  return out;
}

/** errInfo.details for `doc` against `filter` (in the inverted sense under $nor / $not). */
export function explainFilter(filter: Document, doc: Document, inverted = false): Document {
  const clauses = topClauses(filter);
  if (clauses.length === 1) return (clauses[0] as Clause).explain(doc, inverted);
  const items: Document[] = [];
  clauses.forEach((c, index) => {
    if (matches(c.filter, doc) === inverted) items.push({ index, details: c.explain(doc, inverted) });
  });
  return { operatorName: '$and', [inverted ? 'clausesSatisfied' : 'clausesNotSatisfied']: items };
}
