// explain for find, aggregate, count, distinct, update, delete and findAndModify: the classic query
// planner's output shape (queryPlanner with a winningPlan, executionStats when asked). The plan is the one
// the simulator's own execution amounts to: an index whose leading field the filter bounds is scanned
// (IXSCAN under FETCH; IDHACK, or EXPRESS_IXSCAN from 8.0, for an _id equality), else the collection is
// scanned (COLLSCAN); a collection that does not exist gives EOF. Writes are explained, never performed.
// Sources: MongoDB manual "explain", "Explain Results" (stage names, indexBounds, executionStats fields).
import { type Document, Int32 } from 'bson';
import { asNumber, compareValues } from '../bsonvalues.js';
import { CommandError, ErrorCode } from '../errors.js';
import { compileFilter } from '../query/match.js';
import { isPlainDocument } from '../query/paths.js';
import { compileSort } from '../query/project.js';
import type { Collection } from '../storage/store.js';
import { atLeast } from '../version.js';
import { runPipeline } from './aggregate.js';
import { checkNamespace, shellValue } from './common.js';
import type { CommandContext, CommandRegistry } from './registry.js';

const VERBOSITIES = ['queryPlanner', 'executionStats', 'allPlansExecution'] as const;
export type Verbosity = (typeof VERBOSITIES)[number];

const RANGE_OPS = new Set(['$gt', '$gte', '$lt', '$lte']);

/** The predicate on one field an index scan can bound: equality, $in or a range. */
interface FieldBound {
  readonly field: string;
  readonly spec: unknown;
}

function boundable(spec: unknown): boolean {
  if (spec instanceof RegExp || (isPlainDocument(spec) && spec._bsontype === 'BSONRegExp')) return false;
  if (!isPlainDocument(spec)) return true;
  const keys = Object.keys(spec);
  if (keys.length === 0 || !keys.every((k) => k.startsWith('$'))) return !keys.some((k) => k.startsWith('$'));
  return (
    keys.every((k) => k === '$eq' || k === '$in' || RANGE_OPS.has(k)) &&
    (!('$in' in spec) || Array.isArray(spec.$in))
  );
}

function fieldBounds(filter: Document): Map<string, FieldBound> {
  const out = new Map<string, FieldBound>();
  for (const [field, spec] of Object.entries(filter)) {
    if (field.startsWith('$')) continue;
    if (boundable(spec)) out.set(field, { field, spec });
  }
  return out;
}

function show(v: unknown): string {
  return shellValue(v);
}

/** indexBounds strings as explain prints them: "[5, 5]", "(1, inf.0]", "[MinKey, MaxKey]". */
function boundsFor(bound: FieldBound | undefined, descending: boolean): string[] {
  if (!bound) return ['[MinKey, MaxKey]'];
  const spec = bound.spec;
  let out: string[];
  if (!isPlainDocument(spec) || '$eq' in spec) {
    const v = isPlainDocument(spec) ? spec.$eq : spec;
    out = [`[${show(v)}, ${show(v)}]`];
  } else if ('$in' in spec) {
    const values = [...(spec.$in as unknown[])].sort(compareValues);
    out = values.map((v) => `[${show(v)}, ${show(v)}]`);
  } else {
    const lowKey = '$gt' in spec ? '$gt' : '$gte' in spec ? '$gte' : undefined;
    const highKey = '$lt' in spec ? '$lt' : '$lte' in spec ? '$lte' : undefined;
    const sample = lowKey ? spec[lowKey] : highKey ? spec[highKey] : undefined;
    const numeric = asNumber(sample) !== undefined;
    const low = lowKey ? show(spec[lowKey]) : numeric ? '-inf.0' : '""';
    const high = highKey ? show(spec[highKey]) : numeric ? 'inf.0' : '{}';
    const open = lowKey === '$gt' ? '(' : '[';
    const close = highKey === '$lt' || (!highKey && !numeric) ? ')' : ']';
    out = [`${open}${low}, ${high}${close}`];
  }
  if (!descending) return out;
  return out.reverse().map((b) => {
    const m = /^([[(])(.*), (.*)([\])])$/.exec(b);
    if (!m) return b;
    const open = m[4] === ']' ? '[' : '(';
    const close = m[1] === '[' ? ']' : ')';
    return `${open}${m[3]}, ${m[2]}${close}`;
  });
}

