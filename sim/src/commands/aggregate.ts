// aggregate with the stages drivers, shells and managers use for simple checks: $match, $project,
// $group (with $sum/$avg/$min/$max/$first/$last/$push/$addToSet/$count), $count, $sort, $skip,
// $limit, $unwind. Anything else fails with mongod's "Unrecognized pipeline stage name".
import { type Document, Double, Int32 } from 'bson';
import { asNumber, cloneValue, compareValues, idKey, valuesEqual } from '../bsonvalues.js';
import { CommandError, ErrorCode } from '../errors.js';
import { compileFilter } from '../query/match.js';
import { getPath, isPlainDocument, setPath } from '../query/paths.js';
import { compileProjection, compileSort } from '../query/project.js';
import { currentOpStage } from './admin.js';
import { storageStats } from './collections.js';
import { checkNamespace } from './common.js';
import { runExplain } from './explain.js';
import type { CommandContext, CommandRegistry } from './registry.js';
import { viewDocuments } from './views.js';

/** Evaluates an aggregation expression: "$path", {$literal}, nested documents, or a constant. */
function evaluate(expr: unknown, doc: Document): unknown {
  if (typeof expr === 'string' && expr.startsWith('$')) return getPath(doc, expr.slice(1));
  if (isPlainDocument(expr)) {
    const keys = Object.keys(expr);
    if (keys.length === 1 && keys[0] === '$literal') return expr.$literal;
    if (keys[0]?.startsWith('$'))
      throw new CommandError(168, `Unrecognized expression '${keys[0]}'`, {}, 'InvalidPipelineOperator');
    const out: Document = {};
    for (const [k, v] of Object.entries(expr)) out[k] = evaluate(v, doc);
    return out;
  }
  return expr;
}

function numberOut(n: number, anyDouble: boolean): unknown {
  return anyDouble || !Number.isInteger(n) ? new Double(n) : new Int32(n);
}

function group(docs: Document[], spec: Document): Document[] {
  if (!('_id' in spec))
    throw new CommandError(15955, 'a group specification must include an _id', {}, 'Location15955');
  const groups = new Map<string, { key: unknown; members: Document[] }>();
  for (const d of docs) {
    const key = evaluate(spec._id, d) ?? null;
    const k = idKey(key);
    let g = groups.get(k);
    if (!g) {
      g = { key, members: [] };
      groups.set(k, g);
    }
    g.members.push(d);
  }
  const out: Document[] = [];
  for (const g of groups.values()) {
    const row: Document = { _id: g.key };
    for (const [field, acc] of Object.entries(spec)) {
      if (field === '_id') continue;
      if (!isPlainDocument(acc) || Object.keys(acc).length !== 1) {
        throw new CommandError(
          40234,
          `The field '${field}' must be an accumulator object`,
          {},
          'Location40234',
        );
      }
      const [op, arg] = Object.entries(acc)[0] as [string, unknown];
      const values = g.members.map((m) => evaluate(arg, m));
      switch (op) {
        case '$sum': {
          const nums = values.map(asNumber).filter((n): n is number => n !== undefined);
          row[field] = numberOut(
            nums.reduce((a, b) => a + b, 0),
            values.some((v) => v instanceof Double),
          );
          break;
        }
        case '$count':
          row[field] = new Int32(g.members.length);
          break;
        case '$avg': {
          const nums = values.map(asNumber).filter((n): n is number => n !== undefined);
          row[field] = nums.length === 0 ? null : new Double(nums.reduce((a, b) => a + b, 0) / nums.length);
          break;
        }
        case '$min':
        case '$max': {
          const present = values.filter((v) => v !== undefined && v !== null);
          row[field] =
            present.length === 0
              ? null
              : present.reduce((m, v) =>
                  (op === '$min' ? compareValues(v, m) < 0 : compareValues(v, m) > 0) ? v : m,
                );
          break;
        }
        case '$first':
          row[field] = values[0] ?? null;
          break;
        case '$last':
          row[field] = values[values.length - 1] ?? null;
          break;
        case '$push':
          row[field] = values.filter((v) => v !== undefined);
          break;
        case '$addToSet': {
          const set: unknown[] = [];
          for (const v of values) if (v !== undefined && !set.some((x) => valuesEqual(x, v))) set.push(v);
          row[field] = set;
          break;
        }
        default:
          throw new CommandError(15952, `unknown group operator '${op}'`, {}, 'Location15952');
      }
    }
    out.push(row);
  }
  return out;
}

