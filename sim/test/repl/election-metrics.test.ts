// replSetGetStatus electionCandidateMetrics (4.2.1+) and replSetStepUp, driven by the real driver: the
// reason of the last election this node won (electionTimeout, stepUpRequest, stepUpRequestSkipDryRun for
// an election handoff), its term, optimes, votes, priority and timeout; gone once the node steps down.
// replSetStepUp answers after the election and fails with 125 CommandFailed when it did not win.
// References: §3.4 (replSetGetStatus), §3.7 (step-down handoff), §3.9 (elections).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Document, Double, Int32, Long } from 'mongodb';
import { VERSION_FAMILIES } from '../helpers/sim.js';
import { ReplSetFixture } from './harness.js';

/** No natural election while a test steps a member up. */
const QUIET = { electionTimeoutMillis: 60_000, heartbeatIntervalMillis: 200, heartbeatTimeoutSecs: 2 };

async function typedStatus(rs: ReplSetFixture, i: number): Promise<Document> {
  const c = await rs.direct(i);
  return c.db('admin').command({ replSetGetStatus: 1 }, { promoteValues: false, promoteLongs: false });
}

async function allSecondary(rs: ReplSetFixture, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await rs.waitForState(i, 'SECONDARY');
}

describe('electionCandidateMetrics on a 7.0 set', { timeout: 120_000 }, () => {
  const rs = new ReplSetFixture('7.0.14');
  before(async () => {
    await rs.start(3);
    await rs.admin(0, { replSetInitiate: rs.config([{}, {}, {}], QUIET) });
    await allSecondary(rs, 3);
  });
  after(async () => {
    await rs.close();
  });

  it('replSetStepUp {skipDryRun: false} on a SECONDARY answers once it is primary: "stepUpRequest"', async () => {
    const before = Date.now();
    const reply = await rs.admin(2, { replSetStepUp: 1, skipDryRun: false });
    assert.equal(reply.ok, 1);
    // The reply comes after the election: member 2 already is PRIMARY.
    const status = await typedStatus(rs, 2);
    assert.equal((status.myState as Int32).value, 1);
    const m = status.electionCandidateMetrics as Document;
    assert.ok(m, 'the winner reports electionCandidateMetrics');
    assert.deepEqual(Object.keys(m).slice(0, 8), [
      'lastElectionReason',
      'lastElectionDate',
      'electionTerm',
      'lastCommittedOpTimeAtElection',
      'lastSeenOpTimeAtElection',
      'numVotesNeeded',
      'priorityAtElection',
      'electionTimeoutMillis',
    ]);
    assert.equal(m.lastElectionReason, 'stepUpRequest');
    assert.ok(m.lastElectionDate instanceof Date);
    assert.ok((m.lastElectionDate as Date).getTime() >= before - 1000);
    assert.ok(m.electionTerm instanceof Long);
    assert.equal(Number(m.electionTerm), Number(status.term));
    assert.equal(Number(m.electionTerm), 1, 'the first election of the set');
    assert.ok(m.lastSeenOpTimeAtElection?.t instanceof Long);
    assert.equal(Number(m.lastCommittedOpTimeAtElection.t), -1, 'nothing committed before the first term');
    assert.ok(m.numVotesNeeded instanceof Int32);
    assert.equal(m.numVotesNeeded.value, 2);
    assert.ok(m.priorityAtElection instanceof Double);
    assert.equal(m.priorityAtElection.value, 1);
    assert.ok(m.electionTimeoutMillis instanceof Long);
    assert.equal(Number(m.electionTimeoutMillis), 60_000);
    await rs.waitForPrimary(10_000);
    const later = (await typedStatus(rs, 2)).electionCandidateMetrics as Document;
    assert.ok(later.newTermStartDate instanceof Date, 'set once the new term began');
    assert.ok(later.numCatchUpOps instanceof Long);
    for (const i of [0, 1]) {
      const other = await typedStatus(rs, i);
      assert.equal(other.electionCandidateMetrics, undefined, `member ${i} did not win`);
    }
  });

  it('replSetStepUp on the primary is ok; on a frozen secondary it fails with 125 CommandFailed', async () => {
    assert.equal((await rs.admin(2, { replSetStepUp: 1 })).ok, 1);
    await rs.admin(0, { replSetFreeze: 30 });
    try {
      await assert.rejects(rs.admin(0, { replSetStepUp: 1 }), (e: Document) => {
        assert.equal(e.code, 125);
        assert.equal(e.codeName, 'CommandFailed');
        assert.equal(e.message, 'Election failed.');
        return true;
      });
    } finally {
      await rs.admin(0, { replSetFreeze: 0 });
    }
  });

  it('a step-down hands over ("stepUpRequestSkipDryRun") and the old primary drops its metrics', async () => {
    await rs.admin(2, { replSetStepDown: 30 }).catch(() => undefined);
    const next = await rs.waitForPrimary(15_000, [2]);
    const m = (await typedStatus(rs, next)).electionCandidateMetrics as Document;
    assert.equal(m.lastElectionReason, 'stepUpRequestSkipDryRun');
    assert.equal(Number(m.electionTerm), 2);
    assert.equal((await typedStatus(rs, 2)).electionCandidateMetrics, undefined);
  });
});

describe('electionCandidateMetrics after a natural election (7.0)', { timeout: 60_000 }, () => {
  const rs = new ReplSetFixture('7.0.14');
  before(async () => {
    await rs.start(3);
  });
  after(async () => {
    await rs.close();
  });

  it('the first primary reports "electionTimeout" and, once majority writes work, its dates', async () => {
    const settings = { electionTimeoutMillis: 1000, heartbeatIntervalMillis: 200, heartbeatTimeoutSecs: 2 };
    await rs.admin(0, { replSetInitiate: rs.config([{}, {}, {}], settings) });
    const primary = await rs.waitForPrimary(20_000);
    const c = await rs.direct(primary);
    await c
      .db('app')
      .collection('m')
      .insertOne({ a: 1 }, { writeConcern: { w: 'majority', wtimeout: 10_000 } });
    const m = (await typedStatus(rs, primary)).electionCandidateMetrics as Document;
    assert.equal(m.lastElectionReason, 'electionTimeout');
    assert.equal(Number(m.electionTimeoutMillis), 1000);
    assert.equal(m.numVotesNeeded.value, 2);
    assert.ok(m.newTermStartDate instanceof Date);
    assert.ok(m.wMajorityWriteAvailabilityDate instanceof Date);
    assert.ok(m.wMajorityWriteAvailabilityDate.getTime() >= m.newTermStartDate.getTime());
  });
});

describe('replSetStepUp on every version; electionCandidateMetrics from 4.2', { timeout: 240_000 }, () => {
  for (const version of VERSION_FAMILIES) {
    it(`${version}: a SECONDARY steps up right after initiate`, async () => {
      const rs = new ReplSetFixture(version);
      try {
        await rs.start(2);
        await rs.admin(0, { replSetInitiate: rs.config([{}, {}], QUIET) });
        await allSecondary(rs, 2);
        assert.equal((await rs.admin(1, { replSetStepUp: 1, skipDryRun: false })).ok, 1);
        const status = await typedStatus(rs, 1);
        assert.equal((status.myState as Int32).value, 1, 'PRIMARY when the command answers');
        const hasMetrics = !version.startsWith('3.') && !version.startsWith('4.0');
        if (hasMetrics) {
          assert.equal((status.electionCandidateMetrics as Document)?.lastElectionReason, 'stepUpRequest');
        } else {
          assert.equal(status.electionCandidateMetrics, undefined);
        }
      } finally {
        await rs.close();
      }
    });
  }
});
