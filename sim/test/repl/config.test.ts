// Replica-set config parsing and validation: the rules and messages of reference §3.2, §3.3, §3.6.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Double, Int32, Long } from 'bson';
import {
  ConfigError,
  configToBson,
  normalizeHost,
  parseConfig,
  validateConfig,
} from '../../src/repl/config.js';
import {
  compareVersionAndTerm,
  validateForInitiate,
  validateForReconfig,
} from '../../src/repl/config-checks.js';
import { replFeatures } from '../../src/repl/features.js';

const v70 = replFeatures('7.0.14');
const v44 = replFeatures('4.4.29');
const v42 = replFeatures('4.2.25');

function cfg(members: object[], extra: object = {}): object {
  return { _id: 'rs0', version: 1, members, ...extra };
}

function three(): object[] {
  return [
    { _id: 0, host: 'localhost:27017' },
    { _id: 1, host: 'localhost:27018' },
    { _id: 2, host: 'localhost:27019' },
  ];
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an error');
}

const selfIs = (host: string) => (h: string) => h === host;

describe('replica-set config parsing', () => {
  it('fills in the defaults and makes ports explicit', () => {
    const c = parseConfig(cfg([{ _id: 0, host: 'db1' }]), v70);
    assert.equal(c.members[0]?.host, 'db1:27017');
    assert.equal(c.members[0]?.priority, 1);
    assert.equal(c.members[0]?.votes, 1);
    assert.equal(c.settings.electionTimeoutMillis, 10000);
    assert.equal(c.settings.heartbeatIntervalMillis, 2000);
    assert.equal(c.settings.catchUpTimeoutMillis, -1);
  });

  it('reads BSON-typed numbers as the wire delivers them', () => {
    const c = parseConfig(
      {
        _id: 'rs0',
        version: new Int32(1),
        members: [{ _id: new Int32(0), host: 'h:1', priority: new Double(2.5), votes: Long.fromNumber(1) }],
        settings: { electionTimeoutMillis: new Int32(500), heartbeatIntervalMillis: new Int32(100) },
      },
      v70,
    );
    assert.equal(c.members[0]?.priority, 2.5);
    assert.equal(c.settings.electionTimeoutMillis, 500);
    assert.equal(c.settings.heartbeatIntervalMillis, 100);
  });

  it('rewrites an arbiter default priority of 1 to 0', () => {
    const c = parseConfig(
      cfg([
        { _id: 0, host: 'a:1' },
        { _id: 1, host: 'b:1', arbiterOnly: true },
      ]),
      v70,
    );
    assert.equal(c.members[1]?.priority, 0);
  });

  it('rejects member rules with the real messages', () => {
    const cases: [object, string][] = [
      [{ _id: 0, host: 'a:1', votes: 0 }, 'priority must be 0 when non-voting (votes:0)'],
      [{ _id: 0, host: 'a:1', hidden: true }, 'priority must be 0 when hidden=true'],
      [{ _id: 0, host: 'a:1', secondaryDelaySecs: 60 }, 'priority must be 0 when secondaryDelaySecs is used'],
      [{ _id: 0, host: 'a:1', buildIndexes: false }, 'priority must be 0 when buildIndexes=false'],
      [{ _id: 0, host: 'a:1', arbiterOnly: true, votes: 0 }, 'Arbiter must vote (cannot have 0 votes)'],
    ];
    for (const [member, message] of cases) {
      assert.equal(errorOf(() => parseConfig(cfg([member]), v70)).message, message);
    }
  });

  it('speaks slaveDelay before 5.0', () => {
    const e = errorOf(() => parseConfig(cfg([{ _id: 0, host: 'a:1', slaveDelay: 60 }]), v44));
    assert.equal(e.message, 'priority must be 0 when slaveDelay is used');
    const unknown = errorOf(() =>
      parseConfig(cfg([{ _id: 0, host: 'a:1', slaveDelay: 5, priority: 0 }]), v70),
    );
    assert.equal(unknown.message, "BSON field 'MemberConfig.slaveDelay' is an unknown field.");
    // Before 5.0 the 5.0 name is unknown: IDL wording from 4.4, the hand-written parser's before.
    const modern = errorOf(() =>
      parseConfig(cfg([{ _id: 0, host: 'a:1', secondaryDelaySecs: 5, priority: 0 }]), v44),
    );
    assert.equal(modern.message, "BSON field 'MemberConfig.secondaryDelaySecs' is an unknown field.");
    const modern42 = errorOf(() =>
      parseConfig(cfg([{ _id: 0, host: 'a:1', secondaryDelaySecs: 5, priority: 0 }]), v42),
    );
    assert.equal(modern42.message, 'Unexpected field secondaryDelaySecs in replica set member configuration');
    const old = errorOf(() => parseConfig(cfg([{ _id: 0, host: 'a:1', bogus: 1 }]), v42));
    assert.equal(old.message, 'Unexpected field bogus in replica set member configuration');
  });

  it('checks votes and priority ranges', () => {
    assert.match(
      errorOf(() => parseConfig(cfg([{ _id: 0, host: 'a:1', votes: 2 }]), v42)).message,
      /votes field value is 2 but must be 0 or 1/,
    );
    assert.match(
      errorOf(() => parseConfig(cfg([{ _id: 0, host: 'a:1', priority: 1001 }]), v42)).message,
      /priority field value of 1001 is out of range/,
    );
    assert.match(
      errorOf(() => parseConfig(cfg([{ _id: 0, host: 'a:1', priority: -1 }]), v70)).message,
      /priority/,
    );
  });

  it('serializes in the version field order with the delay field of the version', () => {
    const doc = configToBson(parseConfig(cfg([{ _id: 0, host: 'a:1' }], { term: 3 }), v70), v70);
    assert.deepEqual(Object.keys(doc), [
      '_id',
      'version',
      'term',
      'members',
      'protocolVersion',
      'writeConcernMajorityJournalDefault',
      'settings',
    ]);
    const m = (doc.members as Record<string, unknown>[])[0] ?? {};
    assert.deepEqual(Object.keys(m), [
      '_id',
      'host',
      'arbiterOnly',
      'buildIndexes',
      'hidden',
      'priority',
      'tags',
      'secondaryDelaySecs',
      'votes',
    ]);
    const old = configToBson(parseConfig(cfg([{ _id: 0, host: 'a:1' }]), v42), v42);
    assert.ok(!('term' in old));
    assert.ok('slaveDelay' in ((old.members as Record<string, unknown>[])[0] ?? {}));
  });

  it('normalizes hosts', () => {
    assert.equal(normalizeHost(' h '), 'h:27017');
    assert.equal(normalizeHost('[::1]:5'), '[::1]:5');
    assert.throws(() => normalizeHost('h:99999'), ConfigError);
  });
});

