// Privileges and MongoDB's built-in roles. A privilege is a set of actions on a resource: the cluster,
// a database, one namespace, every normal (non-system) namespace, or any resource. Resource matching
// follows mongod: a database privilege covers the database and its normal collections, anyNormal
// covers every database and normal collection, system collections need an exact grant.
// Source: MongoDB manual "Built-In Roles" and "Privilege Actions"; mongod src/mongo/db/auth
// (builtin_roles, resource_pattern, action_types).

export type Resource =
  | { readonly kind: 'cluster' }
  | { readonly kind: 'anyResource' }
  | { readonly kind: 'anyNormal' }
  | { readonly kind: 'db'; readonly db: string }
  | { readonly kind: 'ns'; readonly db: string; readonly coll: string };

export interface Privilege {
  readonly resource: Resource;
  readonly actions: readonly string[];
}

export interface RoleName {
  readonly role: string;
  readonly db: string;
}

const CLUSTER: Resource = { kind: 'cluster' };
const ANY_NORMAL: Resource = { kind: 'anyNormal' };
const ANY: Resource = { kind: 'anyResource' };
const db = (name: string): Resource => ({ kind: 'db', db: name });
const ns = (d: string, coll: string): Resource => ({ kind: 'ns', db: d, coll });

const READ = [
  'changeStream',
  'collStats',
  'dbHash',
  'dbStats',
  'find',
  'killCursors',
  'listCollections',
  'listIndexes',
  'listSearchIndexes',
];
const READ_WRITE = [
  ...READ,
  'convertToCapped',
  'createCollection',
  'createIndex',
  'createSearchIndexes',
  'dropCollection',
  'dropIndex',
  'dropSearchIndex',
  'insert',
  'remove',
  'renameCollectionSameDB',
  'update',
  'updateSearchIndex',
];
const DB_ADMIN = [
  'bypassDocumentValidation',
  'collMod',
  'collStats',
  'compact',
  'convertToCapped',
  'createCollection',
  'createIndex',
  'dbStats',
  'dropCollection',
  'dropDatabase',
  'dropIndex',
  'enableProfiler',
  'listCollections',
  'listIndexes',
  'planCacheIndexFilter',
  'planCacheRead',
  'planCacheWrite',
  'reIndex',
  'renameCollectionSameDB',
  'storageDetails',
  'validate',
];
const USER_ADMIN = [
  'changeCustomData',
  'changePassword',
  'createRole',
  'createUser',
  'dropRole',
  'dropUser',
  'grantRole',
  'revokeRole',
  'setAuthenticationRestriction',
  'viewRole',
  'viewUser',
];
const CLUSTER_MONITOR = [
  'checkFreeMonitoringStatus',
  'connPoolStats',
  'getCmdLineOpts',
  'getDefaultRWConcern',
  'getLog',
  'getParameter',
  'getShardMap',
  'hostInfo',
  'inprog',
  'listDatabases',
  'listSessions',
  'listShards',
  'netstat',
  'replSetGetConfig',
  'replSetGetStatus',
  'serverStatus',
  'shardingState',
  'top',
  'useUUID',
];
const CLUSTER_MANAGER = [
  'addShard',
  'appendOplogNote',
  'applicationMessage',
  'cleanupOrphaned',
  'flushRouterConfig',
  'getDefaultRWConcern',
  'listSessions',
  'listShards',
  'removeShard',
  'replSetConfigure',
  'replSetGetConfig',
  'replSetGetStatus',
  'replSetStateChange',
  'resync',
  'setDefaultRWConcern',
  'setFeatureCompatibilityVersion',
  'setFreeMonitoring',
];
const CLUSTER_MANAGER_NORMAL = [
  'enableSharding',
  'clearJumboFlag',
  'moveChunk',
  'refineCollectionShardKey',
  'reshardCollection',
  'splitChunk',
  'splitVector',
];
const HOST_MANAGER = [
  'applicationMessage',
  'closeAllDatabases',
  'connPoolSync',
  'dropConnections',
  'flushRouterConfig',
  'fsync',
  'invalidateUserCache',
  'killAnyCursor',
  'killAnySession',
  'killop',
  'logRotate',
  'resync',
  'rotateCertificates',
  'setParameter',
  'shutdown',
  'touch',
  'unlock',
];
/** Everything the config and local databases need for cluster management (clusterManager). */
const CONFIG_LOCAL = [
  'collStats',
  'dbHash',
  'dbStats',
  'find',
  'insert',
  'killCursors',
  'listCollections',
  'listIndexes',
  'remove',
  'update',
];
const RESTORE_NORMAL = [
  'bypassDocumentValidation',
  'changeCustomData',
  'changePassword',
  'collMod',
  'convertToCapped',
  'createCollection',
  'createIndex',
  'createRole',
  'createUser',
  'dropCollection',
  'dropRole',
  'dropUser',
  'grantRole',
  'insert',
  'revokeRole',
  'viewRole',
  'viewUser',
];