/** The index the filter is served by: the usable index binding the most leading key fields. */
function chooseIndex(c: Collection, filter: Document): { index: Document; bound: number } | undefined {
  const bounds = fieldBounds(filter);
  let best: { index: Document; bound: number } | undefined;
  for (const index of c.indexes) {
    // Hidden indexes are invisible to the planner; partial and sparse ones need proofs left out here.
    if (index.hidden === true || index.partialFilterExpression !== undefined || index.sparse === true)
      continue;
    const fields = Object.keys(index.key as Document);
    let n = 0;
    while (n < fields.length && bounds.has(fields[n] as string)) n++;
    if (n > 0 && (!best || n > best.bound)) best = { index, bound: n };
  }
  return best;
}

interface Scan {
  /** The plan under any SORT/PROJECTION/LIMIT/UPDATE stage. */
  readonly plan: Document;
  /** Documents the scan yields after the whole filter (FETCH or COLLSCAN output). */
  readonly matched: Document[];
  readonly keysExamined: number;
  readonly docsExamined: number;
}

function isIdEquality(filter: Document): boolean {
  const keys = Object.keys(filter);
  if (keys.length !== 1 || keys[0] !== '_id') return false;
  const v = filter._id;
  return !isPlainDocument(v) && !(v instanceof RegExp);
}

/** The scan a filter runs as, with what it examined (the counts executionStats reports). */
function planScan(ctx: CommandContext, c: Collection | undefined, filter: Document): Scan {
  if (!c) return { plan: { stage: 'EOF' }, matched: [], keysExamined: 0, docsExamined: 0 };
  const pass = compileFilter(filter);
  const all = [...c.all()];
  if (isIdEquality(filter) && c.indexes.some((i) => i.name === '_id_')) {
    const hit = all.filter(pass);
    const plan: Document = atLeast(ctx.node.version, 8, 0)
      ? { stage: 'EXPRESS_IXSCAN', keyPattern: '{ _id: 1 }', indexName: '_id_' }
      : { stage: 'IDHACK' };
    return { plan, matched: hit, keysExamined: hit.length, docsExamined: hit.length };
  }
  const chosen = chooseIndex(c, filter);
  if (!chosen) {
    const plan: Document = { stage: 'COLLSCAN' };
    if (Object.keys(filter).length > 0) plan.filter = filter;
    plan.direction = 'forward';
    const matched = all.filter(pass);
    return { plan, matched, keysExamined: 0, docsExamined: all.length };
  }
  const { index, bound } = chosen;
  const key = index.key as Document;
  const fields = Object.keys(key);
  const bounds = fieldBounds(filter);
  const indexBounds: Document = {};
  const keyFilter: Document = {};
  fields.forEach((f, i) => {
    const b = i < bound ? bounds.get(f) : undefined;
    indexBounds[f] = boundsFor(b, asNumber(key[f]) === -1);
    if (b) keyFilter[f] = b.spec;
  });
  const residual: Document = {};
  for (const [k, v] of Object.entries(filter)) if (!(k in keyFilter)) residual[k] = v;
  const keyed = all.filter(compileFilter(keyFilter));
  const matched = keyed.filter(pass);
  const ixscan: Document = {
    stage: 'IXSCAN',
    keyPattern: key,
    indexName: index.name,
    isMultiKey: false,
    multiKeyPaths: Object.fromEntries(fields.map((f) => [f, []])),
    isUnique: index.unique === true,
    isSparse: false,
    isPartial: false,
    indexVersion: new Int32(asNumber(index.v) ?? 2),
    direction: 'forward',
    indexBounds,
  };
  const fetch: Document = { stage: 'FETCH' };
  if (Object.keys(residual).length > 0) fetch.filter = residual;
  fetch.inputStage = ixscan;
  return { plan: fetch, matched, keysExamined: keyed.length, docsExamined: keyed.length };
}

interface Explained {
  readonly plan: Document;
  readonly scan: Scan;
  /** nReturned of the whole plan. */
  readonly returned: number;
  /** Extra executionStages fields of the top stage (nWouldModify, nWouldDelete, ...). */
  readonly topStats?: Document;
}

