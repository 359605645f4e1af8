// The topology coordinator: a pure state machine (no I/O, no timers; the caller passes `now`) that
// decides member state, elections, step-downs and the commit point, as mongod's TopologyCoordinator does.
// References: §3.1 states, §3.9 elections (PV1), §3.7 step-down, §3.8 freeze/maintenance.
import {
  isElectableConfig,
  isVoter,
  type MemberConfig,
  majorityVoteCount,
  type ReplSetConfig,
  writableVotingMembers,
  writeMajorityCount,
} from './config.js';
import { MemberState, stateString } from './member-state.js';
import { compareOpTime, isNullOpTime, maxOpTime, NULL_OPTIME, type OpTime } from './optime.js';

/** priorityTakeoverFreshnessWindowSeconds (§3.9). */
export const PRIORITY_TAKEOVER_FRESHNESS_SECS = 2;
/** replElectionTimeoutOffsetLimitFraction (§3.3). */
export const ELECTION_TIMEOUT_OFFSET_FRACTION = 0.15;

export interface PeerInfo {
  /** -1 never contacted, 0 down, 1 up (replSetGetStatus health). */
  health: number;
  state: number;
  applied: OpTime;
  durable: OpTime;
  appliedWallMs: number;
  durableWallMs: number;
  /** When we last sent a heartbeat that got an answer (or failed). */
  lastHeartbeatMs: number | null;
  /** When we last received a heartbeat from this member. */
  lastHeartbeatRecvMs: number | null;
  /** When a heartbeat last succeeded. */
  lastOkMs: number | null;
  /** When the member came up (for uptime). */
  upSinceMs: number | null;
  pingMs: number;
  lastHeartbeatMessage: string;
  electionTime: OpTime | null;
  electionDateMs: number | null;
  term: number;
  configVersion: number;
  configTerm: number;
  syncSourceHost: string;
  syncSourceId: number;
}

function freshPeer(): PeerInfo {
  return {
    health: -1,
    state: MemberState.UNKNOWN,
    applied: NULL_OPTIME,
    durable: NULL_OPTIME,
    appliedWallMs: 0,
    durableWallMs: 0,
    lastHeartbeatMs: null,
    lastHeartbeatRecvMs: null,
    lastOkMs: null,
    upSinceMs: null,
    pingMs: 0,
    lastHeartbeatMessage: '',
    electionTime: null,
    electionDateMs: null,
    term: -1,
    configVersion: -1,
    configTerm: -1,
    syncSourceHost: '',
    syncSourceId: -1,
  };
}

/** What a heartbeat response tells us (parsed from replSetHeartbeat's reply by the caller). */
export interface HeartbeatResponse {
  readonly setName: string;
  readonly state: number;
  readonly term: number;
  readonly applied: OpTime;
  readonly durable: OpTime;
  readonly appliedWallMs: number;
  readonly durableWallMs: number;
  readonly electionTime: OpTime | null;
  readonly configVersion: number;
  readonly configTerm: number;
  readonly syncSourceHost: string;
  readonly syncSourceId: number;
  readonly lastCommitted: OpTime | null;
  readonly primaryId: number;
}

export interface VoteRequest {
  readonly setName: string;
  readonly dryRun: boolean;
  readonly term: number;
  readonly candidateIndex: number;
  readonly configVersion: number;
  readonly configTerm: number;
  readonly lastApplied: OpTime;
}

export interface VoteResponse {
  readonly term: number;
  readonly voteGranted: boolean;
  readonly reason: string;
}

export type LeaderMode = 'none' | 'catchingUp' | 'writable' | 'steppingDown';

/**
 * Why an election was called, as replSetGetStatus electionCandidateMetrics.lastElectionReason names it
 * (StartElectionReason in MongoDB's topology_coordinator.idl). The simulator has no catch-up takeover.
 */
export type ElectionReason =
  | 'electionTimeout'
  | 'priorityTakeover'
  | 'stepUpRequest'
  | 'stepUpRequestSkipDryRun'
  | 'catchupTakeover'
  | 'singleNodePromptElection';

/**
 * replSetGetStatus electionCandidateMetrics (4.2.1+): recorded when this node starts the real election,
 * shown while it is primary, dropped when it loses or steps down (clearElectionCandidateMetrics).
 */
