// Where user documents live: admin.system.users on mongod (written through the replication role, so
// they reach secondaries in the oplog like any write), on the config servers for mongos. Documents
// have mongod's shape: {_id: "<db>.<user>", userId, user, db, credentials: {SCRAM-SHA-1, SCRAM-SHA-256},
// roles: [{role, db}], customData?}.
// Source: MongoDB manual "system.users Collection"; reference/mongod-behavior.md §7.1–§7.2.
import type { Document } from 'bson';
import type { SimNode } from '../node.js';
import { SCRAM_MECHANISMS, type ScramCredential, type ScramMechanism } from './scram.js';

export const USERS_DB = 'admin';
export const USERS_COLL = 'system.users';

export const userId = (db: string, user: string): string => `${db}.${user}`;

/** Reads user documents; mongod reads its own storage, mongos asks its config servers. */
export interface UserSource {
  find(db: string, user: string): Promise<Document | undefined>;
  /** Every user, for usersInfo (filtered by the caller). */
  all(): Promise<Document[]>;
  /** Whether any user exists: the localhost exception closes once one does. */
  hasAny(): Promise<boolean>;
}

export class LocalUserSource implements UserSource {
  private readonly node: SimNode;

  constructor(node: SimNode) {
    this.node = node;
  }

  private collection() {
    return this.node.storage?.getCollection(USERS_DB, USERS_COLL);
  }

  async find(db: string, user: string): Promise<Document | undefined> {
    return this.collection()?.findById(userId(db, user));
  }

  async all(): Promise<Document[]> {
    return [...(this.collection()?.all() ?? [])];
  }

  async hasAny(): Promise<boolean> {
    return (this.collection()?.size ?? 0) > 0;
  }
}

export function credentialOf(doc: Document, mechanism: ScramMechanism): ScramCredential | undefined {
  const c = (doc.credentials as Document | undefined)?.[mechanism] as Document | undefined;
  if (!c) return undefined;
  const iterationCount = Number(c.iterationCount);
  if (typeof c.salt !== 'string' || typeof c.storedKey !== 'string' || typeof c.serverKey !== 'string')
    return undefined;
  return { iterationCount, salt: c.salt, storedKey: c.storedKey, serverKey: c.serverKey };
}

export function mechanismsOf(doc: Document): ScramMechanism[] {
  const creds = (doc.credentials as Document | undefined) ?? {};
  return SCRAM_MECHANISMS.filter((m) => creds[m] !== undefined);
}

export function rolesOf(doc: Document): { role: string; db: string }[] {
  const roles = Array.isArray(doc.roles) ? (doc.roles as Document[]) : [];
  return roles
    .filter((r) => typeof r.role === 'string' && typeof r.db === 'string')
    .map((r) => ({ role: r.role as string, db: r.db as string }));
}

/**
 * mongos keeps no users: it reads them from the config servers' admin.system.users (as mongod's
 * router does through its catalog client). Once a user exists the answer to hasAny stays true.
 */
export class RemoteUserSource implements UserSource {
  private readonly query: (filter: Document) => Promise<Document[]>;
  private anyUser = false;

  constructor(query: (filter: Document) => Promise<Document[]>) {
    this.query = query;
  }

  async find(db: string, user: string): Promise<Document | undefined> {
    return (await this.query({ _id: userId(db, user) }))[0];
  }

  async all(): Promise<Document[]> {
    return this.query({});
  }

  async hasAny(): Promise<boolean> {
    if (!this.anyUser) this.anyUser = (await this.query({})).length > 0;
    return this.anyUser;
  }
}
