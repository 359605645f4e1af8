// Replica-set commands (reference §3.3–§3.8) and the internal member-to-member commands
// (replSetHeartbeat, replSetRequestVotes, replSetUpdatePosition, replSetStepUp), registered through the
// core's command registry. Errors carry the real codes and messages.
import { hostname } from 'node:os';
import { type Document, Int32, Long, ObjectId } from 'bson';
import type { CommandContext, CommandSpec } from '../commands/registry.js';
import { batchEnd } from '../cursors.js';
import { CommandError } from '../errors.js';
import { fcvWriteOps, readFcv } from '../fcv.js';
import {
  ConfigError,
  configToBson,
  isVoter,
  markNewlyAdded,
  parseConfig,
  type ReplSetConfig,
  withReplicaSetId,
} from './config.js';
import { findSelf, validateForInitiate, validateForReconfig } from './config-checks.js';
import { runElection } from './election.js';
import { notPrimaryText, ReplCode } from './errors.js';
import { MemberState, stateString } from './member-state.js';
import { OPLOG_COLL, OPLOG_DB } from './oplog.js';
import {
  compareOpTime,
  NULL_OPTIME,
  numberOf,
  opTimeFromBson,
  opTimeToBson,
  timestampParts,
} from './optime.js';
import { networkErrorText } from './peers.js';
import { isoLocal, type ReplSetRole, sleep } from './role.js';
import { checkImplicitDefaultUnchanged, getDefaultRWConcern, setDefaultRWConcern } from './rw-concern.js';
import { checkConfigCommitment, checkSelfElectable, waitForOplogCommitment } from './safe-reconfig.js';

function isPlainDoc(v: unknown): v is Document {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !('_bsontype' in v);
}

function truthy(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  const n = numberOf(v);
  return n !== null ? n !== 0 : v !== undefined && v !== null;
}

function stateName(s: number): string {
  const n = stateString(s);
  return n.charAt(0) + n.slice(1).toLowerCase();
}

/** Heartbeat-based quorum check of replSetInitiate (§3.3 step 6). */
async function quorumCheck(role: ReplSetRole, config: ReplSetConfig, selfIndex: number): Promise<void> {
  const failures: string[] = [];
  const args = role.heartbeatArgs(config, { checkEmpty: true });
  args.from = config.members[selfIndex]?.host ?? role.myHost;
  args.fromId = new Int32(config.members[selfIndex]?.id ?? -1);
  const timeoutMs = Math.min(config.settings.heartbeatTimeoutSecs * 1000, 10_000);
  await Promise.all(
    config.members.map(async (m, i) => {
      if (i === selfIndex) return;
      try {
        const reply = await role.peers.run(m.host, 'misc', args, timeoutMs);
        if (numberOf(reply.ok) !== 1) {
          failures.push(`${m.host} failed with ${String(reply.errmsg ?? 'unknown error')}`);
          return;
        }
        const v = numberOf(reply.configVersion) ?? -2;
        if (v >= 1) {
          throw new CommandError(
            ReplCode.NewReplicaSetConfigurationIncompatible,
            `Our config version of ${config.version} is no larger than the version on ${m.host}, which is ${v}`,
          );
        }
        if (reply.hasData === true) {
          throw new CommandError(
            ReplCode.CannotInitializeNodeWithData,
            `'${m.host}' has data already, cannot initiate set.`,
          );
        }
      } catch (err) {
        if (err instanceof CommandError) throw err;
        failures.push(`${m.host} failed with ${networkErrorText(m.host, err)}`);
        role.peers.reset(m.host);
      }
    }),
  );
  if (failures.length > 0) {
    throw new CommandError(
      ReplCode.NodeNotFound,
      `replSetInitiate quorum check failed because not all proposed set members responded affirmatively: ${failures.join(', ')}`,
    );
  }
}

function requireConfig(role: ReplSetRole): ReplSetConfig {
  const config = role.topo.config;
  if (!config) {
    throw new CommandError(ReplCode.NotYetInitialized, 'no replset config has been received', {
      info: 'run rs.initiate(...) if not yet done for the set',
    });
  }
  return config;
}

