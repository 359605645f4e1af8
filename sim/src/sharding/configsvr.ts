// The config server's side of sharding (sharding.clusterRole: configsvr). mongos forwards the cluster
// commands here as `_configsvr*` commands with majority write concern, and the config server primary
// validates them, talks to the shards and writes the catalog (catalog.ts) through the replica set.
// It also runs the balancer, which moves chunks off draining shards.
// Sources: reference/mongod-behavior.md §4.1, §4.3; MongoDB's sharding_catalog_manager_shard_operations
// (addShard checks and messages, removeShard draining states); manual "Config Database", balancerStatus.
import { type Document, Long, MaxKey, MinKey, ObjectId, UUID } from 'bson';
import { asNumber } from '../bsonvalues.js';
import type { CommandContext, CommandRegistry } from '../commands/registry.js';
import { CommandError, ErrorCode } from '../errors.js';
import type { SimNode } from '../node.js';
import { atLeast } from '../version.js';
import {
  CatalogBatch,
  CONFIG_DB,
  chunkDoc,
  chunksOf,
  collectionDoc,
  databaseDoc,
  readAll,
  readById,
  shardDoc,
  versionDoc,
} from './catalog.js';
import {
  ConnectionStringError,
  formatConnectionString,
  parseConnectionString,
  type SetConnectionString,
} from './connection-string.js';
import { copyCollection, dropCollection, emptyCollection, listCollectionInfos } from './data-copy.js';
import { HostPool, replyError, replyOk, SetTarget } from './remote.js';

const MAJORITY = { w: 'majority', wtimeout: 60_000 } as const;
const ShardNotFound = 70;
const ConflictingOperationInProgress = 117;
const NoShardingEnabled = 193;
const DatabaseDifferCase = 13297;

/** Databases a shard may hold that never belong to the cluster catalog. */
const INTERNAL_DBS = new Set(['admin', 'local', 'config']);

export class ConfigServer {
  readonly node: SimNode;
  readonly pool = new HostPool();
  private queue: Promise<unknown> = Promise.resolve();
  private balancerTimer: NodeJS.Timeout | undefined;
  private balancerBusy = false;
  numBalancerRounds = 0;
  inBalancerRound = false;

  constructor(node: SimNode) {
    this.node = node;
  }

  get storage() {
    return this.node.requireStorage();
  }

  get version() {
    return this.node.version;
  }

  /** Catalog changes are serialised, as the real catalog manager's locks do. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  isPrimary(): boolean {
    try {
      this.node.role.checkWrite(CONFIG_DB);
      return this.node.role.kind === 'replset';
    } catch {
      return false;
    }
  }

  /** Commits a catalog batch and waits for majority, so mongos never reads a rolled-back catalog. */
  async commit(batch: CatalogBatch): Promise<void> {
    if (batch.ops.length === 0) return;
    this.node.role.checkWrite(CONFIG_DB);
    const result = this.node.commit(batch.ops);
    const wce = await this.node.waitForWriteConcern(result, MAJORITY);
    if (wce)
      throw new CommandError(asNumber(wce.code) ?? 64, String(wce.errmsg), { errInfo: wce.errInfo ?? {} });
  }

  /** config.version is created once the set has a primary (initializeConfigDatabaseIfNeeded). */
  async ensureVersionDoc(): Promise<void> {
    if (readById(this.storage, 'version', 1)) return;
    await this.commit(new CatalogBatch(this.storage).put('version', versionDoc(this.version)));
  }

  clusterId(): ObjectId {
    const doc = readById(this.storage, 'version', 1);
    return doc?.clusterId instanceof ObjectId ? doc.clusterId : new ObjectId();
  }

  /** This config server set's own connection string, from its hello (for shardIdentity). */
  ownConnectionString(): string {
    const fields = this.node.role.helloFields({ commandName: 'hello', body: {} });
    const hosts = Array.isArray(fields.hosts) ? (fields.hosts as string[]) : [];
    return `${this.node.options.replSetName ?? ''}/${hosts.join(',')}`;
  }

  shards(): Document[] {
    return readAll(this.storage, 'shards');
  }

  shardTarget(shard: Document): SetTarget {
    return new SetTarget(parseConnectionString(String(shard.host)), this.pool);
  }

