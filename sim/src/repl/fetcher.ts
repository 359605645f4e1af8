// Secondary data path: pull the sync source's oplog over the wire (find on local.oplog.rs with
// {ts: {$gte: lastFetched}}, tailable/awaitData), apply it, report progress (replSetUpdatePosition),
// and roll back our divergent entries when the source's history no longer contains our last entry.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BSON, type Document, Int32, Long, Timestamp } from 'bson';
import type { Storage, StorageOp } from '../storage/store.js';
import { cloneFrom, InitialSyncProgress, newestOplogEntry } from './initial-sync.js';
import { MemberState } from './member-state.js';
import { type OplogEntry, opsForEntry, parseEntry } from './oplog.js';
import { compareOpTime, NULL_OPTIME, numberOf, type OpTime, opTimeFromBson, opTimeToBson } from './optime.js';
import { type ReplSetRole, sleep } from './role.js';

const BATCH = 1000;

/** Insert, replace or delete on an existing collection: its ops do not depend on earlier entries. */
function isGroupable(doc: Document, storage: Storage): boolean {
  if (doc.op !== 'i' && doc.op !== 'u' && doc.op !== 'd') return false;
  const ns = typeof doc.ns === 'string' ? doc.ns : '';
  const dot = ns.indexOf('.');
  return dot > 0 && storage.getCollection(ns.slice(0, dot), ns.slice(dot + 1)) !== undefined;
}

function opTimeKey(o: OpTime): string {
  return `${o.secs}:${o.inc}:${o.term}`;
}

export class OplogFetcher {
  private readonly role: ReplSetRole;
  private running = false;
  private updatePending = false;
  private updateInFlight = false;
  /** Initial sync copies the data once per process; the oplog replay then brings it up to date. */
  private cloned = false;