type RoleBuilder = (roleDb: string) => Privilege[];

const clusterMonitor: RoleBuilder = () => [
  { resource: CLUSTER, actions: CLUSTER_MONITOR },
  {
    resource: ANY_NORMAL,
    actions: ['collStats', 'dbHash', 'dbStats', 'getDatabaseVersion', 'getShardVersion', 'indexStats'],
  },
  { resource: db('config'), actions: ['find'] },
  { resource: ns('local', 'system.replset'), actions: ['find'] },
  { resource: ns('local', 'oplog.rs'), actions: ['find'] },
];
const clusterManager: RoleBuilder = () => [
  { resource: CLUSTER, actions: CLUSTER_MANAGER },
  { resource: ANY_NORMAL, actions: CLUSTER_MANAGER_NORMAL },
  { resource: db('config'), actions: CONFIG_LOCAL },
  { resource: db('local'), actions: CONFIG_LOCAL },
  { resource: ns('local', 'system.replset'), actions: ['find'] },
];
const hostManager: RoleBuilder = () => [
  { resource: CLUSTER, actions: HOST_MANAGER },
  { resource: ANY, actions: ['killCursors', 'repairDatabase'] },
];
const clusterAdmin: RoleBuilder = (d) => [
  ...clusterManager(d),
  ...clusterMonitor(d),
  ...hostManager(d),
  { resource: ANY_NORMAL, actions: ['dropDatabase'] },
  // Commands the simulator's privilege table does not list are left to cluster administrators.
  { resource: CLUSTER, actions: ['unlistedCommand'] },
];
const userAdminAnyDatabase: RoleBuilder = () => [
  { resource: ANY_NORMAL, actions: USER_ADMIN },
  { resource: CLUSTER, actions: ['authSchemaUpgrade', 'invalidateUserCache', 'listDatabases', 'viewUser'] },
  {
    resource: ns('admin', 'system.users'),
    actions: [
      'collStats',
      'dbHash',
      'dbStats',
      'find',
      'killCursors',
      'planCacheRead',
      'createIndex',
      'dropIndex',
    ],
  },
  {
    resource: ns('admin', 'system.roles'),
    actions: [
      'collStats',
      'dbHash',
      'dbStats',
      'find',
      'killCursors',
      'planCacheRead',
      'createIndex',
      'dropIndex',
    ],
  },
];
const backup: RoleBuilder = () => [
  {
    resource: CLUSTER,
    actions: [
      'appendOplogNote',
      'getParameter',
      'listDatabases',
      'serverStatus',
      'listSessions',
      'getDefaultRWConcern',
    ],
  },
  { resource: ANY_NORMAL, actions: ['collStats', 'dbHash', 'find', 'listCollections', 'listIndexes'] },
  { resource: ANY, actions: ['listCollections', 'listIndexes'] },
  { resource: db('config'), actions: ['find'] },
  { resource: db('local'), actions: ['find'] },
  { resource: ns('admin', 'system.users'), actions: ['find'] },
  { resource: ns('admin', 'system.roles'), actions: ['find'] },
  { resource: ns('admin', 'system.version'), actions: ['find'] },
  { resource: ns('config', 'settings'), actions: ['find', 'insert', 'update'] },
];
const restore: RoleBuilder = () => [
  {
    resource: ANY_NORMAL,
    actions: [...RESTORE_NORMAL, 'listCollections', 'listIndexes'],
  },
  { resource: CLUSTER, actions: ['getParameter'] },
  {
    resource: ns('admin', 'system.users'),
    actions: ['find', 'insert', 'update', 'remove', 'createIndex', 'dropIndex'],
  },
  {
    resource: ns('admin', 'system.roles'),
    actions: ['find', 'insert', 'update', 'remove', 'createIndex', 'dropIndex'],
  },
  { resource: ns('admin', 'system.version'), actions: ['find', 'insert', 'update'] },
];

