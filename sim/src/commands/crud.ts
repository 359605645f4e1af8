// insert, find, getMore, killCursors, update, delete, count, distinct, findAndModify.
// Replies follow mongod's shapes (n / nModified / upserted / writeErrors, cursor.firstBatch/nextBatch).
import { BSONRegExp, type Document, Int32, Long, ObjectId } from 'bson';
import { asNumber, cloneValue } from '../bsonvalues.js';
import { CommandError, ErrorCode } from '../errors.js';
import { parseArrayFilters } from '../query/array-updates.js';
import { compileFilter, equalityFields } from '../query/match.js';
import { isPlainDocument, setPath } from '../query/paths.js';
import { compileProjection, compileSort } from '../query/project.js';
import { applyOperators, applyReplacement, checkUpdateShape, isOperatorUpdate } from '../query/update.js';
import type { CommitResult } from '../replication.js';
import type { StorageOp } from '../storage/store.js';
import { TransactionLockWait, waitForLock } from '../txn/lock-wait.js';
import {
  beginWrite,
  collectionName,
  createIfMissing,
  duplicateKeyError,
  findDuplicate,
  finishWrite,
  intArg,
  writeErrorDoc,
} from './common.js';
import type { CommandContext, CommandRegistry } from './registry.js';
import { retryableWrite } from './retryable.js';
import { checkDocumentValidation } from './validation.js';
import { viewDocuments } from './views.js';

function withId(doc: Document): Document {
  if ('_id' in doc) {
    if (Array.isArray(doc._id))
      throw new CommandError(ErrorCode.InvalidIdField, "can't use an array for _id");
    // mongod stores _id as the first field whatever its position in the inserted document.
    const { _id, ...rest } = cloneValue(doc);
    return { _id, ...rest };
  }
  return { _id: new ObjectId(), ...cloneValue(doc) };
}

async function insert(ctx: CommandContext): Promise<Document> {
  const coll = collectionName(ctx);
  beginWrite(ctx);
  const docs = ctx.body.documents;
  if (!Array.isArray(docs))
    throw new CommandError(
      ErrorCode.FailedToParse,
      "BSON field 'insert.documents' is missing but a required field",
    );
  const ordered = ctx.body.ordered !== false;
  const storage = ctx.node.requireStorage();
  const existing = storage.getCollection(ctx.db, coll);
  const pending: Document[] = [];
  const writeErrors: Document[] = [];
  for (let i = 0; i < docs.length; i++) {
    try {
      if (!isPlainDocument(docs[i]))
        throw new CommandError(ErrorCode.TypeMismatch, 'document must be an object');
      const doc = withId(docs[i] as Document);
      checkDocumentValidation(ctx, existing, doc);
      const dup = findDuplicate(existing, doc, pending);
      if (dup) throw duplicateKeyError(`${ctx.db}.${coll}`, dup);
      pending.push(doc);
    } catch (err) {
      if (!(err instanceof CommandError)) throw err;
      writeErrors.push(writeErrorDoc(i, err));
      if (ordered) break;
    }
  }
  let result: CommitResult = {};
  if (pending.length > 0) {
    const ops: StorageOp[] = [
      ...createIfMissing(ctx, coll),
      ...pending.map((doc) => ({ op: 'insert' as const, db: ctx.db, coll, doc })),
    ];
    result = ctx.node.commit(ops);
  }
  ctx.node.opcounters.insert += pending.length;
  const reply: Document = { n: new Int32(pending.length) };
  if (writeErrors.length > 0) reply.writeErrors = writeErrors;
  return finishWrite(ctx, result, reply);
}

/** Documents matching filter/sort/skip/limit, before projection. */
function selectDocs(
  ctx: CommandContext,
  coll: string,
  filter: Document | undefined,
  sort: Document | undefined,
  skip = 0,
  limit = 0,
): Document[] {
  const storage = ctx.node.requireStorage();
  const c = storage.getCollection(ctx.db, coll);
  const viewed = c ? undefined : viewDocuments(storage, ctx.db, coll);
  if (!c && !viewed) return [];
  const pred = compileFilter(filter);
  // An _id equality is an index lookup (the _id index), not a collection scan.
  const id = filter && Object.keys(filter).length === 1 ? filter._id : undefined;
  const byId =
    id !== undefined && !isPlainDocument(id) && !(id instanceof RegExp) && !(id instanceof BSONRegExp);
  const candidates = viewed
    ? viewed
    : byId && c
      ? [c.findById(id)].filter((d): d is Document => d !== undefined)
      : [...(c?.all() ?? [])];
  let docs = candidates.filter(pred);
  const cmp = compileSort(sort);
  if (cmp) docs.sort(cmp);
  if (skip > 0) docs = docs.slice(skip);
  if (limit > 0) docs = docs.slice(0, limit);
  return docs;
}