function explainFind(ctx: CommandContext, c: Collection | undefined, inner: Document): Explained {
  const filter = (inner.filter as Document | undefined) ?? {};
  const scan = planScan(ctx, c, filter);
  let plan = scan.plan;
  let docs = scan.matched;
  const sort = inner.sort as Document | undefined;
  const limit = Math.abs(asNumber(inner.limit) ?? 0);
  const skip = asNumber(inner.skip) ?? 0;
  if (isPlainDocument(sort) && Object.keys(sort).length > 0) {
    const stage: Document = { stage: 'SORT', sortPattern: sort, memLimit: new Int32(104857600) };
    if (limit > 0) stage.limitAmount = new Int32(limit + skip);
    stage.type = 'simple';
    stage.inputStage = plan;
    plan = stage;
    const cmp = compileSort(sort);
    if (cmp) docs = [...docs].sort(cmp);
  }
  if (isPlainDocument(inner.projection) && Object.keys(inner.projection).length > 0) {
    plan = { stage: 'PROJECTION_SIMPLE', transformBy: inner.projection, inputStage: plan };
  }
  if (skip > 0) {
    plan = { stage: 'SKIP', skipAmount: new Int32(skip), inputStage: plan };
    docs = docs.slice(skip);
  }
  if (limit > 0) {
    if (!isPlainDocument(sort)) plan = { stage: 'LIMIT', limitAmount: new Int32(limit), inputStage: plan };
    docs = docs.slice(0, limit);
  }
  return { plan, scan, returned: docs.length };
}

function explainCount(ctx: CommandContext, c: Collection | undefined, inner: Document): Explained {
  const filter = (inner.query as Document | undefined) ?? {};
  if (c && Object.keys(filter).length === 0) {
    const scan: Scan = {
      plan: { stage: 'RECORD_STORE_FAST_COUNT' },
      matched: [],
      keysExamined: 0,
      docsExamined: 0,
    };
    return { plan: scan.plan, scan, returned: 0, topStats: { nCounted: new Int32(c.size) } };
  }
  const scan = planScan(ctx, c, filter);
  return {
    plan: { stage: 'COUNT', inputStage: scan.plan },
    scan,
    returned: 0,
    topStats: { nCounted: new Int32(scan.matched.length) },
  };
}

function explainDistinct(ctx: CommandContext, c: Collection | undefined, inner: Document): Explained {
  const key = String(inner.key);
  const filter = (inner.query as Document | undefined) ?? {};
  const index = c?.indexes.find(
    (i) =>
      i.hidden !== true &&
      Object.keys(i.key as Document)[0] === key &&
      i.partialFilterExpression === undefined,
  );
  if (c && index && Object.keys(filter).length === 0) {
    const values = new Set([...c.all()].map((d) => JSON.stringify(d[key] ?? null)));
    const scan: Scan = {
      plan: {
        stage: 'DISTINCT_SCAN',
        keyPattern: index.key,
        indexName: index.name,
        isMultiKey: false,
        isUnique: index.unique === true,
        isSparse: index.sparse === true,
        isPartial: false,
        indexVersion: new Int32(asNumber(index.v) ?? 2),
        direction: 'forward',
        indexBounds: Object.fromEntries(
          Object.keys(index.key as Document).map((f) => [f, ['[MinKey, MaxKey]']]),
        ),
      },
      matched: [],
      keysExamined: values.size,
      docsExamined: 0,
    };
    return {
      plan: { stage: 'PROJECTION_COVERED', transformBy: { _id: 0, [key]: 1 }, inputStage: scan.plan },
      scan,
      returned: values.size,
    };
  }
  const scan = planScan(ctx, c, filter);
  return { plan: scan.plan, scan, returned: scan.matched.length };
}

function explainWrite(
  ctx: CommandContext,
  c: Collection | undefined,
  kind: 'UPDATE' | 'DELETE',
  filter: Document,
  multi: boolean,
  upsert: boolean,
): Explained {
  const scan = planScan(ctx, c, filter);
  const hits = multi ? scan.matched.length : Math.min(1, scan.matched.length);
  const topStats: Document =
    kind === 'UPDATE'
      ? {
          nMatched: new Int32(hits),
          nWouldModify: new Int32(hits),
          nWouldUpsert: new Int32(hits === 0 && upsert ? 1 : 0),
        }
      : { nWouldDelete: new Int32(hits) };
  return { plan: { stage: kind, inputStage: scan.plan }, scan, returned: 0, topStats };
}

/** Adds the execution counters mongod reports on each stage (nReturned, docsExamined, keysExamined, ...). */
function withStats(plan: Document, ex: Explained, top: boolean): Document {
  const out: Document = { ...plan };
  const isScan = plan.stage === 'COLLSCAN' || plan.stage === 'IXSCAN' || plan.stage === 'FETCH';
  const n = top ? ex.returned : plan.stage === 'IXSCAN' ? ex.scan.keysExamined : ex.scan.matched.length;
  out.nReturned = new Int32(n);
  out.executionTimeMillisEstimate = new Int32(0);
  out.works = new Int32((plan.stage === 'COLLSCAN' ? ex.scan.docsExamined : ex.scan.keysExamined) + 1);
  out.advanced = new Int32(n);
  out.needTime = new Int32(0);
  out.needYield = new Int32(0);
  out.saveState = new Int32(0);
  out.restoreState = new Int32(0);
  out.isEOF = new Int32(1);
  if (top && ex.topStats) Object.assign(out, ex.topStats);
  if (isScan && plan.stage !== 'IXSCAN') out.docsExamined = new Int32(ex.scan.docsExamined);
  if (plan.stage === 'IXSCAN' || plan.stage === 'IDHACK' || plan.stage === 'EXPRESS_IXSCAN') {
    out.keysExamined = new Int32(ex.scan.keysExamined);
    if (plan.stage !== 'IXSCAN') out.docsExamined = new Int32(ex.scan.docsExamined);
  }
  if (isPlainDocument(plan.inputStage)) out.inputStage = withStats(plan.inputStage, ex, false);
  return out;
}

