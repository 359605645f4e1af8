// Talking to a replica set over the wire the way mongos and the config server do: discover the
// primary with hello, run commands on it, and rediscover and retry when the primary moved or a
// connection dropped. A small connection pool per host keeps one slow command (a majority wait)
// from stalling the others, since a server answers one command at a time per connection.
import type { Document } from 'bson';
import { asNumber } from '../bsonvalues.js';
import { CommandError } from '../errors.js';
import { type ConnectOptions, WireClient } from '../wire/client.js';
import { formatConnectionString, type SetConnectionString, splitHostPort } from './connection-string.js';

/** Codes after which the primary must be rediscovered (not primary, stepping down, shutting down; §3.10). */
const RETARGET_CODES = new Set([10107, 13435, 13436, 189, 11602, 91, 11600, 10058]);
const POOL_SIZE = 4;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface PooledClient {
  client: WireClient;
  inFlight: number;
}

/** A pool of connections per host, shared by every set target of a process. */
export class HostPool {
  private readonly pools = new Map<string, PooledClient[]>();
  private readonly connecting = new Map<string, Promise<PooledClient>>();
  /** keyFile authentication (and TLS) for every connection, read when one opens. */
  private readonly connectOptions: () => ConnectOptions;

  constructor(connectOptions: () => ConnectOptions = () => ({})) {
    this.connectOptions = connectOptions;
  }

  async run(host: string, db: string, body: Document, timeoutMs: number): Promise<Document> {
    const pc = await this.acquire(host, Math.min(timeoutMs, 5000));
    pc.inFlight++;
    try {
      return await pc.client.command(db, body, timeoutMs);
    } finally {
      pc.inFlight--;
      if (pc.client.isClosed) this.drop(host, pc);
    }
  }

  reset(host: string): void {
    for (const pc of this.pools.get(host) ?? []) pc.client.close();
    this.pools.delete(host);
  }

  closeAll(): void {
    for (const host of [...this.pools.keys()]) this.reset(host);
  }

  private drop(host: string, pc: PooledClient): void {
    const list = this.pools.get(host);
    if (list)
      this.pools.set(
        host,
        list.filter((p) => p !== pc),
      );
  }

  private async acquire(host: string, connectTimeoutMs: number): Promise<PooledClient> {
    const list = (this.pools.get(host) ?? []).filter((p) => !p.client.isClosed);
    this.pools.set(host, list);
    const idle = list.find((p) => p.inFlight === 0);
    if (idle) return idle;
    if (list.length >= POOL_SIZE) {
      return list.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    }
    let pending = this.connecting.get(host);
    if (!pending) {
      const { host: name, port } = splitHostPort(host);
      pending = WireClient.connect(name, port, connectTimeoutMs, this.connectOptions()).then((client) => {
        const pc = { client, inFlight: 0 };
        const now = this.pools.get(host) ?? [];
        now.push(pc);
        this.pools.set(host, now);
        return pc;
      });
      this.connecting.set(host, pending);
      const clear = (): void => {
        if (this.connecting.get(host) === pending) this.connecting.delete(host);
      };
      pending.then(clear, clear);
    }
    return pending;
  }
}

export interface RunOptions {
  /** Per-attempt reply timeout. */
  readonly timeoutMs?: number;
  /** How long to keep looking for a primary and retrying retargetable failures. */
  readonly retryForMs?: number;
}

export function replyOk(reply: Document): boolean {
  return asNumber(reply.ok) === 1;
}

/** Turns an ok:0 reply into the CommandError a caller can rethrow unchanged. */
export function replyError(reply: Document): CommandError {
  const code = asNumber(reply.code) ?? 8;
  const extra: Document = {};
  for (const k of ['errInfo', 'errorLabels', 'writeErrors', 'writeConcernError']) {
    if (reply[k] !== undefined) extra[k] = reply[k];
  }
  return new CommandError(
    code,
    String(reply.errmsg ?? 'unknown error'),
    extra,
    typeof reply.codeName === 'string' ? reply.codeName : undefined,
  );
}

/** One replica set (the config servers or a shard), reached through its primary. */
export class SetTarget {
  readonly cs: SetConnectionString;
  private readonly pool: HostPool;
  private knownHosts: string[];
  private primary: string | undefined;
  /**
   * mongos only talks to servers at least as new as itself (its internal wire range is [latest,
   * latest]); members below it are unusable and reported as IncompatibleServerVersion.
   */
  private readonly minWireVersion: number | undefined;
  private incompatible: CommandError | undefined;

  constructor(cs: SetConnectionString, pool: HostPool, minWireVersion?: number) {
    this.cs = cs;
    this.pool = pool;
    this.knownHosts = [...cs.hosts];
    this.minWireVersion = minWireVersion;
  }

  /** Set when the last discovery found only members too old for this process. */
  get incompatibility(): CommandError | undefined {
    return this.incompatible;
  }

