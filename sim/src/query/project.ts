// Projections (inclusion or exclusion, _id on by default) and sort specifications.
import type { Document } from 'bson';
import { asNumber, cloneValue, compareValues } from '../bsonvalues.js';
import { CommandError, ErrorCode } from '../errors.js';
import { getPath, isPlainDocument, setPath, unsetPath } from './paths.js';

function flag(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  const n = asNumber(v);
  return n === undefined ? undefined : n !== 0;
}

export function compileProjection(spec: Document | undefined): ((doc: Document) => Document) | undefined {
  if (!spec || Object.keys(spec).length === 0) return undefined;
  const include: string[] = [];
  const exclude: string[] = [];
  let idFlag: boolean | undefined;
  for (const [k, v] of Object.entries(spec)) {
    const f = flag(v);
    if (f === undefined) {
      throw new CommandError(ErrorCode.BadValue, `Unsupported projection option: ${k}`);
    }
    if (k === '_id') idFlag = f;
    else if (f) include.push(k);
    else exclude.push(k);
  }
  if (include.length > 0 && exclude.length > 0) {
    throw new CommandError(
      31254,
      `Cannot do exclusion on field ${exclude[0]} in inclusion projection`,
      {},
      'Location31254',
    );
  }
  if (include.length > 0 || (idFlag === true && exclude.length === 0)) {
    return (doc) => {
      const out: Document = {};
      if (idFlag !== false && '_id' in doc) out._id = doc._id;
      for (const p of include) {
        const v = getPath(doc, p);
        if (v !== undefined) setPath(out, p, cloneValue(v));
      }
      return out;
    };
  }
  return (doc) => {
    const out = cloneValue(doc);
    for (const p of exclude) unsetPath(out, p);
    if (idFlag === false) delete out._id;
    return out;
  };
}

export function compileSort(spec: Document | undefined): ((a: Document, b: Document) => number) | undefined {
  if (!spec || !isPlainDocument(spec) || Object.keys(spec).length === 0) return undefined;
  const keys = Object.entries(spec).map(([k, v]) => {
    const n = asNumber(v);
    if (n !== 1 && n !== -1) {
      throw new CommandError(
        ErrorCode.BadValue,
        `$sort key ordering must be 1 (for ascending) or -1 (for descending)`,
      );
    }
    return { path: k, dir: n };
  });
  return (a, b) => {
    for (const { path, dir } of keys) {
      const va = sortKey(getPath(a, path), dir);
      const vb = sortKey(getPath(b, path), dir);
      const c = compareValues(va ?? null, vb ?? null);
      if (c !== 0) return c * dir;
    }
    return 0;
  };
}

/** Arrays sort by their smallest element ascending and their largest descending. */
function sortKey(v: unknown, dir: number): unknown {
  if (!Array.isArray(v) || v.length === 0) return v;
  return v.reduce((m, x) => (compareValues(x, m) * dir < 0 ? x : m));
}
