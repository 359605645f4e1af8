// mongos' view of the cluster: the config server set (sharding.configDB), the shard registry read from
// config.shards, database and collection routing read from config.databases / config.collections /
// config.chunks, and the cursors it hands out for cursors opened on shards. Metadata is read from the
// config server primary with majority read concern and written only through `_configsvr*` commands
// with majority write concern, as mongos does. Source: reference/mongod-behavior.md §4.2, §4.3.

import { type Document, Long } from 'bson';
import { internalConnectOptions } from '../auth/internal.js';
import { asNumber } from '../bsonvalues.js';
import { CursorManager } from '../cursors.js';
import { CommandError } from '../errors.js';
import type { SimNode } from '../node.js';
import { atLeast, maxWireVersion } from '../version.js';
import { parseConnectionString } from './connection-string.js';
import { drainCursorOnHost } from './data-copy.js';
import { HostPool, type RunOptions, replyError, replyOk, SetTarget } from './remote.js';

const MAJORITY = { w: 'majority', wtimeout: 60_000 } as const;
/** Log id of the retry line; the message text is mongos', the id is not verified. */
const LOG_ID_SHARDING_INIT_RETRY = 22851;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface RemoteCursor {
  readonly target: SetTarget;
  readonly remoteId: Long;
  readonly ns: string;
}

export class Router {
  readonly node: SimNode;
  readonly pool = new HostPool(() => internalConnectOptions(this.node));
  readonly config: SetTarget;
  private readonly shardTargets = new Map<string, SetTarget>();
  private readonly cursors = new Map<string, RemoteCursor>();
  /** Cursors over results merged on mongos (scatter-gather finds and aggregations). */
  readonly mergedCursors = new CursorManager();
  private pinger: NodeJS.Timeout | undefined;
  private nextCursor = BigInt(Math.floor(Math.random() * 2 ** 40)) * 1000n + 1n;

  constructor(node: SimNode) {
    this.node = node;
    this.config = new SetTarget(
      parseConnectionString(node.options.configDB ?? ''),
      this.pool,
      maxWireVersion(node.version),
    );
  }

  /** Runs a `_configsvr*` command on the config server primary; ok:0 replies become errors. */
  async configCommand(body: Document): Promise<Document> {
    const reply = await this.config.runOnPrimary(
      'admin',
      { ...body, writeConcern: MAJORITY },
      { timeoutMs: 120_000 },
    );
    if (!replyOk(reply)) throw replyError(reply);
    return reply;
  }

  /**
   * Reads a config collection with read preference "nearest" and majority read concern, as mongos'
   * catalog client does; retries on another member if the chosen one fails.
   */
  async readConfig(coll: string, filter: Document = {}, opts: RunOptions = {}): Promise<Document[]> {
    const deadline = Date.now() + (opts.retryForMs ?? 10_000);
    let lastError: unknown;
    for (;;) {
      const host = await this.config.readableHost(Math.max(0, deadline - Date.now()));
      if (host) {
        try {
          return await drainCursorOnHost(
            this.config,
            host,
            'config',
            { find: coll, filter, readConcern: { level: 'majority' } },
            opts.timeoutMs,
          );
        } catch (err) {
          lastError = err;
          this.config.forget(host);
        }
      }
      if (Date.now() >= deadline) break;
      await sleep(200);
    }
    if (lastError instanceof CommandError) throw lastError;
    if (this.config.incompatibility) throw this.config.incompatibility;
    throw new CommandError(
      133,
      `Could not find host matching read preference { mode: "nearest" } for set ${this.config.setName}`,
      {},
      'FailedToSatisfyReadPreference',
    );
  }

  async shards(): Promise<Document[]> {
    return this.readConfig('shards');
  }

  /** The shard's replica set target, reused across commands so its known primary is kept. */
  shardTargetFor(shard: Document): SetTarget {
    const host = String(shard.host);
    let t = this.shardTargets.get(host);
    if (!t) {
      t = new SetTarget(parseConnectionString(host), this.pool, maxWireVersion(this.node.version));
      this.shardTargets.set(host, t);
    }
    return t;
  }

  async shardByName(name: string): Promise<SetTarget> {
    const [doc] = await this.readConfig('shards', { _id: name });
    if (!doc) throw new CommandError(70, `Shard ${name} not found`, {}, 'ShardNotFound');
    return this.shardTargetFor(doc);
  }

  async database(db: string): Promise<Document | undefined> {
    const [doc] = await this.readConfig('databases', { _id: db });
    return doc;
  }

  /** The database entry, created on the config server (which picks the primary shard) if missing. */
  async ensureDatabase(db: string): Promise<Document> {
    const existing = await this.database(db);
    if (existing) return existing;
    await this.configCommand({ _configsvrCreateDatabase: db });
    const created = await this.database(db);
    if (!created) throw new CommandError(70, `Database ${db} could not be created`, {}, 'ShardNotFound');
    return created;
  }

  async shardedCollection(ns: string): Promise<Document | undefined> {
    const [doc] = await this.readConfig('collections', { _id: ns });
    if (!doc || doc.dropped === true) return undefined;
    return doc;
  }