  requireShard(name: string): Document {
    const s = readById(this.storage, 'shards', name);
    if (!s) throw new CommandError(ShardNotFound, `Shard ${name} not found`, {}, 'ShardNotFound');
    return s;
  }

  startBalancer(): void {
    const envMs = Number(process.env.MONGOD_SIM_BALANCER_ROUND_MS ?? 0);
    // The real balancer sleeps 10 s between rounds; tests may shorten it (test-only knob).
    const roundMs = envMs > 0 ? envMs : 10_000;
    let last = 0;
    this.balancerTimer = setInterval(() => {
      if (this.balancerBusy || !this.isPrimary()) return;
      this.balancerBusy = true;
      const due = Date.now() - last >= roundMs;
      const work = async (): Promise<void> => {
        await this.ensureVersionDoc();
        if (due) {
          last = Date.now();
          await this.balancerRound();
        }
      };
      work()
        .catch((err: unknown) => {
          this.node.log.info('SHARDING', 21872, 'Balancer', 'Balancer round failed', {
            error: err instanceof Error ? err.message : String(err),
          });
        })
        .finally(() => {
          this.balancerBusy = false;
        });
    }, 500);
    this.balancerTimer.unref();
  }

  stopBalancer(): void {
    if (this.balancerTimer) clearInterval(this.balancerTimer);
    this.pool.closeAll();
  }

  balancerMode(): string {
    const s = readById(this.storage, 'settings', 'balancer');
    if (!s) return 'full';
    if (typeof s.mode === 'string') return s.mode;
    return s.stopped === true ? 'off' : 'full';
  }

  /** One balancer round: move every chunk off draining shards (the only imbalance modelled here). */
  async balancerRound(): Promise<void> {
    if (this.balancerMode() === 'off') return;
    this.inBalancerRound = true;
    try {
      const shards = this.shards();
      const draining = shards.filter((s) => s.draining === true);
      const open = shards.filter((s) => s.draining !== true);
      if (draining.length === 0 || open.length === 0) return;
      for (const d of draining) {
        const chunks = readAll(this.storage, 'chunks').filter((c) => c.shard === d._id);
        for (const chunk of chunks) {
          const counts = new Map(open.map((s) => [String(s._id), 0]));
          for (const c of readAll(this.storage, 'chunks')) {
            const k = String(c.shard);
            if (counts.has(k)) counts.set(k, (counts.get(k) ?? 0) + 1);
          }
          const to = [...counts.entries()].sort((a, b) => a[1] - b[1])[0]?.[0];
          if (!to) return;
          await this.exclusive(() => this.migrateChunk(chunk, d, this.requireShard(to)));
        }
      }
    } finally {
      this.inBalancerRound = false;
      this.numBalancerRounds++;
    }
  }

  private collectionOfChunk(chunk: Document): Document | undefined {
    return readAll(this.storage, 'collections').find((c) =>
      chunk.ns !== undefined
        ? c._id === chunk.ns
        : chunksOf(this.storage, this.version, String(c._id), c.uuid).some(
            (x) => String(x._id) === String(chunk._id),
          ),
    );
  }

  /** Moves a whole chunk: copy the documents, commit the new owner, then clean the donor. */
  async migrateChunk(chunk: Document, from: Document, to: Document): Promise<void> {
    const coll = this.collectionOfChunk(chunk);
    if (!coll) return;
    const ns = String(coll._id);
    const db = ns.slice(0, ns.indexOf('.'));
    const name = ns.slice(ns.indexOf('.') + 1);
    const donor = this.shardTarget(from);
    const recipient = this.shardTarget(to);
    const info = (await listCollectionInfos(donor, db)).find((i) => i.name === name) ?? { name, options: {} };
    await copyCollection(donor, recipient, db, info);
    const lastmod = chunk.lastmod as { high?: number; t?: number } | undefined;
    const major = (lastmod?.t ?? lastmod?.high ?? 1) + 1;
    const moved = { ...chunk, shard: to._id, lastmod: chunk.lastmod };
    moved.lastmod = chunkDoc(
      this.version,
      ns,
      coll.uuid,
      chunk.min,
      chunk.max,
      String(to._id),
      coll.lastmodEpoch,
      major,
    ).lastmod;
    await this.commit(new CatalogBatch(this.storage).put('chunks', moved));
    await emptyCollection(donor, db, name);
    this.node.log.info('SHARDING', 21868, 'Balancer', 'Migration succeeded', {
      ns,
      from: from._id,
      to: to._id,
    });
  }