function find(ctx: CommandContext): Document {
  const coll = collectionName(ctx);
  ctx.node.role.checkRead(ctx.db, ctx.secondaryOk);
  ctx.node.opcounters.query++;
  const skip = intArg(ctx, 'skip') ?? 0;
  const rawLimit = intArg(ctx, 'limit') ?? 0;
  if (skip < 0) throw new CommandError(ErrorCode.BadValue, 'skip value must be non-negative');
  // A negative limit (legacy) means a single batch of |limit| documents.
  const single = ctx.body.singleBatch === true || rawLimit < 0;
  const limit = Math.abs(rawLimit);
  const filter = ctx.body.filter as Document | undefined;
  const docs = selectDocs(ctx, coll, filter, ctx.body.sort as Document | undefined, skip, limit);
  const project = compileProjection(ctx.body.projection as Document | undefined);
  const out = docs.map((d) => (project ? project(d) : cloneValue(d)));
  const batchSize = intArg(ctx, 'batchSize');
  const batch = ctx.node.cursors.create(
    `${ctx.db}.${coll}`,
    out,
    single && limit > 0 ? limit : batchSize,
    single,
  );
  ctx.node.counters.document.returned += batch.docs.length;
  return { cursor: { firstBatch: batch.docs, id: batch.id, ns: `${ctx.db}.${coll}` } };
}

function getMore(ctx: CommandContext): Document {
  const id = ctx.body.getMore;
  if (!(id instanceof Long)) {
    throw new CommandError(
      ErrorCode.TypeMismatch,
      "BSON field 'getMore.getMore' is the wrong type, expected type 'long'",
    );
  }
  const coll = ctx.body.collection;
  const cursor = ctx.node.cursors.get(id);
  if (!cursor) throw new CommandError(ErrorCode.CursorNotFound, `cursor id ${id.toString()} not found`);
  if (cursor.ns !== `${ctx.db}.${String(coll)}`) {
    throw new CommandError(
      ErrorCode.Unauthorized,
      `Requested getMore on namespace '${ctx.db}.${String(coll)}', but cursor belongs to a different namespace ${cursor.ns}`,
    );
  }
  ctx.node.opcounters.getmore++;
  const batch = ctx.node.cursors.next(id, intArg(ctx, 'batchSize'));
  ctx.node.counters.document.returned += batch.docs.length;
  return { cursor: { nextBatch: batch.docs, id: batch.id, ns: cursor.ns } };
}

function killCursors(ctx: CommandContext): Document {
  collectionName(ctx);
  const ids = ctx.body.cursors;
  if (!Array.isArray(ids))
    throw new CommandError(
      ErrorCode.FailedToParse,
      "BSON field 'killCursors.cursors' is missing but a required field",
    );
  const killed: Long[] = [];
  const notFound: Long[] = [];
  for (const id of ids) {
    if (id instanceof Long && ctx.node.cursors.kill(id)) killed.push(id);
    else notFound.push(id as Long);
  }
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [] };
}

interface UpdateOutcome {
  n: number;
  nModified: number;
  upsertedId?: unknown;
  before?: Document;
  after?: Document;
  result: CommitResult;
}

