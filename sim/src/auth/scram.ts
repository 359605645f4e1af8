// SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677) as MongoDB uses them over saslStart /
// saslContinue: stored credentials, the server's side of a conversation, and the client side that
// members use to authenticate to each other as __system.
// Sources: reference/mongod-behavior.md §7.1; MongoDB's auth specification (source/auth/auth.md):
// SCRAM-SHA-1 hashes the password as hex(MD5("<user>:mongo:<password>")) first, SCRAM-SHA-256 uses the
// SASLprepped password; the server nonce extends the client nonce; skipEmptyExchange ends the
// conversation after the server signature.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export type ScramMechanism = 'SCRAM-SHA-1' | 'SCRAM-SHA-256';
export const SCRAM_MECHANISMS: readonly ScramMechanism[] = ['SCRAM-SHA-1', 'SCRAM-SHA-256'];

/** What admin.system.users keeps per mechanism (base64 strings, as mongod stores them). */
export interface ScramCredential {
  readonly iterationCount: number;
  readonly salt: string;
  readonly storedKey: string;
  readonly serverKey: string;
}

/** mongod's defaults (scramIterationCount, scramSHA256IterationCount). */
export const DEFAULT_ITERATIONS: Record<ScramMechanism, number> = {
  'SCRAM-SHA-1': 10000,
  'SCRAM-SHA-256': 15000,
};

const hashName = (m: ScramMechanism): 'sha1' | 'sha256' => (m === 'SCRAM-SHA-1' ? 'sha1' : 'sha256');
const keyLength = (m: ScramMechanism): number => (m === 'SCRAM-SHA-1' ? 20 : 32);

/** MongoDB's legacy password digest, the "password" SCRAM-SHA-1 salts. */
export function passwordDigest(user: string, password: string): string {
  return createHash('md5').update(`${user}:mongo:${password}`).digest('hex');
}

/** The string SCRAM hashes for a mechanism (SASLprep approximated by NFKC normalisation). */
export function scramPassword(mechanism: ScramMechanism, user: string, password: string): string {
  return mechanism === 'SCRAM-SHA-1' ? passwordDigest(user, password) : password.normalize('NFKC');
}

function hmac(m: ScramMechanism, key: Buffer, data: string): Buffer {
  return createHmac(hashName(m), key).update(data).digest();
}

function saltedPassword(m: ScramMechanism, password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(password, salt, iterations, keyLength(m), hashName(m));
}

export function makeCredential(
  mechanism: ScramMechanism,
  user: string,
  password: string,
  iterations = DEFAULT_ITERATIONS[mechanism],
): ScramCredential {
  const salt = randomBytes(mechanism === 'SCRAM-SHA-1' ? 16 : 28);
  const salted = saltedPassword(mechanism, scramPassword(mechanism, user, password), salt, iterations);
  const clientKey = hmac(mechanism, salted, 'Client Key');
  return {
    iterationCount: iterations,
    salt: salt.toString('base64'),
    storedKey: createHash(hashName(mechanism)).update(clientKey).digest('base64'),
    serverKey: hmac(mechanism, salted, 'Server Key').toString('base64'),
  };
}

/** "a=b,c=d" → {a:"b", c:"d"} (values may contain '='). */
function attributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

/** Why a step failed; the client only ever sees "Authentication failed." (code 18). */
export class ScramError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScramError';
  }
}

/** The first client message, parsed: "n,,n=<user>,r=<nonce>". */
export interface ClientFirst {
  readonly user: string;
  readonly nonce: string;
  readonly bare: string;
}

export function parseClientFirst(payload: string): ClientFirst {
  // GS2 header: no channel binding ("n") or client supports it but server does not ("y"); no authzid.
  const m = /^([ny]),(?:a=[^,]*)?,(.*)$/.exec(payload);
  if (!m) throw new ScramError(`Incorrect SCRAM client|server first message header: ${payload}`);
  const bare = m[2] as string;
  const attrs = attributes(bare);
  const rawUser = attrs.get('n');
  const nonce = attrs.get('r');
  if (rawUser === undefined || nonce === undefined || nonce === '') {
    throw new ScramError(`Invalid SCRAM client first message: ${bare}`);
  }
  return { user: rawUser.replace(/=2C/g, ',').replace(/=3D/g, '='), nonce, bare };
}

/** The server half of one conversation, after the user and its credential were looked up. */
export class ScramServerConversation {
  private readonly mechanism: ScramMechanism;
  private readonly credential: ScramCredential;
  private readonly first: ClientFirst;
  private readonly serverFirst: string;
  private readonly nonce: string;