  // ---- addShard ----------------------------------------------------------------------------------

  /** _checkIfShardExists: an identical re-add succeeds, any overlap otherwise fails with 20. */
  private existingShard(cs: SetConnectionString, name: string | undefined): Document | undefined {
    for (const existing of this.shards()) {
      const ecs = parseConnectionString(String(existing.host));
      const equivalent = (name === undefined || name === existing._id) && ecs.setName === cs.setName;
      if (ecs.setName && cs.setName && ecs.setName === cs.setName) {
        if (equivalent) return existing;
        throw new CommandError(
          ErrorCode.IllegalOperation,
          `A shard already exists containing the replica set '${ecs.setName}'`,
        );
      }
      for (const h of ecs.hosts) {
        if (cs.hosts.includes(h)) {
          if (equivalent) return existing;
          throw new CommandError(
            ErrorCode.IllegalOperation,
            `'${h}' is already a member of the existing shard '${existing.host}' (${existing._id}).`,
          );
        }
      }
      if (name !== undefined && name === existing._id) {
        throw new CommandError(ErrorCode.IllegalOperation, `A shard named ${name} already exists`);
      }
    }
    return undefined;
  }

  /** _validateHostAsShard: hello on the candidate, with the real checks and messages. */
  private async validateHostAsShard(
    target: SetTarget,
    cs: SetConnectionString,
    name: string | undefined,
  ): Promise<{ name: string; host: string }> {
    const text = formatConnectionString(cs);
    const primary = await target.findPrimary(3000);
    let hello: Document | undefined;
    if (primary) hello = await target.hello(primary);
    else {
      const replies = new Map<string, Document>();
      await target.discover(replies);
      hello = [...replies.values()][0];
    }
    if (!hello) {
      throw new CommandError(
        6,
        `Error connecting to ${text} :: caused by :: Connection refused`,
        {},
        'HostUnreachable',
      );
    }
    if (hello.msg === 'isdbgrid')
      throw new CommandError(ErrorCode.IllegalOperation, 'cannot add a mongos as a shard');
    if (hello.ismaster !== true) {
      throw new CommandError(
        ErrorCode.NotWritablePrimary,
        `${text} does not have a master. If this is a replica set, ensure that it has a healthy primary and that the set has been properly initiated.`,
      );
    }
    const found = typeof hello.setName === 'string' ? hello.setName : '';
    if (!cs.setName && found) {
      throw new CommandError(
        ErrorCode.OperationFailed,
        `host is part of set ${found}; use replica set url format <setname>/<server1>,<server2>, ...`,
      );
    }
    if (cs.setName && !found) {
      throw new CommandError(
        ErrorCode.OperationFailed,
        `host did not return a set name; is the replica set still initializing? ${JSON.stringify(hello)}`,
      );
    }
    if (cs.setName && cs.setName !== found) {
      throw new CommandError(
        ErrorCode.OperationFailed,
        `the provided connection string (${text}) does not match the actual set name ${found}`,
      );
    }
    if (hello.configsvr !== undefined) {
      throw new CommandError(
        ErrorCode.OperationFailed,
        `Cannot add ${text} as a shard since it is a config server`,
      );
    }
    const members = new Set<string>();
    for (const key of ['hosts', 'passives', 'arbiters']) {
      for (const h of (hello[key] as string[] | undefined) ?? []) members.add(h);
    }
    if (cs.setName) {
      for (const h of cs.hosts) {
        if (!members.has(h)) {
          throw new CommandError(
            ErrorCode.OperationFailed,
            `in seed list ${text}, host ${h} does not belong to replica set ${found}; found ${JSON.stringify(hello)}`,
          );
        }
      }
    }
    const shardName = name ?? (found || this.generatedShardName());
    if (shardName === 'config') {
      throw new CommandError(
        ErrorCode.BadValue,
        "use of shard replica set with name 'config' is not allowed",
      );
    }
    const known = [
      ...((hello.hosts as string[] | undefined) ?? []),
      ...((hello.passives as string[] | undefined) ?? []),
    ];
    const host = cs.setName ? `${cs.setName}/${(known.length > 0 ? known : cs.hosts).join(',')}` : text;
    return { name: shardName, host };
  }