export interface ElectionCandidateMetrics {
  readonly reason: ElectionReason;
  readonly electionDateMs: number;
  readonly term: number;
  readonly lastCommittedAtElection: OpTime;
  readonly lastSeenAtElection: OpTime;
  readonly votesNeeded: number;
  readonly priority: number;
  readonly electionTimeoutMillis: number;
  /** Member _id of the primary known when the election started, if any. */
  readonly priorPrimaryMemberId: number | null;
  numCatchUpOps?: number;
  newTermStartDateMs?: number;
  wMajorityWriteAvailabilityDateMs?: number;
}

export type TickAction =
  | { kind: 'none' }
  | { kind: 'startElection'; reason: 'electionTimeout' | 'priorityTakeover' | 'singleNodePromptElection' }
  | { kind: 'stepDown'; reason: string };

export interface TopologyOptions {
  /** Random in [0,1) for the election timeout offset; injected for tests. */
  readonly random: () => number;
  /** setParameter replElectionTimeoutOffsetLimitFraction (default 0.15). */
  readonly offsetFraction?: number;
}

export class TopologyCoordinator {
  config: ReplSetConfig | null = null;
  selfIndex = -1;
  state: number = MemberState.STARTUP;
  term = 0;
  lastVote: { term: number; candidateIndex: number } = { term: -1, candidateIndex: -1 };
  peers: PeerInfo[] = [];
  myApplied: OpTime = NULL_OPTIME;
  myDurable: OpTime = NULL_OPTIME;
  myAppliedWallMs = 0;
  lastCommitted: OpTime = NULL_OPTIME;
  lastCommittedWallMs = 0;
  /** First optime written in this primary's term: the commit point only advances past it (Raft). */
  firstOpTimeOfTerm: OpTime | null = null;
  primaryIndex = -1;
  leaderMode: LeaderMode = 'none';
  electionTime: OpTime | null = null;
  electionDateMs: number | null = null;
  /** Not electable before this time (replSetFreeze, replSetStepDown). */
  stepDownUntilMs = 0;
  maintenanceCount = 0;
  /** Deadline of the election timer; null when not armed. */
  electionDeadlineMs: number | null = null;
  priorityTakeoverDeadlineMs: number | null = null;
  /** Sync source chosen by replSetSyncFrom (config index), until it fails. */
  forcedSyncSourceIndex = -1;
  syncSourceIndex = -1;
  candidate = false;
  /** Quiesce mode at shutdown (5.0+): the member stays SECONDARY but never stands for election. */
  inQuiesceMode = false;
  /** The last election this node won (or is running), for replSetGetStatus; null otherwise. */
  electionCandidateMetrics: ElectionCandidateMetrics | null = null;
  /**
   * A single-voter set that stepped down or was frozen stands again as soon as it may
   * ("singleNodePromptElection"); at startup and after initiate it reports "electionTimeout".
   */
  singleNodePromptPending = false;
  private readonly random: () => number;
  private readonly offsetFraction: number;

  constructor(opts: TopologyOptions) {
    this.random = opts.random;
    this.offsetFraction = opts.offsetFraction ?? ELECTION_TIMEOUT_OFFSET_FRACTION;
  }

  // ---- config --------------------------------------------------------------------------------

  get self(): MemberConfig | undefined {
    return this.config && this.selfIndex >= 0 ? this.config.members[this.selfIndex] : undefined;
  }

  get isPrimary(): boolean {
    return this.state === MemberState.PRIMARY;
  }

  /** isWritablePrimary: primary and done with catch-up and drain (§3.9). */
  get canAcceptWrites(): boolean {
    return this.state === MemberState.PRIMARY && this.leaderMode === 'writable';
  }

