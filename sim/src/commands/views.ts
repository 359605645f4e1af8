// Read-only views: `create` with viewOn/pipeline stores the definition in <db>.system.views as mongod does
// ({_id: "<db>.<view>", viewOn, pipeline}); reads of a view run its pipeline over the source (views on
// views resolve recursively); writes to a view fail with 166 CommandNotSupportedOnView.
// Source: MongoDB manual "Views" and "create" (viewOn, pipeline), error_codes.yml (166, 165).
import type { Document } from 'bson';
import { CommandError, ErrorCode } from '../errors.js';
import { isPlainDocument } from '../query/paths.js';
import type { Storage, StorageOp } from '../storage/store.js';
import { runPipeline } from './aggregate.js';
import { checkNamespace, finishWrite } from './common.js';
import type { CommandContext, CommandHandler, CommandRegistry } from './registry.js';

const VIEWS = 'system.views';
/** mongod's ViewGraph::kMaxViewDepth. */
const MAX_VIEW_DEPTH = 20;

export interface ViewDefinition {
  readonly viewOn: string;
  readonly pipeline: Document[];
}

export function viewDefinition(storage: Storage, db: string, name: string): ViewDefinition | undefined {
  const doc = storage.getCollection(db, VIEWS)?.findById(`${db}.${name}`);
  if (!doc) return undefined;
  return { viewOn: String(doc.viewOn), pipeline: (doc.pipeline as Document[] | undefined) ?? [] };
}

/** The documents a view shows (its pipeline over its source), or undefined when `name` is not a view. */
export function viewDocuments(storage: Storage, db: string, name: string, depth = 0): Document[] | undefined {
  const view = viewDefinition(storage, db, name);
  if (!view) return undefined;
  if (depth >= MAX_VIEW_DEPTH) {
    throw new CommandError(
      165,
      `View depth too deep or view cycle detected. Maximum depth is ${MAX_VIEW_DEPTH}`,
      {},
      'ViewDepthLimitExceeded',
    );
  }
  const source = viewDocuments(storage, db, view.viewOn, depth + 1) ?? [
    ...(storage.getCollection(db, view.viewOn)?.all() ?? []),
  ];
  return runPipeline(source, view.pipeline);
}

export function notSupportedOnView(db: string, name: string): CommandError {
  return new CommandError(
    166,
    `Namespace ${db}.${name} is a view, not a collection`,
    {},
    'CommandNotSupportedOnView',
  );
}

/** listCollections entries of the views of `db` (type "view", options {viewOn, pipeline}, readOnly). */
export function viewInfos(storage: Storage, db: string, nameOnly: boolean): Document[] {
  const coll = storage.getCollection(db, VIEWS);
  if (!coll) return [];
  return [...coll.all()].map((d) => {
    const name = String(d._id).slice(db.length + 1);
    if (nameOnly) return { name, type: 'view' };
    return {
      name,
      type: 'view',
      options: { viewOn: d.viewOn, pipeline: d.pipeline },
      info: { readOnly: true },
    };
  });
}

async function createView(ctx: CommandContext, name: string): Promise<Document> {
  const storage = ctx.node.requireStorage();
  const viewOn = ctx.body.viewOn;
  const pipeline = ctx.body.pipeline ?? [];
  if (typeof viewOn !== 'string') {
    throw new CommandError(
      ErrorCode.TypeMismatch,
      "BSON field 'create.viewOn' is the wrong type, expected type 'string'",
    );
  }
  if (viewOn === '') throw new CommandError(ErrorCode.BadValue, "'viewOn' cannot be empty");
  checkNamespace(ctx.db, viewOn);
  if (!Array.isArray(pipeline) || !pipeline.every(isPlainDocument)) {
    throw new CommandError(
      ErrorCode.TypeMismatch,
      "BSON field 'create.pipeline' is the wrong type, expected type 'array'",
    );
  }
  if (storage.getCollection(ctx.db, name) || viewDefinition(storage, ctx.db, name)) {
    throw new CommandError(ErrorCode.NamespaceExists, `Namespace already exists: ${ctx.db}.${name}`);
  }
  // A view over itself (directly or through others) is a cycle mongod refuses at creation.
  let next: string | undefined = viewOn;
  for (let depth = 0; next !== undefined; depth++) {
    if (next === name || depth >= MAX_VIEW_DEPTH) {
      throw new CommandError(
        165,
        `View depth too deep or view cycle detected. Maximum depth is ${MAX_VIEW_DEPTH}`,
        {},
        'ViewDepthLimitExceeded',
      );
    }
    next = viewDefinition(storage, ctx.db, next)?.viewOn;
  }
  const ops: StorageOp[] = storage.getCollection(ctx.db, VIEWS)
    ? []
    : [{ op: 'createCollection', db: ctx.db, coll: VIEWS }];
  ops.push({ op: 'insert', db: ctx.db, coll: VIEWS, doc: { _id: `${ctx.db}.${name}`, viewOn, pipeline } });
  return finishWrite(ctx, ctx.node.commit(ops), {});
}

/** Wraps create (viewOn makes a view) and drop (of a view removes its definition). */
export function registerViewCommands(registry: CommandRegistry): void {
  const wrap = (name: string, handler: (ctx: CommandContext, inner: CommandHandler) => Promise<Document>) => {
    const spec = registry.get(name);
    if (!spec) return;
    const inner = spec.handler;
    registry.register({ ...spec, handler: (ctx) => handler(ctx, inner) });
  };
  wrap('create', async (ctx, inner) => {
    const name = ctx.body.create;
    if (ctx.body.viewOn === undefined || typeof name !== 'string') return inner(ctx);
    checkNamespace(ctx.db, name);
    ctx.node.role.checkWrite(ctx.db);
    return createView(ctx, name);
  });
  wrap('drop', async (ctx, inner) => {
    const name = ctx.body.drop;
    const storage = ctx.node.requireStorage();
    if (typeof name !== 'string' || !viewDefinition(storage, ctx.db, name)) return inner(ctx);
    ctx.node.role.checkWrite(ctx.db);
    const result = ctx.node.commit([{ op: 'delete', db: ctx.db, coll: VIEWS, id: `${ctx.db}.${name}` }]);
    return finishWrite(ctx, result, { ns: `${ctx.db}.${name}` });
  });
}
