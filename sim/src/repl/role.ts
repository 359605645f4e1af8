// The replica-set ReplicationRole: owns the topology coordinator, the oplog, persistence of config /
// term / vote in dbPath, the heartbeat and election timers, and write-concern waiting.
// Elections live in election.ts, oplog fetching and rollback in fetcher.ts, commands in commands.ts.
import { statfsSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { type Document, Int32, Long, Timestamp, UUID } from 'bson';
import { internalConnectOptions } from '../auth/internal.js';
import { CommandError } from '../errors.js';
import type { SimNode } from '../node.js';
import type {
  CommitResult,
  HelloRequest,
  ReplicationRole,
  ShutdownRequest,
  WriteConcern,
} from '../replication.js';
import type { StorageOp } from '../storage/store.js';
import {
  ConfigError,
  configToBson,
  hostName,
  hostPort,
  isVoter,
  majorityVoteCount,
  parseConfig,
  type ReplSetConfig,
  type ValidationContext,
} from './config.js';
import { findSelf } from './config-checks.js';
import { codeName, notPrimaryText, ReplCode } from './errors.js';
import { type ReplFeatures, replFeatures } from './features.js';
import type { InitialSyncProgress } from './initial-sync.js';
import { MemberState, stateString } from './member-state.js';
import {
  entryFor,
  isReplicated,
  noopEntry,
  OPLOG_COLL,
  OplogIndex,
  oplogInsertOp,
  parseEntry,
} from './oplog.js';
import {
  compareOpTime,
  NULL_OPTIME,
  nextOpTime,
  numberOf,
  type OpTime,
  opTimeFromBson,
  opTimeToBson,
} from './optime.js';
import { networkErrorText, PeerPool } from './peers.js';
import { implicitDefaultW, readDefaults } from './rw-concern.js';
import { type ElectionReason, type HeartbeatResponse, TopologyCoordinator } from './topology.js';
import { clusterTimeFields, helloReplFields, replSetStatus } from './views.js';

const CONFIG_COLL = 'system.replset';
const ELECTION_COLL = 'replset.election';

type Waiter = { check: () => Document | undefined | 'wait'; resolve: (v: Document | undefined) => void };

export class ReplSetRole implements ReplicationRole {
  readonly kind = 'replset' as const;
  readonly node: SimNode;
  readonly features: ReplFeatures;
  readonly topo: TopologyCoordinator;
  readonly setName: string;
  readonly peers = new PeerPool(() => internalConnectOptions(this.node));
  oplog: OplogIndex;
  running = false;
  /** Set while an election is being run, so ticks do not start a second one. */
  electionInProgress = false;
  /** Resolves once the current (or last) election's votes are counted; see runElection. */
  electionDecided: Promise<void> | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly heartbeatsInFlight = new Set<string>();
  /** Config version for which a peer already got a quick follow-up heartbeat. */
  private readonly quickRetried = new Map<string, number>();
  private waiters: Waiter[] = [];
  private readonly oplogListeners = new Set<() => void>();
  /** Hooks set by the election and fetcher modules (avoids an import cycle). */
  onStartElection: ((reason: ElectionReason, skipDryRun: boolean) => void) | undefined;
  onStart: (() => void) | undefined;
  onStop: (() => void) | undefined;
  syncSourceHost = '';
  infoMessage = '';
  /** The commit point when the current config was installed (4.4+ oplog commitment of reconfig). */
  lastCommittedInPrevConfig: OpTime = NULL_OPTIME;
  /** Progress of this process' initial sync, once one started (replSetGetStatus initialSyncStatus). */
  initialSync: InitialSyncProgress | undefined;

  constructor(node: SimNode) {
    this.node = node;
    this.features = replFeatures(node.version.full);
    // --replSet may carry a legacy seed list ("rs0/h1:27017,h2:27017"): the set name is before the slash.
    this.setName = (node.options.replSetName ?? '').split('/')[0] ?? '';
    const fraction = Number(node.parameters.get('replElectionTimeoutOffsetLimitFraction') ?? Number.NaN);
    this.topo = new TopologyCoordinator({
      random: Math.random,
      ...(Number.isFinite(fraction) && fraction >= 0 ? { offsetFraction: fraction } : {}),
    });
    const storage = node.requireStorage();
    // Nothing may fold into the snapshot until the commit point is known: rollback may need it.
    storage.setStableTimestamp(new Timestamp({ t: 0, i: 0 }));
    this.oplog = OplogIndex.load(storage);
    const last = this.oplog.last();
    if (last) this.topo.setMyApplied(last.opTime, last.wallMs);
    this.loadElection();
    // The term is never below the term of our newest oplog entry.
    this.topo.term = Math.max(this.topo.term, this.topo.myApplied.term, 0);
    this.loadConfig();
  }

  // ---- persistence (local.system.replset, local.replset.election) -------------------------------

  private ensureLocalCollection(coll: string): StorageOp[] {
    if (this.node.requireStorage().getCollection('local', coll)) return [];
    if (coll === OPLOG_COLL) {
      // local.oplog.rs is a capped collection of replication.oplogSizeMB (§5.1).
      return [
        { op: 'createCollection', db: 'local', coll, options: { capped: true, size: this.oplogSizeBytes() } },
      ];
    }
    return [{ op: 'createCollection', db: 'local', coll }];
  }

  /** --oplogSize, else 5 % of the disk within 990 MB – 50 GB (§5.1). */
  private oplogSizeBytes(): number {
    const mb = this.node.options.oplogSizeMB;
    if (mb !== undefined && mb > 0) return mb * 1024 * 1024;
    let disk = 0;
    try {
      const st = statfsSync(this.node.options.dbPath);
      disk = st.blocks * st.bsize;
    } catch {
      disk = 0;
    }
    const min = 990 * 1024 * 1024;
    const max = 50 * 1024 * 1024 * 1024;
    return Math.min(max, Math.max(min, Math.floor(disk * 0.05)));
  }

  private loadConfig(): void {
    const coll = this.node.requireStorage().getCollection('local', CONFIG_COLL);
    const doc = coll ? [...coll.all()][0] : undefined;
    if (!doc) return;
    let config: ReplSetConfig;
    try {
      config = parseConfig(doc, this.features, true);
    } catch (err) {
      this.logRepl('W', 21405, 'Locally stored replica set configuration does not parse', {
        error: (err as Error).message,
      });
      return;
    }
    let self = -1;
    try {
      self = findSelf(config, (h) => this.isSelf(h), this.features);
    } catch {
      self = -1;
    }
    this.installConfig(config, self, false);
  }

  persistConfig(config: ReplSetConfig): void {
    const storage = this.node.requireStorage();
    const ops: StorageOp[] = [...this.ensureLocalCollection(CONFIG_COLL)];
    const existing = storage.getCollection('local', CONFIG_COLL);
    if (existing)
      for (const d of existing.all())
        if (d._id !== config.setName) ops.push({ op: 'delete', db: 'local', coll: CONFIG_COLL, id: d._id });
    ops.push({ op: 'replace', db: 'local', coll: CONFIG_COLL, doc: configToBson(config, this.features) });
    storage.apply(ops);
  }

  private loadElection(): void {
    const coll = this.node.requireStorage().getCollection('local', ELECTION_COLL);
    const doc = coll ? [...coll.all()][0] : undefined;
    if (!doc) return;
    this.topo.term = numberOf(doc.term) ?? 0;
    this.topo.lastVote = {
      term: numberOf(doc.term) ?? -1,
      candidateIndex: numberOf(doc.candidateIndex) ?? -1,
    };
    const t = numberOf(doc.currentTerm);
    if (t !== null) this.topo.term = t;
  }

  /** Term and vote are durable before any reply that depends on them (Raft). */
  persistElection(): void {
    const doc = {
      _id: 'election',
      term: Long.fromNumber(this.topo.lastVote.term),
      candidateIndex: Long.fromNumber(this.topo.lastVote.candidateIndex),
      currentTerm: Long.fromNumber(this.topo.term),
    };
    this.node
      .requireStorage()
      .apply([
        ...this.ensureLocalCollection(ELECTION_COLL),
        { op: 'replace', db: 'local', coll: ELECTION_COLL, doc },
      ]);
  }

  // ---- identity -------------------------------------------------------------------------------

  /** isSelf: the member's port is ours and its host names this machine (hostname, loopback or a local address). */
  isSelf(host: string): boolean {
    if (hostPort(host) !== this.node.port) return false;
    const h = hostName(host)
      .replace(/^\[|\]$/g, '')
      .toLowerCase();
    if (h === 'localhost' || h.startsWith('127.') || h === '::1' || h === hostname().toLowerCase())
      return true;
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) if (a.address.toLowerCase() === h) return true;
    }
    return false;
  }

  /** What config validation needs to know about this process (ReplSetConfig::validate). */
  validationContext(): ValidationContext {
    const v = this.node.parameters.get('allowMultipleArbiters');
    return {
      configsvr: this.node.options.clusterRole === 'configsvr',
      allowMultipleArbiters: v === true || v === 'true' || v === '1' || v === 1,
    };
  }

  get myHost(): string {
    return this.topo.self?.host ?? `${hostname()}:${this.node.port}`;
  }

  // ---- state changes --------------------------------------------------------------------------

  logRepl(
    s: 'I' | 'W' | 'E',
    id: number,
    msg: string,
    attr?: Record<string, unknown>,
    c = 'REPL',
    text?: string,
  ): void {
    this.node.log.write({
      s,
      c,
      id,
      ctx: 'ReplCoord-0',
      msg,
      ...(attr ? { attr } : {}),
      ...(text ? { text } : {}),
    });
  }

  /** Every member-state change is logged (21358) and wakes awaitable hello (§2.4). */
  setState(newState: number): void {
    const old = this.topo.state;
    if (old === newState) return;
    this.topo.setState(newState);
    this.stateChanged(old);
  }

  /** Call after the topology changed state by itself (step-down, config install). */
  stateChanged(oldState: number): void {
    if (oldState !== this.topo.state) {
      // Text logs (< 4.4) said "transition to PRIMARY from SECONDARY".
      const newState = stateString(this.topo.state);
      const old = stateString(oldState);
      this.logRepl(
        'I',
        21358,
        'Replica set state transition',
        { newState, oldState: old },
        'REPL',
        `transition to ${newState} from ${old}`,
      );
    }
    this.node.topology.bump();
    this.wakeWaiters();
  }

  installConfig(config: ReplSetConfig, selfIndex: number, persist: boolean): void {
    if (persist) this.persistConfig(config);
    this.lastCommittedInPrevConfig = this.topo.lastCommitted;
    const old = this.topo.state;
    this.topo.installConfig(config, selfIndex, Date.now());
    const joining = old === MemberState.STARTUP || old === MemberState.REMOVED;
    if (selfIndex >= 0 && joining && this.oplog.isEmpty && !this.topo.self?.arbiterOnly) {
      // A member that learns the config with no data runs initial sync first (§3.3).
      this.topo.setState(MemberState.STARTUP2);
    }
    this.logRepl('I', 21392, 'New replica set config in use', {
      config: configToBson(config, this.features),
    });
    if (selfIndex >= 0) {
      this.logRepl('I', 21393, 'Found self in config', { hostAndPort: config.members[selfIndex]?.host });
    }
    this.stateChanged(old);
    if (this.running) this.scheduleHeartbeats(0);
  }

  stepDown(reason: string, frozenUntilMs = 0): void {
    if (this.topo.state !== MemberState.PRIMARY) return;
    const old = this.topo.state;
    this.logRepl('I', 21809, 'Stepping down from primary', { reason });
    this.topo.stepDownNow(Date.now());
    if (frozenUntilMs > 0) this.topo.stepDownUntilMs = frozenUntilMs;
    this.stateChanged(old);
  }

  /** Adopts a term seen in any message; persists it; a primary steps down (PV1). */
  observeTerm(term: number): void {
    const old = this.topo.state;
    if (this.topo.updateTerm(term, Date.now())) {
      this.persistElection();
      if (old !== this.topo.state) this.stateChanged(old);
    }
  }

  // ---- oplog and writes -----------------------------------------------------------------------

  /** Appends entries with data atomically (one journal record) and advances our optime. */
  private writeEntries(dataOps: StorageOp[], docs: Document[]): OpTime {
    const storage = this.node.requireStorage();
    const lastDoc = docs[docs.length - 1];
    const lastEntry = lastDoc ? parseEntry(lastDoc) : null;
    if (!lastEntry) {
      storage.apply(dataOps);
      return this.topo.myApplied;
    }
    storage.apply([...this.ensureLocalCollection(OPLOG_COLL), ...dataOps, ...docs.map(oplogInsertOp)], {
      ts: new Timestamp({ t: lastEntry.opTime.secs, i: lastEntry.opTime.inc }),
    });
    for (const d of docs) {
      const e = parseEntry(d);
      if (e) this.oplog.append(e);
    }
    this.topo.setMyApplied(lastEntry.opTime, lastEntry.wallMs);
    this.afterOplogAdvance();
    return lastEntry.opTime;
  }

  afterOplogAdvance(): void {
    if (this.topo.updateCommitPointAsPrimary()) this.commitPointAdvanced();
    for (const l of this.oplogListeners) l();
    this.wakeWaiters();
  }

  commitPointAdvanced(): void {
    this.topo.lastCommittedWallMs = Date.now();
    // The new term's first entry is majority committed: w:"majority" writes are possible from now on.
    const metrics = this.topo.electionCandidateMetrics;
    const first = this.topo.firstOpTimeOfTerm;
    if (
      metrics &&
      metrics.wMajorityWriteAvailabilityDateMs === undefined &&
      first &&
      compareOpTime(this.topo.lastCommitted, first) >= 0
    ) {
      metrics.wMajorityWriteAvailabilityDateMs = Date.now();
    }
    this.node
      .requireStorage()
      .setStableTimestamp(new Timestamp({ t: this.topo.lastCommitted.secs, i: this.topo.lastCommitted.inc }));
    this.wakeWaiters();
  }

  /** Writes a no-op oplog entry ("initiating set", "new primary") in `term`. */
  writeNoop(msg: string, term: number): OpTime {
    const now = Date.now();
    const opTime = nextOpTime(this.oplog.lastOpTime(), now, term);
    return this.writeEntries(
      [],
      [
        noopEntry(
          msg,
          opTime,
          now,
          this.features.major < 4 || (this.features.major === 4 && this.features.minor < 2),
        ),
      ],
    );
  }

  /** Applies entries fetched from the sync source (secondary apply path), each one atomic with its data. */
  applyFetched(docs: Document[], opsFor: (doc: Document) => StorageOp[]): void {
    for (const doc of docs) this.writeEntries(opsFor(doc), [doc]);
  }

  /** Applies a batch of fetched entries as one atomic, durable unit (data and oplog together). */
  applyFetchedBatch(docs: Document[], opsFor: () => StorageOp[]): void {
    if (docs.length > 0) this.writeEntries(opsFor(), docs);
  }

  /** Waits until the oplog advances or `ms` pass (awaitData on local.oplog.rs). */
  waitForOplog(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.oplogListeners.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.oplogListeners.add(done);
    });
  }

  // ---- ReplicationRole ------------------------------------------------------------------------

  helloFields(req: HelloRequest): Document {
    return helloReplFields(this.topo, this.features, req.commandName, this.setName);
  }

  checkWrite(db: string): void {
    if (db === 'local') return;
    if (!this.topo.canAcceptWrites) {
      throw new CommandError(ReplCode.NotWritablePrimary, notPrimaryText(this.features, 'write'));
    }
  }

  checkRead(db: string, secondaryOk: boolean): void {
    if (db === 'local') return;
    const s = this.topo.state;
    if (s === MemberState.PRIMARY) return;
    if (s === MemberState.SECONDARY) {
      if (secondaryOk) return;
      throw new CommandError(
        ReplCode.NotPrimaryNoSecondaryOk,
        notPrimaryText(this.features, 'noSecondaryOk'),
      );
    }
    if (!secondaryOk) {
      throw new CommandError(
        ReplCode.NotPrimaryNoSecondaryOk,
        notPrimaryText(this.features, 'noSecondaryOk'),
      );
    }
    throw new CommandError(
      ReplCode.NotPrimaryOrSecondary,
      this.features.primaryWording
        ? 'node is not in primary or recovering state'
        : 'not master or secondary; cannot currently read from this replSet member',
    );
  }

  commit(input: StorageOp[]): CommitResult {
    // A new collection gets its UUID here, so the oplog carries it (ui) and every member shares it.
    const ops = input.map((op) =>
      op.op === 'createCollection' && !op.uuid ? { ...op, uuid: new UUID() } : op,
    );
    const replicated = ops.filter(isReplicated);
    if (replicated.length === 0) {
      this.node.requireStorage().apply(ops);
      return {};
    }
    if (!this.topo.canAcceptWrites) {
      throw new CommandError(ReplCode.NotWritablePrimary, notPrimaryText(this.features, 'write'));
    }
    const storage = this.node.requireStorage();
    const now = Date.now();
    let last = this.oplog.lastOpTime();
    const legacyHash = this.features.major < 4 || (this.features.major === 4 && this.features.minor < 2);
    const created = new Map<string, StorageOp & { op: 'createCollection' }>();
    const docs: Document[] = [];
    for (const op of replicated) {
      if (op.op === 'createCollection') created.set(`${op.db}.${op.coll}`, op);
      const uuid =
        'coll' in op
          ? (storage.getCollection(op.db, op.coll)?.uuid ?? created.get(`${op.db}.${op.coll}`)?.uuid)
          : undefined;
      last = nextOpTime(last, now, this.topo.term);
      docs.push(entryFor(op, last, now, uuid, legacyHash));
    }
    const opTime = this.writeEntries(ops, docs);
    return {
      opTime: { ts: new Timestamp({ t: opTime.secs, i: opTime.inc }), t: Long.fromNumber(opTime.term) },
    };
  }

  /** The write concern of writes that name none: the cluster-wide default, else 5.0+'s implicit one. */
  private defaultW(): unknown {
    const stored = readDefaults(this)?.defaultWriteConcern as Document | undefined;
    if (stored?.w !== undefined) return stored.w;
    const config = this.topo.config;
    if (!this.features.primaryWording || !config) return 1;
    return implicitDefaultW(config);
  }

  /** A timestamp for bookkeeping fields (setDefaultRWConcern's updateOpTime): our last optime. */
  nextTimestampHint(): Timestamp {
    return new Timestamp({ t: this.topo.myApplied.secs, i: this.topo.myApplied.inc });
  }

  waitForWriteConcern(result: CommitResult, wc: WriteConcern | undefined): Promise<Document | undefined> {
    const target = result.opTime ? opTimeFromBson(result.opTime) : null;
    if (!target) return Promise.resolve(undefined);
    const w = wc?.w ?? this.defaultW();
    const wtimeout = numberOf(wc?.wtimeout) ?? 0;
    const config = this.topo.config;
    const term = this.topo.term;
    const wcDoc: Document = { w, wtimeout };
    const fail = (code: number, errmsg: string, errInfo?: Document): Document => ({
      code,
      codeName: codeName(code, this.features),
      errmsg,
      ...(errInfo ? { errInfo } : {}),
    });
    let check: () => Document | undefined | 'wait';
    if (typeof w === 'number' || typeof w === 'object') {
      const n = numberOf(w) ?? 1;
      if (n <= 1) return Promise.resolve(undefined);
      const dataBearing = config ? config.members.filter((m) => !m.arbiterOnly).length : 1;
      if (n > dataBearing) return Promise.resolve(fail(100, 'Not enough data-bearing nodes'));
      check = () => (this.topo.membersAtLeast(target) >= n ? undefined : 'wait');
    } else if (w === 'majority') {
      check = () => (compareOpTime(this.topo.lastCommitted, target) >= 0 ? undefined : 'wait');
    } else {
      return Promise.resolve(
        fail(79, `No write concern mode named '${String(w)}' found in replica set configuration`),
      );
    }
    const guarded = (): Document | undefined | 'wait' => {
      const r = check();
      if (r !== 'wait') return r;
      if (this.topo.state !== MemberState.PRIMARY || this.topo.term !== term) {
        return fail(ReplCode.PrimarySteppedDown, 'Primary stepped down while waiting for replication');
      }
      return 'wait';
    };
    const first = guarded();
    if (first !== 'wait') return Promise.resolve(first);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        check: guarded,
        resolve: (v) => {
          if (timer) clearTimeout(timer);
          resolve(v);
        },
      };
      if (wtimeout > 0) {
        timer = setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== waiter);
          resolve(
            fail(ReplCode.WriteConcernFailed, 'waiting for replication timed out', {
              wtimeout: true,
              writeConcern: {
                ...wcDoc,
                provenance: wc?.w === undefined ? 'implicitDefault' : 'clientSupplied',
              },
            }),
          );
        }, wtimeout);
      }
      this.waiters.push(waiter);
    });
  }

  wakeWaiters(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      const r = w.check();
      if (r === 'wait') still.push(w);
      else w.resolve(r);
    }
    this.waiters = still;
  }

  replyFields(): Document {
    if (!this.topo.config) return {};
    return clusterTimeFields(this.topo.myApplied);
  }

  serverStatusRepl(): Document | undefined {
    const hello = helloReplFields(this.topo, this.features, 'hello', this.setName);
    const { isWritablePrimary, ...rest } = hello;
    return {
      ...rest,
      ismaster: isWritablePrimary ?? false,
      ...(this.features.primaryWording ? { isWritablePrimary: isWritablePrimary ?? false } : {}),
      rbid: new Int32(1),
    };
  }

  async prepareShutdown(req: ShutdownRequest): Promise<void> {
    const config = this.topo.config;
    if (this.topo.state !== MemberState.PRIMARY || !config) return;
    // §5.7: a single-node set skips the step-down.
    if (config.members.filter((m) => !m.arbiterOnly).length <= 1) return;
    if (req.force) {
      this.stepDown('shutdown (force)');
      return;
    }
    const deadline = Date.now() + req.timeoutSecs * 1000;
    while (Date.now() < deadline) {
      const target = this.topo.myApplied;
      const idx = this.topo.caughtUpElectableSecondary(target, Date.now());
      if (idx >= 0) {
        this.stepDown('shutdown');
        this.handOffElection(idx);
        return;
      }
      await sleep(Math.min(100, Math.max(1, deadline - Date.now())));
    }
    if (req.fromSignal) {
      this.stepDown('shutdown (signal)');
      return;
    }
    throw new CommandError(
      ReplCode.ExceededTimeLimit,
      `No electable secondaries caught up as of ${isoLocal(new Date())}. Please use the replSetStepDown command with the argument {force: true} to force node to step down.`,
    );
  }

  /** ReplicationCoordinator::enterQuiesceModeIfSecondary (5.0+): a quiescing member never stands again. */
  enterQuiesceIfSecondary(): boolean {
    if (this.topo.state !== MemberState.SECONDARY) return false;
    this.topo.inQuiesceMode = true;
    this.topo.electionDeadlineMs = null;
    this.topo.priorityTakeoverDeadlineMs = null;
    return true;
  }

  async start(): Promise<void> {
    this.running = true;
    this.scheduleTicks();
    this.scheduleHeartbeats(0);
    this.onStart?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.onStop?.();
    this.peers.close();
    for (const w of this.waiters) {
      w.resolve({
        code: ReplCode.ShutdownInProgress,
        codeName: 'ShutdownInProgress',
        errmsg: 'Replication is being shut down',
      });
    }
    this.waiters = [];
  }

  // ---- timers ---------------------------------------------------------------------------------

  private tickInterval(): number {
    const s = this.topo.config?.settings;
    if (!s) return 250;
    return Math.max(
      10,
      Math.min(250, Math.floor(Math.min(s.electionTimeoutMillis, s.heartbeatIntervalMillis) / 4)),
    );
  }

  private scheduleTicks(): void {
    if (!this.running) return;
    this.tickTimer = setTimeout(() => {
      try {
        this.tick();
      } finally {
        this.scheduleTicks();
      }
    }, this.tickInterval());
    this.tickTimer.unref?.();
  }

  private tick(): void {
    const now = Date.now();
    if (this.topo.state === MemberState.SECONDARY || this.topo.state === MemberState.PRIMARY) {
      this.topo.stepDownUntilMs = this.topo.stepDownUntilMs > now ? this.topo.stepDownUntilMs : 0;
    }
    const action = this.topo.tick(now);
    if (action.kind === 'stepDown') {
      this.logRepl('I', 21809, "Can't see a majority of the set, relinquishing primary");
      this.stepDown(action.reason);
    } else if (action.kind === 'startElection' && !this.electionInProgress) {
      this.onStartElection?.(action.reason, false);
    }
  }

  scheduleHeartbeats(delayMs: number): void {
    if (!this.running) return;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => {
      this.sendHeartbeats();
      this.scheduleHeartbeats(this.topo.config?.settings.heartbeatIntervalMillis ?? 2000);
    }, delayMs);
    this.heartbeatTimer.unref?.();
  }

  private sendHeartbeats(): void {
    const config = this.topo.config;
    if (!config) return;
    config.members.forEach((m, i) => {
      if (i !== this.topo.selfIndex) void this.heartbeat(m.host);
    });
  }

  /** replSetHeartbeat arguments; without a config (-2) the reply carries the sender's config. */
  heartbeatArgs(config: ReplSetConfig | null, extra: Document = {}): Document {
    const self = this.topo.self;
    return {
      replSetHeartbeat: config?.setName ?? this.setName,
      configVersion: new Int32(config?.version ?? -2),
      ...(this.features.configTerm ? { configTerm: Long.fromNumber(config?.term ?? -1) } : {}),
      hbv: new Int32(1),
      from: self?.host ?? this.myHost,
      fromId: new Int32(self?.id ?? -1),
      term: Long.fromNumber(this.topo.term),
      ...extra,
    };
  }

  /** One heartbeat to a member; at most one in flight per host. */
  async heartbeat(host: string): Promise<void> {
    const config = this.topo.config;
    if (this.heartbeatsInFlight.has(host)) return;
    this.heartbeatsInFlight.add(host);
    const started = Date.now();
    try {
      const reply = await this.peers.run(
        host,
        'heartbeat',
        this.heartbeatArgs(config),
        (config?.settings.heartbeatTimeoutSecs ?? 10) * 1000,
      );
      if (!this.running) return;
      this.handleHeartbeatReply(host, reply, started);
    } catch (err) {
      if (!this.running) return;
      const i = this.topo.config?.members.findIndex((m) => m.host === host) ?? -1;
      if (i >= 0) {
        const primaryBefore = this.topo.primaryIndex;
        this.topo.processHeartbeatFailure(i, Date.now(), networkErrorText(host, err));
        // hello's `primary` field changed: wake awaitable hello (§2.4).
        if (primaryBefore !== this.topo.primaryIndex) this.node.topology.bump();
      }
      this.peers.reset(host);
    } finally {
      this.heartbeatsInFlight.delete(host);
    }
  }

  private handleHeartbeatReply(host: string, reply: Document, started: number): void {
    const now = Date.now();
    if (numberOf(reply.ok) !== 1) {
      const cfg = this.topo.config;
      const index = cfg ? cfg.members.findIndex((m) => m.host === host) : -1;
      if (index >= 0) {
        this.topo.processHeartbeatFailure(index, now, String(reply.errmsg ?? 'heartbeat failed'));
      }
      return;
    }
    // A newer config travels in the heartbeat response (heartbeat reconfig, or a member learning it).
    if (reply.config) this.maybeAdoptConfig(reply.config as Document);
    if (!this.topo.config) return;
    const term = numberOf(reply.term);
    if (term !== null) this.observeTerm(term);
    const cur = this.topo.config;
    const i = cur ? cur.members.findIndex((m) => m.host === host) : -1;
    if (i < 0) return;
    const peerVersion = numberOf(reply.configVersion) ?? -2;
    if (cur && peerVersion < cur.version && this.quickRetried.get(host) !== cur.version) {
      // The peer gets our newer config from this response: look again soon to see it installed.
      this.quickRetried.set(host, cur.version);
      setTimeout(() => void this.heartbeat(host), 20).unref?.();
    }
    const before = this.topo.state;
    const beforePrimary = this.topo.primaryIndex;
    this.topo.processHeartbeatResponse(i, parseHeartbeatResponse(reply), now, now - started);
    const lc = opTimeFromBson(reply.lastOpCommitted);
    if (lc && this.topo.state !== MemberState.PRIMARY && numberOf(reply.state) === MemberState.PRIMARY) {
      if (this.topo.advanceCommitPointFromSource(lc, now)) this.commitPointAdvanced();
    }
    if (before !== this.topo.state) this.stateChanged(before);
    else if (beforePrimary !== this.topo.primaryIndex) {
      this.node.topology.bump();
    }
    if (
      this.topo.canAcceptWrites &&
      cur?.members[i]?.newlyAdded &&
      numberOf(reply.state) === MemberState.SECONDARY
    ) {
      this.clearNewlyAdded(i);
    }
    if (this.topo.state === MemberState.PRIMARY && this.topo.updateCommitPointAsPrimary())
      this.commitPointAdvanced();
  }

  /** The primary's automatic reconfig once a newlyAdded member is SECONDARY (4.4+): version + 1. */
  private clearNewlyAdded(index: number): void {
    const config = this.topo.config;
    if (!config) return;
    const members = config.members.map((m, i) => (i === index ? { ...m, newlyAdded: false } : m));
    const next: ReplSetConfig = { ...config, members, version: config.version + 1, term: this.topo.term };
    this.logRepl('I', 4634400, "Removing 'newlyAdded' field from member", {
      memberId: config.members[index]?.id,
    });
    this.installConfig(next, this.topo.selfIndex, true);
  }

  /** Installs a config received from another member when it is newer than ours. */
  maybeAdoptConfig(raw: Document): void {
    let config: ReplSetConfig;
    try {
      config = parseConfig(raw, this.features, true);
    } catch {
      return;
    }
    const cur = this.topo.config;
    if (config.setName !== this.setName) return;
    if (cur && !isNewerConfig(config, cur)) return;
    let self = -1;
    try {
      self = findSelf(config, (h) => this.isSelf(h), this.features);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
    }
    this.installConfig(config, self, true);
  }

  /**
   * 4.4+: replSetReconfig returns once a majority of voting members run the new config (§3.6),
   * bounded by maxTimeMS (50 MaxTimeMSExpired).
   */
  async waitForConfigMajority(version: number, maxTimeMS: number): Promise<void> {
    const deadline = Date.now() + (maxTimeMS > 0 ? maxTimeMS : 300_000);
    for (;;) {
      const config = this.topo.config;
      if (!config || config.version !== version) return;
      if (this.configCommitted()) return;
      if (Date.now() >= deadline) {
        throw new CommandError(50, 'operation exceeded time limit', {}, 'MaxTimeMSExpired');
      }
      await sleep(20);
    }
  }

  /** A majority of voting members run our current config (4.4+ "config committed"). */
  configCommitted(): boolean {
    const config = this.topo.config;
    if (!config) return false;
    let installed = 0;
    config.members.forEach((m, i) => {
      if (!isVoter(m)) return;
      if (i === this.topo.selfIndex || (this.topo.peers[i]?.configVersion ?? -1) >= config.version)
        installed++;
    });
    return installed >= majorityVoteCount(config);
  }

  /** Election handoff (4.0.2+): ask a caught-up secondary to stand at once (replSetStepUp). */
  handOffElection(index: number): void {
    const host = this.topo.config?.members[index]?.host;
    if (!host) return;
    this.peers.run(host, 'handoff', { replSetStepUp: 1, skipDryRun: true }, 5000).catch(() => undefined);
  }

  status(now: number): Document {
    return replSetStatus(this.topo, this.features, {
      nowMs: now,
      startedMs: this.node.startedAt,
      syncSourceHost: this.syncSourceHost,
      syncSourceId: this.syncSourceHost
        ? (this.topo.config?.members.find((m) => m.host === this.syncSourceHost)?.id ?? -1)
        : -1,
      infoMessage: this.infoMessage,
    });
  }

  /** The heartbeat response document (replSetHeartbeat, PV1). */
  heartbeatResponse(
    requesterConfigVersion: number,
    requesterConfigTerm: number,
    checkEmpty: boolean,
  ): Document {
    const topo = this.topo;
    const config = topo.config;
    const applied = topo.myApplied;
    const doc: Document = { ok: 1 };
    if (topo.state === MemberState.PRIMARY && topo.electionTime) {
      doc.electionTime = new Timestamp({ t: topo.electionTime.secs, i: topo.electionTime.inc });
    }
    doc.durableOpTime = opTimeToBson(topo.myDurable);
    doc.durableWallTime = new Date(topo.myAppliedWallMs);
    doc.opTime = opTimeToBson(applied);
    doc.wallTime = new Date(topo.myAppliedWallMs);
    doc.state = new Int32(topo.state);
    doc.term = Long.fromNumber(topo.term);
    doc.set = config?.setName ?? '';
    doc.syncingTo = this.syncSourceHost;
    doc.configVersion = new Int32(config?.version ?? -2);
    if (this.features.configTerm) doc.configTerm = Long.fromNumber(config?.term ?? -1);
    doc.primaryId = new Int32(topo.primaryIndex >= 0 ? (config?.members[topo.primaryIndex]?.id ?? -1) : -1);
    doc.lastOpCommitted = opTimeToBson(topo.lastCommitted);
    if (checkEmpty) doc.hasData = !this.oplog.isEmpty;
    if (
      config &&
      (requesterConfigVersion < config.version ||
        (requesterConfigVersion === config.version &&
          requesterConfigTerm !== -1 &&
          config.term > requesterConfigTerm))
    ) {
      doc.config = configToBson(config, this.features);
    }
    return doc;
  }
}