  /** Installs a config; peers keep their heartbeat data when their host is unchanged. */
  installConfig(config: ReplSetConfig, selfIndex: number, now: number): void {
    const old = this.config;
    const oldPeers = this.peers;
    this.peers = config.members.map((m) => {
      const i = old ? old.members.findIndex((o) => o.host === m.host) : -1;
      return i >= 0 && oldPeers[i] ? oldPeers[i] : freshPeer();
    });
    const oldPrimaryHost = old && this.primaryIndex >= 0 ? old.members[this.primaryIndex]?.host : undefined;
    this.primaryIndex = oldPrimaryHost ? config.members.findIndex((m) => m.host === oldPrimaryHost) : -1;
    this.forcedSyncSourceIndex = -1;
    this.syncSourceIndex = -1;
    this.priorityTakeoverDeadlineMs = null;
    this.config = config;
    this.selfIndex = selfIndex;
    const self = this.self;
    if (!self) {
      this.setState(MemberState.REMOVED);
      this.leaderMode = 'none';
      this.primaryIndex = -1;
    } else if (self.arbiterOnly) {
      this.setState(MemberState.ARBITER);
    } else if (this.state === MemberState.PRIMARY) {
      this.primaryIndex = selfIndex;
      if (!isElectableConfig(self)) this.stepDownNow(now);
    } else if (
      this.state === MemberState.STARTUP ||
      this.state === MemberState.REMOVED ||
      this.state === MemberState.ARBITER
    ) {
      this.setState(MemberState.SECONDARY);
    }
    this.resetElectionTimer(now);
  }

  setState(s: number): void {
    this.state = s;
  }

  // ---- terms and votes -----------------------------------------------------------------------

  /** Adopts a higher term; a primary that sees one steps down (PV1). Returns true when the term changed. */
  updateTerm(term: number, now: number): boolean {
    if (term <= this.term) return false;
    this.term = term;
    if (this.state === MemberState.PRIMARY) this.stepDownNow(now);
    this.candidate = false;
    return true;
  }

  processVoteRequest(req: VoteRequest, now: number): VoteResponse {
    const config = this.config;
    const deny = (reason: string): VoteResponse => ({ term: this.term, voteGranted: false, reason });
    if (!config) return deny('not yet initialized');
    if (req.term < this.term) {
      return deny(`candidate's term (${req.term}) is lower than mine (${this.term})`);
    }
    if (
      req.configVersion < config.version ||
      (req.configTerm !== -1 &&
        config.term !== -1 &&
        req.configTerm < config.term &&
        req.configVersion === config.version)
    ) {
      return deny(
        `candidate's config with {version: ${req.configVersion}, term: ${req.configTerm}} is older than mine with {version: ${config.version}, term: ${config.term}}`,
      );
    }
    if (req.setName !== config.setName) {
      return deny(`candidate's set name (${req.setName}) differs from mine (${config.setName})`);
    }
    if (compareOpTime(req.lastApplied, this.myApplied) < 0) {
      return deny(
        `candidate's data is staler than mine. candidate's last applied OpTime: ${fmt(req.lastApplied)}, my last applied OpTime: ${fmt(this.myApplied)}`,
      );
    }
    if (!req.dryRun && this.lastVote.term === req.term) {
      const host = config.members[this.lastVote.candidateIndex]?.host ?? '';
      return deny(`already voted for another candidate (${host}) this term (${req.term})`);
    }
    const self = this.self;
    if (self?.arbiterOnly) {
      // Arbiters refuse when they can see a healthy primary of equal or greater priority.
      const candidatePriority = config.members[req.candidateIndex]?.priority ?? 0;
      const p = this.primaryIndex;
      const pm = p >= 0 ? config.members[p] : undefined;
      if (pm && p !== req.candidateIndex && this.peers[p]?.health === 1 && pm.priority >= candidatePriority) {
        return deny(`can see a healthy primary (${pm.host}) of equal or greater priority`);
      }
    }
    if (!req.dryRun) {
      this.lastVote = { term: req.term, candidateIndex: req.candidateIndex };
      // Granting a vote restarts our own election timer: give the candidate time to win.
      this.resetElectionTimer(now);
    }
    return { term: this.term, voteGranted: true, reason: '' };
  }

  // ---- heartbeats ----------------------------------------------------------------------------

  /** Records that `index` sent us a heartbeat (replSetGetStatus lastHeartbeatRecv). */
  noteHeartbeatReceived(index: number, now: number): void {
    const p = this.peers[index];
    if (p) p.lastHeartbeatRecvMs = now;
  }

  processHeartbeatFailure(index: number, now: number, message: string): void {
    const p = this.peers[index];
    const config = this.config;
    if (!p || !config) return;
    p.lastHeartbeatMs = now;
    const timeoutMs = config.settings.heartbeatTimeoutSecs * 1000;
    // A refused connection is DOWN at once; a silent peer after heartbeatTimeoutSecs (§3.9).
    if (
      p.lastOkMs === null ||
      now - p.lastOkMs >= Math.min(timeoutMs, config.settings.electionTimeoutMillis)
    ) {
      if (p.health !== 0) p.upSinceMs = null;
      p.health = 0;
      p.state = MemberState.DOWN;
      if (this.primaryIndex === index) this.primaryIndex = -1;
    }
    p.lastHeartbeatMessage = message;
  }

