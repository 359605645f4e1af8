// Documents built from the topology coordinator's state: hello's replication block (§2.3) and
// replSetGetStatus (§3.4). Field order follows the reference (fillHelloForReplSet, prepareStatusResponse).
import { type Document, Double, Int32, Long, ObjectId, Timestamp } from 'bson';
import { isVoter, majorityVoteCount, writableVotingMembers, writeMajorityCount } from './config.js';
import type { ReplFeatures } from './features.js';
import { MemberState, stateString } from './member-state.js';
import { NULL_OPTIME, type OpTime, opTimeToBson, tsToBson } from './optime.js';
import type { ElectionCandidateMetrics, TopologyCoordinator } from './topology.js';

/** electionId = OID::fromTerm(term): 7fffffff followed by the 8-byte big-endian term (§2.3). */
export function electionIdForTerm(term: number): ObjectId {
  const buf = Buffer.alloc(12);
  buf.writeUInt32BE(0x7fffffff, 0);
  buf.writeBigUInt64BE(BigInt(term), 4);
  return new ObjectId(buf);
}

function wallDate(ms: number): Date {
  return new Date(ms);
}

export function helloReplFields(
  topo: TopologyCoordinator,
  features: ReplFeatures,
  commandName: string,
  setNameFromOptions: string,
): Document {
  const helloCmd = commandName === 'hello';
  const primaryKey = helloCmd ? 'isWritablePrimary' : 'ismaster';
  const config = topo.config;
  const self = topo.self;
  if (!config || !self) {
    // §2.3: no config yet (RSGhost), or REMOVED (same shape, with setName).
    const doc: Document = {
      [primaryKey]: false,
      secondary: false,
      info: 'Does not have a valid replica set config',
      isreplicaset: true,
    };
    if (config && topo.state === MemberState.REMOVED) doc.setName = config.setName || setNameFromOptions;
    return doc;
  }
  const hosts: string[] = [];
  const passives: string[] = [];
  const arbiters: string[] = [];
  for (const m of config.members) {
    if (m.hidden || m.secondaryDelaySecs > 0) continue;
    if (m.arbiterOnly) arbiters.push(m.host);
    else if (m.priority > 0 && !m.newlyAdded) hosts.push(m.host);
    else passives.push(m.host);
  }
  const doc: Document = {};
  if (hosts.length > 0) doc.hosts = hosts;
  if (passives.length > 0) doc.passives = passives;
  if (arbiters.length > 0) doc.arbiters = arbiters;
  doc.setName = config.setName;
  doc.setVersion = new Int32(config.version);
  doc[primaryKey] = topo.canAcceptWrites;
  doc.secondary = topo.state === MemberState.SECONDARY;
  const primary = topo.primaryIndex >= 0 ? config.members[topo.primaryIndex] : undefined;
  if (primary) doc.primary = primary.host;
  if (self.arbiterOnly) doc.arbiterOnly = true;
  else if (self.priority === 0 || self.newlyAdded) doc.passive = true;
  if (self.hidden) doc.hidden = true;
  if (!self.buildIndexes) doc.buildIndexes = false;
  if (self.secondaryDelaySecs > 0) {
    doc[helloCmd && features.delayField === 'secondaryDelaySecs' ? 'secondaryDelaySecs' : 'slaveDelay'] =
      Long.fromNumber(self.secondaryDelaySecs);
  }
  const tags = Object.entries(self.tags).filter(([k]) => !k.startsWith('$'));
  if (tags.length > 0) doc.tags = Object.fromEntries(tags);
  doc.me = self.host;
  if (topo.state === MemberState.PRIMARY) doc.electionId = electionIdForTerm(topo.term);
  if (!self.arbiterOnly) {
    doc.lastWrite = {
      opTime: opTimeToBson(topo.myApplied),
      lastWriteDate: wallDate(topo.myAppliedWallMs || topo.myApplied.secs * 1000),
      majorityOpTime: opTimeToBson(topo.lastCommitted),
      majorityWriteDate: wallDate(topo.lastCommittedWallMs || topo.lastCommitted.secs * 1000),
    };
  }
  return doc;
}

