// Update documents: full replacements and the common operators ($set, $unset, $inc, $mul, $min,
// $max, $rename, $setOnInsert, $push/$each, $addToSet, $pull, $pop, $currentDate), with mongod's
// errors for mixed documents and _id changes.
import { type Document, Double, Int32, Long, Timestamp } from 'bson';
import { asNumber, bsonType, cloneValue, compareValues, valuesEqual } from '../bsonvalues.js';
import { CommandError, ErrorCode } from '../errors.js';
import { type ArrayUpdateContext, expandArrayPath, hasArraySegment } from './array-updates.js';
import { compileFilter } from './match.js';
import { getPath, isPlainDocument, PathConflict, setPath, unsetPath } from './paths.js';

export function isOperatorUpdate(update: Document): boolean {
  const keys = Object.keys(update);
  return keys.length > 0 && (keys[0] as string).startsWith('$');
}

/** Validates the shape of an update document (replacement or operators, never both). */
export function checkUpdateShape(update: unknown): Document {
  if (Array.isArray(update)) {
    throw new CommandError(
      ErrorCode.FailedToParse,
      'Aggregation pipeline updates are not supported by this server',
    );
  }
  if (!isPlainDocument(update))
    throw new CommandError(ErrorCode.TypeMismatch, "BSON field 'u' is the wrong type");
  const keys = Object.keys(update);
  const ops = keys.filter((k) => k.startsWith('$'));
  if (ops.length > 0 && ops.length !== keys.length) {
    const bad = keys.find((k) => !k.startsWith('$'));
    throw new CommandError(
      ErrorCode.FailedToParse,
      `Unknown modifier: ${bad}. Expected a valid update modifier or pipeline-style update specified as an array`,
    );
  }
  return update;
}

/** The replacement's new document: same _id as the old one (changing it is ImmutableField 66). */
export function applyReplacement(old: Document | undefined, replacement: Document): Document {
  for (const k of Object.keys(replacement)) {
    if (k.startsWith('$'))
      throw new CommandError(
        ErrorCode.DollarPrefixedFieldName,
        `The dollar ($) prefixed field '${k}' in '${k}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`,
      );
  }
  const out: Document = {};
  const id = old ? old._id : replacement._id;
  if (old && '_id' in replacement && !valuesEqual(replacement._id, old._id)) {
    throw new CommandError(
      ErrorCode.ImmutableField,
      `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${String(replacement._id)}`,
    );
  }
  if (id !== undefined) out._id = id;
  for (const [k, v] of Object.entries(replacement)) if (k !== '_id') out[k] = cloneValue(v);
  return out;
}

function numericResult(a: unknown, b: unknown, f: (x: number, y: number) => number): unknown {
  const x = asNumber(a ?? new Int32(0));
  const y = asNumber(b);
  if (x === undefined || y === undefined) return undefined;
  const r = f(x, y);
  // Keep the widest integer type of the operands, like mongod's arithmetic promotion.
  const isDouble = (v: unknown): boolean =>
    typeof v === 'number' ? !Number.isInteger(v) : v instanceof Double;
  if (isDouble(a) || isDouble(b) || !Number.isInteger(r)) return new Double(r);
  if (a instanceof Long || b instanceof Long || Math.abs(r) > 2147483647) return Long.fromNumber(r);
  return new Int32(r);
}

function requirePath(op: string, path: string): void {
  if (path === '_id' || path.startsWith('_id.')) {
    throw new CommandError(
      ErrorCode.ImmutableField,
      `Performing an update on the path '_id' would modify the immutable field '_id'`,
    );
  }
  if (path === '') throw new CommandError(ErrorCode.EmptyFieldName, `An empty update path is not valid.`);
  void op;
}

/**
 * Applies an operator update to a copy of `old`. `inserting` is true when building an upsert's new
 * document ($setOnInsert applies only then). Returns the new document.
 */
export function applyOperators(
  old: Document,
  update: Document,
  inserting: boolean,
  arrays: ArrayUpdateContext = { filters: new Map(), query: undefined },
): Document {
  const doc = cloneValue(old);
  try {
    for (const [op, fields] of Object.entries(update)) {
      if (!isPlainDocument(fields)) {
        throw new CommandError(
          ErrorCode.FailedToParse,
          `Modifiers operate on fields but we found type ${bsonType(fields)} instead. For example: {$mod: {<field>: ...}} not {${op}: ${String(fields)}}`,
        );
      }
      for (const [written, arg] of Object.entries(fields)) {
        if (op === '$rename' && hasArraySegment(written)) {
          throw new CommandError(
            ErrorCode.BadValue,
            `The source field for $rename may not be dynamic: ${written}`,
          );
        }
        // $, $[] and $[id] name zero or more concrete elements of the document being updated.
        const paths = hasArraySegment(written) ? expandArrayPath(doc, written, arrays) : [written];
        for (const path of paths) {
          if (op !== '$setOnInsert' || inserting) {
            if (!(inserting && op === '$set' && path === '_id')) requireMutable(op, path, doc, arg);
          }
          applyOne(doc, op, path, arg, inserting);
        }
      }
    }
  } catch (err) {
    if (err instanceof PathConflict) {
      throw new CommandError(
        28,
        `Cannot create field '${err.part}' in element {${err.part}: ...}`,
        {},
        'PathNotViable',
      );
    }
    throw err;
  }
  return doc;
}