  /** The shard owning a sharded collection's data (one chunk per collection in this model). */
  async chunkOwner(coll: Document): Promise<string | undefined> {
    const filter = atLeast(this.node.version, 5, 0) ? { uuid: coll.uuid } : { ns: coll._id };
    const chunks = await this.readConfig('chunks', filter);
    return chunks[0]?.shard as string | undefined;
  }

  /**
   * The shard a command on db(.coll) goes to: the chunk owner of a sharded collection, else the
   * database's primary shard. `create` makes the database exist first (writes do, reads do not).
   */
  async target(db: string, coll: string | undefined, create: boolean): Promise<SetTarget | undefined> {
    if (db === 'config' || db === 'admin') return this.config;
    const entry = create ? await this.ensureDatabase(db) : await this.database(db);
    if (!entry) return undefined;
    if (coll) {
      const sharded = await this.shardedCollection(`${db}.${coll}`);
      if (sharded) {
        const owner = await this.chunkOwner(sharded);
        if (owner) return this.shardByName(owner);
      }
    }
    return this.shardByName(String(entry.primary));
  }

  /** Replaces a shard cursor id in a reply by a mongos cursor id (and remembers where it lives). */
  adoptCursor(target: SetTarget, reply: Document): void {
    const cursor = reply.cursor as Document | undefined;
    if (!cursor) return;
    const id = cursor.id;
    const n = id instanceof Long ? id : Long.fromNumber(asNumber(id) ?? 0);
    if (n.isZero()) {
      cursor.id = Long.fromNumber(0);
      return;
    }
    const mine = Long.fromBigInt(this.nextCursor++);
    this.cursors.set(mine.toString(), { target, remoteId: n, ns: String(cursor.ns ?? '') });
    cursor.id = mine;
  }

  cursor(id: unknown): RemoteCursor | undefined {
    const n = id instanceof Long ? id : Long.fromNumber(asNumber(id) ?? 0);
    return this.cursors.get(n.toString());
  }

  forgetCursor(id: unknown): void {
    const n = id instanceof Long ? id : Long.fromNumber(asNumber(id) ?? 0);
    this.cursors.delete(n.toString());
  }

  /**
   * Startup: mongos does not serve until it can load the shard registry from the config servers, and
   * retries every 2 seconds meanwhile (§4.2). A member that is not a config server is reported as such.
   */
  async waitForConfigServers(): Promise<void> {
    const cs = this.config.connectionString;
    for (let attempt = 0; ; attempt++) {
      let problem: string;
      try {
        const replies = new Map<string, Document>();
        await this.config.discover(replies);
        const notConfig = [...replies.entries()].find(
          ([, r]) => r.setName !== undefined && r.configsvr === undefined,
        );
        if (notConfig) {
          problem = `Surprised to discover that ${notConfig[0]} does not believe it is a config server`;
        } else {
          // Like mongos, wait for the cluster id (config.version, written by the config server
          // primary) read with majority read concern, then load the shard registry.
          const quick = { retryForMs: 1000, timeoutMs: 5000 };
          const [version] = await this.readConfig('version', {}, quick);
          if (!version?.clusterId) {
            throw new CommandError(
              47,
              'Error loading clusterID :: caused by :: NoMatchingDocument: could not find the config version document',
              {},
              'NoMatchingDocument',
            );
          }
          await this.readConfig('shards', {}, quick);
          this.node.log.info(
            'SHARDING',
            22727,
            'mongosMain',
            'Loaded shard registry from the config servers',
            {
              configServers: cs,
            },
          );
          return;
        }
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err);
      }
      this.node.log.write({
        s: 'W',
        c: 'SHARDING',
        id: LOG_ID_SHARDING_INIT_RETRY,
        ctx: 'mongosMain',
        msg: 'Error initializing sharding state, sleeping for 2 seconds and trying again',
        attr: { error: problem, configServers: cs },
        text: `Error initializing sharding state, sleeping for 2 seconds and trying again :: caused by :: ${problem}`,
      });
      await sleep(attempt === 0 ? 250 : 2000);
    }
  }

  /**
   * Every mongos records itself in config.mongos and refreshes its ping every 30 seconds (what
   * sh.status() lists as active mongoses). Failures are ignored: the next ping retries.
   */
  startPinger(): void {
    const ping = async (): Promise<void> => {
      const id = this.node.hostAndPort;
      const doc = {
        ping: new Date(),
        up: Long.fromNumber(Math.floor((Date.now() - this.node.startedAt) / 1000)),
        waiting: true,
        mongoVersion: this.node.version.full,
        advisoryHostFQDNs: [],
      };
      await this.config.runOnPrimary(
        'config',
        {
          update: 'mongos',
          updates: [{ q: { _id: id }, u: { $set: doc }, upsert: true }],
          writeConcern: { w: 1 },
        },
        { retryForMs: 0, timeoutMs: 10_000 },
      );
    };
    const run = (): void => {
      ping().catch(() => undefined);
    };
    run();
    this.pinger = setInterval(run, 30_000);
    this.pinger.unref();
  }

  close(): void {
    if (this.pinger) clearInterval(this.pinger);
    this.pool.closeAll();
  }
}