  private generatedShardName(): string {
    const n = this.shards().length;
    return `shard${String(n).padStart(4, '0')}`;
  }

  async addShard(ctx: CommandContext): Promise<Document> {
    const raw = ctx.body[ctx.name];
    if (typeof raw !== 'string')
      throw new CommandError(ErrorCode.TypeMismatch, `'${ctx.name}' must be a string`);
    let cs: SetConnectionString;
    try {
      cs = parseConnectionString(raw);
    } catch (err) {
      if (err instanceof ConnectionStringError) throw new CommandError(ErrorCode.FailedToParse, err.message);
      throw err;
    }
    const name = typeof ctx.body.name === 'string' ? ctx.body.name : undefined;
    if (name !== undefined && name === '')
      throw new CommandError(ErrorCode.BadValue, 'shard name cannot be empty');
    return this.exclusive(async () => {
      this.node.role.checkWrite(CONFIG_DB);
      await this.ensureVersionDoc();
      const existing = this.existingShard(cs, name);
      if (existing) return { shardAdded: existing._id };
      const target = new SetTarget(cs, this.pool);
      const shard = await this.validateHostAsShard(target, cs, name);
      // Databases already on the candidate must not exist elsewhere in the cluster.
      const list = await target.runOnPrimary('admin', { listDatabases: 1, nameOnly: true });
      if (!replyOk(list)) throw replyError(list);
      const dbNames = ((list.databases as Document[]) ?? [])
        .map((d) => String(d.name))
        .filter((n) => !INTERNAL_DBS.has(n));
      for (const dbName of dbNames) {
        const dbDoc = readById(this.storage, 'databases', dbName);
        if (dbDoc) {
          throw new CommandError(
            ErrorCode.OperationFailed,
            `can't add shard '${formatConnectionString(cs)}' because a local database '${dbName}' exists in another ${dbDoc.primary}`,
          );
        }
      }
      // The shardIdentity document makes the shard sharding-aware; a mongod without --shardsvr refuses it.
      const identity = await target.runOnPrimary('admin', {
        _addShard: 1,
        shardIdentity: {
          shardName: shard.name,
          clusterId: this.clusterId(),
          configsvrConnectionString: this.ownConnectionString(),
        },
        writeConcern: MAJORITY,
      });
      if (!replyOk(identity)) throw replyError(identity);
      await this.alignShardFcv(target);
      const batch = new CatalogBatch(this.storage).put(
        'shards',
        shardDoc(this.version, shard.name, shard.host),
      );
      for (const dbName of dbNames) {
        batch.put('databases', databaseDoc(this.version, dbName, shard.name, new UUID(), 1, false));
      }
      await this.commit(batch);
      this.node.log.info(
        'SHARDING',
        21942,
        `conn${ctx.conn.id}`,
        'Going to insert new entry for shard into config.shards',
        {
          shardType: shardDoc(this.version, shard.name, shard.host),
        },
      );
      return { shardAdded: shard.name };
    });
  }

  /** addShard sets the new shard's FCV to the cluster's (§6 "Where FCV comes from"). */
  private async alignShardFcv(target: SetTarget): Promise<void> {
    const mine = await this.node.commands.run({
      node: this.node,
      conn: { id: 0, remote: 'internal', remoteAddress: '127.0.0.1', closed: new AbortController().signal },
      db: 'admin',
      name: 'getParameter',
      body: { getParameter: 1, featureCompatibilityVersion: 1 },
      secondaryOk: true,
      fireAndForget: false,
    });
    const clusterFcv = (mine.featureCompatibilityVersion as Document | undefined)?.version;
    if (typeof clusterFcv !== 'string') return;
    const theirs = await target.runOnPrimary('admin', { getParameter: 1, featureCompatibilityVersion: 1 });
    const shardFcv = (theirs.featureCompatibilityVersion as Document | undefined)?.version;
    if (!replyOk(theirs) || shardFcv === clusterFcv) return;
    const body: Document = { setFeatureCompatibilityVersion: clusterFcv, writeConcern: MAJORITY };
    if (atLeast(this.version, 7, 0)) body.confirm = true;
    const set = await target.runOnPrimary('admin', body);
    if (!replyOk(set)) throw replyError(set);
  }