describe('whole-config validation', () => {
  it('rejects duplicate ids and hosts', () => {
    const ids = errorOf(() =>
      validateConfig(
        parseConfig(
          cfg([
            { _id: 1, host: 'a:1' },
            { _id: 1, host: 'a:2' },
          ]),
          v70,
        ),
        v70,
      ),
    );
    assert.equal(
      ids.message,
      'Found two member configurations with same _id field, members.0._id == members.1._id == 1',
    );
    const hosts = errorOf(() =>
      validateConfig(
        parseConfig(
          cfg([
            { _id: 1, host: 'a:1' },
            { _id: 2, host: 'a:1' },
          ]),
          v70,
        ),
        v70,
      ),
    );
    assert.equal(
      hosts.message,
      'Found two member configurations with same host field, members.0.host == members.1.host == a:1',
    );
  });

  it('limits voting members to 7 and members to 50', () => {
    const eight = Array.from({ length: 8 }, (_, i) => ({ _id: i, host: `h${i}:1` }));
    assert.equal(
      errorOf(() => validateConfig(parseConfig(cfg(eight), v70), v70)).message,
      'Replica set configuration contains 8 voting members, but must be at least 1 and no more than 7',
    );
    const many = Array.from({ length: 51 }, (_, i) => ({ _id: i, host: `h${i}:1`, votes: 0, priority: 0 }));
    assert.match(
      errorOf(() => validateConfig(parseConfig(cfg(many), v70), v70)).message,
      /contains 51 members/,
    );
  });

  it('needs an electable member and consistent localhost use', () => {
    assert.equal(
      errorOf(() => validateConfig(parseConfig(cfg([{ _id: 0, host: 'a:1', priority: 0 }]), v70), v70))
        .message,
      'Replica set configuration must contain at least one non-arbiter member with priority > 0',
    );
    assert.equal(
      errorOf(() =>
        validateConfig(
          parseConfig(
            cfg([
              { _id: 0, host: 'localhost:1' },
              { _id: 1, host: 'db:1' },
            ]),
            v70,
          ),
          v70,
        ),
      ).message,
      'Either all host names in a replica set configuration must be localhost references, or none must be; found 1 out of 2',
    );
  });
});

describe('process-dependent rules', () => {
  it('config servers and --configsvr go together', () => {
    const plain = parseConfig(cfg([{ _id: 0, host: 'a:1' }]), v70);
    const csrs = parseConfig(cfg([{ _id: 0, host: 'a:1' }], { configsvr: true }), v70);
    assert.equal(
      errorOf(() => validateConfig(csrs, v70)).message,
      'Nodes being used for config servers must be started with the --configsvr flag',
    );
    assert.equal(
      errorOf(() => validateConfig(plain, v70, { configsvr: true, allowMultipleArbiters: false })).message,
      'Nodes started with the --configsvr flag must have configsvr:true in their config',
    );
    assert.doesNotThrow(() => validateConfig(csrs, v70, { configsvr: true, allowMultipleArbiters: false }));
  });

  it('more than one arbiter needs allowMultipleArbiters on newer servers', () => {
    const two = parseConfig(
      cfg([
        { _id: 0, host: 'a:1' },
        { _id: 1, host: 'b:1', arbiterOnly: true },
        { _id: 2, host: 'c:1', arbiterOnly: true },
      ]),
      v70,
    );
    assert.match(errorOf(() => validateConfig(two, v70)).message, /^Multiple arbiters are not allowed/);
    assert.doesNotThrow(() => validateConfig(two, v70, { configsvr: false, allowMultipleArbiters: true }));
    assert.doesNotThrow(() =>
      validateConfig(
        parseConfig(
          cfg([
            { _id: 0, host: 'a:1' },
            { _id: 1, host: 'b:1', arbiterOnly: true },
            { _id: 2, host: 'c:1', arbiterOnly: true },
          ]),
          v44,
        ),
        v44,
      ),
    );
  });
});