  processHeartbeatResponse(index: number, r: HeartbeatResponse, now: number, rttMs: number): void {
    const p = this.peers[index];
    const config = this.config;
    if (!p || !config || index === this.selfIndex) return;
    if (p.health !== 1) p.upSinceMs = now;
    p.health = 1;
    p.state = r.state;
    p.term = r.term;
    p.applied = r.applied;
    p.durable = r.durable;
    p.appliedWallMs = r.appliedWallMs;
    p.durableWallMs = r.durableWallMs;
    p.lastHeartbeatMs = now;
    p.lastOkMs = now;
    p.pingMs = rttMs;
    p.lastHeartbeatMessage = '';
    p.electionTime = r.electionTime;
    p.configVersion = r.configVersion;
    p.configTerm = r.configTerm;
    p.syncSourceHost = r.syncSourceHost;
    p.syncSourceId = r.syncSourceId;
    if (r.state === MemberState.PRIMARY) {
      if (this.state === MemberState.PRIMARY) {
        // Two primaries: the one in the older term steps down (PV1).
        if (r.term > this.term) this.stepDownNow(now);
      } else if (r.term >= this.term) {
        this.primaryIndex = index;
        this.resetElectionTimer(now);
      }
    } else if (this.primaryIndex === index) {
      this.primaryIndex = -1;
    }
  }

  /** replSetUpdatePosition: a member reports how far it has applied. */
  updateMemberPosition(
    index: number,
    applied: OpTime,
    durable: OpTime,
    appliedWallMs: number,
    now: number,
  ): void {
    const p = this.peers[index];
    if (!p || index === this.selfIndex) return;
    if (compareOpTime(applied, p.applied) > 0) {
      p.applied = applied;
      p.appliedWallMs = appliedWallMs;
    }
    if (compareOpTime(durable, p.durable) > 0) {
      p.durable = durable;
      p.durableWallMs = appliedWallMs;
    }
    p.lastOkMs = now;
    if (p.health !== 1) {
      p.health = 1;
      p.upSinceMs = now;
    }
  }

  // ---- timers ----------------------------------------------------------------------------------

  /** Election timeout plus a random offset of up to 15 % (§3.3, §3.9). */
  electionTimeoutWithOffset(): number {
    const base = this.config?.settings.electionTimeoutMillis ?? 10000;
    return base + Math.floor(this.random() * base * this.offsetFraction);
  }

  resetElectionTimer(now: number): void {
    this.electionDeadlineMs =
      this.electableReason(now) === null ? now + this.electionTimeoutWithOffset() : null;
  }

  /** Why this node may not stand for election now, or null if it may (§3.9). */
  electableReason(now: number): string | null {
    const self = this.self;
    if (!this.config || !self) return 'not a member of a replica set';
    if (self.arbiterOnly) return 'arbiter';
    if (self.priority <= 0) return 'priority is 0';
    if (self.newlyAdded) return 'newly added';
    if (this.state !== MemberState.SECONDARY) return `not secondary (${stateString(this.state)})`;
    if (this.maintenanceCount > 0) return 'in maintenance mode';
    if (this.inQuiesceMode) return 'in quiesce mode';
    if (now < this.stepDownUntilMs) return 'frozen';
    return null;
  }

  /** Voting members we have heard from recently, self included. */
  visibleVoters(now: number): number {
    const config = this.config;
    if (!config) return 0;
    const window = config.settings.electionTimeoutMillis;
    let n = 0;
    config.members.forEach((m, i) => {
      if (!isVoter(m)) return;
      if (i === this.selfIndex) {
        n++;
        return;
      }
      const p = this.peers[i];
      if (p && p.health === 1 && p.lastOkMs !== null && now - p.lastOkMs <= window) n++;
    });
    return n;
  }

