// What each command needs before it runs under access control: nothing (mongod's requiresAuth()
// false), any authenticated user, or privileges on the cluster, a database or a namespace.
// Sources: mongod src/mongo/db/commands.cpp (checkAuthorizationImplPreParse), the commands'
// addRequiredPrivileges/checkAuthForOperation, MongoDB manual "Privilege Actions".
import type { Document } from 'bson';
import type { CommandContext } from '../commands/registry.js';
import { type Resource, Resources } from './roles.js';

export interface Need {
  readonly resource: Resource;
  readonly action: string;
}

export type Requirement =
  | { readonly kind: 'none' }
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'privileges'; readonly needs: readonly Need[] }
  /** usersInfo on nothing but the caller's own user needs no privilege. */
  | { readonly kind: 'selfOr'; readonly self: { user: string; db: string }; readonly needs: readonly Need[] };

/** Commands with requiresAuth() false in mongod: they run before any authentication. */
const NO_AUTH = new Set([
  'hello',
  'isMaster',
  'ismaster',
  'buildInfo',
  'buildinfo',
  'ping',
  'saslStart',
  'saslContinue',
  'authenticate',
  'logout',
  'connectionStatus',
]);

/** Commands any authenticated user may run (no privilege checked). */
const AUTHENTICATED = new Set([
  'endSessions',
  'refreshSessions',
  'killSessions',
  'startSession',
  'whatsmyuri',
  'listCommands',
  'features',
  'isdbgrid',
  'commitTransaction',
  'abortTransaction',
]);

/** Member-to-member commands: only the cluster's own __system user may run them. */
const INTERNAL = new Set([
  'replSetHeartbeat',
  'replSetRequestVotes',
  'replSetUpdatePosition',
  'replSetGetRBID',
]);

const CLUSTER_ACTION: Record<string, string> = {
  listDatabases: 'listDatabases',
  serverStatus: 'serverStatus',
  hostInfo: 'hostInfo',
  getCmdLineOpts: 'getCmdLineOpts',
  getParameter: 'getParameter',
  setParameter: 'setParameter',
  getLog: 'getLog',
  logRotate: 'logRotate',
  shutdown: 'shutdown',
  currentOp: 'inprog',
  killOp: 'killop',
  top: 'top',
  replSetResizeOplog: 'replSetResizeOplog',
  killAllSessions: 'killAnySession',
  getFreeMonitoringStatus: 'checkFreeMonitoringStatus',
  replSetInitiate: 'replSetConfigure',
  replSetReconfig: 'replSetConfigure',
  replSetGetStatus: 'replSetGetStatus',
  replSetGetConfig: 'replSetGetConfig',
  replSetStepDown: 'replSetStateChange',
  replSetStepUp: 'replSetStateChange',
  replSetFreeze: 'replSetStateChange',
  replSetMaintenance: 'replSetStateChange',
  replSetSyncFrom: 'replSetStateChange',
  setDefaultRWConcern: 'setDefaultRWConcern',
  getDefaultRWConcern: 'getDefaultRWConcern',
  setFeatureCompatibilityVersion: 'setFeatureCompatibilityVersion',
  addShard: 'addShard',
  listShards: 'listShards',
  removeShard: 'removeShard',
  flushRouterConfig: 'flushRouterConfig',
  configureFailPoint: 'internal',
};

/** Commands on the namespace named by the command's value. */
const NS_ACTION: Record<string, readonly string[]> = {
  find: ['find'],
  count: ['find'],
  distinct: ['find'],
  aggregate: ['find'],
  listIndexes: ['listIndexes'],
  insert: ['insert'],
  delete: ['remove'],
  create: ['createCollection'],
  drop: ['dropCollection'],
  createIndexes: ['createIndex'],
  dropIndexes: ['dropIndex'],
  deleteIndexes: ['dropIndex'],
  collStats: ['collStats'],
  collMod: ['collMod'],
  validate: ['validate'],
  killCursors: ['killCursors'],
};

const DB_ACTION: Record<string, string> = {
  dbStats: 'dbStats',
  dbstats: 'dbStats',
  listCollections: 'listCollections',
  dropDatabase: 'dropDatabase',
  dbHash: 'dbHash',
  dbhash: 'dbHash',
};

const ns = (ctx: CommandContext, coll: unknown): Resource =>
  typeof coll === 'string' ? Resources.ns(ctx.db, coll) : Resources.db(ctx.db);

function roleDbs(ctx: CommandContext, value: unknown): string[] {
  const roles = Array.isArray(value) ? value : [];
  return roles.map((r) =>
    typeof r === 'string'
      ? ctx.db
      : typeof (r as Document)?.db === 'string'
        ? ((r as Document).db as string)
        : ctx.db,
  );
}