async function replSetInitiate(role: ReplSetRole, ctx: CommandContext): Promise<Document> {
  if (role.topo.config) {
    throw new CommandError(ReplCode.AlreadyInitialized, 'already initialized', {
      info: 'try querying local.system.replset to see current configuration',
    });
  }
  const arg = ctx.body.replSetInitiate;
  let raw: Document;
  let usedDefault = false;
  if (isPlainDoc(arg) && Object.keys(arg).length > 0) {
    // replSetInitiate fills in a missing version with 1 before parsing (the shell's rs.initiate({_id, members})
    // sends none); jstests/replsets/initiate.js shows a config without it failing only on its members.
    raw = arg.version === undefined ? { ...arg, version: 1 } : arg;
  } else {
    usedDefault = true;
    raw = { _id: role.setName, version: 1, members: [{ _id: 0, host: `${hostname()}:${role.node.port}` }] };
  }
  const invalid = (msg: string): CommandError => new CommandError(ReplCode.InvalidReplicaSetConfig, msg);
  let config: ReplSetConfig;
  try {
    config = parseConfig(raw, role.features);
  } catch (err) {
    if (err instanceof ConfigError) throw invalid(err.message);
    throw err;
  }
  if (role.features.configTerm && config.term === -1) config = { ...config, term: 0 };
  if (config.setName !== role.setName) {
    throw invalid(
      `Attempting to initiate a replica set with name ${config.setName}, but command line reports ${role.setName}; rejecting`,
    );
  }
  let selfIndex: number;
  try {
    selfIndex = validateForInitiate(config, (h) => role.isSelf(h), role.features, role.validationContext());
  } catch (err) {
    if (err instanceof ConfigError) throw invalid(err.message);
    throw err;
  }
  if (!role.oplog.isEmpty) {
    throw new CommandError(
      ReplCode.CannotInitializeNodeWithData,
      'local.oplog.rs is not empty on the initiating member.  cannot initiate.',
    );
  }
  await quorumCheck(role, config, selfIndex);
  if (role.topo.config) {
    throw new CommandError(ReplCode.AlreadyInitialized, 'already initialized');
  }
  config = withReplicaSetId(config, new ObjectId());
  role.logRepl('I', 21356, 'replSetInitiate admin command received from client');
  role.writeNoop('initiating set', -1);
  // §6: a new replica set gets its FCV at initiate; members joining later copy it by initial sync.
  const storage = role.node.requireStorage();
  if (!readFcv(storage)) storage.apply(fcvWriteOps(storage, { version: role.node.version.series }));
  role.installConfig(config, selfIndex, true);
  // A set whose only voter is this node elects itself at once (§3.3).
  if (
    config.members.filter(isVoter).length === 1 &&
    isVoter(config.members[selfIndex] as ReplSetConfig['members'][number])
  ) {
    void runElection(role, 'electionTimeout', true);
  }
  return usedDefault
    ? {
        info2: 'no configuration specified. Using a default configuration for the set',
        me: config.members[selfIndex]?.host,
      }
    : {};
}

function replSetGetStatus(role: ReplSetRole, ctx: CommandContext): Document {
  requireConfig(role);
  if (role.topo.state === MemberState.REMOVED || role.topo.selfIndex < 0) {
    throw new CommandError(
      ReplCode.InvalidReplicaSetConfig,
      'Our replica set config is invalid or we are not a member of it',
      {
        state: new Int32(role.topo.state),
        stateStr: stateString(role.topo.state),
        uptime: new Int32(Math.floor((Date.now() - role.node.startedAt) / 1000)),
        optime: opTimeToBson(role.topo.myApplied),
        syncSourceHost: '',
        syncSourceId: new Int32(-1),
      },
    );
  }
  const now = Date.now();
  const status = role.status(now);
  const progress = role.initialSync;
  // From 4.2.1 a member in initial sync (STARTUP2) shows its progress unasked; `initialSync: 1` asks
  // for it on every version (manual, replSetGetStatus).
  // (4.2.1+ is also when electionCandidateMetrics appeared, so that flag marks the same releases.)
  const syncing = role.topo.state === MemberState.STARTUP2 && role.features.electionCandidateMetrics;
  if (!progress || !(syncing || truthy(ctx.body.initialSync))) return status;
  const out: Document = {};
  for (const [k, v] of Object.entries(status)) {
    if (k === 'members') out.initialSyncStatus = progress.toBson(now);
    out[k] = v;
  }
  return out;
}

