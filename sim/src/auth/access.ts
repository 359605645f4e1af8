// Access control for one process: the user source, the __system credentials derived from the
// keyFile, the localhost exception, and the check every command passes before it runs.
// Order and messages follow mongod's checkAuthorizationImplPreParse / CommandInvocation::
// checkAuthorization (src/mongo/db/commands.cpp): without authorization everything is allowed; a
// command that requires authentication fails with 13 "command <name> requires authentication" on an
// unauthenticated connection (unless the localhost exception applies); missing privileges fail with
// 13 "not authorized on <db> to execute command { ... }".
// The localhost exception (authorization_session_impl.cpp _getDefaultPrivileges): while no user
// exists, a loopback connection may create users on admin (and grant admin roles) and configure the
// replica set / add shards, nothing else; it closes once any user exists.
import type { Document } from 'bson';
import type { CommandContext } from '../commands/registry.js';
import { CommandError, ErrorCode } from '../errors.js';
import type { SimNode } from '../node.js';
import { atLeast } from '../version.js';
import { type Requirement, requirementFor } from './requirements.js';
import { hasPrivilege, type Privilege, Resources, rolePrivileges } from './roles.js';
import { makeCredential, type ScramCredential, type ScramMechanism } from './scram.js';
import type { AuthSession, UserName } from './session.js';
import { LocalUserSource, rolesOf, type UserSource } from './users.js';

export const SYSTEM_USER: UserName = { user: '__system', db: 'local' };

/** What a loopback connection may do while no user exists. */
const LOCALHOST_PRIVILEGES: readonly Privilege[] = [
  { resource: Resources.db('admin'), actions: ['createUser', 'grantRole'] },
  { resource: Resources.db('$external'), actions: ['createUser'] },
  {
    resource: Resources.cluster,
    actions: ['addShard', 'replSetConfigure', 'replSetGetStatus', 'issueDirectShardOperations'],
  },
];

const SYSTEM_PRIVILEGES: readonly Privilege[] = [{ resource: { kind: 'anyResource' }, actions: ['*'] }];

export function isLoopback(address: string): boolean {
  const a = address.replace(/^::ffff:/, '');
  return a === '::1' || /^127\./.test(a);
}

export class AccessControl {
  private readonly node: SimNode;
  /** security.authorization enabled (or implied by a keyFile). */
  readonly enforced: boolean;
  users: UserSource;
  /** __system's credentials, derived from the keyFile as mongod does; none without a keyFile. */
  private readonly systemCredentials = new Map<ScramMechanism, ScramCredential>();
  private localhostNoted = false;

  constructor(node: SimNode) {
    this.node = node;
    this.enforced = node.options.authorization;
    this.users = new LocalUserSource(node);
    const key = node.clusterKey;
    if (key) {
      for (const m of this.mechanisms()) {
        this.systemCredentials.set(m, makeCredential(m, SYSTEM_USER.user, key));
      }
    }
  }

  /** SCRAM-SHA-256 arrived with 4.0; 3.6 knows SCRAM-SHA-1 only. */
  mechanisms(): ScramMechanism[] {
    return atLeast(this.node.version, 4, 0) ? ['SCRAM-SHA-1', 'SCRAM-SHA-256'] : ['SCRAM-SHA-1'];
  }

  /** The user document SCRAM checks against, including the key-derived __system@local. */
  async userDocument(db: string, user: string): Promise<Document | undefined> {
    if (db === SYSTEM_USER.db && user === SYSTEM_USER.user) {
      if (this.systemCredentials.size === 0) return undefined;
      return {
        _id: 'local.__system',
        user,
        db,
        credentials: Object.fromEntries(this.systemCredentials),
        roles: [{ role: '__system', db: 'admin' }],
      };
    }
    return this.users.find(db, user);
  }

  /** Roles of the connection's user, read afresh so grants and drops apply at once (as mongod's cache invalidation). */
  async rolesOf(session: AuthSession): Promise<{ role: string; db: string }[]> {
    const user = session.user;
    if (!user) return [];
    if (user.user === SYSTEM_USER.user && user.db === SYSTEM_USER.db)
      return [{ role: '__system', db: 'admin' }];
    const doc = await this.users.find(user.db, user.user);
    if (!doc) {
      // The user was dropped: the connection is no longer authenticated (mongod clears the session).
      session.user = undefined;
      return [];
    }
    return rolesOf(doc);
  }