  constructor(mechanism: ScramMechanism, credential: ScramCredential, first: ClientFirst) {
    this.mechanism = mechanism;
    this.credential = credential;
    this.first = first;
    this.nonce = first.nonce + randomBytes(24).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${credential.salt},i=${credential.iterationCount}`;
  }

  get serverFirstMessage(): string {
    return this.serverFirst;
  }

  /** Checks the client's proof; returns the server-final message "v=<signature>". */
  verify(clientFinal: string): string {
    const attrs = attributes(clientFinal);
    const proof = attrs.get('p');
    if (attrs.get('c') !== 'biws' && attrs.get('c') !== 'eSws') {
      throw new ScramError('Unexpected SCRAM channel binding attribute in client-final-message');
    }
    if (attrs.get('r') !== this.nonce) throw new ScramError('Unmatched SCRAM nonce received from client');
    if (proof === undefined) throw new ScramError('Missing SCRAM proof');
    const withoutProof = clientFinal.slice(0, clientFinal.lastIndexOf(',p='));
    const authMessage = `${this.first.bare},${this.serverFirst},${withoutProof}`;
    const storedKey = Buffer.from(this.credential.storedKey, 'base64');
    const signature = hmac(this.mechanism, storedKey, authMessage);
    const proofBytes = Buffer.from(proof, 'base64');
    if (proofBytes.length !== signature.length) throw new ScramError('SCRAM authentication failed');
    const clientKey = Buffer.alloc(signature.length);
    for (let i = 0; i < signature.length; i++)
      clientKey[i] = (proofBytes[i] as number) ^ (signature[i] as number);
    const computed = createHash(hashName(this.mechanism)).update(clientKey).digest();
    if (!timingSafeEqual(computed, storedKey))
      throw new ScramError('SCRAM authentication failed, storedKey mismatch');
    const serverKey = Buffer.from(this.credential.serverKey, 'base64');
    return `v=${hmac(this.mechanism, serverKey, authMessage).toString('base64')}`;
  }
}

/** Runs one command and returns its reply (the member-to-member client). */
export type RunCommand = (db: string, body: Record<string, unknown>) => Promise<Record<string, unknown>>;

/** Raised when the server refused the conversation (wrong key, unknown user). */
export class ScramClientError extends Error {
  readonly code: number | undefined;
  constructor(message: string, code?: number) {
    super(message);
    this.name = 'ScramClientError';
    this.code = code;
  }
}

function payloadText(reply: Record<string, unknown>): string {
  const p = reply.payload as { buffer?: Uint8Array } | Uint8Array | undefined;
  if (p instanceof Uint8Array) return Buffer.from(p).toString('utf8');
  if (p && p.buffer instanceof Uint8Array) return Buffer.from(p.buffer).toString('utf8');
  return '';
}

function checkReply(reply: Record<string, unknown>): void {
  if (Number(reply.ok) !== 1) {
    throw new ScramClientError(
      String(reply.errmsg ?? 'authentication failed'),
      typeof reply.code === 'number' ? reply.code : undefined,
    );
  }
}

/**
 * The client side, as a driver runs it: saslStart, saslContinue with the proof, check the server
 * signature. `password` is the plain password (SCRAM-SHA-1 digests it as drivers do).
 */
export async function authenticateScram(
  run: RunCommand,
  toPayload: (text: string) => unknown,
  mechanism: ScramMechanism,
  db: string,
  user: string,
  password: string,
): Promise<void> {
  const clientNonce = randomBytes(24).toString('base64');
  const escaped = user.replace(/=/g, '=3D').replace(/,/g, '=2C');
  const bare = `n=${escaped},r=${clientNonce}`;
  const start = await run(db, {
    saslStart: 1,
    mechanism,
    payload: toPayload(`n,,${bare}`),
    autoAuthorize: 1,
    options: { skipEmptyExchange: true },
  });
  checkReply(start);
  const serverFirst = payloadText(start);
  const attrs = attributes(serverFirst);
  const nonce = attrs.get('r') ?? '';
  const salt = Buffer.from(attrs.get('s') ?? '', 'base64');
  const iterations = Number(attrs.get('i'));
  if (!nonce.startsWith(clientNonce) || !(iterations >= 4096)) {
    throw new ScramClientError('invalid SCRAM server first message');
  }
  const salted = saltedPassword(mechanism, scramPassword(mechanism, user, password), salt, iterations);
  const clientKey = hmac(mechanism, salted, 'Client Key');
  const storedKey = createHash(hashName(mechanism)).update(clientKey).digest();
  const withoutProof = `c=biws,r=${nonce}`;
  const authMessage = `${bare},${serverFirst},${withoutProof}`;
  const signature = hmac(mechanism, storedKey, authMessage);
  const proof = Buffer.alloc(clientKey.length);
  for (let i = 0; i < clientKey.length; i++) proof[i] = (clientKey[i] as number) ^ (signature[i] as number);
  const cont = await run(db, {
    saslContinue: 1,
    conversationId: start.conversationId,
    payload: toPayload(`${withoutProof},p=${proof.toString('base64')}`),
  });
  checkReply(cont);
  const expected = hmac(mechanism, hmac(mechanism, salted, 'Server Key'), authMessage).toString('base64');
  if (attributes(payloadText(cont)).get('v') !== expected) {
    throw new ScramClientError('server signature mismatch');
  }
  if (cont.done !== true) {
    const last = await run(db, {
      saslContinue: 1,
      conversationId: start.conversationId,
      payload: toPayload(''),
    });
    checkReply(last);
  }
}
