// The topology coordinator with an injected clock: votes, election timers, priority takeover, losing a
// majority, the commit point (reference §3.9, §3.4) and the hello block (§2.3).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ObjectId } from 'bson';
import { parseConfig, type ReplSetConfig } from '../../src/repl/config.js';
import { replFeatures } from '../../src/repl/features.js';
import { MemberState } from '../../src/repl/member-state.js';
import type { OpTime } from '../../src/repl/optime.js';
import { type HeartbeatResponse, TopologyCoordinator } from '../../src/repl/topology.js';
import { electionIdForTerm, helloReplFields, replSetStatus } from '../../src/repl/views.js';

const v70 = replFeatures('7.0.14');

function config(members: object[], settings: object = {}): ReplSetConfig {
  return parseConfig(
    {
      _id: 'rs0',
      version: 1,
      term: 0,
      members,
      settings: { electionTimeoutMillis: 1000, heartbeatIntervalMillis: 100, ...settings },
    },
    v70,
  );
}

const threeMembers = [
  { _id: 0, host: 'h:1' },
  { _id: 1, host: 'h:2' },
  { _id: 2, host: 'h:3' },
];

function op(secs: number, term: number, inc = 1): OpTime {
  return { secs, inc, term };
}

function hb(state: number, term: number, applied: OpTime): HeartbeatResponse {
  return {
    setName: 'rs0',
    state,
    term,
    applied,
    durable: applied,
    appliedWallMs: applied.secs * 1000,
    durableWallMs: applied.secs * 1000,
    electionTime: null,
    configVersion: 1,
    configTerm: 0,
    syncSourceHost: '',
    syncSourceId: -1,
    lastCommitted: null,
    primaryId: -1,
  };
}

function node(selfIndex: number, members: object[] = threeMembers, random = 0): TopologyCoordinator {
  const t = new TopologyCoordinator({ random: () => random });
  t.installConfig(config(members), selfIndex, 0);
  return t;
}

describe('votes', () => {
  it('grants one vote per term and refuses staler candidates', () => {
    const t = node(1);
    t.setMyApplied(op(100, 1), 100_000);
    const base = {
      setName: 'rs0',
      dryRun: false,
      term: 2,
      candidateIndex: 0,
      configVersion: 1,
      configTerm: 0,
    };
    assert.equal(t.processVoteRequest({ ...base, lastApplied: op(99, 1) }, 0).voteGranted, false);
    const first = t.processVoteRequest({ ...base, lastApplied: op(100, 1) }, 0);
    assert.equal(first.voteGranted, true);
    assert.deepEqual(t.lastVote, { term: 2, candidateIndex: 0 });
    const second = t.processVoteRequest({ ...base, candidateIndex: 2, lastApplied: op(101, 1) }, 0);
    assert.equal(second.voteGranted, false);
    assert.equal(second.reason, 'already voted for another candidate (h:1) this term (2)');
  });

  it('a dry run does not record a vote; a lower term is refused', () => {
    const t = node(1);
    t.term = 5;
    const base = {
      setName: 'rs0',
      term: 5,
      candidateIndex: 0,
      configVersion: 1,
      configTerm: 0,
      lastApplied: op(1, 1),
    };
    assert.equal(t.processVoteRequest({ ...base, dryRun: true }, 0).voteGranted, true);
    assert.equal(t.lastVote.term, -1);
    const low = t.processVoteRequest({ ...base, dryRun: false, term: 4 }, 0);
    assert.equal(low.reason, "candidate's term (4) is lower than mine (5)");
  });
});

describe('election timer', () => {
  it('fires after electionTimeoutMillis (plus offset) without a primary', () => {
    const t = node(0, threeMembers, 0.5);
    // 1000 ms + 15 % · 0.5 = 1075 ms
    assert.equal(t.electionDeadlineMs, 1075);
    assert.deepEqual(t.tick(1074), { kind: 'none' });
    assert.deepEqual(t.tick(1075), { kind: 'startElection', reason: 'electionTimeout' });
  });

  it('is pushed back by heartbeats from a live primary', () => {
    const t = node(1);
    t.processHeartbeatResponse(0, hb(MemberState.PRIMARY, 0, op(1, 0)), 900, 1);
    assert.equal(t.primaryIndex, 0);
    assert.deepEqual(t.tick(1500), { kind: 'none' });
    assert.deepEqual(t.tick(1900), { kind: 'startElection', reason: 'electionTimeout' });
  });

  it('never runs for a priority-0, hidden or frozen member', () => {
    const t = node(2, [
      { _id: 0, host: 'h:1' },
      { _id: 1, host: 'h:2' },
      { _id: 2, host: 'h:3', priority: 0, hidden: true },
    ]);
    assert.deepEqual(t.tick(60_000), { kind: 'none' });
    const f = node(0);
    f.stepDownUntilMs = 10_000;
    assert.deepEqual(f.tick(5000), { kind: 'none' });
    assert.equal(f.electableReason(5000), 'frozen');
  });

  it('a lone voter stands at once, without waiting for the timeout', () => {
    const t = node(0, [
      { _id: 0, host: 'h:1' },
      { _id: 1, host: 'h:2', priority: 0, votes: 0 },
    ]);
    assert.deepEqual(t.tick(1), { kind: 'startElection', reason: 'electionTimeout' });
    t.stepDownUntilMs = 100;
    assert.deepEqual(t.tick(50), { kind: 'none' }, 'not while frozen');
  });

  it('arbiters never stand', () => {
    const t = node(2, [
      { _id: 0, host: 'h:1' },
      { _id: 1, host: 'h:2' },
      { _id: 2, host: 'h:3', arbiterOnly: true },
    ]);
    assert.equal(t.state, MemberState.ARBITER);
    assert.deepEqual(t.tick(60_000), { kind: 'none' });
  });
});