function replSetGetConfig(role: ReplSetRole, ctx: CommandContext): Document {
  const config = requireConfig(role);
  const includeNewlyAdded = truthy(ctx.body.$_internalIncludeNewlyAdded);
  const reply: Document = { config: configToBson(config, role.features, !includeNewlyAdded) };
  if (role.features.configTerm && truthy(ctx.body.commitmentStatus)) {
    if (role.topo.state !== MemberState.PRIMARY) {
      throw new CommandError(ReplCode.NotWritablePrimary, 'commitmentStatus is only supported on primary.');
    }
    reply.commitmentStatus = true;
  }
  return reply;
}

async function replSetReconfig(role: ReplSetRole, ctx: CommandContext): Promise<Document> {
  const old = requireConfig(role);
  const force = truthy(ctx.body.force);
  const topo = role.topo;
  if (!force && !topo.canAcceptWrites) {
    const state = stateString(topo.state);
    throw new CommandError(
      ReplCode.NotWritablePrimary,
      role.features.configTerm
        ? `New config is rejected :: caused by :: replSetReconfig should only be run on a writable PRIMARY. Current state ${state};`
        : `replSetReconfig should only be run on PRIMARY, but my state is ${state}; use the "force" argument to override`,
    );
  }
  // §3.6: 4.4+ refuses a new config until the current one and its oplog are committed.
  if (!force && role.features.configTerm) checkConfigCommitment(role, old);
  const raw = ctx.body.replSetReconfig;
  if (!isPlainDoc(raw)) {
    throw new CommandError(
      ReplCode.TypeMismatch,
      "BSON field 'replSetReconfig' is the wrong type, expected type 'object'",
    );
  }
  let config: ReplSetConfig;
  try {
    config = parseConfig(raw, role.features);
  } catch (err) {
    if (err instanceof ConfigError) throw new CommandError(ReplCode.InvalidReplicaSetConfig, err.message);
    throw err;
  }
  if (config.setName !== role.setName) {
    throw new CommandError(
      ReplCode.InvalidReplicaSetConfig,
      `Attempting to reconfigure a replica set with name ${config.setName}, but command line reports ${role.setName}; rejecting`,
    );
  }
  // The server ignores a user-supplied term (§3.2): non-force takes ours, force leaves it unset and
  // bumps the version by a large random amount (§3.6).
  if (force) {
    config = { ...config, version: config.version + 10000 + Math.floor(Math.random() * 100000), term: -1 };
  } else if (role.features.configTerm) {
    config = { ...config, term: topo.term };
  }
  if (!config.settings.replicaSetId && old.settings.replicaSetId) {
    config = withReplicaSetId(config, old.settings.replicaSetId);
  }
  try {
    validateForReconfig(old, config, force, role.features, role.validationContext());
  } catch (err) {
    if (err instanceof ConfigError) {
      // mongod answers every validateConfigForReconfig failure as 103 with its reason (93 from the
      // one-voter rule included); the getLastErrorDefaults uassert keeps its own code.
      const code = err.code === 5624102 ? err.code : ReplCode.NewReplicaSetConfigurationIncompatible;
      throw new CommandError(code, err.message);
    }
    throw err;
  }
  if (!force) checkImplicitDefaultUnchanged(role, old, config);
  if (role.features.configTerm && !force) config = markNewlyAdded(old, config);
  let selfIndex: number;
  try {
    selfIndex = findSelf(config, (h) => role.isSelf(h), role.features);
  } catch (err) {
    if (err instanceof ConfigError) throw new CommandError(err.code, err.message);
    throw err;
  }
  if (!force) checkSelfElectable(role, config, selfIndex);
  role.logRepl('I', 21353, 'replSetReconfig admin command received from client', {
    newConfig: configToBson(config, role.features),
  });
  role.installConfig(config, selfIndex, true);
  if (role.features.configTerm && !force) {
    const maxTimeMS = numberOf(ctx.body.maxTimeMS) ?? 0;
    const deadline = Date.now() + (maxTimeMS > 0 ? maxTimeMS : 300_000);
    await role.waitForConfigMajority(config.version, maxTimeMS);
    await waitForOplogCommitment(role, config.version, deadline);
  }
  return {};
}

/** §3.7: up to 4.0 a step-down closes client connections, so the caller sees a network error. */
function closeCallerBefore42(role: ReplSetRole, ctx: CommandContext): void {
  if (role.features.major < 4 || (role.features.major === 4 && role.features.minor < 2)) ctx.conn.destroy?.();
}