  // ---- removeShard -------------------------------------------------------------------------------

  async removeShard(ctx: CommandContext): Promise<Document> {
    const name = ctx.body[ctx.name];
    if (typeof name !== 'string')
      throw new CommandError(ErrorCode.TypeMismatch, `'${ctx.name}' must be a string`);
    return this.exclusive(async () => {
      this.node.role.checkWrite(CONFIG_DB);
      const shard = this.requireShard(name);
      const others = this.shards().filter((s) => s._id !== name);
      if (others.some((s) => s.draining === true)) {
        throw new CommandError(
          ConflictingOperationInProgress,
          "Can't have more than one draining shard at a time",
          {},
          'ConflictingOperationInProgress',
        );
      }
      if (others.length === 0) throw new CommandError(ErrorCode.IllegalOperation, "Can't remove last shard");
      const dbsToMove = readAll(this.storage, 'databases')
        .filter((d) => d.primary === name)
        .map((d) => String(d._id));
      if (shard.draining !== true) {
        await this.commit(new CatalogBatch(this.storage).put('shards', { ...shard, draining: true }));
        this.node.log.info('SHARDING', 21945, `conn${ctx.conn.id}`, 'Going to start draining shard', {
          shardId: name,
        });
        return { state: 'started', shard: name, dbsToMove };
      }
      const chunks = readAll(this.storage, 'chunks').filter((c) => c.shard === name).length;
      if (chunks > 0 || dbsToMove.length > 0) {
        return {
          state: 'ongoing',
          shard: name,
          dbsToMove,
          remaining: {
            chunks: Long.fromNumber(chunks),
            dbs: Long.fromNumber(dbsToMove.length),
            jumboChunks: Long.fromNumber(0),
          },
        };
      }
      await this.commit(new CatalogBatch(this.storage).remove('shards', name));
      this.node.log.info('SHARDING', 21949, `conn${ctx.conn.id}`, 'Going to remove shard', { shardId: name });
      return { state: 'completed', shard: name };
    });
  }

  // ---- databases ---------------------------------------------------------------------------------

  /** Creates the database entry if needed, choosing the non-draining shard holding the least data. */
  async createDatabase(dbName: string, partitioned: boolean): Promise<Document> {
    this.node.role.checkWrite(CONFIG_DB);
    const existing = readById(this.storage, 'databases', dbName);
    if (existing) {
      if (partitioned && existing.partitioned === false && !atLeast(this.version, 6, 0)) {
        const updated = { ...existing, partitioned: true };
        await this.commit(new CatalogBatch(this.storage).put('databases', updated));
        return updated;
      }
      return existing;
    }
    const clash = readAll(this.storage, 'databases').find(
      (d) => String(d._id).toLowerCase() === dbName.toLowerCase(),
    );
    if (clash) {
      throw new CommandError(
        DatabaseDifferCase,
        `can't have 2 databases that just differ on case  have: ${clash._id} want to add: ${dbName}`,
        {},
        'DatabaseDifferCase',
      );
    }
    const candidates = this.shards().filter((s) => s.draining !== true);
    if (candidates.length === 0) {
      throw new CommandError(
        ShardNotFound,
        `Database ${dbName} could not be created :: caused by :: No shards found`,
        {},
        'ShardNotFound',
      );
    }
    let best = candidates[0] as Document;
    let bestSize = Number.POSITIVE_INFINITY;
    for (const s of candidates) {
      let size = Number.POSITIVE_INFINITY;
      try {
        const r = await this.shardTarget(s).runOnPrimary('admin', { listDatabases: 1 }, { retryForMs: 2000 });
        if (replyOk(r)) size = asNumber(r.totalSize) ?? 0;
      } catch {
        // An unreachable shard is not chosen.
      }
      if (size < bestSize) {
        best = s;
        bestSize = size;
      }
    }
    const doc = databaseDoc(this.version, dbName, String(best._id), new UUID(), 1, partitioned);
    await this.commit(new CatalogBatch(this.storage).put('databases', doc));
    return doc;
  }

