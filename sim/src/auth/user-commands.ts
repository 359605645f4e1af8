// User management on mongod: createUser, updateUser, dropUser, dropAllUsersFromDatabase,
// grantRolesToUser, revokeRolesFromUser, usersInfo, and connectionStatus. User documents are written
// to admin.system.users through the replication role (primary only, replicated in the oplog).
// Sources: MongoDB manual (createUser, usersInfo, connectionStatus pages); mongod
// src/mongo/db/commands/user_management_commands.cpp (messages and codes).
import { type Document, UUID } from 'bson';
import { finishWrite, writeConcernOf } from '../commands/common.js';
import type { CommandContext, CommandRegistry } from '../commands/registry.js';
import { CommandError, ErrorCode } from '../errors.js';
import type { StorageOp } from '../storage/store.js';
import { atLeast } from '../version.js';
import type { AccessControl } from './access.js';
import { isBuiltinRole, type Privilege, type RoleName, rolePrivileges } from './roles.js';
import { DEFAULT_ITERATIONS, makeCredential, type ScramMechanism } from './scram.js';
import { mechanismsOf, rolesOf, USERS_COLL, USERS_DB, userId } from './users.js';

const USER_NOT_FOUND = 11;
const ROLE_NOT_FOUND = 31;
const USER_ALREADY_EXISTS = 51003;

function nameArg(ctx: CommandContext): string {
  const v = ctx.body[ctx.name];
  if (typeof v !== 'string' || v === '') {
    throw new CommandError(ErrorCode.BadValue, `"${ctx.name}" must be a non-empty string`);
  }
  return v;
}

function parseRoles(ctx: CommandContext, field = 'roles'): RoleName[] {
  const v = ctx.body[field];
  if (v === undefined) {
    throw atLeast(ctx.node.version, 4, 4)
      ? new CommandError(
          ErrorCode.IDLFailedToParse,
          `BSON field '${ctx.name}.${field}' is missing but a required field`,
        )
      : new CommandError(ErrorCode.BadValue, `"${ctx.name}" command requires a "${field}" array`);
  }
  if (!Array.isArray(v)) {
    throw new CommandError(
      ErrorCode.TypeMismatch,
      `BSON field '${ctx.name}.${field}' is the wrong type, expected type 'array'`,
    );
  }
  return v.map((r: unknown): RoleName => {
    if (typeof r === 'string') return { role: r, db: ctx.db };
    const d = r as Document;
    if (r && typeof r === 'object' && typeof d.role === 'string' && typeof d.db === 'string') {
      return { role: d.role, db: d.db };
    }
    throw new CommandError(
      ErrorCode.BadValue,
      'Role names must be either strings or objects with "role" and "db" fields',
    );
  });
}

function checkRolesExist(roles: RoleName[]): void {
  for (const r of roles) {
    if (!isBuiltinRole(r))
      throw new CommandError(ROLE_NOT_FOUND, `Could not find role: ${r.role}@${r.db}`, {}, 'RoleNotFound');
  }
}

function iterations(ctx: CommandContext, m: ScramMechanism): number {
  const name = m === 'SCRAM-SHA-1' ? 'scramIterationCount' : 'scramSHA256IterationCount';
  const v = Number(ctx.node.parameters.get(name));
  return Number.isInteger(v) && v >= 4096 ? v : DEFAULT_ITERATIONS[m];
}

function credentials(ctx: CommandContext, user: string, pwd: string, mechs: ScramMechanism[]): Document {
  const out: Document = {};
  for (const m of mechs) out[m] = { ...makeCredential(m, user, pwd, iterations(ctx, m)) };
  return out;
}

function requestedMechanisms(
  ctx: CommandContext,
  access: AccessControl,
  fallback?: ScramMechanism[],
): ScramMechanism[] {
  const v = ctx.body.mechanisms;
  const supported = access.mechanisms();
  if (v === undefined) return fallback && fallback.length > 0 ? fallback : supported;
  if (!Array.isArray(v) || v.length === 0) {
    throw new CommandError(ErrorCode.BadValue, 'mechanisms field must not be empty');
  }
  for (const m of v) {
    if (!(supported as unknown[]).includes(m))
      throw new CommandError(ErrorCode.BadValue, `Unknown auth mechanism '${String(m)}'`);
  }
  return v as ScramMechanism[];
}

function passwordArg(ctx: CommandContext, db: string, required: boolean): string | undefined {
  const pwd = ctx.body.pwd;
  if (pwd === undefined) {
    if (required && db !== '$external') {
      throw new CommandError(
        ErrorCode.BadValue,
        "Must provide a 'pwd' field for all user documents, except those with '$external' as the user's source db",
      );
    }
    return undefined;
  }
  if (typeof pwd !== 'string' || pwd === '')
    throw new CommandError(ErrorCode.BadValue, 'Password cannot be empty');
  return pwd;
}