  /** Periodic decisions: run for election, priority takeover, or step down without a majority. */
  tick(now: number): TickAction {
    const config = this.config;
    if (!config || !this.self) return { kind: 'none' };
    if (this.state === MemberState.PRIMARY) {
      if (this.visibleVoters(now) < majorityVoteCount(config)) {
        return { kind: 'stepDown', reason: "can't see a majority of the set, relinquishing primary" };
      }
      return { kind: 'none' };
    }
    if (this.candidate) return { kind: 'none' };
    if (this.electableReason(now) !== null) {
      this.electionDeadlineMs = null;
      this.priorityTakeoverDeadlineMs = null;
      return { kind: 'none' };
    }
    // A set whose only voter is this node stands at once, at startup and when a freeze ends
    // (becomeCandidateIfStepdownPeriodOverAndSingleNodeSet).
    const voters = config.members.filter(isVoter);
    if (voters.length === 1 && voters[0] === this.self) {
      return {
        kind: 'startElection',
        reason: this.singleNodePromptPending ? 'singleNodePromptElection' : 'electionTimeout',
      };
    }
    if (this.electionDeadlineMs === null) this.electionDeadlineMs = now + this.electionTimeoutWithOffset();
    // Every heartbeat from a live primary pushes the deadline back; reaching it means the primary is gone.
    if (now >= this.electionDeadlineMs) return { kind: 'startElection', reason: 'electionTimeout' };
    if (this.primaryIndex >= 0 && this.primaryIndex !== this.selfIndex) {
      const takeover = this.priorityTakeoverCheck(now);
      if (takeover) return takeover;
    }
    return { kind: 'none' };
  }

  private priorityTakeoverCheck(now: number): TickAction | null {
    const config = this.config;
    const self = this.self;
    const primary = config?.members[this.primaryIndex];
    const pp = this.peers[this.primaryIndex];
    if (!config || !self || !primary || !pp) return null;
    if (self.priority <= primary.priority) {
      this.priorityTakeoverDeadlineMs = null;
      return null;
    }
    // Caught up: within priorityTakeoverFreshnessWindowSeconds of the primary (§3.9).
    const caughtUp = this.myApplied.secs + PRIORITY_TAKEOVER_FRESHNESS_SECS >= pp.applied.secs;
    if (!caughtUp) {
      this.priorityTakeoverDeadlineMs = null;
      return null;
    }
    if (this.priorityTakeoverDeadlineMs === null) {
      // Rank = members with a strictly higher priority; delay = (rank + 1) · electionTimeout (+ offset).
      const rank = config.members.filter((m) => m.priority > self.priority).length;
      const base = config.settings.electionTimeoutMillis;
      const offset = Math.floor(this.random() * base * this.offsetFraction);
      this.priorityTakeoverDeadlineMs = now + (rank + 1) * base + offset;
      return null;
    }
    if (now >= this.priorityTakeoverDeadlineMs) {
      this.priorityTakeoverDeadlineMs = null;
      return { kind: 'startElection', reason: 'priorityTakeover' };
    }
    return null;
  }

  // ---- elections -------------------------------------------------------------------------------

  /** Voters needed to win. */
  votesNeeded(): number {
    return this.config ? majorityVoteCount(this.config) : 1;
  }

  /** Starts the real election: term+1 and a vote for ourselves (persisted by the caller). */
  startRealElection(now: number, reason: ElectionReason = 'electionTimeout'): number {
    const priorPrimary = this.primaryIndex >= 0 && this.primaryIndex !== this.selfIndex;
    this.term += 1;
    this.lastVote = { term: this.term, candidateIndex: this.selfIndex };
    this.candidate = true;
    this.electionDeadlineMs = now + this.electionTimeoutWithOffset();
    const config = this.config;
    this.electionCandidateMetrics = config
      ? {
          reason,
          electionDateMs: now,
          term: this.term,
          lastCommittedAtElection: this.lastCommitted,
          lastSeenAtElection: this.latestKnownOpTime(),
          votesNeeded: this.votesNeeded(),
          priority: this.self?.priority ?? 0,
          electionTimeoutMillis: config.settings.electionTimeoutMillis,
          priorPrimaryMemberId: priorPrimary ? (config.members[this.primaryIndex]?.id ?? null) : null,
        }
      : null;
    return this.term;
  }

  /** The newest optime this node knows of: its own and every member's from heartbeats. */
  latestKnownOpTime(): OpTime {
    let best = this.myApplied;
    for (const [i, p] of this.peers.entries()) {
      if (i !== this.selfIndex && p.health === 1) best = maxOpTime(best, p.applied);
    }
    return best;
  }

