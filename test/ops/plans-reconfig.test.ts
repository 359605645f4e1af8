// The order of a reload's replica-set reconfigs: one voting change per reconfig, everything else in one,
// every intermediate config valid (≤ 7 voters, someone electable), refusals for what cannot be done in place.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setMemberOptions, setReplicaSetSettings } from '../../src/mongo/reconfig.js';
import { buildReplicaSetConfig } from '../../src/mongo/replset.js';
import { planSetReconfigs, type ReconfigChange, ReconfigRefusal } from '../../src/ops/plans-reconfig.js';
import type { MemberOptions } from '../../src/topology/types.js';

const VOTER: MemberOptions = {
  priority: 1,
  votes: 1,
  hidden: false,
  arbiterOnly: false,
  secondaryDelaySecs: 0,
  buildIndexes: true,
  tags: {},
};
const PASSIVE: MemberOptions = { ...VOTER, priority: 0 };
const NON_VOTER: MemberOptions = { ...VOTER, priority: 0, votes: 0 };

function set(options: MemberOptions[]): Map<string, MemberOptions> {
  return new Map(options.map((o, n) => [`h:${n + 1}`, o]));
}

/** Each reconfig as "n: id:what,..." for compact assertions. */
function outline(changes: ReconfigChange[]): string[] {
  return changes.map(
    (c) =>
      `${c.n}: ${c.members.map((m) => `${m.id}${m.from.votes !== m.to.votes ? ` votes→${m.to.votes}` : ''}`).join(', ')}${c.settings ? ' +settings' : ''}`,
  );
}

describe('reload reconfigs', () => {
  it('changes without a vote change go in one reconfig with the settings', () => {
    const before = set([VOTER, VOTER, VOTER]);
    const after = set([{ ...VOTER, priority: 2 }, { ...VOTER, tags: { dc: 'b' } }, VOTER]);
    const settings = { from: {}, to: { electionTimeoutMillis: 5000 } };
    assert.deepEqual(outline(planSetReconfigs('rs', before, after, settings)), ['1: h:1, h:2 +settings']);
  });

  it('each voting change gets a reconfig of its own', () => {
    const before = set([VOTER, VOTER, VOTER, VOTER, VOTER]);
    const after = set([VOTER, VOTER, VOTER, NON_VOTER, { ...NON_VOTER, tags: { x: 'y' } }]);
    const changes = planSetReconfigs('rs', before, after, undefined);
    assert.deepEqual(outline(changes), ['1: h:4 votes→0', '2: h:5 votes→0']);
    assert.deepEqual(
      changes.map((c) => c.n),
      [1, 2],
    );
  });

  it('voters leave before others join: never more than 7 voters on the way', () => {
    const before = set([VOTER, VOTER, VOTER, VOTER, VOTER, VOTER, VOTER, NON_VOTER]);
    const after = set([VOTER, VOTER, VOTER, VOTER, VOTER, VOTER, NON_VOTER, VOTER]);
    assert.deepEqual(outline(planSetReconfigs('rs', before, after, undefined)), [
      '1: h:7 votes→0',
      '2: h:8 votes→1',
    ]);
  });

  it('the member that becomes electable joins before the last electable one leaves', () => {
    const before = set([VOTER, PASSIVE, NON_VOTER]);
    const after = set([NON_VOTER, PASSIVE, VOTER]);
    assert.deepEqual(outline(planSetReconfigs('rs', before, after, undefined)), [
      '1: h:3 votes→1',
      '2: h:1 votes→0',
    ]);
  });

  it('a batch that would leave nobody electable waits for the member that becomes electable', () => {
    const before = set([VOTER, PASSIVE, NON_VOTER]);
    const after = set([PASSIVE, PASSIVE, VOTER]);
    assert.deepEqual(outline(planSetReconfigs('rs', before, after, undefined)), ['1: h:3 votes→1', '2: h:1']);
  });

  it('nothing to do: no reconfig', () => {
    const before = set([VOTER, VOTER, VOTER]);
    assert.deepEqual(planSetReconfigs('rs', before, before, { from: { a: 1 }, to: { a: 1 } }), []);
  });

  it('refuses a final config with no electable member, arbiter_only and build_indexes changes', () => {
    assert.throws(
      () => planSetReconfigs('rs', set([VOTER, PASSIVE]), set([PASSIVE, PASSIVE]), undefined),
      (e: unknown) => e instanceof ReconfigRefusal && /no member able to become primary/.test(e.message),
    );
    assert.throws(
      () =>
        planSetReconfigs(
          'rs',
          set([VOTER, VOTER, PASSIVE]),
          set([VOTER, VOTER, { ...PASSIVE, buildIndexes: false }]),
          undefined,
        ),
      (e: unknown) =>
        e instanceof ReconfigRefusal &&
        e.member === 'h:3' &&
        /build_indexes cannot change in place/.test(e.message),
    );
    assert.throws(
      () =>
        planSetReconfigs(
          'rs',
          set([VOTER, VOTER, PASSIVE]),
          set([VOTER, VOTER, { ...PASSIVE, arbiterOnly: true }]),
          undefined,
        ),
      (e: unknown) => e instanceof ReconfigRefusal && /arbiter_only cannot change in place/.test(e.message),
    );
  });
});

