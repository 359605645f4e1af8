// The cluster's admin user: created once through the localhost exception (a loopback connection may create
// the first user while none exists — "Localhost Exception" in the MongoDB manual), then checked by
// authenticating with the stored password.
import { MupError } from '../errors.js';
import { adminCommand, formatAddress, type ServerAddress } from './connect.js';
import type { MongoCredentials } from './credentials.js';

/** createUser's "User "x@admin" already exists" (mongod's error code 51003). */
const USER_ALREADY_EXISTS = 51003;
/** 13 Unauthorized: the localhost exception is closed (some user exists already). */
const UNAUTHORIZED = 13;

/** True when `credentials` authenticate on `address` (a cheap command runs as that user). */
export async function credentialsWork(
  address: ServerAddress,
  credentials: MongoCredentials,
): Promise<boolean> {
  try {
    const status = await adminCommand(
      { ...address, credentials },
      {
        connectionStatus: 1,
      },
    );
    const users = (status.authInfo?.authenticatedUsers ?? []) as { user?: string; db?: string }[];
    return users.some((u) => u.user === credentials.username && u.db === credentials.source);
  } catch {
    return false;
  }
}

/**
 * Creates `credentials` as a root user on `address` (a primary or a mongos) over an unauthenticated
 * connection. Idempotent: a user that already exists (51003), or a closed localhost exception (13), is
 * accepted when the stored password authenticates — an earlier attempt may have been killed right after
 * createUser — and an error otherwise.
 */
export async function createRootUser(
  address: ServerAddress,
  credentials: MongoCredentials,
  options: { scramSha256: boolean },
): Promise<'created' | 'existed'> {
  const plain = { ...address, credentials: undefined };
  try {
    await adminCommand(
      plain,
      {
        createUser: credentials.username,
        pwd: credentials.password,
        roles: [{ role: 'root', db: 'admin' }],
        // SCRAM-SHA-256 arrived with 4.0; 3.6 stores SCRAM-SHA-1 only.
        mechanisms: options.scramSha256 ? ['SCRAM-SHA-256'] : ['SCRAM-SHA-1'],
      },
      { timeoutMs: 30_000 },
    );
    return 'created';
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== USER_ALREADY_EXISTS && code !== UNAUTHORIZED) throw error;
    if (await credentialsWork(plain, credentials)) return 'existed';
    throw new MupError(
      `${formatAddress(address)}: cannot create user ${credentials.toString()} (${(error as Error).message}), and the stored password does not authenticate`,
      {
        cause: error,
        hint: 'another user was created on this cluster outside mup, or its password changed; restore the stored credentials or redeploy',
      },
    );
  }
}
