// Dotted field paths as mongod resolves them: "a.b" looks into embedded documents and, through
// arrays, into every element (or an element by numeric index).
import type { Document } from 'bson';

/** Every value a path can reach; `arrays` tells whether an array was traversed (for equality on arrays). */
export function valuesAtPath(doc: unknown, path: string): unknown[] {
  return collect(doc, path.split('.'), 0);
}

function collect(value: unknown, parts: string[], i: number): unknown[] {
  if (i === parts.length) return [value];
  const key = parts[i] as string;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    if (/^\d+$/.test(key)) {
      const idx = Number(key);
      if (idx < value.length) out.push(...collect(value[idx], parts, i + 1));
    }
    for (const el of value) {
      if (el !== null && typeof el === 'object' && !Array.isArray(el)) out.push(...collect(el, parts, i));
    }
    return out;
  }
  if (value !== null && typeof value === 'object' && !isBsonScalar(value)) {
    const doc = value as Document;
    if (!(key in doc)) return [undefined];
    return collect(doc[key], parts, i + 1);
  }
  return [undefined];
}

/** BSON wrapper objects (ObjectId, Int32, Date, ...) are values, not documents. */
export function isBsonScalar(v: unknown): boolean {
  if (v instanceof Date || v instanceof RegExp) return true;
  return typeof v === 'object' && v !== null && typeof (v as { _bsontype?: unknown })._bsontype === 'string';
}

export function isPlainDocument(v: unknown): v is Document {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !isBsonScalar(v);
}

/** The single value at a path without array fan-out (for projections, sort keys, group keys). */
export function getPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const p of path.split('.')) {
    if (Array.isArray(cur)) {
      if (/^\d+$/.test(p)) {
        cur = cur[Number(p)];
        continue;
      }
      const vals = cur.map((e) => (isPlainDocument(e) ? e[p] : undefined)).filter((x) => x !== undefined);
      cur = vals;
      continue;
    }
    if (!isPlainDocument(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

/** Sets a dotted path, creating embedded documents (and extending arrays) as $set does. */
export function setPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur: Document | unknown[] = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i] as string;
    const next: unknown = Array.isArray(cur) ? cur[Number(p)] : (cur as Document)[p];
    if (next === undefined || next === null) {
      const created: Document = {};
      if (Array.isArray(cur)) cur[Number(p)] = created;
      else (cur as Document)[p] = created;
      cur = created;
    } else if (Array.isArray(next) || isPlainDocument(next)) {
      cur = next as Document | unknown[];
    } else {
      throw new PathConflict(path, p);
    }
  }
  const last = parts[parts.length - 1] as string;
  if (Array.isArray(cur)) {
    const idx = Number(last);
    while (cur.length < idx) cur.push(null);
    cur[idx] = value;
  } else {
    cur[last] = value;
  }
}

export function unsetPath(doc: Document, path: string): void {
  const parts = path.split('.');
  let cur: unknown = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i] as string;
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (isPlainDocument(cur)) cur = cur[p];
    else return;
  }
  const last = parts[parts.length - 1] as string;
  if (Array.isArray(cur)) {
    const idx = Number(last);
    if (idx < cur.length) cur[idx] = null;
  } else if (isPlainDocument(cur)) {
    delete cur[last];
  }
}

/** A path runs through a non-document value ("Cannot create field 'b' in element {a: 1}"). */
export class PathConflict extends Error {
  readonly path: string;
  readonly part: string;
  constructor(path: string, part: string) {
    super(`Cannot create field in element {${part}: ...} for path ${path}`);
    this.name = 'PathConflict';
    this.path = path;
    this.part = part;
  }
}