function queryPlanner(ctx: CommandContext, ns: string, filter: Document, winningPlan: Document): Document {
  const qp: Document = {};
  if (!atLeast(ctx.node.version, 5, 0)) qp.plannerVersion = new Int32(1);
  qp.namespace = ns;
  qp.indexFilterSet = false;
  qp.parsedQuery = filter;
  if (atLeast(ctx.node.version, 4, 2)) {
    // A stable per-shape hash, in mongod's 8-hex-digit form.
    const shape = JSON.stringify(Object.keys(filter).sort());
    let h = 0;
    for (const ch of shape) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    qp.queryHash = h.toString(16).toUpperCase().padStart(8, '0');
    qp.planCacheKey = ((h ^ 0x5bd1e995) >>> 0).toString(16).toUpperCase().padStart(8, '0');
  }
  if (atLeast(ctx.node.version, 5, 0)) {
    qp.maxIndexedOrSolutionsReached = false;
    qp.maxIndexedAndSolutionsReached = false;
    qp.maxScansToExplodeReached = false;
  }
  qp.winningPlan = winningPlan;
  qp.rejectedPlans = [];
  return qp;
}

function executionStats(ex: Explained, millis: number, verbosity: Verbosity): Document {
  const stats: Document = {
    executionSuccess: true,
    nReturned: new Int32(ex.returned),
    executionTimeMillis: new Int32(millis),
    totalKeysExamined: new Int32(ex.scan.keysExamined),
    totalDocsExamined: new Int32(ex.scan.docsExamined),
    executionStages: withStats(ex.plan, ex, true),
  };
  if (verbosity === 'allPlansExecution') stats.allPlansExecution = [];
  return stats;
}

export function serverInfo(ctx: CommandContext): Document {
  return {
    host: ctx.node.hostAndPort.split(':')[0],
    port: new Int32(ctx.node.port),
    version: ctx.node.version.full,
    gitVersion: '0000000000000000000000000000000000000000',
  };
}

export function serverParameters(): Document {
  return {
    internalQueryFacetBufferSizeBytes: new Int32(104857600),
    internalQueryFacetMaxOutputDocSizeBytes: new Int32(104857600),
    internalLookupStageIntermediateDocumentMaxSizeBytes: new Int32(104857600),
    internalDocumentSourceGroupMaxMemoryBytes: new Int32(104857600),
    internalQueryMaxBlockingSortMemoryUsageBytes: new Int32(104857600),
    internalQueryProhibitBlockingMergeOnMongoS: new Int32(0),
    internalQueryMaxAddToSetBytes: new Int32(104857600),
    internalDocumentSourceSetWindowFieldsMaxMemoryBytes: new Int32(104857600),
  };
}

/** Stages that run inside the query layer (pushed down), so an aggregate of only these explains like find. */
const PUSHED_DOWN = new Set(['$match', '$sort', '$limit', '$skip', '$project']);

function explainAggregate(
  ctx: CommandContext,
  c: Collection | undefined,
  inner: Document,
  ns: string,
  verbosity: Verbosity,
): Document {
  const pipeline = Array.isArray(inner.pipeline) ? (inner.pipeline as Document[]) : [];
  const first = pipeline[0];
  const filter = isPlainDocument(first) && isPlainDocument(first.$match) ? (first.$match as Document) : {};
  const started = Date.now();
  const scan = planScan(ctx, c, filter);
  const pushed = pipeline.every((s) => isPlainDocument(s) && PUSHED_DOWN.has(Object.keys(s)[0] ?? ''));
  const out = runPipeline(scan.matched, pipeline.slice(isPlainDocument(first) && '$match' in first ? 1 : 0));
  const ex: Explained = { plan: scan.plan, scan, returned: pushed ? out.length : scan.matched.length };
  const cursor: Document = { queryPlanner: queryPlanner(ctx, ns, filter, scan.plan) };
  if (verbosity !== 'queryPlanner')
    cursor.executionStats = executionStats(ex, Date.now() - started, verbosity);
  if (pushed) return cursor;
  const rest = pipeline.slice(isPlainDocument(first) && '$match' in first ? 1 : 0);
  return { stages: [{ $cursor: cursor }, ...rest] };
}