const BUILTIN: Record<string, { readonly adminOnly: boolean; readonly build: RoleBuilder }> = {
  read: { adminOnly: false, build: (d) => [{ resource: db(d), actions: READ }] },
  readWrite: { adminOnly: false, build: (d) => [{ resource: db(d), actions: READ_WRITE }] },
  dbAdmin: {
    adminOnly: false,
    build: (d) => [
      { resource: db(d), actions: DB_ADMIN },
      {
        resource: ns(d, 'system.profile'),
        actions: [
          'changeStream',
          'collStats',
          'convertToCapped',
          'createCollection',
          'dbHash',
          'dbStats',
          'dropCollection',
          'find',
          'killCursors',
          'listCollections',
          'listIndexes',
          'planCacheRead',
        ],
      },
    ],
  },
  userAdmin: { adminOnly: false, build: (d) => [{ resource: db(d), actions: USER_ADMIN }] },
  dbOwner: {
    adminOnly: false,
    build: (d) => [{ resource: db(d), actions: [...new Set([...READ_WRITE, ...DB_ADMIN, ...USER_ADMIN])] }],
  },
  clusterMonitor: { adminOnly: true, build: clusterMonitor },
  clusterManager: { adminOnly: true, build: clusterManager },
  hostManager: { adminOnly: true, build: hostManager },
  clusterAdmin: { adminOnly: true, build: clusterAdmin },
  readAnyDatabase: {
    adminOnly: true,
    build: () => [
      { resource: ANY_NORMAL, actions: READ },
      { resource: CLUSTER, actions: ['listDatabases'] },
    ],
  },
  readWriteAnyDatabase: {
    adminOnly: true,
    build: () => [
      { resource: ANY_NORMAL, actions: READ_WRITE },
      { resource: CLUSTER, actions: ['listDatabases'] },
    ],
  },
  dbAdminAnyDatabase: {
    adminOnly: true,
    build: () => [
      { resource: ANY_NORMAL, actions: DB_ADMIN },
      { resource: CLUSTER, actions: ['listDatabases'] },
    ],
  },
  userAdminAnyDatabase: { adminOnly: true, build: userAdminAnyDatabase },
  backup: { adminOnly: true, build: backup },
  restore: { adminOnly: true, build: restore },
  root: {
    adminOnly: true,
    build: (d) => [
      { resource: ANY_NORMAL, actions: [...new Set([...READ_WRITE, ...DB_ADMIN])] },
      { resource: CLUSTER, actions: ['listDatabases'] },
      ...userAdminAnyDatabase(d),
      ...clusterAdmin(d),
      ...restore(d),
      ...backup(d),
      { resource: ANY, actions: ['validate'] },
    ],
  },
  __system: { adminOnly: true, build: () => [{ resource: ANY, actions: ['*'] }] },
};

/** Whether `role@db` names a built-in role (cluster-wide roles exist only on admin). */
export function isBuiltinRole(name: RoleName): boolean {
  const spec = BUILTIN[name.role];
  if (!spec || name.role === '__system') return name.role === '__system' && name.db === 'admin';
  return !spec.adminOnly || name.db === 'admin';
}

export function rolePrivileges(name: RoleName): Privilege[] {
  const spec = BUILTIN[name.role];
  if (!spec || (spec.adminOnly && name.db !== 'admin')) return [];
  return spec.build(name.db);
}

const isSystem = (coll: string): boolean => coll.startsWith('system.');

/** Whether a granted resource covers a required one (mongod's resource pattern matching). */
export function covers(granted: Resource, required: Resource): boolean {
  if (granted.kind === 'anyResource') return true;
  switch (required.kind) {
    case 'cluster':
      return granted.kind === 'cluster';
    case 'anyResource':
      return false;
    case 'anyNormal':
      return granted.kind === 'anyNormal';
    case 'db':
      return granted.kind === 'anyNormal' || (granted.kind === 'db' && granted.db === required.db);
    case 'ns':
      if (granted.kind === 'ns') return granted.db === required.db && granted.coll === required.coll;
      if (isSystem(required.coll)) return false;
      return granted.kind === 'anyNormal' || (granted.kind === 'db' && granted.db === required.db);
  }
}

export function hasPrivilege(granted: readonly Privilege[], resource: Resource, action: string): boolean {
  return granted.some(
    (p) => (p.actions.includes(action) || p.actions.includes('*')) && covers(p.resource, resource),
  );
}

/** Whether any privilege names this database or a collection in it (listDatabases' authorized filter). */
export function hasAnyOnDatabase(granted: readonly Privilege[], name: string): boolean {
  return granted.some(
    (p) =>
      p.resource.kind === 'anyResource' ||
      p.resource.kind === 'anyNormal' ||
      ((p.resource.kind === 'db' || p.resource.kind === 'ns') && p.resource.db === name),
  );
}

export const Resources = { cluster: CLUSTER, anyNormal: ANY_NORMAL, db, ns };