  constructor(role: ReplSetRole) {
    this.role = role;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  stop(): void {
    this.running = false;
  }

  private shouldFetch(): boolean {
    // mongod's own test failpoint: the secondary stops pulling the oplog (used to build rollbacks).
    if (this.role.node.failPointActive('stopReplProducer')) return false;
    const s = this.role.topo.state;
    const self = this.role.topo.self;
    if (!self || self.arbiterOnly) return false;
    if (s === MemberState.PRIMARY) return this.role.topo.leaderMode === 'catchingUp';
    return s === MemberState.SECONDARY || s === MemberState.STARTUP2 || s === MemberState.RECOVERING;
  }

  private idleMs(): number {
    const s = this.role.topo.config?.settings;
    return s ? Math.max(10, Math.min(200, Math.floor(s.heartbeatIntervalMillis / 4))) : 200;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        const progressed = await this.fetchOnce();
        if (!progressed) await sleep(this.idleMs());
      } catch (err) {
        this.role.logRepl('I', 21275, 'Error fetching oplog', { error: (err as Error).message });
        await sleep(this.idleMs());
      }
    }
  }

  /** One fetch round; returns true when it should run again at once (no idle pause). */
  private async fetchOnce(): Promise<boolean> {
    const role = this.role;
    const topo = role.topo;
    const config = topo.config;
    if (!config || !this.shouldFetch()) {
      role.syncSourceHost = '';
      return false;
    }
    const idx = topo.chooseSyncSource(Date.now());
    const source = idx >= 0 ? config.members[idx] : undefined;
    if (!source) {
      if (role.syncSourceHost !== '') role.syncSourceHost = '';
      return false;
    }
    if (role.syncSourceHost !== source.host) {
      role.logRepl('I', 21799, 'Sync source candidate chosen', { syncSource: source.host });
      role.syncSourceHost = source.host;
      topo.syncSourceIndex = idx;
    }
    if (topo.state === MemberState.STARTUP2 && role.oplog.isEmpty && !this.cloned) {
      await this.initialSync(source.host);
      this.cloned = true;
    }
    const last = role.oplog.last();
    const awaitMs = Math.max(50, Math.min(1000, Math.floor(config.settings.electionTimeoutMillis / 2)));
    const filter = last ? { ts: { $gte: new Timestamp({ t: last.opTime.secs, i: last.opTime.inc }) } } : {};
    // A better sync source (a new primary, replSetSyncFrom) cancels the fetch in flight, as mongod
    // re-evaluates its sync source on heartbeats.
    const watcher = setInterval(() => {
      const better = topo.chooseSyncSource(Date.now());
      if (better !== idx && better >= 0) role.peers.resetChannel(source.host, 'fetch');
    }, 100);
    let reply: Document;
    try {
      reply = await role.peers.run(
        source.host,
        'fetch',
        {
          find: 'oplog.rs',
          filter,
          tailable: true,
          awaitData: true,
          maxTimeMS: new Int32(awaitMs),
          batchSize: new Int32(BATCH),
          term: Long.fromNumber(topo.term),
          $readPreference: { mode: 'secondaryPreferred' },
        },
        awaitMs + config.settings.heartbeatTimeoutSecs * 1000,
        'local',
      );
    } finally {
      clearInterval(watcher);
    }
    if (numberOf(reply.ok) !== 1) {
      role.peers.reset(source.host);
      return false;
    }
    // A batch that arrives after stopReplProducer was switched on is dropped, not applied.
    if (!this.shouldFetch()) return false;
    const cursor = (reply.cursor ?? {}) as Document;
    const raw = (Array.isArray(cursor.firstBatch) ? cursor.firstBatch : []) as Document[];
    let docs = raw;
    if (last) {
      const first = raw[0] ? parseEntry(raw[0]) : null;
      if (!first) return false; // the source is behind us: nothing to take from it yet
      if (compareOpTime(first.opTime, last.opTime) !== 0) {
        if (topo.state === MemberState.PRIMARY) {
          topo.catchUpAbandoned = true;
          return false;
        }
        await this.rollback(source.host);
        return true;
      }
      docs = raw.slice(1);
    }
    const meta = (reply.$replData ?? {}) as Document;
    const applied = this.apply(docs, topo.self?.secondaryDelaySecs ?? 0);
    const lc = opTimeFromBson(meta.lastOpCommitted);
    if (lc && topo.advanceCommitPointFromSource(lc, Date.now(), true)) role.commitPointAdvanced();
    if (topo.state === MemberState.STARTUP2 && role.initialSync) role.initialSync.appliedOps += applied;
    // Caught up with the source: a short batch that reaches its newest entry (a batch is also short when
    // 16 MiB of large entries cut it).
    const visible = opTimeFromBson(meta.lastOpVisible);
    const newest = raw.length > 0 ? parseEntry(raw[raw.length - 1] as Document) : null;
    const reached = !visible || !newest || compareOpTime(newest.opTime, visible) >= 0;
    if (topo.state === MemberState.STARTUP2 && raw.length < BATCH && reached && applied === docs.length) {
      role.initialSync?.finished();
      const old = topo.state;
      topo.setState(MemberState.SECONDARY);
      topo.resetElectionTimer(Date.now());
      role.logRepl('I', 21192, 'Initial sync done');
      role.stateChanged(old);
    }
    if (applied > 0) this.reportPosition();
    // The source's awaitData already waited for new entries: fetch again at once, unless a delayed
    // member is holding entries back until they are old enough.
    return applied === docs.length;
  }

  /**
   * Initial sync's data phase: remember where the source's oplog ends, clone its databases, and seed our
   * oplog with that entry so the fetcher replays everything written since. A failed attempt is counted
   * and its partial data dropped, as mongod does before it retries.
   */
  private async initialSync(host: string): Promise<void> {
    const role = this.role;
    const storage = role.node.requireStorage();
    const progress = role.initialSync ?? new InitialSyncProgress();
    role.initialSync = progress;
    progress.syncSource = host;
    try {
      const begin = await newestOplogEntry(role.peers, host);
      const entry = begin ? parseEntry(begin) : null;
      if (!begin || !entry) throw new Error(`no oplog entry found on sync source ${host}`);
      progress.oplogStart = new Timestamp({ t: entry.opTime.secs, i: entry.opTime.inc });
      role.logRepl('I', 21173, 'Initial sync: cloning data', { syncSource: host });
      await cloneFrom(role.peers, host, (ops) => storage.apply(ops), progress);
      // mongod's test failpoint: hold the member in STARTUP2 between cloning and oplog replay.
      if (role.node.failPointActive('initialSyncHangAfterDataCloning')) {
        role.logRepl(
          'I',
          21184,
          'initialSyncHangAfterDataCloning fail point enabled. Blocking until fail point is disabled.',
        );
        while (this.running && role.node.failPointActive('initialSyncHangAfterDataCloning')) await sleep(50);
      }
      role.logRepl('I', 21183, 'Finished cloning data. Beginning oplog replay', {
        databasesCloned: progress.databasesCloned,
      });
      role.applyFetched([begin], () => []);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      progress.attemptFailed(message);
      const drop = storage
        .databaseNames()
        .filter((db) => db !== 'local')
        .map((db): StorageOp => ({ op: 'dropDatabase', db }));
      if (drop.length > 0) storage.apply(drop);
      throw err;
    }
  }

  /**
   * Applies entries in order; a delayed member stops at the first entry newer than its delay. Like
   * mongod's oplog applier, a fetched batch is written as one unit (one journal commit, lastApplied
   * moving once per batch), not one durable write per entry: a restarted member that missed seconds of
   * writes catches up in a fraction of a second, as a real one does. CRUD entries on collections that
   * already exist are grouped; an entry whose ops depend on what the entries before it created
   * (implicit collection creation, DDL) is applied on its own, after the group before it.
   */
  private apply(docs: Document[], delaySecs: number): number {
    const role = this.role;
    const storage = role.node.requireStorage();
    const started = Date.now();
    let n = 0;
    let group: Document[] = [];
    let groupOps: StorageOp[] = [];
    const flush = (): void => {
      if (group.length === 0) return;
      const ops = groupOps;
      role.applyFetchedBatch(group, () => ops);
      group = [];
      groupOps = [];
    };
    for (const doc of docs) {
      const e = parseEntry(doc);
      if (!e) continue;
      if (delaySecs > 0 && e.wallMs > Date.now() - delaySecs * 1000) break;
      if (isGroupable(doc, storage)) {
        group.push(doc);
        groupOps.push(...opsForEntry(doc, storage));
      } else {
        flush();
        role.applyFetched([doc], (d) => opsForEntry(d, storage));
      }
      role.node.counters.noteApplied(doc);
      n++;
    }
    flush();
    role.node.counters.noteBatch(n, Date.now() - started);
    return n;
  }

  /** replSetUpdatePosition to the sync source and the primary, coalesced. */
  reportPosition(): void {
    if (this.updateInFlight) {
      this.updatePending = true;
      return;
    }
    const role = this.role;
    const topo = role.topo;
    const config = topo.config;
    const self = topo.self;
    if (!config || !self) return;
    const targets = new Set<string>();
    if (role.syncSourceHost) targets.add(role.syncSourceHost);
    const primary = topo.primaryIndex >= 0 ? config.members[topo.primaryIndex] : undefined;
    if (primary && primary.host !== self.host) targets.add(primary.host);
    if (targets.size === 0) return;
    const body = {
      replSetUpdatePosition: 1,
      optimes: [
        {
          durableOpTime: opTimeToBson(topo.myDurable),
          durableWallTime: new Date(topo.myAppliedWallMs),
          appliedOpTime: opTimeToBson(topo.myApplied),
          appliedWallTime: new Date(topo.myAppliedWallMs),
          memberId: new Int32(self.id),
          cfgver: new Int32(config.version),
        },
      ],
    };
    this.updateInFlight = true;
    void Promise.allSettled([...targets].map((h) => role.peers.run(h, 'misc', body, 5000))).finally(() => {
      this.updateInFlight = false;
      if (this.updatePending) {
        this.updatePending = false;
        this.reportPosition();
      }
    });
  }

  /**
   * Rollback (recover-to-timestamp style): find the newest entry both oplogs share, save the documents
   * our divergent entries touched under dbPath/rollback, and recover the data and oplog to that point.
   */
  private async rollback(host: string): Promise<void> {
    const role = this.role;
    const topo = role.topo;
    const old = topo.state;
    topo.setState(MemberState.ROLLBACK);
    role.stateChanged(old);
    role.logRepl('I', 21593, 'Transition to ROLLBACK', { syncSource: host });
    try {
      const mine = role.oplog.newestFirst(BATCH);
      const newest = mine[0];
      if (!newest) return;
      const reply = await role.peers.run(
        host,
        'fetch',
        {
          find: 'oplog.rs',
          filter: { ts: { $lte: new Timestamp({ t: newest.opTime.secs, i: newest.opTime.inc }) } },
          sort: { $natural: -1 },
          limit: new Int32(BATCH),
          batchSize: new Int32(BATCH),
          $readPreference: { mode: 'secondaryPreferred' },
        },
        10_000,
        'local',
      );
      const theirs = new Set<string>();
      const batch = ((reply.cursor as Document | undefined)?.firstBatch ?? []) as Document[];
      for (const d of batch) {
        const e = parseEntry(d);
        if (e) theirs.add(opTimeKey(e.opTime));
      }
      const common = mine.find((e) => theirs.has(opTimeKey(e.opTime)));
      const commonPoint = common?.opTime ?? NULL_OPTIME;
      if (!common && batch.length >= BATCH) {
        role.logRepl('E', 21600, 'Rollback failed: common point not found');
        return;
      }
      const divergent = mine.filter((e) => compareOpTime(e.opTime, commonPoint) > 0);
      this.saveRollbackFiles(divergent);
      const storage = role.node.requireStorage();
      storage.recoverToTimestamp(new Timestamp({ t: commonPoint.secs, i: commonPoint.inc }));
      role.oplog.reload(storage);
      topo.resetMyOpTimes(role.oplog.lastOpTime(), role.oplog.last()?.wallMs ?? 0);
      role.logRepl('I', 21612, 'Rollback complete', {
        commonPoint: opTimeToBson(commonPoint),
        entriesRolledBack: divergent.length,
      });
    } finally {
      const o = topo.state;
      topo.setState(MemberState.SECONDARY);
      topo.resetElectionTimer(Date.now());
      role.stateChanged(o);
    }
  }

  /** Writes the pre-rollback versions of the documents our divergent entries changed (rollback/ dir). */
  private saveRollbackFiles(divergent: OplogEntry[]): void {
    const storage = this.role.node.requireStorage();
    const root = join(this.role.node.options.dbPath, 'rollback');
    // "2024-07-24T13-54-28.0": the timestamp shape of mongod's rollback file names.
    const stamp = new Date()
      .toISOString()
      .replace(/:/g, '-')
      .replace(/\.\d+Z$/, '.0');
    const saved = new Set<string>();
    for (const e of divergent) {
      const ns = typeof e.doc.ns === 'string' ? e.doc.ns : '';
      const dot = ns.indexOf('.');
      if (dot < 0 || !['i', 'u'].includes(String(e.doc.op))) continue;
      const o = (e.doc.o ?? {}) as Document;
      const coll = storage.getCollection(ns.slice(0, dot), ns.slice(dot + 1));
      const current = coll?.findById(o._id);
      if (!coll || !current) continue;
      const key = `${ns}|${JSON.stringify(o._id)}`;
      if (saved.has(key)) continue;
      saved.add(key);
      // 4.4+: rollback/<collection UUID>/removed.<time>.bson; before: rollback/<db.coll>.<time>.bson.
      const file = this.role.features.configTerm
        ? join(root, coll.uuid.toHexString(true), `removed.${stamp}.bson`)
        : join(root, `${ns}.${stamp}.bson`);
      mkdirSync(dirname(file), { recursive: true });
      appendFileSync(file, BSON.serialize(current));
    }
  }
}