describe('primary', () => {
  it('steps down when it cannot see a majority', () => {
    const t = node(0);
    t.startRealElection(0);
    t.becomePrimary(0);
    t.processHeartbeatResponse(1, hb(MemberState.SECONDARY, 1, op(1, 1)), 100, 1);
    assert.deepEqual(t.tick(500), { kind: 'none' });
    assert.deepEqual(t.tick(1200), {
      kind: 'stepDown',
      reason: "can't see a majority of the set, relinquishing primary",
    });
  });

  it('steps down on seeing a higher term', () => {
    const t = node(0);
    t.startRealElection(0);
    t.becomePrimary(0);
    assert.equal(t.state, MemberState.PRIMARY);
    t.updateTerm(7, 10);
    assert.equal(t.state, MemberState.SECONDARY);
  });

  it('commits at the majority of voting data-bearing members, only in its own term', () => {
    const t = node(0);
    t.setMyApplied(op(10, 0), 10_000);
    t.startRealElection(0);
    t.becomePrimary(0);
    t.setMyApplied(op(11, 1), 11_000);
    t.completeTransitionToPrimary(op(11, 1));
    t.updateMemberPosition(1, op(10, 0), op(10, 0), 0, 1);
    assert.equal(t.updateCommitPointAsPrimary(), false, 'an old-term entry does not commit by counting');
    t.setMyApplied(op(12, 1), 12_000);
    t.updateMemberPosition(1, op(12, 1), op(12, 1), 0, 1);
    assert.equal(t.updateCommitPointAsPrimary(), true);
    assert.deepEqual(t.lastCommitted, op(12, 1));
  });

  it('arbiters count for elections but not for the write majority', () => {
    const t = node(0, [
      { _id: 0, host: 'h:1' },
      { _id: 1, host: 'h:2' },
      { _id: 2, host: 'h:3', arbiterOnly: true },
    ]);
    t.startRealElection(0);
    t.becomePrimary(0);
    t.setMyApplied(op(5, 1), 5000);
    t.completeTransitionToPrimary(op(5, 1));
    t.updateMemberPosition(2, op(5, 1), op(5, 1), 0, 1);
    assert.equal(t.updateCommitPointAsPrimary(), false);
    t.updateMemberPosition(1, op(5, 1), op(5, 1), 0, 1);
    assert.equal(t.updateCommitPointAsPrimary(), true);
  });
});

describe('priority takeover', () => {
  it('a caught-up higher-priority secondary stands after (rank+1) election timeouts', () => {
    const t = node(1, [
      { _id: 0, host: 'h:1' },
      { _id: 1, host: 'h:2', priority: 5 },
      { _id: 2, host: 'h:3' },
    ]);
    t.setMyApplied(op(100, 1), 0);
    const beat = (now: number): void =>
      t.processHeartbeatResponse(0, hb(MemberState.PRIMARY, 1, op(101, 1)), now, 1);
    beat(0);
    assert.deepEqual(t.tick(10), { kind: 'none' });
    assert.equal(t.priorityTakeoverDeadlineMs, 1010);
    beat(500);
    assert.deepEqual(t.tick(600), { kind: 'none' });
    beat(1000);
    assert.deepEqual(t.tick(1010), { kind: 'startElection', reason: 'priorityTakeover' });
  });

  it('waits while it is not caught up', () => {
    const t = node(1, [
      { _id: 0, host: 'h:1' },
      { _id: 1, host: 'h:2', priority: 5 },
      { _id: 2, host: 'h:3' },
    ]);
    t.setMyApplied(op(90, 1), 0);
    t.processHeartbeatResponse(0, hb(MemberState.PRIMARY, 1, op(101, 1)), 0, 1);
    t.tick(10);
    assert.equal(t.priorityTakeoverDeadlineMs, null);
  });
});