function usersCollection(ctx: CommandContext) {
  return ctx.node.requireStorage().getCollection(USERS_DB, USERS_COLL);
}

/** Writes user documents on the primary (10107 elsewhere) and waits for the write concern. */
async function writeUsers(ctx: CommandContext, ops: StorageOp[], reply: Document = {}): Promise<Document> {
  ctx.node.role.checkWrite(USERS_DB);
  ctx.node.role.validateWriteConcern?.(writeConcernOf(ctx));
  const prefix: StorageOp[] = [];
  if (!usersCollection(ctx)) {
    prefix.push(
      { op: 'createCollection', db: USERS_DB, coll: USERS_COLL },
      {
        op: 'createIndex',
        db: USERS_DB,
        coll: USERS_COLL,
        spec: { v: 2, key: { user: 1, db: 1 }, name: 'user_1_db_1', unique: true },
      },
    );
  }
  const result = ctx.node.commit([...prefix, ...ops]);
  return finishWrite(ctx, result, reply);
}

function existingUser(ctx: CommandContext, user: string): Document {
  const doc = usersCollection(ctx)?.findById(userId(ctx.db, user));
  if (!doc) throw new CommandError(USER_NOT_FOUND, `User ${user}@${ctx.db} not found`, {}, 'UserNotFound');
  return doc;
}

async function createUser(ctx: CommandContext, access: AccessControl): Promise<Document> {
  const user = nameArg(ctx);
  if (ctx.db === 'local')
    throw new CommandError(ErrorCode.BadValue, 'Cannot create users in the local database');
  const pwd = passwordArg(ctx, ctx.db, true);
  const roles = parseRoles(ctx);
  checkRolesExist(roles);
  const mechs = requestedMechanisms(ctx, access);
  if (usersCollection(ctx)?.findById(userId(ctx.db, user))) {
    throw new CommandError(
      USER_ALREADY_EXISTS,
      `User "${user}@${ctx.db}" already exists`,
      {},
      'Location51003',
    );
  }
  const doc: Document = { _id: userId(ctx.db, user) };
  if (atLeast(ctx.node.version, 4, 0)) doc.userId = new UUID();
  Object.assign(doc, {
    user,
    db: ctx.db,
    credentials: pwd === undefined ? {} : credentials(ctx, user, pwd, mechs),
  });
  if (ctx.body.customData !== undefined) doc.customData = ctx.body.customData;
  doc.roles = roles.map((r) => ({ role: r.role, db: r.db }));
  return writeUsers(ctx, [{ op: 'insert', db: USERS_DB, coll: USERS_COLL, doc }]);
}

async function updateUser(ctx: CommandContext, access: AccessControl): Promise<Document> {
  const user = nameArg(ctx);
  const pwd = passwordArg(ctx, ctx.db, false);
  const b = ctx.body;
  if (
    pwd === undefined &&
    b.roles === undefined &&
    b.customData === undefined &&
    b.mechanisms === undefined
  ) {
    throw new CommandError(ErrorCode.BadValue, 'Must specify at least one field to update in updateUser');
  }
  const doc: Document = { ...existingUser(ctx, user) };
  if (pwd !== undefined) {
    doc.credentials = credentials(ctx, user, pwd, requestedMechanisms(ctx, access, mechanismsOf(doc)));
  } else if (b.mechanisms !== undefined) {
    const keep = requestedMechanisms(ctx, access);
    const current = (doc.credentials as Document | undefined) ?? {};
    doc.credentials = Object.fromEntries(
      Object.entries(current).filter(([m]) => (keep as string[]).includes(m)),
    );
  }
  if (b.roles !== undefined) {
    const roles = parseRoles(ctx);
    checkRolesExist(roles);
    doc.roles = roles.map((r) => ({ role: r.role, db: r.db }));
  }
  if (b.customData !== undefined) doc.customData = b.customData;
  return writeUsers(ctx, [{ op: 'replace', db: USERS_DB, coll: USERS_COLL, doc }]);
}

async function changeRoles(ctx: CommandContext, grant: boolean): Promise<Document> {
  const user = nameArg(ctx);
  const roles = parseRoles(ctx);
  checkRolesExist(roles);
  const doc: Document = { ...existingUser(ctx, user) };
  const current = rolesOf(doc);
  const same = (a: RoleName, b: RoleName): boolean => a.role === b.role && a.db === b.db;
  const next = grant
    ? [
        ...current,
        ...roles.filter(
          (r, i) => !current.some((c) => same(c, r)) && roles.findIndex((x) => same(x, r)) === i,
        ),
      ]
    : current.filter((c) => !roles.some((r) => same(c, r)));
  doc.roles = next.map((r) => ({ role: r.role, db: r.db }));
  return writeUsers(ctx, [{ op: 'replace', db: USERS_DB, coll: USERS_COLL, doc }]);
}