/** One update statement (also used by findAndModify). */
function runUpdate(
  ctx: CommandContext,
  coll: string,
  q: Document | undefined,
  u: unknown,
  multi: boolean,
  upsert: boolean,
  sort?: Document,
  rawArrayFilters?: unknown,
): UpdateOutcome {
  const update = checkUpdateShape(u);
  const operators = isOperatorUpdate(update);
  const arrays = { filters: parseArrayFilters(rawArrayFilters, operators ? update : {}), query: q };
  if (multi && !operators)
    throw new CommandError(
      ErrorCode.FailedToParse,
      'multi update is not supported for replacement-style update',
    );
  const storage = ctx.node.requireStorage();
  const existing = storage.getCollection(ctx.db, coll);
  const matches = selectDocs(ctx, coll, q, sort, 0, multi ? 0 : 1);
  const ns = `${ctx.db}.${coll}`;
  if (matches.length === 0) {
    if (!upsert) return { n: 0, nModified: 0, result: {} };
    const seed: Document = {};
    for (const [k, v] of equalityFields(q)) setPath(seed, k, cloneValue(v));
    const built = operators
      ? applyOperators(seed, update, true, arrays)
      : applyReplacement(undefined, { ...(seed._id !== undefined ? { _id: seed._id } : {}), ...update });
    const doc = withId(built);
    checkDocumentValidation(ctx, existing, doc);
    const dup = findDuplicate(existing, doc, []);
    if (dup) throw duplicateKeyError(ns, dup);
    const result = ctx.node.commit([...createIfMissing(ctx, coll), { op: 'insert', db: ctx.db, coll, doc }]);
    return { n: 1, nModified: 0, upsertedId: doc._id, after: doc, result };
  }
  const ops: StorageOp[] = [];
  let nModified = 0;
  let first: { before: Document; after: Document } | undefined;
  for (const old of matches) {
    const next = operators ? applyOperators(old, update, false, arrays) : applyReplacement(old, update);
    if (!first) first = { before: old, after: next };
    if (JSON.stringify(next) === JSON.stringify(old) && sameTypes(next, old)) continue;
    checkDocumentValidation(ctx, existing, next, old);
    const dup = findDuplicate(existing, next, [], old._id);
    if (dup) throw duplicateKeyError(ns, dup);
    ops.push({ op: 'replace', db: ctx.db, coll, doc: next, ...(operators ? {} : { replacement: true }) });
    nModified++;
  }
  const result = ops.length > 0 ? ctx.node.commit(ops) : {};
  return {
    n: matches.length,
    nModified,
    ...(first ? { before: first.before, after: first.after } : {}),
    result,
  };
}

function sameTypes(a: Document, b: Document): boolean {
  // JSON equality misses Int32(1) vs Double(1); compare the serialized BSON types through EJSON-ish keys.
  return JSON.stringify(a, typeTag) === JSON.stringify(b, typeTag);
}

function typeTag(_k: string, v: unknown): unknown {
  if (v && typeof v === 'object' && typeof (v as { _bsontype?: unknown })._bsontype === 'string') {
    return `${(v as { _bsontype: string })._bsontype}:${String(v)}`;
  }
  return v;
}

async function update(ctx: CommandContext): Promise<Document> {
  const coll = collectionName(ctx);
  beginWrite(ctx);
  const updates = ctx.body.updates;
  if (!Array.isArray(updates))
    throw new CommandError(
      ErrorCode.FailedToParse,
      "BSON field 'update.updates' is missing but a required field",
    );
  const ordered = ctx.body.ordered !== false;
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  const writeErrors: Document[] = [];
  let last: CommitResult = {};
  for (let i = 0; i < updates.length; i++) {
    const stmt = updates[i] as Document;
    try {
      const out = runUpdate(
        ctx,
        coll,
        stmt.q as Document | undefined,
        stmt.u,
        stmt.multi === true,
        stmt.upsert === true,
        undefined,
        stmt.arrayFilters,
      );
      ctx.node.opcounters.update++;
      n += out.n;
      nModified += out.nModified;
      if (out.upsertedId !== undefined) upserted.push({ index: new Int32(i), _id: out.upsertedId });
      if (out.result.opTime) last = out.result;
    } catch (err) {
      if (err instanceof TransactionLockWait) {
        // A transaction holds a document of this statement: nothing was written; run it again once it ends.
        await waitForLock(err, ctx.body.maxTimeMS, ctx.node.operations.killedFor(ctx.conn));
        i--;
        continue;
      }
      if (!(err instanceof CommandError)) throw err;
      writeErrors.push(writeErrorDoc(i, err));
      if (ordered) break;
    }
  }
  const reply: Document = { n: new Int32(n), nModified: new Int32(nModified) };
  if (upserted.length > 0) reply.upserted = upserted;
  if (writeErrors.length > 0) reply.writeErrors = writeErrors;
  return finishWrite(ctx, last, reply);
}

async function remove(ctx: CommandContext): Promise<Document> {
  const coll = collectionName(ctx);
  beginWrite(ctx);
  const deletes = ctx.body.deletes;
  if (!Array.isArray(deletes))
    throw new CommandError(
      ErrorCode.FailedToParse,
      "BSON field 'delete.deletes' is missing but a required field",
    );
  let n = 0;
  let last: CommitResult = {};
  const writeErrors: Document[] = [];
  for (let i = 0; i < deletes.length; i++) {
    const stmt = deletes[i] as Document;
    try {
      const limit = asNumber(stmt.limit) ?? 0;
      const victims = selectDocs(
        ctx,
        coll,
        stmt.q as Document | undefined,
        undefined,
        0,
        limit === 1 ? 1 : 0,
      );
      ctx.node.opcounters.delete++;
      if (victims.length === 0) continue;
      last = ctx.node.commit(victims.map((d) => ({ op: 'delete' as const, db: ctx.db, coll, id: d._id })));
      n += victims.length;
    } catch (err) {
      if (err instanceof TransactionLockWait) {
        await waitForLock(err, ctx.body.maxTimeMS, ctx.node.operations.killedFor(ctx.conn));
        i--;
        continue;
      }
      if (!(err instanceof CommandError)) throw err;
      writeErrors.push(writeErrorDoc(i, err));
      if (ctx.body.ordered !== false) break;
    }
  }
  const reply: Document = { n: new Int32(n) };
  if (writeErrors.length > 0) reply.writeErrors = writeErrors;
  return finishWrite(ctx, last, reply);
}