  abandonElection(now: number): void {
    this.candidate = false;
    if (this.state !== MemberState.PRIMARY) this.electionCandidateMetrics = null;
    this.resetElectionTimer(now);
  }

  /** Won: PRIMARY, not yet writable (catch-up then drain, §3.9). */
  becomePrimary(now: number): void {
    this.candidate = false;
    this.setState(MemberState.PRIMARY);
    this.leaderMode = 'catchingUp';
    this.primaryIndex = this.selfIndex;
    this.electionDeadlineMs = null;
    this.priorityTakeoverDeadlineMs = null;
    this.electionDateMs = now;
    this.firstOpTimeOfTerm = null;
    this.syncSourceIndex = -1;
    this.catchUpAbandoned = false;
    this.singleNodePromptPending = false;
  }

  /** The first write of the term (the "new primary" no-op) and writes become allowed. */
  completeTransitionToPrimary(firstOpTime: OpTime, now = Date.now()): void {
    this.firstOpTimeOfTerm = firstOpTime;
    this.electionTime = firstOpTime;
    this.leaderMode = 'writable';
    if (this.electionCandidateMetrics) this.electionCandidateMetrics.newTermStartDateMs = now;
  }

  stepDownNow(now: number): void {
    if (this.state === MemberState.PRIMARY) {
      this.setState(MemberState.SECONDARY);
      this.singleNodePromptPending = true;
    }
    // No longer primary: the candidate metrics go (ReplicationMetrics::clearElectionCandidateMetrics).
    this.electionCandidateMetrics = null;
    this.leaderMode = 'none';
    if (this.primaryIndex === this.selfIndex) this.primaryIndex = -1;
    this.electionTime = null;
    this.electionDateMs = null;
    this.firstOpTimeOfTerm = null;
    this.candidate = false;
    this.priorityTakeoverDeadlineMs = null;
    this.resetElectionTimer(now);
  }

  /** The most caught-up electable secondary, if one has reached `target` (§3.7). */
  caughtUpElectableSecondary(target: OpTime, now: number): number {
    const config = this.config;
    if (!config) return -1;
    let best = -1;
    config.members.forEach((m, i) => {
      if (i === this.selfIndex || !isElectableConfig(m)) return;
      const p = this.peers[i];
      if (p?.health !== 1 || p.state !== MemberState.SECONDARY) return;
      if (p.lastOkMs === null || now - p.lastOkMs > config.settings.electionTimeoutMillis) return;
      if (compareOpTime(p.applied, target) < 0) return;
      const bestPeer = best >= 0 ? this.peers[best] : undefined;
      if (!bestPeer || compareOpTime(p.applied, bestPeer.applied) > 0) best = i;
    });
    return best;
  }

  // ---- commit point ----------------------------------------------------------------------------

  /** Recomputes the majority commit point on a primary; returns true when it advanced. */
  updateCommitPointAsPrimary(): boolean {
    const config = this.config;
    if (!config || this.state !== MemberState.PRIMARY || !this.firstOpTimeOfTerm) return false;
    const durables: OpTime[] = [];
    config.members.forEach((m, i) => {
      if (!writableVotingMembers(config).includes(m)) return;
      if (i === this.selfIndex) durables.push(this.myDurable);
      else durables.push(this.peers[i]?.durable ?? NULL_OPTIME);
    });
    durables.sort((a, b) => compareOpTime(b, a));
    const k = writeMajorityCount(config);
    const candidate = durables[k - 1];
    if (!candidate || isNullOpTime(candidate)) return false;
    // Raft: only entries of the current term commit by counting replicas.
    if (compareOpTime(candidate, this.firstOpTimeOfTerm) < 0) return false;
    if (compareOpTime(candidate, this.lastCommitted) <= 0) return false;
    this.lastCommitted = candidate;
    return true;
  }

  /**
   * A secondary learns the commit point from its sync source, capped by what it has applied. Our last
   * entry may sit on a branch that will be rolled back, so the point is adopted only when that entry is
   * known to be on the primary's history: `verified` (the fetcher matched it in the source's oplog) or
   * when it is from the same term as the commit point.
   */
  advanceCommitPointFromSource(committed: OpTime, now: number, verified = false): boolean {
    if (!verified && this.myApplied.term !== committed.term) return false;
    const capped = compareOpTime(committed, this.myApplied) <= 0 ? committed : this.myApplied;
    if (compareOpTime(capped, this.lastCommitted) <= 0) return false;
    this.lastCommitted = capped;
    this.lastCommittedWallMs = now;
    return true;
  }