  async movePrimary(ctx: CommandContext): Promise<Document> {
    const dbName = ctx.body[ctx.name];
    const to = ctx.body.to;
    if (typeof dbName !== 'string' || dbName === '')
      throw new CommandError(ErrorCode.InvalidNamespace, `invalid db name specified: ${String(dbName)}`);
    if (typeof to !== 'string' || to === '')
      throw new CommandError(ErrorCode.InvalidOptions, 'you have to specify where you want to move it');
    if (INTERNAL_DBS.has(dbName))
      throw new CommandError(ErrorCode.InvalidOptions, `Can't move primary for ${dbName} database`);
    return this.exclusive(async () => {
      this.node.role.checkWrite(CONFIG_DB);
      const db = readById(this.storage, 'databases', dbName);
      if (!db) throw new CommandError(ErrorCode.NamespaceNotFound, `Database ${dbName} not found`);
      const toShard = readById(this.storage, 'shards', to);
      if (!toShard)
        throw new CommandError(ShardNotFound, `Could not find recipient shard ${to}`, {}, 'ShardNotFound');
      if (db.primary === to) return {};
      const fromShard = this.requireShard(String(db.primary));
      const donor = this.shardTarget(fromShard);
      const recipient = this.shardTarget(toShard);
      const sharded = new Set(
        readAll(this.storage, 'collections')
          .filter((c) => String(c._id).startsWith(`${dbName}.`) && c.dropped !== true)
          .map((c) => String(c._id).slice(dbName.length + 1)),
      );
      const infos = (await listCollectionInfos(donor, dbName)).filter((i) => !sharded.has(String(i.name)));
      for (const info of infos) await copyCollection(donor, recipient, dbName, info);
      const version = (db.version as Document | undefined) ?? {};
      const lastMod = (asNumber(version.lastMod) ?? 1) + 1;
      const uuid = version.uuid instanceof UUID ? version.uuid : new UUID();
      await this.commit(
        new CatalogBatch(this.storage).put(
          'databases',
          databaseDoc(this.version, dbName, to, uuid, lastMod, db.partitioned === true),
        ),
      );
      for (const info of infos) await dropCollection(donor, dbName, String(info.name));
      this.node.log.info('SHARDING', 22042, `conn${ctx.conn.id}`, 'movePrimary', {
        db: dbName,
        from: fromShard._id,
        to,
      });
      return { primary: `${to}:${toShard.host}` };
    });
  }

  async dropDatabase(dbName: string): Promise<Document> {
    return this.exclusive(async () => {
      this.node.role.checkWrite(CONFIG_DB);
      const batch = new CatalogBatch(this.storage).remove('databases', dbName);
      for (const c of readAll(this.storage, 'collections')) {
        if (!String(c._id).startsWith(`${dbName}.`)) continue;
        batch.remove('collections', c._id);
        for (const ch of chunksOf(this.storage, this.version, String(c._id), c.uuid))
          batch.remove('chunks', ch._id);
      }
      await this.commit(batch);
      return {};
    });
  }

  async dropCollection(ns: string): Promise<Document> {
    return this.exclusive(async () => {
      this.node.role.checkWrite(CONFIG_DB);
      const c = readById(this.storage, 'collections', ns);
      if (!c) return {};
      const batch = new CatalogBatch(this.storage).remove('collections', ns);
      for (const ch of chunksOf(this.storage, this.version, ns, c.uuid)) batch.remove('chunks', ch._id);
      await this.commit(batch);
      return {};
    });
  }

  // ---- shardCollection ---------------------------------------------------------------------------