function optimeDoc(o: OpTime): Document {
  return opTimeToBson(o);
}

function optimeDate(o: OpTime): Date {
  return new Date(o.secs * 1000);
}

export interface StatusExtras {
  readonly nowMs: number;
  readonly startedMs: number;
  readonly syncSourceHost: string;
  readonly syncSourceId: number;
  readonly infoMessage: string;
}

/** electionCandidateMetrics in replSetGetStatus's field order and BSON types (replication_metrics.idl). */
function electionCandidateMetricsDoc(m: ElectionCandidateMetrics): Document {
  const doc: Document = {
    lastElectionReason: m.reason,
    lastElectionDate: new Date(m.electionDateMs),
    electionTerm: Long.fromNumber(m.term),
    lastCommittedOpTimeAtElection: opTimeToBson(m.lastCommittedAtElection),
    lastSeenOpTimeAtElection: opTimeToBson(m.lastSeenAtElection),
    numVotesNeeded: new Int32(m.votesNeeded),
    priorityAtElection: new Double(m.priority),
    electionTimeoutMillis: Long.fromNumber(m.electionTimeoutMillis),
  };
  if (m.priorPrimaryMemberId !== null) doc.priorPrimaryMemberId = new Int32(m.priorPrimaryMemberId);
  if (m.numCatchUpOps !== undefined) doc.numCatchUpOps = Long.fromNumber(m.numCatchUpOps);
  if (m.newTermStartDateMs !== undefined) doc.newTermStartDate = new Date(m.newTermStartDateMs);
  if (m.wMajorityWriteAvailabilityDateMs !== undefined) {
    doc.wMajorityWriteAvailabilityDate = new Date(m.wMajorityWriteAvailabilityDateMs);
  }
  return doc;
}

