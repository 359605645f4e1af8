// Administration commands: validate, dbHash, collMod, renameCollection, killOp, currentOp, top and
// replSetResizeOplog, each with the reply fields and errors the MongoDB manual and mongod document.
// Sources: MongoDB manual pages of each command; rename_collection.cpp (26 "Source collection … does not
// exist", 48 "target namespace exists", 166 "cannot rename view"), validate_state.cpp (26 "Collection '…'
// does not exist to validate.", 166 "Cannot validate a view"), kill_op_cmd_base.cpp, resize_oplog.cpp.
import { createHash } from 'node:crypto';
import { BSON, type Document, Double, Int32, Long, UUID } from 'bson';
import { asNumber, bsonType, compareValues } from '../bsonvalues.js';
import { CommandError, ErrorCode } from '../errors.js';
import { compileFilter } from '../query/match.js';
import { isPlainDocument } from '../query/paths.js';
import type { Collection, IndexMod, StorageOp } from '../storage/store.js';
import { atLeast } from '../version.js';
import { runPipeline } from './aggregate.js';
import {
  checkNamespace,
  collectionName,
  finishWrite,
  indexKeyValue,
  isIndexed,
  writeConcernOf,
} from './common.js';
import type { CommandContext, CommandRegistry } from './registry.js';
import { checkValidatorSpec, validatorFailures } from './validation.js';
import { viewDefinition } from './views.js';

/** Documents in _id order, as a hash or a comparison between members must see them. */
function documentsById(c: Collection): Document[] {
  return [...c.all()].sort((a, b) => compareValues(a._id, b._id));
}

function validate(ctx: CommandContext): Document {
  const coll = collectionName(ctx);
  const storage = ctx.node.requireStorage();
  const c = storage.getCollection(ctx.db, coll);
  const ns = `${ctx.db}.${coll}`;
  if (!c) {
    if (viewDefinition(storage, ctx.db, coll)) {
      throw new CommandError(166, 'Cannot validate a view', {}, 'CommandNotSupportedOnView');
    }
    throw new CommandError(ErrorCode.NamespaceNotFound, `Collection '${ns}' does not exist to validate.`);
  }
  const errors: string[] = [];
  const warnings: string[] = [];
  const keysPerIndex: Document = {};
  const indexDetails: Document = {};
  // Each index is rebuilt from the documents: a unique index holding one key twice is corrupt.
  for (const index of c.indexes) {
    const seen = new Set<string>();
    let keys = 0;
    let valid = true;
    for (const doc of c.all()) {
      if (!isIndexed(index, doc)) continue;
      keys++;
      const { key } = indexKeyValue(index, doc);
      if ((index.unique === true || index.name === '_id_') && seen.has(key)) {
        valid = false;
        errors.push(`Unique index ${String(index.name)} has duplicate key ${key}`);
      }
      seen.add(key);
    }
    keysPerIndex[String(index.name)] = new Int32(keys);
    indexDetails[String(index.name)] = { valid };
  }
  const missingId = [...c.all()].filter((d) => d._id === undefined).length;
  if (missingId > 0 && c.indexes.some((i) => i.name === '_id_')) {
    errors.push(`${missingId} document(s) have no _id`);
  }
  // Documents that fail the collection's validator are counted, not errors (manual: nInvalidDocuments).
  const invalidDocs = validatorFailures(c);
  if (invalidDocs > 0) {
    warnings.push("Detected one or more documents not compliant with the collection's schema.");
  }
  const reply: Document = { ns };
  if (atLeast(ctx.node.version, 5, 0)) reply.uuid = c.uuid;
  reply.nInvalidDocuments = new Int32(atLeast(ctx.node.version, 6, 2) ? 0 : invalidDocs);
  if (atLeast(ctx.node.version, 6, 2)) reply.nNonCompliantDocuments = new Int32(invalidDocs);
  reply.nrecords = new Int32(c.size);
  reply.nIndexes = new Int32(c.indexes.length);
  reply.keysPerIndex = keysPerIndex;
  reply.indexDetails = indexDetails;
  reply.valid = errors.length === 0;
  if (atLeast(ctx.node.version, 4, 4)) reply.repaired = false;
  reply.warnings = warnings;
  reply.errors = errors;
  reply.extraIndexEntries = [];
  reply.missingIndexEntries = [];
  if (atLeast(ctx.node.version, 5, 0)) reply.corruptRecords = [];
  return reply;
}