describe('hello block', () => {
  it('ghost before a config, full block after', () => {
    const ghost = new TopologyCoordinator({ random: () => 0 });
    assert.deepEqual(helloReplFields(ghost, v70, 'hello', 'rs0'), {
      isWritablePrimary: false,
      secondary: false,
      info: 'Does not have a valid replica set config',
      isreplicaset: true,
    });
    const t = node(0, [
      { _id: 0, host: 'h:1' },
      { _id: 1, host: 'h:2', priority: 0 },
      { _id: 2, host: 'h:3', arbiterOnly: true },
      { _id: 3, host: 'h:4', priority: 0, hidden: true, votes: 0 },
    ]);
    t.startRealElection(0);
    t.becomePrimary(0);
    t.completeTransitionToPrimary(op(1, 1));
    const doc = helloReplFields(t, v70, 'hello', 'rs0');
    assert.deepEqual(doc.hosts, ['h:1']);
    assert.deepEqual(doc.passives, ['h:2']);
    assert.deepEqual(doc.arbiters, ['h:3']);
    assert.equal(doc.isWritablePrimary, true);
    assert.equal(doc.primary, 'h:1');
    assert.equal(doc.me, 'h:1');
    assert.ok((doc.electionId as ObjectId).equals(new ObjectId('7fffffff0000000000000001')));
    assert.deepEqual(Object.keys(doc).slice(0, 7), [
      'hosts',
      'passives',
      'arbiters',
      'setName',
      'setVersion',
      'isWritablePrimary',
      'secondary',
    ]);
    assert.equal(electionIdForTerm(258).toHexString(), '7fffffff0000000000000102');
  });
});

describe('replSetGetStatus document', () => {
  it('has the reference shape for self and peers', () => {
    const t = node(0, [
      { _id: 0, host: 'h:1' },
      { _id: 1, host: 'h:2' },
      { _id: 2, host: 'h:3', arbiterOnly: true },
    ]);
    t.startRealElection(0);
    t.becomePrimary(0);
    t.completeTransitionToPrimary(op(10, 1));
    t.processHeartbeatResponse(1, hb(MemberState.SECONDARY, 1, op(10, 1)), 1000, 3);
    t.processHeartbeatFailure(2, 1000, 'Error connecting to h:3 :: caused by :: Connection refused');
    const doc = replSetStatus(t, v70, {
      nowMs: 5000,
      startedMs: 0,
      syncSourceHost: '',
      syncSourceId: -1,
      infoMessage: '',
    });
    assert.deepEqual(Object.keys(doc), [
      'set',
      'date',
      'myState',
      'term',
      'syncSourceHost',
      'syncSourceId',
      'heartbeatIntervalMillis',
      'majorityVoteCount',
      'writeMajorityCount',
      'votingMembersCount',
      'writableVotingMembersCount',
      'optimes',
      'lastStableRecoveryTimestamp',
      'electionCandidateMetrics',
      'members',
    ]);
    assert.equal(doc.majorityVoteCount.value, 2);
    assert.equal(doc.writeMajorityCount.value, 2);
    assert.equal(doc.writableVotingMembersCount.value, 2);
    const [self, peer, arbiter] = doc.members;
    assert.equal(self.self, true);
    assert.equal(self.stateStr, 'PRIMARY');
    assert.ok('electionTime' in self && 'electionDate' in self);
    assert.equal(peer.stateStr, 'SECONDARY');
    assert.equal(peer.health.value, 1);
    assert.equal(peer.pingMs.toNumber(), 3);
    assert.equal(arbiter.health.value, 0);
    assert.equal(arbiter.state.value, MemberState.DOWN);
    assert.equal(arbiter.stateStr, '(not reachable/healthy)');
    assert.equal(arbiter.lastHeartbeatMessage, 'Error connecting to h:3 :: caused by :: Connection refused');
    assert.ok(!('optime' in arbiter), 'arbiters have no optime fields');
  });
});

describe('catch-up', () => {
  it('a new primary pulls from the freshest member it can see until it has caught up', () => {
    const t = node(0);
    t.setMyApplied(op(10, 1), 0);
    t.processHeartbeatResponse(1, hb(MemberState.SECONDARY, 1, op(12, 1)), 100, 1);
    t.processHeartbeatResponse(2, hb(MemberState.SECONDARY, 1, op(11, 1)), 100, 1);
    t.startRealElection(100);
    t.becomePrimary(100);
    assert.equal(t.leaderMode, 'catchingUp');
    assert.equal(t.chooseSyncSource(200), 1);
    assert.equal(t.caughtUp(200), false);
    t.setMyApplied(op(12, 1), 0);
    assert.equal(t.caughtUp(200), true);
    assert.equal(t.chooseSyncSource(200), -1);
    t.completeTransitionToPrimary(op(13, 2));
    assert.equal(t.canAcceptWrites, true);
    assert.equal(t.chooseSyncSource(200), -1, 'a writable primary syncs from nobody');
  });
});
