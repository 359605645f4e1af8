// Helpers shared by the data commands: namespace checks, write concern, unique-key checks and the
// shell-style value formatting mongod uses in messages.
import { type Document, Int32, ObjectId } from 'bson';
import { asNumber, bsonType, idKey } from '../bsonvalues.js';
import { CommandError, ErrorCode } from '../errors.js';
import { compileFilter } from '../query/match.js';
import { getPath, isPlainDocument } from '../query/paths.js';
import type { CommitResult, WriteConcern } from '../replication.js';
import type { Collection, StorageOp } from '../storage/store.js';
import type { CommandContext } from './registry.js';
import { recordRetryableWrite } from './retryable.js';
import { notSupportedOnView, viewDefinition } from './views.js';

/** The collection name given as the command's value (`{find: "users", ...}`). */
export function collectionName(ctx: CommandContext): string {
  const v = ctx.body[ctx.name];
  if (typeof v !== 'string') {
    throw new CommandError(
      ErrorCode.InvalidNamespace,
      `collection name has invalid type ${bsonType(v) === 'number' ? 'int' : bsonType(v)}`,
    );
  }
  checkNamespace(ctx.db, v);
  return v;
}

export function checkNamespace(db: string, coll: string): void {
  if (db === '' || /[/\\. "$]/.test(db) || db.length > 63) {
    throw new CommandError(ErrorCode.InvalidNamespace, `Invalid database name: '${db}'`);
  }
  if (coll === '' || coll.includes('$') || coll.startsWith('.') || coll.includes('\0')) {
    throw new CommandError(ErrorCode.InvalidNamespace, `Invalid collection name: ${coll}`);
  }
}

export function intArg(ctx: CommandContext, key: string): number | undefined {
  const v = ctx.body[key];
  if (v === undefined || v === null) return undefined;
  const n = asNumber(v);
  if (n === undefined) {
    throw new CommandError(
      ErrorCode.TypeMismatch,
      `BSON field '${ctx.name}.${key}' is the wrong type '${bsonType(v)}', expected types '[long, int, decimal, double]'`,
    );
  }
  return n;
}

export function writeConcernOf(ctx: CommandContext): WriteConcern | undefined {
  const wc = ctx.body.writeConcern as Document | undefined;
  if (!wc) return undefined;
  const w = wc.w === undefined ? undefined : typeof wc.w === 'string' ? wc.w : asNumber(wc.w);
  const wtimeout = asNumber(wc.wtimeout);
  return {
    ...(w !== undefined ? { w } : {}),
    ...(wtimeout !== undefined ? { wtimeout } : {}),
    ...(typeof wc.j === 'boolean' ? { j: wc.j } : {}),
  };
}

/** Applies role checks for a write and validates its write concern before anything changes. */
export function beginWrite(ctx: CommandContext): void {
  ctx.node.role.checkWrite(ctx.db);
  const target = ctx.body[ctx.name];
  // Views are read-only; create and drop of a view are handled in views.ts.
  if (typeof target === 'string' && ctx.name !== 'create' && ctx.name !== 'drop') {
    const storage = ctx.node.storage;
    if (storage && viewDefinition(storage, ctx.db, target)) throw notSupportedOnView(ctx.db, target);
  }
  ctx.node.role.validateWriteConcern?.(writeConcernOf(ctx));
}

/** Waits for the write concern and adds writeConcernError to the reply when it failed. */
export async function finishWrite(
  ctx: CommandContext,
  result: CommitResult,
  reply: Document,
  defaultConcern?: WriteConcern,
): Promise<Document> {
  const covered = recordRetryableWrite(ctx, result, reply);
  const wce = await ctx.node.waitForWriteConcern(covered, writeConcernOf(ctx) ?? defaultConcern);
  if (wce) reply.writeConcernError = wce;
  return reply;
}

/** Shell-style rendering used inside mongod messages: { _id: 1 }, "x", ObjectId('…'). */
export function shellValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof ObjectId) return `ObjectId('${v.toHexString()}')`;
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (v === null || v === undefined) return 'null';
  const n = asNumber(v);
  if (n !== undefined) return String(n);
  if (Array.isArray(v)) return `[ ${v.map(shellValue).join(', ')} ]`;
  if (typeof v === 'object' && typeof (v as { _bsontype?: unknown })._bsontype !== 'string') {
    const entries = Object.entries(v as Document).map(([k, x]) => `${k}: ${shellValue(x)}`);
    return entries.length === 0 ? '{}' : `{ ${entries.join(', ')} }`;
  }
  return String(v);
}

