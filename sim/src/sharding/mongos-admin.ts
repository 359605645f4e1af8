// Administration commands as mongos answers them: fsync / fsyncUnlock sent to the config servers and
// every shard, currentOp and $currentOp gathered from the shards (each operation tagged with its shard
// and an opid "<shard>:<opid>"), killOp of a local opid or of "<shard>:<opid>" on that shard, explain
// run on the targeted shards and wrapped in mongos' SINGLE_SHARD / SHARD_MERGE plan, validate on every
// shard holding the collection, collMod and renameCollection on the database's primary shard.
// What mongos has no command for (top, dbHash, replSetResizeOplog and the other replica-set commands)
// keeps answering 59 CommandNotFound, as registered for mongod only.
// Sources: mongo src/mongo/s/commands/cluster_fsync_cmd.cpp, cluster_fsync_unlock_cmd.cpp,
// cluster_current_op.cpp, cluster_kill_op.cpp (50759, 28625, 50760), cluster_explain.cpp (stage names,
// shards array), cluster_validate_cmd.cpp (raw per shard), cluster_collection_mod_cmd.cpp,
// cluster_rename_collection_cmd.cpp; MongoDB manual "fsync" (lock through mongos from 4.4.25, 5.0.22,
// 6.0.11, 7.0.2 and 7.1), "currentOp" (sharded output), "killOp" (mongos).
import { type Document, Double, Int32, Long } from 'bson';
import { asNumber, bsonType } from '../bsonvalues.js';
import { checkCurrentOpSpec, currentOpFilter, currentOpStage } from '../commands/admin.js';
import { runPipeline } from '../commands/aggregate.js';
import { parseVerbosity, serverInfo, serverParameters, type Verbosity } from '../commands/explain.js';
import type { CommandContext, CommandRegistry } from '../commands/registry.js';
import { CommandError, ErrorCode } from '../errors.js';
import { compileFilter } from '../query/match.js';
import { isPlainDocument } from '../query/paths.js';
import { atLeast, type VersionInfo } from '../version.js';
import { cleanReply, forwardBody } from './mongos.js';
import { replyError, replyOk, type SetTarget } from './remote.js';
import type { Router } from './router.js';
import { routingOf, shardsFor } from './sharded-crud.js';

const TIMEOUT = { timeoutMs: 600_000 };

interface Member {
  /** The shard id, or "config" for the config server replica set. */
  readonly id: string;
  readonly target: SetTarget;
}