const needs = (list: Need[]): Requirement => ({ kind: 'privileges', needs: list });

function userManagement(ctx: CommandContext): Requirement | undefined {
  const b = ctx.body;
  const onDb = (action: string, d = ctx.db): Need => ({ resource: Resources.db(d), action });
  switch (ctx.name) {
    case 'createUser':
      return needs([onDb('createUser'), ...roleDbs(ctx, b.roles).map((d) => onDb('grantRole', d))]);
    case 'updateUser': {
      const list: Need[] = [];
      if (b.pwd !== undefined) list.push(onDb('changePassword'));
      if (b.customData !== undefined) list.push(onDb('changeCustomData'));
      if (b.roles !== undefined) {
        list.push(...roleDbs(ctx, b.roles).map((d) => onDb('grantRole', d)), onDb('revokeRole'));
      }
      return needs(list.length > 0 ? list : [onDb('changePassword')]);
    }
    case 'dropUser':
    case 'dropAllUsersFromDatabase':
      return needs([onDb('dropUser')]);
    case 'grantRolesToUser':
      return needs(roleDbs(ctx, b.roles).map((d) => onDb('grantRole', d)));
    case 'revokeRolesFromUser':
      return needs(roleDbs(ctx, b.roles).map((d) => onDb('revokeRole', d)));
    case 'usersInfo': {
      const v = b.usersInfo;
      const view = [onDb('viewUser')];
      if (typeof v === 'string') return { kind: 'selfOr', self: { user: v, db: ctx.db }, needs: view };
      if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as Document).user === 'string') {
        const d = typeof (v as Document).db === 'string' ? ((v as Document).db as string) : ctx.db;
        return {
          kind: 'selfOr',
          self: { user: (v as Document).user as string, db: d },
          needs: [onDb('viewUser', d)],
        };
      }
      if (v && typeof v === 'object' && (v as Document).forAllDBs === true) {
        return needs([{ resource: Resources.anyNormal, action: 'viewUser' }]);
      }
      return needs(view);
    }
    default:
      return undefined;
  }
}

function sharding(ctx: CommandContext): Requirement | undefined {
  const v = ctx.body[ctx.name];
  switch (ctx.name) {
    case 'enableSharding':
      return needs([{ resource: Resources.db(String(v)), action: 'enableSharding' }]);
    case 'shardCollection': {
      const [d = '', ...rest] = String(v).split('.');
      return needs([{ resource: Resources.ns(d, rest.join('.')), action: 'enableSharding' }]);
    }
    case 'movePrimary':
      return needs([{ resource: Resources.db(String(v)), action: 'moveChunk' }]);
    case 'balancerStart':
    case 'balancerStop':
      return needs([{ resource: Resources.ns('config', 'settings'), action: 'update' }]);
    case 'balancerStatus':
      return needs([{ resource: Resources.ns('config', 'settings'), action: 'find' }]);
    default:
      return undefined;
  }
}

export function requirementFor(ctx: CommandContext): Requirement {
  const name = ctx.name;
  if (NO_AUTH.has(name)) return { kind: 'none' };
  if (AUTHENTICATED.has(name)) return { kind: 'authenticated' };
  if (INTERNAL.has(name) || name.startsWith('_')) {
    return needs([{ resource: Resources.cluster, action: 'internal' }]);
  }
  const clusterAction = CLUSTER_ACTION[name];
  if (clusterAction) return needs([{ resource: Resources.cluster, action: clusterAction }]);
  const dbAction = DB_ACTION[name];
  if (dbAction) return needs([{ resource: Resources.db(ctx.db), action: dbAction }]);
  const body = ctx.body;
  const nsActions = NS_ACTION[name];
  if (nsActions) return needs(nsActions.map((action) => ({ resource: ns(ctx, body[name]), action })));
  if (name === 'getMore') return needs([{ resource: ns(ctx, body.collection), action: 'find' }]);
  if (name === 'update') {
    const upsert = Array.isArray(body.updates) && body.updates.some((u: Document) => u?.upsert === true);
    const list = [{ resource: ns(ctx, body.update), action: 'update' }];
    if (upsert) list.push({ resource: ns(ctx, body.update), action: 'insert' });
    return needs(list);
  }
  if (name === 'findAndModify' || name === 'findandmodify') {
    const r = ns(ctx, body[name]);
    const list = [{ resource: r, action: 'find' }];
    list.push({ resource: r, action: body.remove === true ? 'remove' : 'update' });
    if (body.upsert === true) list.push({ resource: r, action: 'insert' });
    return needs(list);
  }
  return (
    userManagement(ctx) ??
    sharding(ctx) ??
    // A command this table does not know: only cluster administrators (root, clusterAdmin).
    needs([{ resource: Resources.cluster, action: 'unlistedCommand' }])
  );
}