export interface DuplicateKey {
  readonly index: Document;
  readonly keyValue: Document;
}

export function indexKeyValue(index: Document, doc: Document): { key: string; value: Document } {
  const value: Document = {};
  const parts: unknown[] = [];
  for (const field of Object.keys(index.key as Document)) {
    const v = getPath(doc, field);
    value[field] = v === undefined ? null : v;
    parts.push(value[field]);
  }
  return { key: idKey(parts), value };
}

/**
 * Whether an index has an entry for `doc`: a sparse index skips documents missing every key field, a
 * partial index those not matching its partialFilterExpression (MongoDB manual, "Sparse Indexes",
 * "Partial Indexes"; both then allow any number of such documents under a unique constraint).
 */
export function isIndexed(index: Document, doc: Document): boolean {
  if (index.sparse === true) {
    const fields = Object.keys(index.key as Document);
    if (fields.every((f) => getPath(doc, f) === undefined)) return false;
  }
  if (isPlainDocument(index.partialFilterExpression)) {
    return compileFilter(index.partialFilterExpression)(doc);
  }
  return true;
}

/**
 * The first unique index `doc` would violate in `coll`, also considering `pending` docs of the same
 * batch. `replacingId` excludes the document being updated.
 */
export function findDuplicate(
  coll: Collection | undefined,
  doc: Document,
  pending: Document[],
  replacingId?: unknown,
): DuplicateKey | undefined {
  const indexes = coll ? coll.indexes : [{ key: { _id: 1 }, name: '_id_', v: 2 }];
  for (const index of indexes) {
    const isId = index.name === '_id_';
    if (!isId && index.unique !== true) continue;
    if (!isId && !isIndexed(index, doc)) continue;
    const mine = indexKeyValue(index, doc);
    const skip = replacingId === undefined ? undefined : idKey(replacingId);
    if (isId) {
      if (coll && skip !== idKey(doc._id) && coll.findById(doc._id)) return { index, keyValue: mine.value };
    } else if (coll) {
      for (const other of coll.all()) {
        if (skip !== undefined && idKey(other._id) === skip) continue;
        if (!isIndexed(index, other)) continue;
        if (indexKeyValue(index, other).key === mine.key) return { index, keyValue: mine.value };
      }
    }
    for (const other of pending) {
      if (!isId && !isIndexed(index, other)) continue;
      if (indexKeyValue(index, other).key === mine.key) return { index, keyValue: mine.value };
    }
  }
  return undefined;
}

export function duplicateKeyError(ns: string, dup: DuplicateKey): CommandError {
  const keyText = Object.entries(dup.keyValue)
    .map(([k, v]) => `${k}: ${shellValue(v)}`)
    .join(', ');
  return new CommandError(
    ErrorCode.DuplicateKey,
    `E11000 duplicate key error collection: ${ns} index: ${dup.index.name} dup key: { ${keyText} }`,
    { keyPattern: dup.index.key, keyValue: dup.keyValue },
  );
}

/** The op that creates a collection implicitly before its first write (as mongod logs it). */
export function createIfMissing(ctx: CommandContext, coll: string): StorageOp[] {
  const storage = ctx.node.requireStorage();
  return storage.getCollection(ctx.db, coll) ? [] : [{ op: 'createCollection', db: ctx.db, coll }];
}

export function writeErrorDoc(index: number, err: CommandError): Document {
  return {
    index: new Int32(index),
    code: new Int32(err.code),
    ...(err.extra.keyPattern ? { keyPattern: err.extra.keyPattern, keyValue: err.extra.keyValue } : {}),
    ...(err.extra.errInfo ? { errInfo: err.extra.errInfo } : {}),
    errmsg: err.message,
  };
}