async function shardMembers(router: Router): Promise<Member[]> {
  const shards = await router.shards();
  return shards
    .map((s) => ({ id: String(s._id), target: router.shardTargetFor(s) }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * fsync with lock (and fsyncUnlock) run on mongos from 4.4.25, 5.0.22, 6.0.11, 7.0.2 and 7.1 (the
 * cluster fsync lock); earlier releases refuse the lock and have no fsyncUnlock on mongos.
 */
export function clusterFsyncLock(v: VersionInfo): boolean {
  if (atLeast(v, 7, 1)) return true;
  const from: Record<string, number> = { '4.4': 25, '5.0': 22, '6.0': 11, '7.0': 2 };
  const patch = from[v.series];
  return patch !== undefined && v.patch >= patch;
}

async function fsync(router: Router, ctx: CommandContext): Promise<Document> {
  const lock = ctx.body.lock === true || asNumber(ctx.body.lock as never) === 1;
  const cluster = clusterFsyncLock(ctx.node.version);
  if (lock && !cluster) {
    // An errmsg-style failure: mongos answers ok:0 with this text and no code.
    return { ok: new Double(0), errmsg: "can't do lock through mongos" };
  }
  // With the cluster lock the config servers take part too; raw replies are keyed by connection string.
  const members = await shardMembers(router);
  if (cluster) members.unshift({ id: 'config', target: router.config });
  const body: Document = { fsync: 1 };
  if (lock) Object.assign(body, { lock: true, forBackup: true });
  const all: Document = {};
  let failed: Document | undefined;
  const locked: Member[] = [];
  for (const m of members) {
    const reply = cleanReply(await m.target.runOnPrimary('admin', body, TIMEOUT));
    all[cluster ? m.target.connectionString : m.id] = reply;
    if (replyOk(reply)) locked.push(m);
    else failed ??= reply;
  }
  if (failed) {
    // A lock taken on part of the cluster is released again before answering.
    if (lock) {
      for (const m of locked) {
        await m.target.runOnPrimary('admin', { fsyncUnlock: 1 }, TIMEOUT).catch(() => undefined);
      }
    }
    throw replyError(failed);
  }
  return { numFiles: new Int32(1), all: cluster ? { raw: all } : all };
}

async function fsyncUnlock(router: Router): Promise<Document> {
  const members = [{ id: 'config', target: router.config }, ...(await shardMembers(router))];
  const raw: Document = {};
  const errors: string[] = [];
  for (const m of members) {
    const reply = cleanReply(await m.target.runOnPrimary('admin', { fsyncUnlock: 1 }, TIMEOUT));
    raw[m.target.connectionString] = reply;
    if (!replyOk(reply)) errors.push(`${m.target.connectionString}: ${String(reply.errmsg)}`);
  }
  if (errors.length > 0) return { raw, ok: new Double(0), errmsg: errors.join('; ') };
  return { raw };
}

/** Every shard's operations as $currentOp reports them there, tagged with the shard as mongos tags them. */
async function shardOperations(router: Router, spec: Document): Promise<Document[]> {
  const { localOps: _local, ...shardSpec } = spec;
  const out: Document[] = [];
  for (const m of await shardMembers(router)) {
    const reply = cleanReply(
      await m.target.runOnPrimary(
        'admin',
        { aggregate: 1, pipeline: [{ $currentOp: shardSpec }], cursor: {} },
        TIMEOUT,
      ),
    );
    if (!replyOk(reply)) throw replyError(reply);
    const batch = ((reply.cursor as Document | undefined)?.firstBatch as Document[] | undefined) ?? [];
    for (const op of batch) {
      const tagged: Document = { shard: m.id, ...op };
      if (op.opid !== undefined) tagged.opid = `${m.id}:${String(asNumber(op.opid))}`;
      out.push(tagged);
    }
  }
  return out;
}

async function currentOp(router: Router, ctx: CommandContext): Promise<Document> {
  const docs = await shardOperations(router, { idleConnections: ctx.body.$all === true });
  return { inprog: docs.filter(compileFilter(currentOpFilter(ctx.body))) };
}

function parseShardOpid(text: string): { shard: string; opid: number } {
  const sep = text.indexOf(':');
  if (text.length < 3 || sep <= 0 || sep === text.length - 1) {
    throw new CommandError(
      28625,
      `The op argument to killOp must be of the format shardid:opid but found "${text}"`,
    );
  }
  const digits = text.slice(sep + 1);
  if (!/^-?\d+$/.test(digits))
    throw new CommandError(ErrorCode.FailedToParse, 'Did not consume whole string.');
  return { shard: text.slice(0, sep), opid: Number(digits) };
}

async function killOp(router: Router, ctx: CommandContext): Promise<Document> {
  const raw = ctx.body.op;
  if (raw === undefined) throw new CommandError(50759, 'Did not provide "op" field');
  if (typeof raw === 'string') {
    const { shard, opid } = parseShardOpid(raw);
    const target = await router.shardByName(shard);
    router.node.log.info('COMMAND', 22754, 'conn', 'About to kill op', { opToKill: raw });
    // mongos ignores the shard's answer: killOp through mongos always succeeds past this point.
    await target.runOnPrimary('admin', { killOp: 1, op: new Int32(opid) }, TIMEOUT).catch(() => undefined);
    return { shard, shardid: new Int32(opid) };
  }
  const opid = asNumber(raw);
  if (opid === undefined) {
    throw new CommandError(50760, `"op" field was of unsupported type ${bsonType(raw)}`);
  }
  ctx.node.operations.kill(opid);
  return {};
}

function shardReply(reply: Document): Document {
  const { ok: _ok, ...rest } = cleanReply(reply);
  return rest;
}

const READ_STAGES: Record<string, string> = { find: 'find', count: 'count', distinct: 'distinct' };

/** The filter of an explained command, which picks the shards a sharded collection's explain goes to. */
function explainedFilter(name: string, inner: Document): Document | undefined {
  if (name === 'find') return inner.filter as Document | undefined;
  if (name === 'count' || name === 'distinct' || name === 'findAndModify')
    return inner.query as Document | undefined;
  const stmts = (name === 'update' ? inner.updates : inner.deletes) as Document[] | undefined;
  return Array.isArray(stmts) && stmts.length === 1 ? (stmts[0]?.q as Document | undefined) : undefined;
}

async function explain(router: Router, ctx: CommandContext): Promise<Document> {
  const inner = ctx.body.explain;
  if (!isPlainDocument(inner)) {
    throw new CommandError(ErrorCode.FailedToParse, 'explain command requires a nested object');
  }
  const verbosity: Verbosity = parseVerbosity(ctx.body.verbosity);
  const name = Object.keys(inner)[0] ?? '';
  if (name === 'aggregate') return explainAggregate(router, ctx, inner, verbosity);
  const supported = ['find', 'count', 'distinct', 'update', 'delete', 'findAndModify'];
  if (!supported.includes(name)) {
    const spec = ctx.node.commands.get(name);
    if (spec && (spec.program === undefined || spec.program === 'mongos'))
      throw new CommandError(ErrorCode.IllegalOperation, `Cannot explain cmd: ${name}`);
    throw new CommandError(ErrorCode.CommandNotFound, `Explain failed due to unknown command: ${name}`);
  }
  const coll = inner[name];
  if (typeof coll !== 'string') {
    throw new CommandError(ErrorCode.InvalidNamespace, `collection name has invalid type ${typeof coll}`);
  }
  const routing = await routingOf(router, ctx.db, coll);
  let shards: string[];
  if (routing) {
    shards = shardsFor(routing, explainedFilter(name, inner));
  } else {
    const entry = await router.database(ctx.db);
    if (!entry) throw new CommandError(ErrorCode.NamespaceNotFound, `database ${ctx.db} not found`);
    shards = [String(entry.primary)];
  }
  const started = Date.now();
  const results: { shard: string; target: SetTarget; reply: Document }[] = [];
  for (const shard of shards) {
    const target = await router.shardByName(shard);
    const reply = cleanReply(await target.runOnPrimary(ctx.db, { explain: inner, verbosity }, TIMEOUT));
    if (!replyOk(reply)) {
      const err = replyError(reply);
      throw new CommandError(
        err.code,
        `Explain command on shard ${shard} failed :: caused by :: ${err.message}`,
      );
    }
    results.push({ shard, target, reply });
  }
  const millis = Date.now() - started;
  const isWrite = name === 'update' || name === 'delete' || name === 'findAndModify';
  let stage: string;
  if (results.length === 1) stage = 'SINGLE_SHARD';
  else if (isWrite) stage = 'SHARD_WRITE';
  else if (READ_STAGES[name] === 'find' && inner.sort !== undefined) stage = 'SHARD_MERGE_SORT';
  else stage = 'SHARD_MERGE';

  const out: Document = {};
  const v5 = atLeast(ctx.node.version, 5, 0);
  if (v5) out.explainVersion = '1';
  out.queryPlanner = {
    mongosPlannerVersion: new Int32(1),
    winningPlan: {
      stage,
      shards: results.map((r) => ({
        shardName: r.shard,
        connectionString: r.target.connectionString,
        serverInfo: r.reply.serverInfo,
        ...(r.reply.queryPlanner as Document),
      })),
    },
  };
  if (verbosity !== 'queryPlanner') {
    const sum = (field: string): number =>
      results.reduce((n, r) => n + (asNumber((r.reply.executionStats as Document)[field] as never) ?? 0), 0);
    const stats: Document = {
      nReturned: Long.fromNumber(sum('nReturned')),
      executionTimeMillis: Long.fromNumber(millis),
      totalKeysExamined: Long.fromNumber(sum('totalKeysExamined')),
      totalDocsExamined: Long.fromNumber(sum('totalDocsExamined')),
      executionStages: {
        stage,
        nReturned: Long.fromNumber(sum('nReturned')),
        executionTimeMillis: Long.fromNumber(millis),
        totalKeysExamined: Long.fromNumber(sum('totalKeysExamined')),
        totalDocsExamined: Long.fromNumber(sum('totalDocsExamined')),
        totalChildMillis: Long.fromNumber(sum('executionTimeMillis')),
        shards: results.map((r) => {
          const es = r.reply.executionStats as Document;
          return {
            shardName: r.shard,
            executionSuccess: es.executionSuccess,
            nReturned: es.nReturned,
            executionTimeMillis: es.executionTimeMillis,
            totalKeysExamined: es.totalKeysExamined,
            totalDocsExamined: es.totalDocsExamined,
            executionStages: es.executionStages,
          };
        }),
      },
    };
    if (verbosity === 'allPlansExecution') {
      stats.allPlansExecution = results.map((r) => ({
        shardName: r.shard,
        allPlans: ((r.reply.executionStats as Document).allPlansExecution as Document[] | undefined) ?? [],
      }));
    }
    out.executionStats = stats;
  }
  if (v5) out.command = { ...inner, $db: ctx.db };
  out.serverInfo = serverInfo(ctx);
  if (v5) out.serverParameters = serverParameters();
  return out;
}

/**
 * A pipeline explained through mongos: on an unsharded collection (or one shard) the whole pipeline runs on
 * that shard, and mongos reports it per shard with no split (`splitPipeline: null`). Splitting a pipeline
 * over several shards (shardsPart / mergerPart) is not modelled, so that case is refused, not approximated.
 */
async function explainAggregate(
  router: Router,
  ctx: CommandContext,
  inner: Document,
  verbosity: Verbosity,
): Promise<Document> {
  const coll = inner.aggregate;
  if (typeof coll !== 'string') {
    throw new CommandError(ErrorCode.InvalidNamespace, `collection name has invalid type ${typeof coll}`);
  }
  const routing = await routingOf(router, ctx.db, coll);
  let shards: string[];
  if (routing) {
    const pipeline = Array.isArray(inner.pipeline) ? (inner.pipeline as unknown[]) : [];
    const first = pipeline[0];
    const match = isPlainDocument(first) && isPlainDocument(first.$match) ? first.$match : undefined;
    shards = shardsFor(routing, match);
  } else {
    const entry = await router.database(ctx.db);
    if (!entry) throw new CommandError(ErrorCode.NamespaceNotFound, `database ${ctx.db} not found`);
    shards = [String(entry.primary)];
  }
  if (shards.length !== 1) {
    throw new CommandError(
      ErrorCode.CommandNotSupported,
      `explain of an aggregation over ${shards.length} shards is not supported`,
    );
  }
  const shard = shards[0] as string;
  const target = await router.shardByName(shard);
  const { explain: _e, cursor: _c, ...body } = inner;
  const reply = cleanReply(await target.runOnPrimary(ctx.db, { explain: body, verbosity }, TIMEOUT));
  if (!replyOk(reply)) {
    const err = replyError(reply);
    throw new CommandError(
      err.code,
      `Explain command on shard ${shard} failed :: caused by :: ${err.message}`,
    );
  }
  const { ok: _ok, serverInfo: shardInfo, command: _cmd, serverParameters: _sp, ...perShard } = reply;
  const out: Document = {};
  if (atLeast(ctx.node.version, 5, 0)) out.explainVersion = '1';
  out.splitPipeline = null;
  out.shards = {
    [shard]: {
      host: `${String((shardInfo as Document).host)}:${String((shardInfo as Document).port)}`,
      ...perShard,
    },
  };
  if (atLeast(ctx.node.version, 5, 0)) out.command = { ...inner, $db: ctx.db };
  out.serverInfo = serverInfo(ctx);
  if (atLeast(ctx.node.version, 5, 0)) out.serverParameters = serverParameters();
  return out;
}

async function validate(router: Router, ctx: CommandContext): Promise<Document> {
  const coll = ctx.body.validate;
  if (typeof coll !== 'string' || coll === '') {
    throw new CommandError(ErrorCode.InvalidNamespace, `collection name has invalid type ${bsonType(coll)}`);
  }
  const routing = await routingOf(router, ctx.db, coll);
  let shards: string[];
  if (routing) {
    shards = shardsFor(routing, undefined);
  } else {
    const entry = await router.database(ctx.db);
    if (!entry) throw new CommandError(ErrorCode.NamespaceNotFound, `database ${ctx.db} not found`);
    shards = [String(entry.primary)];
  }
  const raw: Document = {};
  let valid = true;
  let first: Document | undefined;
  let failed: Document | undefined;
  for (const shard of shards) {
    const target = await router.shardByName(shard);
    const reply = cleanReply(await target.runOnPrimary(ctx.db, forwardBody(ctx.body), TIMEOUT));
    if (!replyOk(reply)) {
      failed ??= reply;
      continue;
    }
    raw[shard] = reply;
    first ??= reply;
    if (reply.valid !== true) valid = false;
  }
  if (failed) throw replyError(failed);
  // An unsharded collection answers with its one shard's reply plus raw; a sharded one with valid + raw.
  if (!routing && first) return { ...shardReply(first), raw };
  return { valid, raw };
}

/** collMod on the database's primary shard (which holds an unsharded collection and the reference copy). */
async function collMod(router: Router, ctx: CommandContext): Promise<Document> {
  const entry = await router.database(ctx.db);
  if (!entry) throw new CommandError(ErrorCode.NamespaceNotFound, `database ${ctx.db} not found`);
  const coll = ctx.body.collMod;
  if (typeof coll === 'string' && (await routingOf(router, ctx.db, coll))) {
    // The options would have to reach every shard owning chunks; only the primary shard is modelled.
    throw new CommandError(
      ErrorCode.CommandNotSupported,
      `collMod of sharded collection ${ctx.db}.${coll} is not supported`,
    );
  }
  const target = await router.shardByName(String(entry.primary));
  const reply = cleanReply(await target.runOnPrimary(ctx.db, forwardBody(ctx.body), TIMEOUT));
  if (!replyOk(reply)) throw replyError(reply);
  return shardReply(reply);
}

function namespaceArg(value: unknown, which: string): { db: string; coll: string } {
  if (typeof value !== 'string') {
    throw new CommandError(ErrorCode.TypeMismatch, `'${which}' must be of type string`);
  }
  const dot = value.indexOf('.');
  if (dot <= 0 || dot === value.length - 1) {
    throw new CommandError(ErrorCode.InvalidNamespace, `Invalid ${which} namespace: ${value}`);
  }
  return { db: value.slice(0, dot), coll: value.slice(dot + 1) };
}

async function renameCollection(router: Router, ctx: CommandContext): Promise<Document> {
  const from = namespaceArg(ctx.body.renameCollection, 'source');
  const to = namespaceArg(ctx.body.to, 'target');
  const source = await router.database(from.db);
  if (!source) {
    throw new CommandError(
      ErrorCode.NamespaceNotFound,
      `Source collection ${from.db}.${from.coll} does not exist`,
    );
  }
  if (await routingOf(router, from.db, from.coll)) {
    // Before 5.0 mongos refuses it; from 5.0 a DDL coordinator renames chunks too, which is not modelled.
    if (!atLeast(ctx.node.version, 5, 0))
      throw new CommandError(ErrorCode.IllegalOperation, "You can't rename a sharded collection");
    throw new CommandError(
      ErrorCode.CommandNotSupported,
      `renameCollection of sharded collection ${from.db}.${from.coll} is not supported`,
    );
  }
  const target = await router.ensureDatabase(to.db);
  if (String(target.primary) !== String(source.primary)) {
    throw new CommandError(13137, 'Source and destination collections must be on same shard');
  }
  const shard = await router.shardByName(String(source.primary));
  const reply = cleanReply(await shard.runOnPrimary('admin', forwardBody(ctx.body), TIMEOUT));
  if (!replyOk(reply)) throw replyError(reply);
  return shardReply(reply);
}

export function registerMongosAdminCommands(registry: CommandRegistry, router: Router): void {
  const mongos = (
    names: string[],
    adminOnly: boolean,
    handler: (ctx: CommandContext) => Promise<Document>,
  ): void => {
    registry.register({ names, adminOnly, program: 'mongos', handler });
  };
  mongos(['fsync'], true, (ctx) => fsync(router, ctx));
  registry.register({
    names: ['fsyncUnlock'],
    adminOnly: true,
    program: 'mongos',
    handler: (ctx) => {
      if (!clusterFsyncLock(ctx.node.version)) {
        throw new CommandError(ErrorCode.CommandNotFound, `no such command: '${ctx.name}'`);
      }
      return fsyncUnlock(router);
    },
  });
  mongos(['currentOp'], true, (ctx) => currentOp(router, ctx));
  mongos(['killOp'], true, (ctx) => killOp(router, ctx));
  mongos(['explain'], false, (ctx) => explain(router, ctx));
  mongos(['validate'], false, (ctx) => validate(router, ctx));
  mongos(['collMod'], false, (ctx) => collMod(router, ctx));
  mongos(['renameCollection'], true, (ctx) => renameCollection(router, ctx));

  // $currentOp through mongos: the shards' operations, or with localOps mongos' own.
  const aggregate = registry.get('aggregate');
  if (aggregate) {
    registry.register({
      ...aggregate,
      handler: async (ctx) => {
        const pipeline = Array.isArray(ctx.body.pipeline) ? (ctx.body.pipeline as unknown[]) : [];
        const first = pipeline[0];
        if (ctx.body.explain === true && typeof ctx.body.aggregate === 'string') {
          const { explain: _x, ...inner } = forwardBody(ctx.body);
          return explainAggregate(router, ctx, inner, 'queryPlanner');
        }
        if (ctx.body.aggregate !== 1 && asNumber(ctx.body.aggregate as never) !== 1)
          return aggregate.handler(ctx);
        if (!isPlainDocument(first) || !('$currentOp' in first)) return aggregate.handler(ctx);
        const spec = checkCurrentOpSpec(ctx, first.$currentOp);
        const ns = `${ctx.db}.$cmd.aggregate`;
        const docs =
          spec.localOps === true
            ? currentOpStage(ctx, spec, pipeline.slice(1))
            : runPipeline(await shardOperations(router, spec), pipeline.slice(1));
        return { cursor: { firstBatch: docs, id: Long.fromNumber(0), ns } };
      },
    });
  }
}