async function dropUser(ctx: CommandContext): Promise<Document> {
  const user = nameArg(ctx);
  const doc = usersCollection(ctx)?.findById(userId(ctx.db, user));
  if (!doc) throw new CommandError(USER_NOT_FOUND, `User '${user}@${ctx.db}' not found`, {}, 'UserNotFound');
  return writeUsers(ctx, [{ op: 'delete', db: USERS_DB, coll: USERS_COLL, id: doc._id }]);
}

async function dropAllUsers(ctx: CommandContext): Promise<Document> {
  const docs = [...(usersCollection(ctx)?.all() ?? [])].filter((d) => d.db === ctx.db);
  return writeUsers(
    ctx,
    docs.map((d) => ({ op: 'delete' as const, db: USERS_DB, coll: USERS_COLL, id: d._id })),
    { n: docs.length },
  );
}

function userInfo(doc: Document, showCredentials: boolean, showPrivileges: boolean): Document {
  const out: Document = { _id: doc._id };
  if (doc.userId !== undefined) out.userId = doc.userId;
  out.user = doc.user;
  out.db = doc.db;
  if (doc.customData !== undefined) out.customData = doc.customData;
  out.roles = rolesOf(doc);
  if (showCredentials) out.credentials = doc.credentials;
  if (showPrivileges) {
    out.inheritedRoles = rolesOf(doc);
    out.inheritedPrivileges = rolesOf(doc)
      .flatMap((r) => rolePrivileges(r))
      .map(privilegeDocument);
  }
  out.mechanisms = mechanismsOf(doc);
  return out;
}

async function usersInfo(ctx: CommandContext, access: AccessControl): Promise<Document> {
  const v = ctx.body.usersInfo;
  const all = await access.users.all();
  const wanted: { user: string; db: string }[] = [];
  let filter: (d: Document) => boolean;
  if (v && typeof v === 'object' && !Array.isArray(v) && (v as Document).forAllDBs === true) {
    filter = () => true;
  } else if (
    v === 1 ||
    (typeof v === 'number' && v === 1) ||
    (v !== null && typeof v === 'object' && '_bsontype' in (v as object))
  ) {
    filter = (d) => d.db === ctx.db;
  } else {
    const list = Array.isArray(v) ? v : [v];
    for (const item of list) {
      if (typeof item === 'string') wanted.push({ user: item, db: ctx.db });
      else if (item && typeof item === 'object' && typeof (item as Document).user === 'string') {
        const d = item as Document;
        wanted.push({ user: d.user as string, db: typeof d.db === 'string' ? d.db : ctx.db });
      } else {
        throw new CommandError(
          ErrorCode.BadValue,
          'User name must be either a string or an object with "user" and "db" fields',
        );
      }
    }
    filter = (d) => wanted.some((w) => w.user === d.user && w.db === d.db);
  }
  const users = all
    .filter(filter)
    .sort((a, b) => String(a._id).localeCompare(String(b._id)))
    .map((d) => userInfo(d, ctx.body.showCredentials === true, ctx.body.showPrivileges === true));
  return { users };
}

export function privilegeDocument(p: Privilege): Document {
  const r = p.resource;
  const resource: Document =
    r.kind === 'cluster'
      ? { cluster: true }
      : r.kind === 'anyResource'
        ? { anyResource: true }
        : r.kind === 'anyNormal'
          ? { db: '', collection: '' }
          : r.kind === 'db'
            ? { db: r.db, collection: '' }
            : { db: r.db, collection: r.coll };
  return { resource, actions: [...p.actions].sort() };
}

async function connectionStatus(ctx: CommandContext, access: AccessControl): Promise<Document> {
  const session = ctx.conn.auth;
  const roles = session ? await access.rolesOf(session) : [];
  const user = session?.user;
  const authInfo: Document = {
    authenticatedUsers: user ? [{ user: user.user, db: user.db }] : [],
    authenticatedUserRoles: roles.map((r) => ({ role: r.role, db: r.db })),
  };
  if (ctx.body.showPrivileges) {
    authInfo.authenticatedUserPrivileges = roles.flatMap((r) => rolePrivileges(r)).map(privilegeDocument);
  }
  return { authInfo };
}

export function registerUserCommands(registry: CommandRegistry, access: AccessControl): void {
  const mongod = (names: string[], handler: (ctx: CommandContext) => Promise<Document>): void => {
    registry.register({ names, program: 'mongod', handler });
  };
  mongod(['createUser'], (ctx) => createUser(ctx, access));
  mongod(['updateUser'], (ctx) => updateUser(ctx, access));
  mongod(['dropUser'], dropUser);
  mongod(['dropAllUsersFromDatabase'], dropAllUsers);
  mongod(['grantRolesToUser'], (ctx) => changeRoles(ctx, true));
  mongod(['revokeRolesFromUser'], (ctx) => changeRoles(ctx, false));
  mongod(['usersInfo'], (ctx) => usersInfo(ctx, access));
  registry.register({ names: ['connectionStatus'], handler: (ctx) => connectionStatus(ctx, access) });
}