describe('live config edits', () => {
  it('sets member options with the delay field of the version, and reports whether anything differed', () => {
    const doc: Record<string, unknown> = {
      _id: 1,
      host: 'h:2',
      priority: 1,
      votes: 1,
      hidden: false,
      tags: {},
    };
    const wanted = { priority: 0, votes: 1, hidden: true, secondaryDelaySecs: 60, tags: { dc: 'b' } };
    assert.equal(setMemberOptions(doc, wanted, 4), true);
    assert.equal(doc.slaveDelay, 60);
    assert.equal(doc.secondaryDelaySecs, undefined);
    assert.equal(setMemberOptions(doc, wanted, 4), false, 'a second pass finds nothing to change');
    const modern: Record<string, unknown> = { _id: 1, host: 'h:2' };
    assert.equal(setMemberOptions(modern, wanted, 8), true);
    assert.equal(modern.secondaryDelaySecs, 60);
    assert.equal(modern.slaveDelay, undefined);
    const defaults: Record<string, unknown> = { _id: 0, host: 'h:1' };
    assert.equal(
      setMemberOptions(
        defaults,
        { priority: 1, votes: 1, hidden: false, secondaryDelaySecs: 0, tags: {} },
        8,
      ),
      false,
      'absent fields are the defaults',
    );
  });

  it('sets settings, puts writeConcernMajorityJournalDefault beside them, returns removed ones to the default', () => {
    const config: Record<string, unknown> = {
      settings: { electionTimeoutMillis: 5000, chainingAllowed: true, replicaSetId: 'keep' },
      writeConcernMajorityJournalDefault: true,
    };
    const changed = setReplicaSetSettings(
      config,
      { electionTimeoutMillis: 5000 },
      { chainingAllowed: false, writeConcernMajorityJournalDefault: false },
    );
    assert.equal(changed, true);
    assert.deepEqual(config.settings, {
      electionTimeoutMillis: 10_000,
      chainingAllowed: false,
      replicaSetId: 'keep',
    });
    assert.equal(config.writeConcernMajorityJournalDefault, false);
    assert.equal(
      setReplicaSetSettings(
        config,
        { electionTimeoutMillis: 5000 },
        { chainingAllowed: false, writeConcernMajorityJournalDefault: false },
      ),
      false,
    );
  });

  it('replSetInitiate gets writeConcernMajorityJournalDefault beside settings, not inside', () => {
    const config = buildReplicaSetConfig(
      'rs',
      [{ host: 'h', port: 1, options: VOTER }],
      { electionTimeoutMillis: 5000, writeConcernMajorityJournalDefault: false },
      { configsvr: false, version: '7.0.14' },
    );
    assert.equal(config.writeConcernMajorityJournalDefault, false);
    assert.deepEqual(config.settings, { electionTimeoutMillis: 5000 });
  });
});