/** Runs an explain of `inner` (the explained command) on the node. */
export function runExplain(ctx: CommandContext, inner: Document, verbosity: Verbosity): Document {
  const name = Object.keys(inner)[0] ?? '';
  const target = inner[name];
  const supported = ['find', 'aggregate', 'count', 'distinct', 'update', 'delete', 'findAndModify'];
  if (!supported.includes(name)) {
    if (ctx.node.commands.has(name))
      throw new CommandError(ErrorCode.IllegalOperation, `Cannot explain cmd: ${name}`);
    throw new CommandError(ErrorCode.CommandNotFound, `Explain failed due to unknown command: ${name}`);
  }
  if (typeof target !== 'string') {
    throw new CommandError(ErrorCode.InvalidNamespace, `collection name has invalid type ${typeof target}`);
  }
  checkNamespace(ctx.db, target);
  ctx.node.role.checkRead(ctx.db, ctx.secondaryOk);
  const ns = `${ctx.db}.${target}`;
  const c = ctx.node.requireStorage().getCollection(ctx.db, target);
  const started = Date.now();
  let result: Document;
  if (name === 'aggregate') {
    result = explainAggregate(ctx, c, inner, ns, verbosity);
  } else {
    let ex: Explained;
    let filter: Document;
    switch (name) {
      case 'find':
        filter = (inner.filter as Document | undefined) ?? {};
        ex = explainFind(ctx, c, inner);
        break;
      case 'count':
        filter = (inner.query as Document | undefined) ?? {};
        ex = explainCount(ctx, c, inner);
        break;
      case 'distinct':
        filter = (inner.query as Document | undefined) ?? {};
        ex = explainDistinct(ctx, c, inner);
        break;
      case 'findAndModify':
        filter = (inner.query as Document | undefined) ?? {};
        ex = explainWrite(
          ctx,
          c,
          inner.remove === true ? 'DELETE' : 'UPDATE',
          filter,
          false,
          inner.upsert === true,
        );
        break;
      default: {
        const stmts = (name === 'update' ? inner.updates : inner.deletes) as Document[] | undefined;
        if (!Array.isArray(stmts) || stmts.length !== 1) {
          throw new CommandError(
            ErrorCode.InvalidLength,
            `explained ${name} must have exactly one statement`,
          );
        }
        const stmt = stmts[0] as Document;
        filter = (stmt.q as Document | undefined) ?? {};
        ex =
          name === 'update'
            ? explainWrite(ctx, c, 'UPDATE', filter, stmt.multi === true, stmt.upsert === true)
            : explainWrite(ctx, c, 'DELETE', filter, asNumber(stmt.limit) !== 1, false);
      }
    }
    result = { queryPlanner: queryPlanner(ctx, ns, filter, ex.plan) };
    if (verbosity !== 'queryPlanner')
      result.executionStats = executionStats(ex, Date.now() - started, verbosity);
  }
  const reply: Document = {};
  if (atLeast(ctx.node.version, 5, 0)) reply.explainVersion = '1';
  Object.assign(reply, result);
  if (atLeast(ctx.node.version, 5, 0)) reply.command = { ...inner, $db: ctx.db };
  reply.serverInfo = serverInfo(ctx);
  if (atLeast(ctx.node.version, 5, 0)) reply.serverParameters = serverParameters();
  return reply;
}

export function parseVerbosity(v: unknown): Verbosity {
  if (v === undefined) return 'allPlansExecution';
  if (typeof v === 'string' && (VERBOSITIES as readonly string[]).includes(v)) return v as Verbosity;
  throw new CommandError(
    ErrorCode.FailedToParse,
    "verbosity string must be one of {'queryPlanner', 'executionStats', 'allPlansExecution'}",
  );
}

function explain(ctx: CommandContext): Document {
  const inner = ctx.body.explain;
  if (!isPlainDocument(inner)) {
    throw new CommandError(ErrorCode.FailedToParse, 'explain command requires a nested object');
  }
  return runExplain(ctx, inner, parseVerbosity(ctx.body.verbosity));
}

export function registerExplainCommand(registry: CommandRegistry): void {
  registry.register({ names: ['explain'], program: 'mongod', handler: explain });
}