function count(ctx: CommandContext): Document {
  const coll = collectionName(ctx);
  ctx.node.role.checkRead(ctx.db, ctx.secondaryOk);
  const docs = selectDocs(
    ctx,
    coll,
    ctx.body.query as Document | undefined,
    undefined,
    intArg(ctx, 'skip') ?? 0,
    Math.abs(intArg(ctx, 'limit') ?? 0),
  );
  return { n: new Int32(docs.length) };
}

function distinct(ctx: CommandContext): Document {
  const coll = collectionName(ctx);
  ctx.node.role.checkRead(ctx.db, ctx.secondaryOk);
  const key = ctx.body.key;
  if (typeof key !== 'string')
    throw new CommandError(ErrorCode.TypeMismatch, "BSON field 'distinct.key' is the wrong type");
  const values: unknown[] = [];
  const seen = new Set<string>();
  for (const d of selectDocs(ctx, coll, ctx.body.query as Document | undefined, undefined)) {
    const v = d[key] ?? key.split('.').reduce<unknown>((x, p) => (isPlainDocument(x) ? x[p] : undefined), d);
    for (const x of Array.isArray(v) ? v : [v]) {
      if (x === undefined) continue;
      const k = JSON.stringify(x, typeTag);
      if (!seen.has(k)) {
        seen.add(k);
        values.push(x);
      }
    }
  }
  return { values };
}

async function findAndModify(ctx: CommandContext): Promise<Document> {
  const coll = collectionName(ctx);
  beginWrite(ctx);
  const body = ctx.body;
  const query = body.query as Document | undefined;
  const sort = body.sort as Document | undefined;
  const project = compileProjection(body.fields as Document | undefined);
  const shape = (d: Document | undefined): Document | null => (d ? (project ? project(d) : d) : null);
  if (body.remove === true) {
    if (body.update !== undefined)
      throw new CommandError(ErrorCode.FailedToParse, 'Cannot specify both an update and remove=true');
    const victim = selectDocs(ctx, coll, query, sort, 0, 1)[0];
    let result: CommitResult = {};
    if (victim) result = ctx.node.commit([{ op: 'delete', db: ctx.db, coll, id: victim._id }]);
    return finishWrite(ctx, result, {
      lastErrorObject: { n: new Int32(victim ? 1 : 0) },
      value: shape(victim),
    });
  }
  if (body.update === undefined)
    throw new CommandError(ErrorCode.FailedToParse, 'Either an update or remove=true must be specified');
  const out = runUpdate(ctx, coll, query, body.update, false, body.upsert === true, sort, body.arrayFilters);
  const lastErrorObject: Document = {
    n: new Int32(out.n),
    updatedExisting: out.n > 0 && out.upsertedId === undefined,
  };
  if (out.upsertedId !== undefined) lastErrorObject.upserted = out.upsertedId;
  const value = body.new === true ? out.after : out.upsertedId !== undefined ? undefined : out.before;
  return finishWrite(ctx, out.result, { lastErrorObject, value: shape(value) });
}

export function registerCrudCommands(registry: CommandRegistry): void {
  registry.register({ names: ['insert'], program: 'mongod', handler: retryableWrite(insert) });
  registry.register({ names: ['find'], program: 'mongod', handler: find });
  registry.register({ names: ['getMore'], program: 'mongod', handler: getMore });
  registry.register({ names: ['killCursors'], program: 'mongod', handler: killCursors });
  registry.register({ names: ['update'], program: 'mongod', handler: retryableWrite(update) });
  registry.register({ names: ['delete'], program: 'mongod', handler: retryableWrite(remove) });
  registry.register({ names: ['count'], program: 'mongod', handler: count });
  registry.register({ names: ['distinct'], program: 'mongod', handler: distinct });
  registry.register({
    names: ['findAndModify', 'findandmodify'],
    program: 'mongod',
    handler: retryableWrite(findAndModify),
  });
}