function requireMutable(op: string, path: string, doc: Document, arg: unknown): void {
  if (path === '_id' && (op === '$set' || op === '$setOnInsert') && valuesEqual(doc._id, arg)) return;
  requirePath(op, path);
}

function applyOne(doc: Document, op: string, path: string, arg: unknown, inserting: boolean): void {
  const current = getPath(doc, path);
  switch (op) {
    case '$set':
      setPath(doc, path, cloneValue(arg));
      return;
    case '$setOnInsert':
      if (inserting) setPath(doc, path, cloneValue(arg));
      return;
    case '$unset':
      unsetPath(doc, path);
      return;
    case '$inc':
    case '$mul': {
      if (asNumber(arg) === undefined) {
        throw new CommandError(
          ErrorCode.TypeMismatch,
          `Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${path}: ${String(arg)}}`,
        );
      }
      if (current !== undefined && asNumber(current) === undefined) {
        throw new CommandError(
          ErrorCode.TypeMismatch,
          `Cannot apply ${op} to a value of non-numeric type. {_id: ${String(doc._id)}} has the field '${path}' of non-numeric type ${bsonType(current)}`,
        );
      }
      const base = current ?? (op === '$mul' ? new Int32(0) : new Int32(0));
      setPath(doc, path, numericResult(base, arg, op === '$inc' ? (x, y) => x + y : (x, y) => x * y));
      return;
    }
    case '$min':
    case '$max':
      if (
        current === undefined ||
        (op === '$min' ? compareValues(arg, current) < 0 : compareValues(arg, current) > 0)
      ) {
        setPath(doc, path, cloneValue(arg));
      }
      return;
    case '$rename': {
      if (typeof arg !== 'string')
        throw new CommandError(
          ErrorCode.BadValue,
          `The 'to' field for $rename must be a string: ${path}: ${String(arg)}`,
        );
      requirePath(op, arg);
      if (current === undefined) return;
      unsetPath(doc, path);
      setPath(doc, arg, current);
      return;
    }
    case '$currentDate': {
      const wantsTs = isPlainDocument(arg) && arg.$type === 'timestamp';
      setPath(
        doc,
        path,
        wantsTs ? Timestamp.fromNumber(Math.floor(Date.now() / 1000) * 2 ** 32) : new Date(),
      );
      return;
    }
    case '$push':
    case '$addToSet': {
      const list = current === undefined ? [] : current;
      if (!Array.isArray(list)) {
        throw new CommandError(
          ErrorCode.BadValue,
          `The field '${path}' must be an array but is of type ${bsonType(current)} in document {_id: ${String(doc._id)}}`,
          {},
          'BadValue',
        );
      }
      const items = isPlainDocument(arg) && '$each' in arg ? (arg.$each as unknown[]) : [arg];
      const next = [...list];
      for (const item of items) {
        if (op === '$addToSet' && next.some((x) => valuesEqual(x, item))) continue;
        next.push(cloneValue(item));
      }
      setPath(doc, path, next);
      return;
    }
    case '$pull': {
      if (!Array.isArray(current)) return;
      const pred =
        isPlainDocument(arg) && Object.keys(arg).some((k) => !k.startsWith('$'))
          ? compileFilter(arg)
          : undefined;
      const opMatch = isPlainDocument(arg) && !pred ? compileFilter({ v: arg }) : undefined;
      setPath(
        doc,
        path,
        current.filter((x) => {
          if (pred) return !(isPlainDocument(x) && pred(x));
          if (opMatch) return !opMatch({ v: x });
          return !valuesEqual(x, arg);
        }),
      );
      return;
    }
    case '$pop': {
      if (!Array.isArray(current) || current.length === 0) return;
      const n = asNumber(arg) ?? 1;
      setPath(doc, path, n < 0 ? current.slice(1) : current.slice(0, -1));
      return;
    }
    default:
      throw new CommandError(
        ErrorCode.FailedToParse,
        `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
  }
}
