// Safe reconfig as mongod enforces it from 4.4: validation failures answer 103 (the one-voter rule
// included), the primary may not make itself unelectable (104 NodeNotElectable from 5.0, 103 on 4.4),
// the next reconfig waits until the current config and the oplog are committed in it, force skips the
// rules, and a new member with votes 0 / priority 0 joins freely.
// Sources: replication_coordinator_impl.cpp (_doReplSetReconfig), repl_set_config_checks.cpp,
// jstests/replsets/reconfig_waits_for_oplog_commitment_condition.js.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Document } from 'mongodb';
import { waitFor } from '../helpers/sim.js';
import { ReplSetFixture } from './harness.js';

const SETTINGS = { electionTimeoutMillis: 1500, heartbeatIntervalMillis: 200, heartbeatTimeoutSecs: 2 };

function codeIs(code: number, message?: string | RegExp) {
  return (e: Document): boolean => {
    assert.equal(e.code, code, `code ${e.code}: ${e.message}`);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return true;
  };
}

/** Member 0 is the primary: the others have priority 0, or a lower one when `electable`. */
async function startSet(
  rs: ReplSetFixture,
  n: number,
  electable: boolean,
  args: string[] = [],
): Promise<void> {
  await rs.start(n, args);
  const members = Array.from({ length: n }, (_, i) =>
    i === 0 ? { priority: 2 } : { priority: electable ? 1 : 0 },
  );
  await rs.admin(0, { replSetInitiate: rs.config(members, SETTINGS) });
  await rs.waitForPrimary(20_000);
  for (let i = 1; i < n; i++) await rs.waitForState(i, 'SECONDARY');
}

async function currentConfig(rs: ReplSetFixture): Promise<Document> {
  return (await rs.admin(0, { replSetGetConfig: 1 })).config as Document;
}

describe('safe reconfig on 7.0', { timeout: 90_000 }, () => {
  const rs = new ReplSetFixture('7.0.14');
  after(async () => {
    await rs.close();
  });

  it('answers 103 for invalid successors, 104 for an unelectable primary, and lets votes-0 members in', async () => {
    await startSet(rs, 3, true);
    const config = await currentConfig(rs);
    const next = (members: Document[]): Document => ({ ...config, version: config.version + 1, members });
    const fakes = (n: number, from: number): Document[] =>
      Array.from({ length: n }, (_, i) => ({ _id: from + i, host: `127.0.0.1:${20000 + i}` }));

    await assert.rejects(
      rs.admin(0, { replSetReconfig: next([config.members[0]]) }),
      codeIs(103, 'Non force replica set reconfig can only add or remove at most 1 voting member.'),
    );
    await assert.rejects(
      rs.admin(0, { replSetReconfig: next([...config.members, ...fakes(5, 10)]) }),
      codeIs(
        103,
        'Replica set configuration contains 8 voting members, but must be at least 1 and no more than 7',
      ),
    );
    const nonVoters = fakes(48, 10).map((m) => ({ ...m, votes: 0, priority: 0 }));
    await assert.rejects(
      rs.admin(0, { replSetReconfig: next([...config.members, ...nonVoters]) }),
      codeIs(103, /contains 51 members, but must have at least 1 and no more than {1,2}50/),
    );
    const unelectable = next(
      config.members.map((m: Document, i: number) => (i === 0 ? { ...m, priority: 0 } : m)),
    );
    await assert.rejects(
      rs.admin(0, { replSetReconfig: unelectable }),
      codeIs(
        104,
        `This node, ${rs.host(0)}, with _id 0 is not electable under the new configuration with {version: ${config.version + 1}, term: ${config.term}} for replica set rs0`,
      ),
    );
    assert.equal((await currentConfig(rs)).version, config.version, 'nothing was installed');

    // A non-voting, priority-0 member may be added with others in one reconfig: only voters count.
    const extra = next([...config.members, ...fakes(2, 10).map((m) => ({ ...m, votes: 0, priority: 0 }))]);
    await rs.admin(0, { replSetReconfig: extra });
    const after1 = await currentConfig(rs);
    assert.equal(after1.members.length, 5);
    assert.equal(after1.version, config.version + 1);
  });

  it('force: true skips the rules, and the primary steps down when it made itself unelectable', async () => {
    const config = await currentConfig(rs);
    const forced = {
      ...config,
      version: config.version + 1,
      members: config.members.map((m: Document, i: number) => (i === 0 ? { ...m, priority: 0 } : m)),
    };
    await rs.admin(0, { replSetReconfig: forced, force: true });
    const installed = await currentConfig(rs);
    assert.ok(
      installed.version > config.version + 10_000 - 1,
      `force bumps the version: ${installed.version}`,
    );
    await waitFor(async () => (await rs.hello(0))?.isWritablePrimary === false, 10_000, 'the step-down');
  });
});

