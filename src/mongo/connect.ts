// Driver access with short, explicit timeouts. Every admin command mup sends goes through `withServer`
// (one direct connection to one process) or `withCluster` (a replica-set or mongos URI).
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { Document, MongoClient, MongoClientOptions } from 'mongodb';
import { MupError } from '../errors.js';
import type { MongoCredentials } from './credentials.js';

/** How to reach a server that requires TLS: the CA to trust and, through a tunnel, the name to verify. */
export interface TlsClient {
  /** PEM file of the CA that signed the servers' certificates (the cluster CA, on the control machine). */
  caFile: string;
  /**
   * Verify the server's certificate for this name instead of the address connected to: a connection through
   * an SSH tunnel reaches 127.0.0.1 but speaks to the host the certificate was issued for.
   */
  serverName?: string | undefined;
}

export interface ServerAddress {
  host: string;
  port: number;
  /** Authenticate as this user; none for a cluster without auth (or the localhost exception). */
  credentials?: MongoCredentials | undefined;
  /** Connect with TLS (a cluster deployed with TLS refuses plain connections); none for plain TCP. */
  tls?: TlsClient | undefined;
}

export function formatAddress(address: ServerAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

export interface ConnectOptions {
  /** Bound on connecting and on selecting the server. */
  timeoutMs?: number;
  /**
   * Bound on each reply (the socket timeout); none by default. A server that accepts a command and never
   * answers would otherwise hold the operation for ever.
   */
  replyTimeoutMs?: number;
  /** For withCluster: authenticate as this user (withServer takes them from the address). */
  credentials?: MongoCredentials | undefined;
  /** For withCluster: connect with TLS (withServer takes it from the address). */
  tls?: TlsClient | undefined;
}

/** Driver options that authenticate as `credentials` (SCRAM; the driver picks SHA-256 where the server offers it). */
function authOptions(credentials: MongoCredentials | undefined): MongoClientOptions {
  if (credentials === undefined) return {};
  return {
    auth: { username: credentials.username, password: credentials.password },
    authSource: credentials.source,
  };
}

/** Driver options for a TLS connection that trusts `tls.caFile` only, and checks the server's name. */
export function tlsOptions(tls: TlsClient | undefined): MongoClientOptions {
  if (tls === undefined) return {};
  const serverName = tls.serverName;
  return {
    tls: true,
    tlsCAFile: tls.caFile,
    ...(serverName === undefined
      ? {}
      : {
          checkServerIdentity: (_host: string, cert: PeerCertificate) =>
            checkServerIdentity(serverName, cert),
        }),
  };
}

/** The server refused the credentials (18 AuthenticationFailed): say whose, never with the password. */
export class MongoAuthenticationError extends MupError {
  constructor(target: string, credentials: MongoCredentials, cause: unknown) {
    super(`${target}: authentication as ${credentials.toString()} failed: ${(cause as Error).message}`, {
      cause,
      hint: "the cluster's stored credentials do not match its users; see `mup cluster credentials <cluster>`",
    });
  }
}

function isAuthenticationFailure(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    code === 18 ||
    ((error as Error).name === 'MongoServerError' && /Authentication failed/i.test((error as Error).message))
  );
}

async function openClient(
  uri: string,
  extra: MongoClientOptions,
  timeoutMs: number,
  credentials: MongoCredentials | undefined,
  tls: TlsClient | undefined,
  target: string,
): Promise<MongoClient> {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: 0,
    maxPoolSize: 2,
    appName: 'mup',
    ...extra,
    ...authOptions(credentials),
    ...tlsOptions(tls),
  });
  try {
    await client.connect();
  } catch (error) {
    await client.close(true).catch(() => undefined);
    if (credentials !== undefined && isAuthenticationFailure(error))
      throw new MongoAuthenticationError(target, credentials, error);
    throw error;
  }
  return client;
}

/**
 * Resolves once a TCP connection to the address opens, rejects at once when it is refused. The driver keeps
 * retrying a refused connection until its selection timeout, so a process that is down would otherwise cost
 * the whole timeout (display must stay fast with members down). With `attemptEveryMs`, a new connection is
 * opened at that interval beside the earlier ones (the first to open wins): a lost SYN is resent by the kernel
 * only after a second, so a bound near that would call a live host on a lossy link dead after one lost packet.
 * `signal` gives up early (rejects, its sockets closed).
 */
export async function checkReachable(
  address: ServerAddress,
  timeoutMs: number,
  options: { attemptEveryMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const { connect } = await import('node:net');
  await new Promise<void>((resolve, reject) => {
    const sockets: ReturnType<typeof connect>[] = [];
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(again);
      options.signal?.removeEventListener('abort', abort);
      for (const socket of sockets) socket.destroy();
      if (error === undefined) resolve();
      else reject(error);
    };
    const attempt = () => {
      const socket = connect({ host: address.host, port: address.port });
      sockets.push(socket);
      socket.once('connect', () => finish());
      socket.on('error', (error) => finish(new Error(`${formatAddress(address)}: ${error.message}`)));
    };
    const timer = setTimeout(
      () => finish(new Error(`${formatAddress(address)}: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const again =
      options.attemptEveryMs === undefined ? undefined : setInterval(attempt, options.attemptEveryMs);
    const abort = () => finish(new Error(`${formatAddress(address)}: given up`));
    if (options.signal?.aborted) {
      abort();
      return;
    }
    options.signal?.addEventListener('abort', abort);
    attempt();
  });
}

/** Runs `fn` with a client connected directly to one mongod/mongos (no topology discovery). */
export async function withServer<T>(
  address: ServerAddress,
  fn: (client: MongoClient) => Promise<T>,
  options: ConnectOptions = {},
): Promise<T> {
  await checkReachable(address, options.timeoutMs ?? 5000);
  const client = await openClient(
    `mongodb://${formatAddress(address)}/`,
    {
      directConnection: true,
      ...(options.replyTimeoutMs === undefined ? {} : { socketTimeoutMS: options.replyTimeoutMs }),
    },
    options.timeoutMs ?? 5000,
    address.credentials,
    address.tls,
    formatAddress(address),
  );
  try {
    return await fn(client);
  } finally {
    await client.close(true);
  }
}

/** Runs `fn` with a client on a full URI (replica set or mongos list). */
export async function withCluster<T>(
  uri: string,
  fn: (client: MongoClient) => Promise<T>,
  options: ConnectOptions = {},
): Promise<T> {
  const client = await openClient(
    uri,
    {},
    options.timeoutMs ?? 10_000,
    options.credentials,
    options.tls,
    uri,
  );
  try {
    return await fn(client);
  } finally {
    await client.close(true);
  }
}

/** Sends an admin command to one process directly; `timeoutMs` bounds the connection and the reply. */
export async function adminCommand(
  address: ServerAddress,
  command: Document,
  options: ConnectOptions = {},
): Promise<Document> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return withServer(address, (client) => client.db('admin').command(command), {
    timeoutMs,
    replyTimeoutMs: options.replyTimeoutMs ?? timeoutMs,
  });
}

/** hello (isMaster for servers that predate it is answered by the driver's handshake either way). */
export async function hello(address: ServerAddress, options: ConnectOptions = {}): Promise<Document> {
  return adminCommand(address, { isMaster: 1 }, options);
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `probe` until it returns a value (not undefined) or the deadline passes; returns undefined on timeout.
 * Bounded by `timeoutMs`, so it always ends.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not ready yet
    }
    if (Date.now() >= deadline) return undefined;
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}