/** replSetGetStatus for a member with a config (§3.4). */
export function replSetStatus(topo: TopologyCoordinator, features: ReplFeatures, x: StatusExtras): Document {
  const config = topo.config;
  if (!config) return {};
  const now = x.nowMs;
  const doc: Document = {
    set: config.setName,
    date: new Date(now),
    myState: new Int32(topo.state),
    term: Long.fromNumber(topo.term),
  };
  if (features.statusSyncingTo) doc.syncingTo = x.syncSourceHost;
  doc.syncSourceHost = x.syncSourceHost;
  doc.syncSourceId = new Int32(x.syncSourceId);
  doc.heartbeatIntervalMillis = Long.fromNumber(config.settings.heartbeatIntervalMillis);
  if (features.statusVoteCounts) {
    const voters = config.members.filter(isVoter).length;
    doc.majorityVoteCount = new Int32(majorityVoteCount(config));
    doc.writeMajorityCount = new Int32(writeMajorityCount(config));
    doc.votingMembersCount = new Int32(voters);
    doc.writableVotingMembersCount = new Int32(writableVotingMembers(config).length);
  }
  const committedWall = new Date(topo.lastCommittedWallMs || topo.lastCommitted.secs * 1000);
  const appliedWall = new Date(topo.myAppliedWallMs || topo.myApplied.secs * 1000);
  doc.optimes = {
    lastCommittedOpTime: optimeDoc(topo.lastCommitted),
    lastCommittedWallTime: committedWall,
    readConcernMajorityOpTime: optimeDoc(topo.lastCommitted),
    readConcernMajorityWallTime: committedWall,
    appliedOpTime: optimeDoc(topo.myApplied),
    durableOpTime: optimeDoc(topo.myDurable),
    lastAppliedWallTime: appliedWall,
    lastDurableWallTime: appliedWall,
  };
  if (features.major > 4 || (features.major === 4 && features.minor >= 2)) {
    doc.lastStableRecoveryTimestamp = tsToBson(topo.lastCommitted);
  }
  const metrics = topo.electionCandidateMetrics;
  if (features.electionCandidateMetrics && metrics && topo.state === MemberState.PRIMARY) {
    doc.electionCandidateMetrics = electionCandidateMetricsDoc(metrics);
  }
  if (topo.maintenanceCount > 0) doc.maintenanceMode = new Int32(topo.maintenanceCount);
  if (config.configsvr) doc.configsvr = true;
  const members: Document[] = [];
  config.members.forEach((m, i) => {
    if (i === topo.selfIndex) {
      const self: Document = {
        _id: new Int32(m.id),
        name: m.host,
        health: new Double(1),
        state: new Int32(topo.state),
        stateStr: stateString(topo.state),
        uptime: new Int32(Math.floor((now - x.startedMs) / 1000)),
      };
      if (!m.arbiterOnly) {
        self.optime = optimeDoc(topo.myApplied);
        self.optimeDate = optimeDate(topo.myApplied);
        self.lastAppliedWallTime = appliedWall;
        self.lastDurableWallTime = appliedWall;
      }
      self.syncSourceHost = x.syncSourceHost;
      self.syncSourceId = new Int32(x.syncSourceId);
      self.infoMessage = x.infoMessage;
      if (topo.state === MemberState.PRIMARY && topo.electionTime) {
        self.electionTime = tsToBson(topo.electionTime);
        self.electionDate = new Date(topo.electionDateMs ?? now);
      }
      self.configVersion = new Int32(config.version);
      if (features.configTerm) self.configTerm = new Int32(config.term);
      self.self = true;
      self.lastHeartbeatMessage = '';
      members.push(self);
      return;
    }
    const p = topo.peers[i];
    const health = p?.health === 1 ? 1 : 0;
    const state = p
      ? p.health === 1
        ? p.state
        : p.health === 0
          ? MemberState.DOWN
          : MemberState.UNKNOWN
      : 6;
    const applied = p?.applied ?? NULL_OPTIME;
    const durable = p?.durable ?? NULL_OPTIME;
    const peer: Document = {
      _id: new Int32(m.id),
      name: m.host,
      health: new Double(health),
      state: new Int32(state),
      stateStr: health === 1 ? stateString(state) : '(not reachable/healthy)',
      uptime: new Int32(p?.upSinceMs ? Math.floor((now - p.upSinceMs) / 1000) : 0),
    };
    if (!m.arbiterOnly) {
      peer.optime = optimeDoc(applied);
      peer.optimeDurable = optimeDoc(durable);
      peer.optimeDate = optimeDate(applied);
      peer.optimeDurableDate = optimeDate(durable);
      peer.lastAppliedWallTime = new Date(p?.appliedWallMs || applied.secs * 1000);
      peer.lastDurableWallTime = new Date(p?.durableWallMs || durable.secs * 1000);
    }
    peer.lastHeartbeat = new Date(p?.lastHeartbeatMs ?? 0);
    peer.lastHeartbeatRecv = new Date(p?.lastHeartbeatRecvMs ?? 0);
    peer.pingMs = Long.fromNumber(p?.pingMs ?? 0);
    peer.lastHeartbeatMessage = p?.lastHeartbeatMessage ?? '';
    peer.syncSourceHost = p?.syncSourceHost ?? '';
    const source = p?.syncSourceHost ? config.members.find((x) => x.host === p.syncSourceHost) : undefined;
    peer.syncSourceId = new Int32(source?.id ?? -1);
    peer.infoMessage = '';
    if (p && health === 1 && p.state === MemberState.PRIMARY && p.electionTime) {
      peer.electionTime = tsToBson(p.electionTime);
      peer.electionDate = new Date(p.electionTime.secs * 1000);
    }
    peer.configVersion = new Int32(p?.configVersion ?? -1);
    if (features.configTerm) peer.configTerm = new Int32(p?.configTerm ?? -1);
    members.push(peer);
  });
  members.sort((a, b) => (a._id as Int32).value - (b._id as Int32).value);
  doc.members = members;
  return doc;
}

export function clusterTimeFields(o: OpTime): Document {
  const ts = new Timestamp({ t: o.secs, i: o.inc });
  return {
    $clusterTime: {
      clusterTime: ts,
      signature: { hash: Buffer.alloc(20), keyId: Long.fromNumber(0) },
    },
    operationTime: ts,
  };
}