  async localhostException(ctx: CommandContext): Promise<boolean> {
    if (!this.enforced || !isLoopback(ctx.conn.remoteAddress)) return false;
    const bypass = this.node.parameters.get('enableLocalhostAuthBypass');
    if (bypass === false || bypass === 'false' || bypass === '0' || bypass === 0) return false;
    if (await this.users.hasAny()) return false;
    if (!this.localhostNoted) {
      this.localhostNoted = true;
      this.node.log.info(
        'ACCESS',
        20248,
        `conn${ctx.conn.id}`,
        'note: no users configured in admin.system.users, allowing localhost access',
      );
    }
    return true;
  }

  private async privileges(session: AuthSession, localhost: boolean): Promise<Privilege[]> {
    const user = session.user;
    if (user && user.user === SYSTEM_USER.user && user.db === SYSTEM_USER.db) return [...SYSTEM_PRIVILEGES];
    const out: Privilege[] = [];
    for (const r of await this.rolesOf(session)) out.push(...rolePrivileges(r));
    if (localhost) out.push(...LOCALHOST_PRIVILEGES);
    return out;
  }

  /** Whether the connection holds `action` on `resource` (commands that filter their output). */
  async allows(ctx: CommandContext, resource: Privilege['resource'], action: string): Promise<boolean> {
    const session = ctx.conn.auth;
    if (!session || !this.enforced) return true;
    const localhost = await this.localhostException(ctx);
    return hasPrivilege(await this.privileges(session, localhost), resource, action);
  }

  /** Throws 13 Unauthorized as mongod does; connections without a session are the server's own. */
  async check(ctx: CommandContext): Promise<void> {
    const session = ctx.conn.auth;
    if (!session || !this.enforced) return;
    const req: Requirement = requirementFor(ctx);
    if (req.kind === 'none') return;
    const localhost = await this.localhostException(ctx);
    if (session.user) await this.rolesOf(session);
    if (!localhost && !session.user) {
      throw this.denied(ctx, `command ${ctx.name} requires authentication`);
    }
    if (req.kind === 'authenticated') return;
    if (req.kind === 'selfOr' && session.user?.user === req.self.user && session.user.db === req.self.db)
      return;
    const granted = await this.privileges(session, localhost);
    for (const need of req.needs) {
      if (!hasPrivilege(granted, need.resource, need.action)) {
        throw this.denied(ctx, `not authorized on ${ctx.db} to execute command ${bsonText(redacted(ctx))}`);
      }
    }
  }

  private denied(ctx: CommandContext, message: string): CommandError {
    this.node.log.info('ACCESS', 20436, `conn${ctx.conn.id}`, 'Checking authorization failed', {
      error: { code: ErrorCode.Unauthorized, codeName: 'Unauthorized', errmsg: message },
    });
    return new CommandError(ErrorCode.Unauthorized, message);
  }
}

/** Passwords never appear in messages or logs (mongod's redactForLogging: "xxx"). */
function redacted(ctx: CommandContext): Document {
  const body: Document = { ...ctx.body };
  if (body.pwd !== undefined) body.pwd = 'xxx';
  if (body.payload !== undefined) body.payload = 'xxx';
  return body;
}

/** mongod's BSONObj::toString rendering: { insert: "c", ordered: true, lsid: { id: UUID("…") }, $db: "test" }. */
export function bsonText(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(v);
  if (typeof v === 'boolean') return String(v);
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `[ ${v.map(bsonText).join(', ')} ]`;
  const t = (v as { _bsontype?: string })._bsontype;
  if (t !== undefined) {
    const x = v as { toHexString?: (dashes?: boolean) => string; sub_type?: number; toString: () => string };
    if (t === 'ObjectId' || t === 'ObjectID') return `ObjectId('${x.toHexString?.() ?? ''}')`;
    if (t === 'Binary' && x.sub_type === 4 && x.toHexString)
      return `UUID("${(v as { toUUID: () => { toHexString: (d: boolean) => string } }).toUUID().toHexString(true)}")`;
    if (t === 'Binary')
      return `BinData(${x.sub_type ?? 0}, ${Buffer.from((v as { buffer: Uint8Array }).buffer)
        .toString('hex')
        .toUpperCase()})`;
    if (t === 'Timestamp') {
      const ts = v as { t: number; i: number };
      return `Timestamp(${ts.t}, ${ts.i})`;
    }
    if (t === 'Double') return String((v as { value: number }).value);
    if (t === 'Int32') return String((v as { value: number }).value);
    return x.toString();
  }
  const entries = Object.entries(v as Document);
  return entries.length === 0 ? '{}' : `{ ${entries.map(([k, x]) => `${k}: ${bsonText(x)}`).join(', ')} }`;
}
