// Shard keys and chunk ranges: the key of a document under a shard key pattern (a missing field
// counts as null, as mongod does from 4.4), hashed fields as 64-bit hashes, the chunk whose
// [min, max) range holds a key, and the exact key a query pins when it has equality on every key field.
// Hashed values: mongod takes the first 8 bytes of an MD5 over the value; this uses MD5 over the
// value's BSON encoding, so the numbers differ from mongod's while the behaviour (a spread of 64-bit
// keys, equal values hash equally) is the same. Source: MongoDB manual "Shard Keys", "Hashed Sharding".
import { createHash } from 'node:crypto';
import { BSON, type Document, Long } from 'bson';
import { compareValues } from '../bsonvalues.js';
import { equalityFields } from '../query/match.js';
import { getPath } from '../query/paths.js';

export function keyFields(pattern: Document): string[] {
  return Object.keys(pattern);
}

export function isHashedField(pattern: Document, field: string): boolean {
  return pattern[field] === 'hashed';
}

/** The 64-bit hash a hashed shard key stores for `value`. */
export function hashKeyValue(value: unknown): Long {
  const digest = createHash('md5')
    .update(BSON.serialize({ v: value ?? null }))
    .digest();
  return Long.fromBytesLE([...digest.subarray(0, 8)]);
}

/** The shard key of a document (null for a missing field; hashed fields hashed). */
export function shardKeyOf(doc: Document, pattern: Document): Document {
  const out: Document = {};
  for (const f of keyFields(pattern)) {
    const v = getPath(doc, f);
    const value = v === undefined ? null : v;
    out[f] = isHashedField(pattern, f) ? hashKeyValue(value) : value;
  }
  return out;
}

/** Orders two keys of the same pattern field by field. */
export function compareKeys(a: Document, b: Document, fields: string[]): number {
  for (const f of fields) {
    const c = compareValues(a[f], b[f]);
    if (c !== 0) return c;
  }
  return 0;
}

export function chunkHolds(chunk: Document, key: Document, fields: string[]): boolean {
  return (
    compareKeys(chunk.min as Document, key, fields) <= 0 &&
    compareKeys(key, chunk.max as Document, fields) < 0
  );
}

/** The chunk whose range holds `key`. */
export function chunkFor(chunks: Document[], key: Document, fields: string[]): Document | undefined {
  return chunks.find((c) => chunkHolds(c, key, fields));
}

/** The full shard key a filter pins by equality on every key field, else undefined (scatter-gather). */
export function exactKeyOf(filter: Document | undefined, pattern: Document): Document | undefined {
  const eq = new Map(equalityFields(filter));
  const out: Document = {};
  for (const f of keyFields(pattern)) {
    if (!eq.has(f)) return undefined;
    const v = eq.get(f);
    out[f] = isHashedField(pattern, f) ? hashKeyValue(v) : v;
  }
  return out;
}

/** Chunks sorted by their lower bound. */
export function sortChunks(chunks: Document[], fields: string[]): Document[] {
  return [...chunks].sort((a, b) => compareKeys(a.min as Document, b.min as Document, fields));
}