  async shardCollection(ctx: CommandContext): Promise<Document> {
    const ns = ctx.body[ctx.name];
    if (typeof ns !== 'string' || !/^[^.]+\..+$/.test(ns)) {
      throw new CommandError(ErrorCode.InvalidNamespace, `Invalid namespace specified '${String(ns)}'`);
    }
    const key = ctx.body.key;
    if (!key || typeof key !== 'object' || Object.keys(key).length === 0) {
      throw new CommandError(
        ErrorCode.BadValue,
        'The field "key" is required and must be a non-empty object',
      );
    }
    for (const [field, dir] of Object.entries(key as Document)) {
      const n = asNumber(dir);
      if (!(n === 1 || dir === 'hashed')) {
        throw new CommandError(
          ErrorCode.BadValue,
          `Unsupported shard key pattern ${JSON.stringify(key)}. Pattern must either be a single hashed field, or a list of ascending fields. Field '${field}' is invalid.`,
        );
      }
    }
    const unique = ctx.body.unique === true;
    const dbName = ns.slice(0, ns.indexOf('.'));
    const collName = ns.slice(ns.indexOf('.') + 1);
    if (dbName === 'admin' || dbName === 'local') {
      throw new CommandError(ErrorCode.IllegalOperation, `can't shard ${dbName} database`);
    }
    return this.exclusive(async () => {
      this.node.role.checkWrite(CONFIG_DB);
      let db = readById(this.storage, 'databases', dbName);
      if (!atLeast(this.version, 6, 0)) {
        if (db?.partitioned !== true) {
          throw new CommandError(ErrorCode.IllegalOperation, `sharding not enabled for db ${dbName}`);
        }
      } else if (!db) {
        db = await this.createDatabase(dbName, false);
      }
      const existing = readById(this.storage, 'collections', ns);
      if (existing && existing.dropped !== true) {
        if (JSON.stringify(existing.key) === JSON.stringify(key) && existing.unique === unique) {
          return { collectionsharded: ns, collectionUUID: existing.uuid };
        }
        throw new CommandError(
          ErrorCode.AlreadyInitialized,
          `sharding already enabled for collection ${ns} with options ${JSON.stringify({ key: existing.key, unique: existing.unique })}`,
        );
      }
      const primary = this.shardTarget(this.requireShard(String(db.primary)));
      const created = await primary.runOnPrimary(dbName, { create: collName, writeConcern: MAJORITY });
      if (!replyOk(created) && Number(created.code) !== 48) throw replyError(created);
      const isIdOnly = Object.keys(key as Document).length === 1 && asNumber((key as Document)._id) === 1;
      if (!isIdOnly) {
        const fields = Object.keys(key as Document);
        const name = fields
          .map((f) => `${f}_${String((key as Document)[f] === 'hashed' ? 'hashed' : 1)}`)
          .join('_');
        const idx = await primary.runOnPrimary(dbName, {
          createIndexes: collName,
          indexes: [{ key, name, ...(unique ? { unique: true } : {}) }],
          writeConcern: MAJORITY,
        });
        if (!replyOk(idx)) throw replyError(idx);
      }
      const uuid = await this.collectionUuid(primary, dbName, collName);
      const epoch = new ObjectId();
      const min: Document = {};
      const max: Document = {};
      for (const f of Object.keys(key as Document)) {
        min[f] = new MinKey();
        max[f] = new MaxKey();
      }
      const coll = collectionDoc(this.version, ns, key as Document, unique, uuid);
      coll.lastmodEpoch = epoch;
      await this.commit(
        new CatalogBatch(this.storage)
          .put('collections', coll)
          .put('chunks', chunkDoc(this.version, ns, uuid, min, max, String(db.primary), epoch, 1)),
      );
      this.node.log.info('SHARDING', 22080, `conn${ctx.conn.id}`, 'CMD: shardcollection', {
        namespace: ns,
        key,
      });
      return { collectionsharded: ns, collectionUUID: uuid };
    });
  }

  private async collectionUuid(target: SetTarget, db: string, coll: string): Promise<UUID> {
    try {
      const r = await target.runOnPrimary(db, { listCollections: 1, filter: { name: coll } });
      const info = ((r.cursor as Document | undefined)?.firstBatch as Document[] | undefined)?.[0];
      const uuid = (info?.info as Document | undefined)?.uuid;
      if (uuid instanceof UUID) return uuid;
    } catch {
      // Fall through: a fresh UUID still identifies the collection in the catalog.
    }
    return new UUID();
  }

  // ---- balancer ----------------------------------------------------------------------------------

  async setBalancer(mode: 'full' | 'off'): Promise<Document> {
    return this.exclusive(async () => {
      this.node.role.checkWrite(CONFIG_DB);
      await this.commit(
        new CatalogBatch(this.storage).put('settings', { _id: 'balancer', mode, stopped: mode === 'off' }),
      );
      return {};
    });
  }