  /** Members (self included) whose applied optime has reached `target`: w:N counting. */
  membersAtLeast(target: OpTime): number {
    const config = this.config;
    if (!config) return 0;
    let n = 0;
    config.members.forEach((m, i) => {
      if (m.arbiterOnly) return;
      const applied = i === this.selfIndex ? this.myApplied : (this.peers[i]?.applied ?? NULL_OPTIME);
      if (compareOpTime(applied, target) >= 0) n++;
    });
    return n;
  }

  setMyApplied(o: OpTime, wallMs: number): void {
    this.myApplied = maxOpTime(this.myApplied, o);
    this.myDurable = maxOpTime(this.myDurable, o);
    this.myAppliedWallMs = wallMs;
  }

  /** After rollback: our optimes go back to the common point. */
  resetMyOpTimes(o: OpTime, wallMs: number): void {
    this.myApplied = o;
    this.myDurable = o;
    this.myAppliedWallMs = wallMs;
    if (compareOpTime(this.lastCommitted, o) > 0) this.lastCommitted = o;
  }

  // ---- catch-up --------------------------------------------------------------------------------

  /** The healthy data-bearing member with the newest applied optime ahead of ours, or -1. */
  freshestPeer(now: number): number {
    const config = this.config;
    if (!config) return -1;
    let best = -1;
    config.members.forEach((m, i) => {
      const p = this.peers[i];
      if (i === this.selfIndex || m.arbiterOnly || !p || p.health !== 1) return;
      if (p.lastOkMs === null || now - p.lastOkMs > config.settings.electionTimeoutMillis) return;
      if (compareOpTime(p.applied, this.myApplied) <= 0) return;
      const b = best >= 0 ? this.peers[best] : undefined;
      if (!b || compareOpTime(p.applied, b.applied) > 0) best = i;
    });
    return best;
  }

  /** Set when the member ahead of us turned out to be on another branch: catch-up cannot help. */
  catchUpAbandoned = false;

  /** Catch-up is over when nobody we can see is ahead of us (or the caller's timeout passes). */
  caughtUp(now: number): boolean {
    return this.catchUpAbandoned || this.freshestPeer(now) < 0;
  }

  // ---- sync source -----------------------------------------------------------------------------

  /** The member to pull the oplog from: replSetSyncFrom's choice, else the primary, else the most ahead. */
  chooseSyncSource(now: number): number {
    const config = this.config;
    if (!config || !this.self || this.self.arbiterOnly) return -1;
    if (this.state === MemberState.PRIMARY) {
      // A new primary in catch-up pulls from the freshest member it knows of (§3.9).
      return this.leaderMode === 'catchingUp' ? this.freshestPeer(now) : -1;
    }
    const usable = (i: number): boolean => {
      const p = this.peers[i];
      const m = config.members[i];
      if (!p || !m || i === this.selfIndex || m.arbiterOnly) return false;
      if (p.health !== 1 || p.lastOkMs === null || now - p.lastOkMs > config.settings.electionTimeoutMillis)
        return false;
      return p.state === MemberState.PRIMARY || p.state === MemberState.SECONDARY;
    };
    if (this.forcedSyncSourceIndex >= 0 && usable(this.forcedSyncSourceIndex))
      return this.forcedSyncSourceIndex;
    if (this.primaryIndex >= 0 && usable(this.primaryIndex)) return this.primaryIndex;
    if (!config.settings.chainingAllowed) return -1;
    let best = -1;
    config.members.forEach((_m, i) => {
      if (!usable(i)) return;
      const p = this.peers[i] as PeerInfo;
      if (compareOpTime(p.applied, this.myApplied) <= 0) return;
      const b = best >= 0 ? this.peers[best] : undefined;
      if (!b || compareOpTime(p.applied, b.applied) > 0) best = i;
    });
    return best;
  }
}

function fmt(o: OpTime): string {
  return `{ ts: Timestamp(${o.secs}, ${o.inc}), t: ${o.term} }`;
}