  /** wire_version.cpp validateWireVersion: the server's range must reach the client's minimum. */
  private checkWire(reply: Document): CommandError | undefined {
    if (this.minWireVersion === undefined) return undefined;
    const max = asNumber(reply.maxWireVersion) ?? 0;
    if (max >= this.minWireVersion) return undefined;
    const min = asNumber(reply.minWireVersion) ?? 0;
    const w = this.minWireVersion;
    return new CommandError(
      188,
      `Server min and max wire version (${min},${max}) is incompatible with client min wire version (${w},${w}).You (client) are attempting to connect to a node (server) with a binary version with which you (client) no longer accept connections. Please upgrade the server’s binary version.`,
      {},
      'IncompatibleServerVersion',
    );
  }

  get connectionString(): string {
    return formatConnectionString(this.cs);
  }

  get setName(): string {
    return this.cs.setName;
  }

  /** Every host the set is known to have: the seeds plus what hello reported. */
  get hosts(): readonly string[] {
    return this.knownHosts;
  }

  /** hello on one host; rejects when it cannot be reached. */
  hello(host: string, timeoutMs = 5000): Promise<Document> {
    const body: Document = { isMaster: 1 };
    if (this.minWireVersion !== undefined) {
      body.internalClient = { minWireVersion: this.minWireVersion, maxWireVersion: this.minWireVersion };
    }
    return this.pool.run(host, 'admin', body, timeoutMs);
  }

  private learn(reply: Document): void {
    for (const key of ['hosts', 'passives']) {
      const list = reply[key];
      if (!Array.isArray(list)) continue;
      for (const h of list)
        if (typeof h === 'string' && !this.knownHosts.includes(h)) this.knownHosts.push(h);
    }
  }

  /**
   * One discovery pass: hello every known host; returns the primary if one says it is writable.
   * `replies` collects every answer (addShard validates them).
   */
  async discover(replies?: Map<string, Document>): Promise<string | undefined> {
    const results = await Promise.all(
      this.knownHosts.map(async (h) => {
        try {
          const r = await this.hello(h);
          return [h, r] as const;
        } catch {
          this.pool.reset(h);
          return undefined;
        }
      }),
    );
    let found: string | undefined;
    let incompatible: CommandError | undefined;
    for (const entry of results) {
      if (!entry) continue;
      const [h, r] = entry;
      const tooOld = this.checkWire(r);
      if (tooOld) {
        incompatible = tooOld;
        continue;
      }
      replies?.set(h, r);
      if (this.cs.setName && r.setName !== undefined && r.setName !== this.cs.setName) continue;
      this.learn(r);
      if (r.ismaster === true || r.isWritablePrimary === true) found = h;
    }
    this.incompatible = found ? undefined : incompatible;
    this.primary = found;
    return found;
  }

  /** Finds the primary within `waitMs`, polling every 200 ms. */
  async findPrimary(waitMs: number): Promise<string | undefined> {
    if (this.primary) return this.primary;
    const deadline = Date.now() + waitMs;
    for (;;) {
      const p = await this.discover();
      if (p || Date.now() >= deadline) return p;
      await sleep(200);
    }
  }

  /** The error mongos reports when no primary can be found (FailedToSatisfyReadPreference). */
  noPrimaryError(): CommandError {
    return new CommandError(
      133,
      `Could not find host matching read preference { mode: "primary" } for set ${this.cs.setName}`,
      {},
      'FailedToSatisfyReadPreference',
    );
  }

  /** Runs a command on the primary; rediscovers and retries on not-primary replies and network errors. */
  async runOnPrimary(db: string, body: Document, opts: RunOptions = {}): Promise<Document> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const deadline = Date.now() + (opts.retryForMs ?? 10_000);
    let lastError: unknown;
    for (;;) {
      const primary = await this.findPrimary(Math.max(0, deadline - Date.now()));
      if (primary) {
        try {
          const reply = await this.pool.run(primary, db, body, timeoutMs);
          const code = asNumber(reply.code);
          if (replyOk(reply) || code === undefined || !RETARGET_CODES.has(code)) return reply;
          lastError = replyError(reply);
        } catch (err) {
          lastError = err;
          this.pool.reset(primary);
        }
        this.primary = undefined;
      }
      if (Date.now() >= deadline) break;
      await sleep(200);
    }
    if (lastError instanceof CommandError) throw lastError;
    throw this.incompatible ?? this.noPrimaryError();
  }

  /**
   * A member to read from with read preference "nearest", as mongos reads the catalog: the primary
   * when there is one, else any secondary (so routing keeps working during a config server election).
   */
  async readableHost(waitMs: number): Promise<string | undefined> {
    if (this.primary) return this.primary;
    const deadline = Date.now() + waitMs;
    for (;;) {
      const replies = new Map<string, Document>();
      const primary = await this.discover(replies);
      if (primary) return primary;
      for (const [h, r] of replies) {
        if (r.secondary === true && (!this.cs.setName || r.setName === this.cs.setName)) return h;
      }
      if (Date.now() >= deadline) return undefined;
      await sleep(200);
    }
  }

  /** Forgets what is known about a member after a failure (its connections and primary status). */
  forget(host: string): void {
    this.pool.reset(host);
    if (this.primary === host) this.primary = undefined;
  }

  /** Runs on a specific member (no retry). */
  runOnHost(host: string, db: string, body: Document, timeoutMs = 30_000): Promise<Document> {
    return this.pool.run(host, db, body, timeoutMs);
  }
}