export function runPipeline(input: Document[], pipeline: unknown[]): Document[] {
  let docs = input;
  for (const stage of pipeline) {
    if (!isPlainDocument(stage) || Object.keys(stage).length !== 1) {
      throw new CommandError(
        40323,
        'A pipeline stage specification object must contain exactly one field.',
        {},
        'Location40323',
      );
    }
    const [name, arg] = Object.entries(stage)[0] as [string, unknown];
    switch (name) {
      case '$match':
        docs = docs.filter(compileFilter(arg as Document));
        break;
      case '$project': {
        const p = compileProjection(arg as Document);
        if (p) docs = docs.map(p);
        break;
      }
      case '$addFields':
      case '$set':
        docs = docs.map((d) => {
          const out = cloneValue(d);
          for (const [k, v] of Object.entries(arg as Document)) setPath(out, k, evaluate(v, d));
          return out;
        });
        break;
      case '$group':
        docs = group(docs, arg as Document);
        break;
      case '$count':
        if (typeof arg !== 'string' || arg === '')
          throw new CommandError(40156, 'the count field must be a non-empty string', {}, 'Location40156');
        docs = docs.length === 0 ? [] : [{ [arg]: new Int32(docs.length) }];
        break;
      case '$sort': {
        const cmp = compileSort(arg as Document);
        if (cmp) docs = [...docs].sort(cmp);
        break;
      }
      case '$skip':
        docs = docs.slice(asNumber(arg) ?? 0);
        break;
      case '$limit': {
        const n = asNumber(arg) ?? 0;
        if (n <= 0) throw new CommandError(15958, 'the limit must be positive', {}, 'Location15958');
        docs = docs.slice(0, n);
        break;
      }
      case '$unwind': {
        const path = typeof arg === 'string' ? arg : isPlainDocument(arg) ? String(arg.path) : '';
        if (!path.startsWith('$'))
          throw new CommandError(28818, "$unwind path must be prefixed by a '$'", {}, 'Location28818');
        const field = path.slice(1);
        docs = docs.flatMap((d) => {
          const v = getPath(d, field);
          if (!Array.isArray(v)) return v === undefined || v === null ? [] : [d];
          return v.map((el) => {
            const out = cloneValue(d);
            setPath(out, field, el);
            return out;
          });
        });
        break;
      }
      default:
        throw new CommandError(40324, `Unrecognized pipeline stage name: '${name}'`, {}, 'Location40324');
    }
  }
  return docs;
}

function aggregate(ctx: CommandContext): Document {
  const target = ctx.body.aggregate;
  const pipeline = ctx.body.pipeline;
  if (!Array.isArray(pipeline))
    throw new CommandError(ErrorCode.TypeMismatch, "'pipeline' option must be specified as an array");
  if (!isPlainDocument(ctx.body.cursor) && ctx.body.explain !== true) {
    throw new CommandError(
      ErrorCode.FailedToParse,
      "The 'cursor' option is required, except for aggregate with the explain argument",
    );
  }
  if (ctx.body.explain === true && typeof target === 'string') {
    // {aggregate, pipeline, explain: true}: the queryPlanner verbosity of the explain command.
    const { explain: _e, cursor: _c, ...inner } = ctx.body;
    return runExplain(ctx, inner, 'queryPlanner');
  }
  let input: Document[] = [];
  let ns: string;
  if (typeof target === 'string') {
    checkNamespace(ctx.db, target);
    ctx.node.role.checkRead(ctx.db, ctx.secondaryOk);
    ns = `${ctx.db}.${target}`;
    const storage = ctx.node.requireStorage();
    const c = storage.getCollection(ctx.db, target);
    input = c ? [...c.all()] : (viewDocuments(storage, ctx.db, target) ?? []);
    const first = pipeline[0];
    if (isPlainDocument(first) && '$collStats' in first) {
      // $collStats must come first and describes the collection instead of reading its documents.
      if (!c)
        throw new CommandError(
          ErrorCode.NamespaceNotFound,
          `Unable to retrieve storageStats in $collStats stage :: caused by :: Collection [${ns}] not found.`,
        );
      const spec = first.$collStats as Document;
      const stats: Document = { ns, host: ctx.node.hostAndPort, localTime: new Date() };
      if (isPlainDocument(spec) && spec.storageStats !== undefined) stats.storageStats = storageStats(c);
      if (isPlainDocument(spec) && spec.count !== undefined) stats.count = c.size;
      return cursorReply(ctx, ns, runPipeline([stats], pipeline.slice(1)));
    }
  } else if (asNumber(target) === 1) {
    ns = `${ctx.db}.$cmd.aggregate`;
    const first = pipeline[0];
    if (isPlainDocument(first)) {
      const stage = Object.keys(first)[0];
      if (stage === '$currentOp')
        return cursorReply(ctx, ns, currentOpStage(ctx, first.$currentOp, pipeline.slice(1)));
      if (stage === '$listLocalSessions') return cursorReply(ctx, ns, []);
      throw new CommandError(
        ErrorCode.InvalidNamespace,
        `{aggregate: 1} is not valid for '${stage}'; a collection is required.`,
      );
    }
    throw new CommandError(ErrorCode.InvalidNamespace, '{aggregate: 1} is not valid for an empty pipeline.');
  } else {
    throw new CommandError(ErrorCode.FailedToParse, 'Invalid aggregate namespace');
  }
  return cursorReply(ctx, ns, runPipeline(input.map(cloneValue), pipeline));
}

function cursorReply(ctx: CommandContext, ns: string, docs: Document[]): Document {
  const batchSize = isPlainDocument(ctx.body.cursor) ? asNumber(ctx.body.cursor.batchSize) : undefined;
  if (batchSize === 0) {
    // batchSize 0 returns an empty first batch and keeps every document for getMore.
    const b = ctx.node.cursors.create(ns, [{}, ...docs], 1);
    return { cursor: { firstBatch: [], id: b.id, ns } };
  }
  const batch = ctx.node.cursors.create(ns, docs, batchSize);
  return { cursor: { firstBatch: batch.docs, id: batch.id, ns } };
}

export function registerAggregateCommands(registry: CommandRegistry): void {
  registry.register({ names: ['aggregate'], program: 'mongod', handler: aggregate });
}