describe('safe reconfig: the oplog commitment condition', { timeout: 90_000 }, () => {
  const rs = new ReplSetFixture('7.0.14');
  after(async () => {
    await rs.close();
  });

  it('refuses a reconfig until the primary has committed an entry of its term', async () => {
    await startSet(rs, 3, false, ['--setParameter', 'enableTestCommands=1']);
    const c = await rs.direct(0);
    await c
      .db('app')
      .collection('c')
      .insertOne({ a: 1 }, { writeConcern: { w: 3 } });
    // The condition does not apply to the config of replSetInitiate (version 1): move past it.
    const initial = await currentConfig(rs);
    await rs.admin(0, { replSetReconfig: { ...initial, version: initial.version + 1 } });
    for (const i of [1, 2]) {
      await rs.admin(i, { configureFailPoint: 'stopReplProducer', mode: 'alwaysOn' });
    }
    // A new term whose first entry ("new primary") cannot reach the secondaries.
    await rs.admin(0, { replSetStepDown: 5, force: true });
    await rs.admin(0, { replSetFreeze: 0 });
    await rs.admin(0, { replSetStepUp: 1 });
    await rs.waitForPrimary(20_000);
    let config = await currentConfig(rs);
    await waitFor(
      async () => {
        const s = await rs.admin(0, { replSetGetStatus: 1 });
        return (s.members as Document[]).every((m) => m.self === true || m.configVersion === config.version);
      },
      10_000,
      'the config on every member',
    );
    config = await currentConfig(rs);
    await assert.rejects(
      rs.admin(0, { replSetReconfig: { ...config, version: config.version + 1 }, maxTimeMS: 5000 }),
      codeIs(
        308,
        /^Last committed optime from previous config \(.*\) is not committed in the current config\.$/,
      ),
    );
    for (const i of [1, 2]) await rs.admin(i, { configureFailPoint: 'stopReplProducer', mode: 'off' });
    await waitFor(
      async () => {
        try {
          await rs.admin(0, { replSetReconfig: { ...config, version: config.version + 1 } });
          return true;
        } catch (e) {
          if ((e as Document).code !== 308) throw e;
          return false;
        }
      },
      15_000,
      'the reconfig once the term is committed',
    );
  });
});

describe('safe reconfig on 4.4', { timeout: 60_000 }, () => {
  const rs = new ReplSetFixture('4.4.29');
  after(async () => {
    await rs.close();
  });

  it('answers 103 (not 104) when the primary would be unelectable', async () => {
    await startSet(rs, 2, true);
    const config = await currentConfig(rs);
    const unelectable = {
      ...config,
      version: config.version + 1,
      members: config.members.map((m: Document, i: number) => (i === 0 ? { ...m, priority: 0 } : m)),
    };
    await assert.rejects(
      rs.admin(0, { replSetReconfig: unelectable }),
      codeIs(
        103,
        /^This node, .* with _id 0 is not electable under the new configuration with \{version: \d+, term: \d+\} for replica set rs0$/,
      ),
    );
  });
});