  balancerStatus(): Document {
    this.node.role.checkWrite(CONFIG_DB);
    return {
      mode: this.balancerMode(),
      inBalancerRound: this.inBalancerRound,
      numBalancerRounds: Long.fromNumber(this.numBalancerRounds),
    };
  }
}

/** `_configsvr*` commands exist on every mongod; only a config server runs them (IllegalOperation). */
export function registerConfigServerCommands(
  registry: CommandRegistry,
  server: ConfigServer | undefined,
): void {
  const on = (
    names: string[],
    fn: (cs: ConfigServer, ctx: CommandContext) => Document | Promise<Document>,
  ): void => {
    registry.register({
      names,
      adminOnly: true,
      program: 'mongod',
      handler: (ctx) => {
        if (!server) {
          throw new CommandError(ErrorCode.IllegalOperation, `${ctx.name} can only be run on config servers`);
        }
        return fn(server, ctx);
      },
    });
  };
  on(['_configsvrAddShard'], (cs, ctx) => cs.addShard(ctx));
  on(['_configsvrRemoveShard'], (cs, ctx) => cs.removeShard(ctx));
  on(['_configsvrCreateDatabase'], (cs, ctx) =>
    cs.exclusive(async () => {
      const doc = await cs.createDatabase(String(ctx.body[ctx.name]), false);
      return { primaryShard: doc.primary };
    }),
  );
  on(['_configsvrEnableSharding'], (cs, ctx) =>
    cs.exclusive(async () => {
      await cs.createDatabase(String(ctx.body[ctx.name]), true);
      return {};
    }),
  );
  on(['_configsvrShardCollection'], (cs, ctx) => cs.shardCollection(ctx));
  on(['_configsvrMovePrimary'], (cs, ctx) => cs.movePrimary(ctx));
  on(['_configsvrDropDatabase'], (cs, ctx) => cs.dropDatabase(String(ctx.body[ctx.name])));
  on(['_configsvrDropCollection'], (cs, ctx) => cs.dropCollection(String(ctx.body[ctx.name])));
  on(['_configsvrBalancerStart'], (cs) => cs.setBalancer('full'));
  on(['_configsvrBalancerStop'], (cs) => cs.setBalancer('off'));
  on(['_configsvrBalancerStatus'], (cs) => cs.balancerStatus());
}

/** Shard side of addShard: store the shardIdentity document (admin.system.version). */
export function registerShardServerCommands(registry: CommandRegistry, node: SimNode): void {
  registry.register({
    names: ['_addShard'],
    adminOnly: true,
    program: 'mongod',
    handler: async (ctx) => {
      if (node.options.clusterRole !== 'shardsvr') {
        throw new CommandError(
          NoShardingEnabled,
          'Cannot accept sharding commands if not started with --shardsvr',
          {},
          'NoShardingEnabled',
        );
      }
      const identity = ctx.body.shardIdentity as Document | undefined;
      if (!identity || typeof identity.shardName !== 'string') {
        throw new CommandError(ErrorCode.BadValue, 'shardIdentity document is missing or invalid');
      }
      node.role.checkWrite('admin');
      const storage = node.requireStorage();
      const doc: Document = {
        _id: 'shardIdentity',
        shardName: identity.shardName,
        clusterId: identity.clusterId,
        configsvrConnectionString: identity.configsvrConnectionString,
      };
      const current = storage.getCollection('admin', 'system.version');
      const ops = [];
      if (!current)
        ops.push({ op: 'createCollection' as const, db: 'admin', coll: 'system.version', uuid: new UUID() });
      const exists = current?.findById('shardIdentity') !== undefined;
      if (exists) {
        const had = current?.findById('shardIdentity') as Document;
        if (had.shardName !== identity.shardName) {
          throw new CommandError(
            ErrorCode.IllegalOperation,
            `This shard was already added to a cluster as ${String(had.shardName)}`,
          );
        }
      }
      ops.push({
        op: exists ? ('replace' as const) : ('insert' as const),
        db: 'admin',
        coll: 'system.version',
        doc,
      });
      const result = node.commit(ops);
      const wc = ctx.body.writeConcern as Document | undefined;
      const wce = await node.waitForWriteConcern(result, wc ?? MAJORITY);
      return wce ? { writeConcernError: wce } : {};
    },
  });
}