/** Collections dbHash leaves out: the oplog and replication bookkeeping of `local`, and the profiler's. */
function hashedCollection(db: string, name: string): boolean {
  if (name === 'system.profile') return false;
  if (db === 'local' && (name === 'oplog.rs' || name.startsWith('replset.'))) return false;
  return true;
}

function dbHash(ctx: CommandContext): Document {
  const started = Date.now();
  const storage = ctx.node.requireStorage();
  const wanted = ctx.body.collections;
  if (wanted !== undefined && (!Array.isArray(wanted) || !wanted.every((n) => typeof n === 'string'))) {
    throw new CommandError(ErrorCode.BadValue, 'collections must be an array of strings');
  }
  const names = storage
    .collections(ctx.db)
    .filter((c) => hashedCollection(ctx.db, c.name))
    .filter((c) => wanted === undefined || (wanted as string[]).includes(c.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const collections: Document = {};
  const uuids: Document = {};
  const capped: string[] = [];
  const whole = createHash('md5');
  for (const c of names) {
    const h = createHash('md5');
    for (const doc of documentsById(c)) h.update(BSON.serialize(doc));
    const hex = h.digest('hex');
    collections[c.name] = hex;
    uuids[c.name] = c.uuid;
    if (c.options.capped === true) capped.push(c.name);
    whole.update(c.name);
    whole.update(hex);
  }
  return {
    host: ctx.node.hostAndPort,
    collections,
    capped,
    uuids,
    md5: whole.digest('hex'),
    timeMillis: new Int32(Date.now() - started),
    fromCache: [],
  };
}

const VALIDATION_LEVELS = ['off', 'strict', 'moderate'];
const VALIDATION_ACTIONS = ['error', 'warn'];
/** Fields every command may carry (generic arguments), never collMod options. */
const GENERIC = new Set([
  'writeConcern',
  'comment',
  'lsid',
  'txnNumber',
  'maxTimeMS',
  'apiVersion',
  'apiStrict',
  'apiDeprecationErrors',
  'readConcern',
]);

function unknownCollModOption(ctx: CommandContext, field: string): CommandError {
  // 5.0 parses collMod through IDL (40415); before, the command itself refused it (72).
  return atLeast(ctx.node.version, 5, 0)
    ? new CommandError(ErrorCode.IDLUnknownField, `BSON field 'collMod.${field}' is an unknown field.`)
    : new CommandError(ErrorCode.InvalidOptions, `unknown option to collMod: ${field}`);
}

function enumValue(ctx: CommandContext, field: string, allowed: string[], older: string): string {
  const v = ctx.body[field];
  if (typeof v !== 'string' || !allowed.includes(v)) {
    throw atLeast(ctx.node.version, 5, 0)
      ? new CommandError(
          ErrorCode.BadValue,
          `Enumeration value '${String(v)}' for field 'collMod.${field}' is not a valid value.`,
        )
      : new CommandError(ErrorCode.BadValue, `${older}: ${String(v)}`);
  }
  return v;
}

/** The index collMod names (`name` or `keyPattern`) and what changes on it. */
function indexChange(ctx: CommandContext, c: Collection, spec: unknown): { mod: IndexMod; reply: Document } {
  if (!isPlainDocument(spec)) {
    throw new CommandError(
      ErrorCode.TypeMismatch,
      "BSON field 'collMod.index' is the wrong type, expected type 'object'",
    );
  }
  const byName = spec.name;
  const byKey = spec.keyPattern;
  if (byName !== undefined && byKey !== undefined) {
    throw new CommandError(ErrorCode.BadValue, 'Cannot specify both key pattern and name.');
  }
  if (byName === undefined && byKey === undefined) {
    throw new CommandError(ErrorCode.BadValue, 'Must specify either index name or key pattern.');
  }
  const index = c.indexes.find((i) =>
    byName !== undefined
      ? i.name === byName
      : isPlainDocument(byKey) && JSON.stringify(i.key) === JSON.stringify(byKey),
  );
  if (!index) {
    const what = byName !== undefined ? String(byName) : JSON.stringify(byKey);
    throw new CommandError(ErrorCode.IndexNotFound, `cannot find index ${what} for ns ${c.ns}`);
  }
  for (const k of Object.keys(spec)) {
    if (!['name', 'keyPattern', 'hidden', 'expireAfterSeconds'].includes(k))
      throw unknownCollModOption(ctx, `index.${k}`);
  }
  const reply: Document = {};
  let mod: IndexMod = { name: String(index.name) };
  if (spec.hidden !== undefined) {
    // Hidden indexes arrived in 4.4 (manual "Hidden Indexes").
    if (!atLeast(ctx.node.version, 4, 4)) throw unknownCollModOption(ctx, 'index.hidden');
    if (typeof spec.hidden !== 'boolean') {
      throw new CommandError(
        ErrorCode.TypeMismatch,
        "BSON field 'hidden' is the wrong type, expected type 'bool'",
      );
    }
    if (index.name === '_id_') throw new CommandError(ErrorCode.BadValue, "can't hide _id index");
    const was = index.hidden === true;
    // hidden_old / hidden_new only when the value changes (manual, collMod "hidden").
    if (was !== spec.hidden) {
      reply.hidden_old = was;
      reply.hidden_new = spec.hidden;
    }
    mod = { ...mod, hidden: spec.hidden };
  }
  if (spec.expireAfterSeconds !== undefined) {
    const secs = asNumber(spec.expireAfterSeconds);
    if (secs === undefined) {
      throw new CommandError(ErrorCode.BadValue, 'expireAfterSeconds must be a number');
    }
    if (index.expireAfterSeconds === undefined) {
      throw new CommandError(ErrorCode.InvalidOptions, 'no expireAfterSeconds field to update');
    }
    if (secs < 0 || secs > 2147483647 || !Number.isInteger(secs)) {
      throw new CommandError(
        ErrorCode.InvalidOptions,
        "TTL index 'expireAfterSeconds' option must be within an acceptable range, try a lower number",
      );
    }
    reply.expireAfterSeconds_old = index.expireAfterSeconds;
    reply.expireAfterSeconds_new = Long.fromNumber(secs);
    mod = { ...mod, expireAfterSeconds: secs };
  }
  return { mod, reply };
}

async function collMod(ctx: CommandContext): Promise<Document> {
  const coll = collectionName(ctx);
  ctx.node.role.checkWrite(ctx.db);
  ctx.node.role.validateWriteConcern?.(writeConcernOf(ctx));
  const storage = ctx.node.requireStorage();
  const view = viewDefinition(storage, ctx.db, coll);
  if (view) return collModView(ctx, coll, view.viewOn, view.pipeline);
  const c = storage.getCollection(ctx.db, coll);
  if (!c) throw new CommandError(ErrorCode.NamespaceNotFound, 'ns does not exist');
  const options: Document = {};
  let reply: Document = {};
  let mod: IndexMod | undefined;
  for (const [field, value] of Object.entries(ctx.body).slice(1)) {
    if (field.startsWith('$') || GENERIC.has(field)) continue;
    switch (field) {
      case 'validator':
        if (!isPlainDocument(value)) {
          throw new CommandError(
            ErrorCode.TypeMismatch,
            "BSON field 'collMod.validator' is the wrong type, expected type 'object'",
          );
        }
        checkValidatorSpec(value);
        options.validator = value;
        break;
      case 'validationLevel':
        options.validationLevel = enumValue(ctx, field, VALIDATION_LEVELS, 'Invalid validation level');
        break;
      case 'validationAction':
        options.validationAction = enumValue(ctx, field, VALIDATION_ACTIONS, 'Invalid validation action');
        break;
      case 'index': {
        const change = indexChange(ctx, c, value);
        mod = change.mod;
        reply = change.reply;
        break;
      }
      case 'viewOn':
      case 'pipeline':
        throw new CommandError(ErrorCode.InvalidOptions, `option only supported on a view: ${field}`);
      default:
        throw unknownCollModOption(ctx, field);
    }
  }
  const op: StorageOp = {
    op: 'collMod',
    db: ctx.db,
    coll,
    ...(Object.keys(options).length > 0 ? { options } : {}),
    ...(mod ? { index: mod } : {}),
  };
  const changes = op.options !== undefined || op.index !== undefined;
  const result = changes ? ctx.node.commit([op]) : {};
  return finishWrite(ctx, result, reply);
}

/** collMod of a view replaces its definition (viewOn and pipeline together, manual "Modify a View"). */
async function collModView(
  ctx: CommandContext,
  name: string,
  viewOn: string,
  pipeline: Document[],
): Promise<Document> {
  let nextOn = viewOn;
  let nextPipeline = pipeline;
  for (const [field, value] of Object.entries(ctx.body).slice(1)) {
    if (field.startsWith('$') || GENERIC.has(field)) continue;
    if (field === 'viewOn' && typeof value === 'string' && value !== '') nextOn = value;
    else if (field === 'pipeline' && Array.isArray(value) && value.every(isPlainDocument))
      nextPipeline = value;
    else if (field === 'viewOn' || field === 'pipeline') {
      throw new CommandError(ErrorCode.BadValue, `invalid ${field} for view ${ctx.db}.${name}`);
    } else throw new CommandError(ErrorCode.InvalidOptions, `option not supported on a view: ${field}`);
  }
  if ((ctx.body.viewOn === undefined) !== (ctx.body.pipeline === undefined)) {
    throw new CommandError(
      ErrorCode.InvalidOptions,
      "must specify both 'viewOn' and 'pipeline' when modifying a view",
    );
  }
  const doc = { _id: `${ctx.db}.${name}`, viewOn: nextOn, pipeline: nextPipeline };
  const result = ctx.node.commit([{ op: 'replace', db: ctx.db, coll: 'system.views', doc }]);
  return finishWrite(ctx, result, {});
}

function parseNamespace(value: unknown, which: 'source' | 'target'): { db: string; coll: string } {
  if (typeof value !== 'string') {
    throw new CommandError(
      ErrorCode.TypeMismatch,
      `BSON field 'renameCollection.${which === 'source' ? 'renameCollection' : 'to'}' is the wrong type '${bsonType(value)}', expected type 'string'`,
    );
  }
  const dot = value.indexOf('.');
  if (dot <= 0 || dot === value.length - 1) {
    throw new CommandError(ErrorCode.InvalidNamespace, `Invalid ${which} namespace: ${value}`);
  }
  const ns = { db: value.slice(0, dot), coll: value.slice(dot + 1) };
  checkNamespace(ns.db, ns.coll);
  return ns;
}

async function renameCollection(ctx: CommandContext): Promise<Document> {
  const from = parseNamespace(ctx.body.renameCollection, 'source');
  const to = parseNamespace(ctx.body.to, 'target');
  const dropTarget = ctx.body.dropTarget === true;
  const fromNs = `${from.db}.${from.coll}`;
  const toNs = `${to.db}.${to.coll}`;
  if (fromNs === toNs)
    throw new CommandError(ErrorCode.IllegalOperation, "Can't rename a collection to itself");
  ctx.node.role.checkWrite(from.db);
  ctx.node.role.checkWrite(to.db);
  const storage = ctx.node.requireStorage();
  const source = storage.getCollection(from.db, from.coll);
  if (!source) {
    if (viewDefinition(storage, from.db, from.coll)) {
      throw new CommandError(166, `cannot rename view: ${fromNs}`, {}, 'CommandNotSupportedOnView');
    }
    throw new CommandError(ErrorCode.NamespaceNotFound, `Source collection ${fromNs} does not exist`);
  }
  if (viewDefinition(storage, to.db, to.coll)) {
    throw new CommandError(ErrorCode.NamespaceExists, `a view already exists with that name: ${toNs}`);
  }
  if (storage.getCollection(to.db, to.coll) && !dropTarget) {
    throw new CommandError(ErrorCode.NamespaceExists, 'target namespace exists');
  }
  const op: StorageOp = {
    op: 'renameCollection',
    db: from.db,
    coll: from.coll,
    toDb: to.db,
    toColl: to.coll,
    dropTarget,
    // Across databases the collection is copied, and the copy gets a UUID of its own.
    ...(from.db !== to.db ? { uuid: new UUID() } : {}),
  };
  const result = ctx.node.commit([op]);
  ctx.node.operations.forget(fromNs);
  return finishWrite(ctx, result, {});
}

function killOp(ctx: CommandContext): Document {
  const raw = ctx.body.op;
  if (raw === undefined) throw new CommandError(ErrorCode.NoSuchKey, 'Missing expected field "op"');
  const opid = asNumber(raw);
  if (opid === undefined || !Number.isInteger(opid)) {
    throw new CommandError(
      ErrorCode.TypeMismatch,
      `"op" had the wrong type. Expected number, found ${bsonType(raw)}`,
    );
  }
  if (opid < -2147483648 || opid > 2147483647) {
    throw new CommandError(26823, `invalid op : ${opid}. Op ID cannot be represented with 32 bits`);
  }
  ctx.node.log.info(
    'COMMAND',
    20482,
    'conn',
    'Going to kill op',
    { opId: opid },
    `going to kill op: ${opid}`,
  );
  ctx.node.operations.kill(opid);
  return { info: 'attempting to kill op' };
}

export interface CurrentOpOptions {
  readonly idleConnections: boolean;
}

/** The documents currentOp / $currentOp report: running operations, and idle connections when asked. */
export function currentOpDocuments(ctx: CommandContext, opts: CurrentOpOptions): Document[] {
  const table = ctx.node.operations;
  const host = ctx.node.hostAndPort;
  const running = table.all();
  const out = running.map((op) => table.describe(op, host));
  if (opts.idleConnections) {
    const busy = new Set(running.map((op) => op.ctx.conn.id));
    for (const conn of table.connections) if (!busy.has(conn.id)) out.push(table.describeIdle(conn, host));
  }
  return out;
}

/** currentOp's filter: every field of the command but its name, `$`-options and generic arguments. */
export function currentOpFilter(body: Document): Document {
  const filter: Document = {};
  for (const [k, v] of Object.entries(body).slice(1)) {
    if (k.startsWith('$') || GENERIC.has(k)) continue;
    filter[k] = v;
  }
  return filter;
}

function currentOp(ctx: CommandContext): Document {
  const filter = currentOpFilter(ctx.body);
  const docs = currentOpDocuments(ctx, { idleConnections: ctx.body.$all === true });
  return { inprog: docs.filter(compileFilter(filter)) };
}

/** $currentOp (first stage of an {aggregate: 1} on admin), then the rest of the pipeline. */
export function currentOpStage(ctx: CommandContext, spec: unknown, rest: unknown[]): Document[] {
  const options = checkCurrentOpSpec(ctx, spec);
  return runPipeline(currentOpDocuments(ctx, { idleConnections: options.idleConnections === true }), rest);
}

/** The $currentOp stage's options, refused as mongod refuses them (wrong database, unknown or non-boolean). */
export function checkCurrentOpSpec(ctx: CommandContext, spec: unknown): Document {
  if (ctx.db !== 'admin') {
    throw new CommandError(
      ErrorCode.InvalidNamespace,
      "$currentOp must be run against the 'admin' database with {aggregate: 1}",
    );
  }
  if (!isPlainDocument(spec)) {
    throw new CommandError(ErrorCode.FailedToParse, '$currentOp options must be specified in an object');
  }
  for (const [k, v] of Object.entries(spec)) {
    if (
      ![
        'allUsers',
        'idleConnections',
        'idleCursors',
        'idleSessions',
        'localOps',
        'truncateOps',
        'backtrace',
      ].includes(k)
    ) {
      throw new CommandError(ErrorCode.FailedToParse, `Unrecognized option '${k}' in $currentOp stage.`);
    }
    if (typeof v !== 'boolean') {
      throw new CommandError(
        ErrorCode.FailedToParse,
        `The '${k}' parameter of the $currentOp stage must be a boolean value`,
      );
    }
  }
  return spec;
}

function top(ctx: CommandContext): Document {
  return { totals: ctx.node.operations.totals() };
}

/** Oplog sizes replSetResizeOplog accepts, in MB (manual: 990 MB to 1 PB). */
const MIN_OPLOG_MB = 990;
const MAX_OPLOG_MB = 1024 * 1024 * 1024;

function replSetResizeOplog(ctx: CommandContext): Document {
  const storage = ctx.node.requireStorage();
  if (storage.collections('local').length === 0) {
    throw new CommandError(ErrorCode.NamespaceNotFound, 'database local does not exist');
  }
  const oplog = storage.getCollection('local', 'oplog.rs');
  if (!oplog) throw new CommandError(ErrorCode.NamespaceNotFound, 'oplog does not exist');
  if (oplog.options.capped !== true) throw new CommandError(ErrorCode.IllegalOperation, "oplog isn't capped");
  const size = ctx.body.size;
  const hours = ctx.body.minRetentionHours;
  if (hours !== undefined && !atLeast(ctx.node.version, 4, 4)) {
    throw new CommandError(ErrorCode.InvalidOptions, 'invalid size field, size should be a number');
  }
  if (size === undefined && hours === undefined) {
    throw new CommandError(
      ErrorCode.InvalidOptions,
      'replSetResizeOplog command must specify at least one field',
    );
  }
  const options: Document = {};
  if (size !== undefined) {
    const mb = asNumber(size);
    if (mb === undefined) {
      throw new CommandError(ErrorCode.InvalidOptions, 'invalid size field, size should be a number');
    }
    if (mb < MIN_OPLOG_MB)
      throw new CommandError(ErrorCode.InvalidOptions, 'oplog size should be 990MB at least');
    if (mb > MAX_OPLOG_MB)
      throw new CommandError(ErrorCode.InvalidOptions, 'oplog size in MB cannot exceed maximum of 1PB');
    options.size = Math.floor(mb * 1024 * 1024);
  }
  if (hours !== undefined) {
    const h = asNumber(hours);
    if (h === undefined || h < 0) {
      throw new CommandError(ErrorCode.BadValue, 'minRetentionHours must be a non-negative number');
    }
    options.minRetentionHours = new Double(h);
  }
  ctx.node.commit([{ op: 'collMod', db: 'local', coll: 'oplog.rs', options }]);
  ctx.node.log.info(
    'STORAGE',
    20497,
    'conn',
    'replSetResizeOplog success',
    { size: Long.fromNumber(asNumber(options.size) ?? asNumber(oplog.options.size) ?? 0) },
    `replSetResizeOplog success, currentSize:${String(options.size ?? oplog.options.size)}`,
  );
  return {};
}

export function registerAdminCommands(registry: CommandRegistry): void {
  registry.register({ names: ['validate'], program: 'mongod', handler: validate });
  registry.register({ names: ['dbHash', 'dbhash'], program: 'mongod', handler: dbHash });
  registry.register({ names: ['collMod'], program: 'mongod', handler: collMod });
  registry.register({
    names: ['renameCollection'],
    program: 'mongod',
    adminOnly: true,
    handler: renameCollection,
  });
  registry.register({ names: ['killOp'], adminOnly: true, handler: killOp });
  registry.register({ names: ['currentOp'], adminOnly: true, handler: currentOp });
  registry.register({ names: ['top'], program: 'mongod', adminOnly: true, handler: top });
  registry.register({
    names: ['replSetResizeOplog'],
    program: 'mongod',
    adminOnly: true,
    handler: replSetResizeOplog,
  });
}