async function replSetStepDown(role: ReplSetRole, ctx: CommandContext): Promise<Document> {
  const body = ctx.body;
  const force = truthy(body.force);
  const stepDownSecs = numberOf(body.replSetStepDown) ?? 60;
  const catchUpSecs = numberOf(body.secondaryCatchUpPeriodSecs) ?? (force ? 0 : 10);
  if (stepDownSecs < 0)
    throw new CommandError(ReplCode.BadValue, 'stepdown period must be a positive integer');
  if (catchUpSecs < 0)
    throw new CommandError(ReplCode.BadValue, 'secondaryCatchUpPeriodSecs must be a positive or absent');
  if (stepDownSecs < catchUpSecs) {
    throw new CommandError(
      ReplCode.BadValue,
      'stepdown period must be longer than secondaryCatchUpPeriodSecs',
    );
  }
  const topo = role.topo;
  if (topo.state !== MemberState.PRIMARY) {
    throw new CommandError(ReplCode.NotWritablePrimary, notPrimaryText(role.features, 'stepDown'));
  }
  role.logRepl('I', 21804, 'Stepping down from primary in response to replSetStepDown', { stepDownSecs });
  const deadline = Date.now() + catchUpSecs * 1000;
  for (;;) {
    const target = topo.myApplied;
    const idx = topo.caughtUpElectableSecondary(target, Date.now());
    const majorityCaughtUp = compareOpTime(topo.lastCommitted, target) >= 0;
    if (idx >= 0 && majorityCaughtUp) {
      role.stepDown('replSetStepDown', Date.now() + stepDownSecs * 1000);
      role.handOffElection(idx);
      closeCallerBefore42(role, ctx);
      return {};
    }
    if (topo.state !== MemberState.PRIMARY) {
      throw new CommandError(
        ReplCode.PrimarySteppedDown,
        'Primary stepped down while waiting for replication',
      );
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
  }
  if (force) {
    role.stepDown('replSetStepDown (force)', Date.now() + stepDownSecs * 1000);
    closeCallerBefore42(role, ctx);
    return {};
  }
  throw new CommandError(
    ReplCode.ExceededTimeLimit,
    `No electable secondaries caught up as of ${isoLocal(new Date())}. Please use the replSetStepDown command with the argument {force: true} to force node to step down.`,
  );
}

function replSetFreeze(role: ReplSetRole, ctx: CommandContext): Document {
  requireConfig(role);
  const secs = numberOf(ctx.body.replSetFreeze) ?? 0;
  const topo = role.topo;
  if (topo.state === MemberState.PRIMARY || topo.candidate) {
    throw new CommandError(
      ReplCode.NotSecondary,
      `cannot freeze node when primary or running for election. state: ${stateName(topo.state)}`,
    );
  }
  const reply: Document = {};
  if (secs <= 0) {
    topo.stepDownUntilMs = 0;
    reply.info = 'unfreezing';
    const config = topo.config;
    const self = topo.self;
    // A single-voter set that was frozen elects itself at once.
    if (config && self && isVoter(self) && config.members.filter(isVoter).length === 1) {
      void runElection(role, 'electionTimeout', true);
    } else {
      topo.resetElectionTimer(Date.now());
    }
  } else {
    if (secs === 1) reply.warning = 'you really want to freeze for only 1 second?';
    topo.stepDownUntilMs = Date.now() + secs * 1000;
    // A single-voter set stands again when the freeze ends ("singleNodePromptElection").
    topo.singleNodePromptPending = true;
  }
  return reply;
}

function replSetMaintenance(role: ReplSetRole, ctx: CommandContext): Document {
  requireConfig(role);
  const topo = role.topo;
  const enable = truthy(ctx.body.replSetMaintenance);
  if (topo.state === MemberState.PRIMARY) {
    throw new CommandError(ReplCode.NotSecondary, "primaries can't modify maintenance mode");
  }
  if (topo.candidate) throw new CommandError(ReplCode.NotSecondary, 'currently running for election');
  if (enable) {
    topo.maintenanceCount++;
    if (topo.state === MemberState.SECONDARY) role.setState(MemberState.RECOVERING);
  } else {
    if (topo.maintenanceCount === 0) {
      throw new CommandError(ReplCode.OperationFailed, 'already out of maintenance mode');
    }
    topo.maintenanceCount--;
    if (topo.maintenanceCount === 0 && topo.state === MemberState.RECOVERING) {
      role.setState(MemberState.SECONDARY);
      topo.resetElectionTimer(Date.now());
    }
  }
  return {};
}

function replSetSyncFrom(role: ReplSetRole, ctx: CommandContext): Document {
  const config = requireConfig(role);
  const target = ctx.body.replSetSyncFrom;
  if (typeof target !== 'string') {
    throw new CommandError(ReplCode.TypeMismatch, 'Expected replSetSyncFrom to be a string host:port');
  }
  const topo = role.topo;
  const self = topo.self;
  if (self?.arbiterOnly) throw new CommandError(ReplCode.NotSecondary, "arbiters don't sync");
  if (topo.state === MemberState.PRIMARY)
    throw new CommandError(ReplCode.NotSecondary, "primaries don't sync");
  const host = target.includes(':') ? target : `${target}:27017`;
  const idx = config.members.findIndex((m) => m.host === host);
  const m = config.members[idx];
  if (!m) throw new CommandError(ReplCode.NodeNotFound, `Could not find member "${target}" in replica set`);
  if (idx === topo.selfIndex) throw new CommandError(72, 'I cannot sync from myself');
  if (m.arbiterOnly) throw new CommandError(72, `Cannot sync from "${target}" because it is an arbiter`);
  const reply: Document = { syncFromRequested: host };
  if (role.syncSourceHost) reply.prevSyncTarget = role.syncSourceHost;
  topo.forcedSyncSourceIndex = idx;
  return reply;
}

function replSetHeartbeat(role: ReplSetRole, ctx: CommandContext): Document {
  const b = ctx.body;
  const setName = typeof b.replSetHeartbeat === 'string' ? b.replSetHeartbeat : '';
  if (setName !== role.setName) {
    throw new CommandError(
      ReplCode.InconsistentReplicaSetNames,
      `Our set name of ${role.setName} does not match name ${setName} reported by remote node`,
    );
  }
  const term = numberOf(b.term);
  if (term !== null && role.topo.config) role.observeTerm(term);
  const config = role.topo.config;
  const from = typeof b.from === 'string' ? b.from : '';
  const reqVersion = numberOf(b.configVersion) ?? -1;
  const reqTerm = numberOf(b.configTerm) ?? -1;
  if (config) {
    const i = config.members.findIndex((m) => m.host === from);
    if (i >= 0) role.topo.noteHeartbeatReceived(i, Date.now());
  }
  const newer =
    from &&
    !truthy(b.checkEmpty) &&
    (!config ||
      reqVersion > config.version ||
      (reqVersion === config.version && reqTerm !== -1 && config.term !== -1 && reqTerm > config.term));
  if (newer) {
    // The sender has a newer config: fetch it with a heartbeat back (heartbeat reconfig).
    void role.heartbeat(from);
  }
  return role.heartbeatResponse(reqVersion, reqTerm, truthy(b.checkEmpty));
}

function replSetRequestVotes(role: ReplSetRole, ctx: CommandContext): Document {
  const b = ctx.body;
  const dryRun = truthy(b.dryRun);
  const term = numberOf(b.term) ?? -1;
  if (!dryRun) role.observeTerm(term);
  const before = { ...role.topo.lastVote };
  const res = role.topo.processVoteRequest(
    {
      setName: typeof b.setName === 'string' ? b.setName : '',
      dryRun,
      term,
      candidateIndex: numberOf(b.candidateIndex) ?? -1,
      configVersion: numberOf(b.configVersion) ?? -1,
      configTerm: numberOf(b.configTerm) ?? -1,
      lastApplied: opTimeFromBson(b.lastAppliedOpTime ?? b.lastCommittedOp) ?? NULL_OPTIME,
    },
    Date.now(),
  );
  if (
    before.term !== role.topo.lastVote.term ||
    before.candidateIndex !== role.topo.lastVote.candidateIndex
  ) {
    role.persistElection();
  }
  role.logRepl(
    'I',
    5972100,
    'Voting for candidate',
    { dryRun, term, voteGranted: res.voteGranted, reason: res.reason },
    'ELECTION',
  );
  return { term: Long.fromNumber(res.term), voteGranted: res.voteGranted, reason: res.reason };
}

function replSetUpdatePosition(role: ReplSetRole, ctx: CommandContext): Document {
  const config = role.topo.config;
  const list = ctx.body.optimes;
  if (!config || !Array.isArray(list)) return {};
  const now = Date.now();
  for (const item of list as Document[]) {
    const id = numberOf(item.memberId);
    const idx = config.members.findIndex((m) => m.id === id);
    const applied = opTimeFromBson(item.appliedOpTime);
    const durable = opTimeFromBson(item.durableOpTime) ?? applied;
    if (idx < 0 || !applied || !durable) continue;
    const wall = item.appliedWallTime instanceof Date ? item.appliedWallTime.getTime() : now;
    role.topo.updateMemberPosition(idx, applied, durable, wall, now);
  }
  if (role.topo.state === MemberState.PRIMARY) {
    if (role.topo.updateCommitPointAsPrimary()) role.commitPointAdvanced();
    role.wakeWaiters();
  } else if (role.topo.primaryIndex >= 0) {
    // Chaining: pass the progress upstream.
    const host = config.members[role.topo.primaryIndex]?.host;
    if (host)
      role.peers.run(host, 'misc', { replSetUpdatePosition: 1, optimes: list }, 5000).catch(() => undefined);
  }
  return {};
}

/**
 * replSetStepUp (3.6+, ReplicationCoordinatorImpl::stepUpIfEligible): stands for election when electable,
 * waits until the election (this one or one already running) has counted its votes, and succeeds only if
 * this node is then primary; otherwise 125 CommandFailed "Election failed." — also when the node was not
 * electable. A node that already is primary answers ok.
 */
async function replSetStepUp(role: ReplSetRole, ctx: CommandContext): Promise<Document> {
  requireConfig(role);
  const topo = role.topo;
  const skipDryRun = truthy(ctx.body.skipDryRun);
  const notElectable = topo.state === MemberState.PRIMARY ? null : topo.electableReason(Date.now());
  if (notElectable === null && topo.state !== MemberState.PRIMARY && !role.electionInProgress) {
    void runElection(role, 'stepUpRequest', skipDryRun);
  }
  if (role.electionInProgress && role.electionDecided) await role.electionDecided;
  if ((topo.state as number) !== MemberState.PRIMARY) {
    role.logRepl('I', 21582, 'replSetStepUp request failed', {
      error: `CommandFailed: Election failed.${notElectable ? ` (not electable: ${notElectable})` : ''}`,
    });
    throw new CommandError(ReplCode.CommandFailed, 'Election failed.');
  }
  return {};
}

/** find on local.oplog.rs by ts range, answered from the oplog index; awaitData waits for new entries. */
async function findOplog(role: ReplSetRole, ctx: CommandContext): Promise<Document | undefined> {
  const b = ctx.body;
  if (ctx.db !== OPLOG_DB || b.find !== OPLOG_COLL) return undefined;
  const filter = (b.filter ?? {}) as Document;
  const keys = Object.keys(filter);
  let mode: '$gte' | '$gt' | '$lte' | 'all';
  let bound: { secs: number; inc: number } | null = null;
  if (keys.length === 0) mode = 'all';
  else if (keys.length === 1 && keys[0] === 'ts' && isPlainDoc(filter.ts)) {
    const ops = Object.keys(filter.ts);
    const op = ops[0];
    if (ops.length !== 1 || (op !== '$gte' && op !== '$gt' && op !== '$lte')) return undefined;
    bound = timestampParts(filter.ts[op]);
    if (!bound) return undefined;
    mode = op;
  } else return undefined;
  const sortDesc = isPlainDoc(b.sort) && numberOf(b.sort.$natural) === -1;
  if (sortDesc && mode !== '$lte' && mode !== 'all') return undefined;
  if (isPlainDoc(b.sort) && !sortDesc && numberOf(b.sort.$natural) !== 1) return undefined;
  const term = numberOf(b.term);
  if (term !== null) role.observeTerm(term);
  if (b.projection !== undefined || b.skip !== undefined) return undefined;
  const tailing = truthy(b.tailable);
  const rawLimit = numberOf(b.limit) ?? 0;
  // A member's tailing fetch takes one batch at a time; any other query sees the whole range.
  const limit = tailing
    ? Math.max(1, Math.min(numberOf(b.batchSize) || 1000, 10_000))
    : rawLimit !== 0
      ? Math.abs(rawLimit)
      : Number.POSITIVE_INFINITY;
  const select = (): Document[] => {
    const all = role.oplog.all();
    if (sortDesc) {
      const upTo = bound
        ? all.filter(
            (e) =>
              e.opTime.secs < (bound as { secs: number }).secs ||
              (e.opTime.secs === bound?.secs && e.opTime.inc <= bound.inc),
          )
        : [...all];
      return upTo
        .reverse()
        .slice(0, limit)
        .map((e) => e.doc);
    }
    if (mode === 'all') return all.slice(0, limit).map((e) => e.doc);
    if (mode === '$lte') {
      return all
        .filter(
          (e) =>
            e.opTime.secs < (bound as { secs: number }).secs ||
            (e.opTime.secs === bound?.secs && e.opTime.inc <= bound.inc),
        )
        .slice(0, limit)
        .map((e) => e.doc);
    }
    const from = bound as { secs: number; inc: number };
    return role.oplog.from(from.secs, from.inc, mode === '$gte', limit).map((e) => e.doc);
  };
  let docs = select();
  const awaitData = tailing && truthy(b.awaitData);
  if (awaitData && docs.length <= (mode === '$gte' ? 1 : 0)) {
    const ms = Math.min(numberOf(b.maxTimeMS) ?? 1000, 5000);
    await role.waitForOplog(ms);
    docs = select();
  }
  const topo = role.topo;
  const config = topo.config;
  const ns = `${OPLOG_DB}.${OPLOG_COLL}`;
  // Ordinary queries get a real cursor (getMore through the core); a tailing fetch re-queries instead.
  // A tailing batch is cut at 16 MiB like any other (mongod's reply limit): 1000 large entries would make a
  // reply no member could read, and replication from this member would stop.
  const cursor = tailing
    ? { firstBatch: docs.slice(0, batchEnd(docs, 0, docs.length)), id: Long.fromNumber(0), ns }
    : (() => {
        const single = b.singleBatch === true || rawLimit < 0;
        const batch = role.node.cursors.create(ns, docs, numberOf(b.batchSize) ?? undefined, single);
        return { firstBatch: batch.docs, id: batch.id, ns };
      })();
  return {
    cursor,
    $replData: {
      term: Long.fromNumber(topo.term),
      lastOpCommitted: opTimeToBson(topo.lastCommitted),
      lastOpVisible: opTimeToBson(topo.myApplied),
      configVersion: new Int32(config?.version ?? -1),
      primaryIndex: new Int32(topo.primaryIndex),
      syncSourceIndex: new Int32(topo.syncSourceIndex),
    },
  };
}

/** Registers every replica-set command; `coreFind` is the core's find, used for everything but oplog fetches. */
export function registerReplCommands(role: ReplSetRole, coreFind: CommandSpec | undefined): void {
  const reg = role.node.commands;
  const admin = (names: string[], handler: (ctx: CommandContext) => Document | Promise<Document>): void => {
    reg.register({ names, adminOnly: true, program: 'mongod', handler });
  };
  admin(['replSetInitiate'], (ctx) => replSetInitiate(role, ctx));
  admin(['replSetGetStatus'], (ctx) => replSetGetStatus(role, ctx));
  admin(['replSetGetConfig'], (ctx) => replSetGetConfig(role, ctx));
  admin(['replSetReconfig'], (ctx) => replSetReconfig(role, ctx));
  admin(['replSetStepDown'], (ctx) => replSetStepDown(role, ctx));
  admin(['replSetFreeze'], (ctx) => replSetFreeze(role, ctx));
  admin(['replSetMaintenance'], (ctx) => replSetMaintenance(role, ctx));
  admin(['replSetSyncFrom'], (ctx) => replSetSyncFrom(role, ctx));
  admin(['replSetHeartbeat'], (ctx) => replSetHeartbeat(role, ctx));
  admin(['replSetRequestVotes'], (ctx) => replSetRequestVotes(role, ctx));
  admin(['replSetUpdatePosition'], (ctx) => replSetUpdatePosition(role, ctx));
  admin(['replSetStepUp'], (ctx) => replSetStepUp(role, ctx));
  if (role.features.major > 4 || (role.features.major === 4 && role.features.minor >= 4)) {
    admin(['setDefaultRWConcern'], (ctx) => setDefaultRWConcern(role, ctx));
    admin(['getDefaultRWConcern'], () => getDefaultRWConcern(role));
  }
  reg.register({
    names: ['find'],
    program: 'mongod',
    handler: async (ctx) => {
      const fast = await findOplog(role, ctx);
      if (fast) return fast;
      if (!coreFind) throw new CommandError(59, "no such command: 'find'");
      return coreFind.handler(ctx);
    },
  });
}