export function isNewerConfig(a: ReplSetConfig, b: ReplSetConfig): boolean {
  if (a.term !== -1 && b.term !== -1 && a.term !== b.term) return a.term > b.term;
  return a.version > b.version;
}

export function parseHeartbeatResponse(reply: Document): HeartbeatResponse {
  const applied = opTimeFromBson(reply.opTime) ?? NULL_OPTIME;
  const durable = opTimeFromBson(reply.durableOpTime) ?? applied;
  const et = reply.electionTime;
  const etParts =
    et instanceof Timestamp ? { secs: et.t, inc: et.i, term: numberOf(reply.term) ?? -1 } : null;
  return {
    setName: typeof reply.set === 'string' ? reply.set : '',
    state: numberOf(reply.state) ?? MemberState.UNKNOWN,
    term: numberOf(reply.term) ?? -1,
    applied,
    durable,
    appliedWallMs: reply.wallTime instanceof Date ? reply.wallTime.getTime() : applied.secs * 1000,
    durableWallMs:
      reply.durableWallTime instanceof Date ? reply.durableWallTime.getTime() : durable.secs * 1000,
    electionTime: etParts,
    configVersion: numberOf(reply.configVersion) ?? -1,
    configTerm: numberOf(reply.configTerm) ?? -1,
    syncSourceHost: typeof reply.syncingTo === 'string' ? reply.syncingTo : '',
    syncSourceId: -1,
    lastCommitted: opTimeFromBson(reply.lastOpCommitted),
    primaryId: numberOf(reply.primaryId) ?? -1,
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** "2024-07-24T12:00:00.000+02:00" as mongod prints local dates in messages. */
export function isoLocal(d: Date): string {
  const off = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + off * 60000).toISOString().slice(0, 23);
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  return `${local}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}