describe('replSetInitiate checks', () => {
  it('finds self and requires version 1 and electability', () => {
    const c = parseConfig(cfg(three(), { term: 0 }), v70);
    assert.equal(validateForInitiate(c, selfIs('localhost:27018'), v70), 1);
    const v2 = parseConfig(cfg(three(), { version: 2, term: 0 }), v70);
    assert.match(
      errorOf(() => validateForInitiate(v2, selfIs('localhost:27018'), v70)).message,
      /must {2}have version 1, but found 2/,
    );
    assert.equal(
      errorOf(() => validateForInitiate(c, selfIs('localhost:1'), v70)).message,
      'No host described in new configuration with {version: 1, term: 0} for replica set rs0 maps to this node',
    );
    const passive = parseConfig(
      cfg(
        [
          { _id: 0, host: 'localhost:1' },
          { _id: 1, host: 'localhost:2', priority: 0 },
        ],
        { term: 0 },
      ),
      v70,
    );
    assert.match(
      errorOf(() => validateForInitiate(passive, selfIs('localhost:2'), v70)).message,
      /is not electable under the new configuration/,
    );
  });

  it('rejects an arbiter with a priority', () => {
    const c = parseConfig(
      cfg(
        [
          { _id: 0, host: 'a:1' },
          { _id: 1, host: 'b:1', arbiterOnly: true, priority: 5 },
        ],
        { term: 0 },
      ),
      v70,
    );
    assert.equal(
      errorOf(() => validateForInitiate(c, selfIs('a:1'), v70)).message,
      'Member b:1 is an arbiter but has priority 5. Arbiter priority must be 0.',
    );
  });
});

describe('replSetReconfig checks', () => {
  const old = parseConfig(cfg(three(), { version: 3, term: 5 }), v70);

  it('requires a greater (version, term)', () => {
    const same = parseConfig(cfg(three(), { version: 2, term: 5 }), v70);
    const e = errorOf(() => validateForReconfig(old, same, false, v70));
    assert.equal(e.code, 103);
    assert.equal(
      e.message,
      'New replica set configuration version and term must be greater than old, but {version: 2, term: 5} is not greater than {version: 3, term: 5} for replica set rs0',
    );
    assert.doesNotThrow(() => validateForReconfig(old, same, true, v70));
    assert.equal(compareVersionAndTerm({ version: 9, term: -1 }, { version: 3, term: 5 }), 1);
  });

  it('allows one voter change at a time from 4.4 unless forced', () => {
    const two = parseConfig(cfg([{ _id: 0, host: 'localhost:27017' }], { version: 4, term: 5 }), v70);
    const e = errorOf(() => validateForReconfig(old, two, false, v70));
    assert.equal(e.code, 93);
    assert.equal(e.message, 'Non force replica set reconfig can only add or remove at most 1 voting member.');
    assert.doesNotThrow(() => validateForReconfig(old, two, true, v70));
    const old42 = parseConfig(cfg(three(), { version: 3 }), v42);
    const two42 = parseConfig(cfg([{ _id: 0, host: 'localhost:27017' }], { version: 4 }), v42);
    assert.doesNotThrow(() => validateForReconfig(old42, two42, false, v42));
  });

  it('refuses changing arbiterOnly or an _id for the same host', () => {
    const arb = parseConfig(
      cfg(
        [
          { _id: 0, host: 'localhost:27017' },
          { _id: 1, host: 'localhost:27018' },
          { _id: 2, host: 'localhost:27019', arbiterOnly: true },
        ],
        {
          version: 4,
          term: 5,
        },
      ),
      v70,
    );
    assert.match(
      errorOf(() => validateForReconfig(old, arb, false, v70)).message,
      /differ in the setting of the arbiterOnly field for member localhost:27019/,
    );
    const moved = parseConfig(
      cfg(
        [
          { _id: 0, host: 'localhost:27017' },
          { _id: 1, host: 'localhost:27018' },
          { _id: 7, host: 'localhost:27019' },
        ],
        {
          version: 4,
          term: 5,
        },
      ),
      v44,
    );
    const e = errorOf(() =>
      validateForReconfig(parseConfig(cfg(three(), { version: 3, term: 5 }), v44), moved, true, v44),
    );
    assert.match(
      e.message,
      /both have members with host of localhost:27019 but in the new configuration the _id field is 7/,
    );
  });
});
