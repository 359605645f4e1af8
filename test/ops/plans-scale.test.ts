// scale-out and scale-in plans, pinned as golden outlines (test/ops/golden/<kind>-scale-*.txt), and the
// pure rules around them: a part checked merged with the stored spec (positions in the part), the plan a
// resume rebuilds is the same whether or not meta already recorded some new processes, and the scale-in
// refusals.
//
// After an intended change to a plan, regenerate the outlines and review the diff before committing:
//   UPDATE_GOLDEN=1 node scripts/run-tests.mjs test/ops/plans-scale
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { type ClusterMeta, ClusterStore } from '../../src/meta/store.js';
import { buildScaleInPlan, buildScaleOutPlan } from '../../src/ops/plans-scale.js';
import { ClusterRuntime } from '../../src/ops/runtime.js';
import { selectForScaleIn } from '../../src/ops/scale-in.js';
import { checkScaleOutPart, mergeSpec, scaleOutTarget } from '../../src/ops/scale-spec.js';
import { outlinePlan, type Plan } from '../../src/plan/types.js';
import { TopologyError } from '../../src/topology/issues.js';
import { validateTopology } from '../../src/topology/load.js';
import { parseTopology } from '../../src/topology/parse.js';
import { resolveTopology } from '../../src/topology/resolve.js';
import type { TopologySpec } from '../../src/topology/schema.js';
import { assertGoldenFile } from '../helpers/golden.js';

const goldenDir = join(import.meta.dirname, 'golden');

const TOPOLOGIES = {
  replset: `global: { deploy_dir: /srv/r }
mongod_servers:
  - { host: localhost, port: 27101, replica_set: rs0 }
  - { host: localhost, port: 27102, replica_set: rs0, priority: 2 }
  - { host: localhost, port: 27103, replica_set: rs0 }
`,
  sharded: `global: { deploy_dir: /srv/sh }
config_servers:
  - { host: localhost, port: 27201, replica_set: cfg }
mongod_servers:
  - { host: localhost, port: 27301, replica_set: shard1 }
  - { host: localhost, port: 27302, replica_set: shard1 }
  - { host: localhost, port: 27303, replica_set: shard1 }
  - { host: localhost, port: 27401, replica_set: shard2 }
  - { host: localhost, port: 27402, replica_set: shard2 }
mongos_servers:
  - { host: localhost, port: 27501 }
  - { host: localhost, port: 27502 }
`,
} as const;

const PARTS = {
  replset: `mongod_servers:
  - { host: localhost, port: 27104, replica_set: rs0 }
  - { host: localhost, port: 27105, replica_set: rs0, hidden: true }
`,
  sharded: `config_servers:
  - { host: localhost, port: 27202, replica_set: cfg }
mongod_servers:
  - { host: localhost, port: 27601, replica_set: shard3 }
  - { host: localhost, port: 27602, replica_set: shard3 }
mongos_servers:
  - { host: localhost, port: 27503 }
`,
} as const;

async function metaFor(kind: keyof typeof TOPOLOGIES): Promise<ClusterMeta> {
  const spec = validateTopology(TOPOLOGIES[kind], `${kind}.yaml`);
  const topology = await resolveTopology(spec, { isPortFree: async () => true, homeOf: () => '/home/u' });
  return {
    schemaVersion: 2,
    name: kind,
    version: '7.0.14',
    variant: 'mongodb',
    status: 'running',
    createdAt: '2026-12-01T00:00:00.000Z',
    updatedAt: '2026-12-01T00:00:00.000Z',
    binaryDir: '/opt/mongodb/bin',
    spec,
    topology,
    supervisors: topology.hosts.map((h) => ({
      host: h.host,
      httpPort: 9001,
      configFile: `${h.supervisorDir}/supervisor.ini`,
    })),
    auth: false,
  };
}

function runtime(meta: ClusterMeta): ClusterRuntime {
  return new ClusterRuntime(meta, new ClusterStore('/nonexistent-home'), 'password');
}

function render(plan: Plan): string {
  const outline = outlinePlan(plan);
  const lines = [`${outline.operation} ${outline.cluster}`];
  for (const phase of outline.phases) {
    const how = phase.parallel === 'lanes' ? ' (lanes)' : phase.parallel ? ' (parallel)' : '';
    lines.push(`${phase.name}${how}: ${phase.title}`);
    for (const step of phase.steps) lines.push(`  ${step.id}  — ${step.title}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A part alone fails whole-topology rules (a shard without mongos ...): only its schema is checked here. */
function partOf(kind: keyof typeof PARTS): TopologySpec {
  const { parsed } = parseTopology(PARTS[kind], 'part.yaml');
  assert.ok(parsed, 'the part parses');
  return parsed.spec;
}

describe('golden scale plans', () => {
  for (const kind of ['replset', 'sharded'] as const) {
    it(`${kind} scale-out`, async () => {
      const meta = await metaFor(kind);
      const target = await scaleOutTarget(meta, partOf(kind));
      await assertGoldenFile(
        join(goldenDir, `${kind}-scale-out.txt`),
        render(buildScaleOutPlan(runtime(meta), target)),
      );
    });
  }

  it('replset scale-in of one member', async () => {
    const meta = await metaFor('replset');
    const { instances, wholeShards } = selectForScaleIn(meta, ['localhost:27102']);
    await assertGoldenFile(
      join(goldenDir, 'replset-scale-in.txt'),
      render(buildScaleInPlan(runtime(meta), { instances, wholeShards, keepData: false })),
    );
  });

  it('sharded scale-in of a whole shard, a member and a mongos', async () => {
    const meta = await metaFor('sharded');
    const selection = selectForScaleIn(meta, [
      'localhost:27401',
      'localhost:27402',
      'localhost:27303',
      'mongos-27502',
    ]);
    assert.deepEqual(selection.wholeShards, ['shard2']);
    await assertGoldenFile(
      join(goldenDir, 'sharded-scale-in.txt'),
      render(buildScaleInPlan(runtime(meta), { ...selection, keepData: true })),
    );
  });
});

/** A 2-host replica set with auth (the hosts are remote: nothing is reached to build a plan). */
async function twoHostMeta(): Promise<ClusterMeta> {
  const text = `global: { deploy_dir: /srv/two, user: deploy }
mongod_servers:
  - { host: 198.51.100.1, port: 27017, replica_set: rs0 }
  - { host: 198.51.100.2, port: 27017, replica_set: rs0 }
  - { host: 198.51.100.2, port: 27018, replica_set: rs0 }
`;
  const spec = validateTopology(text, 'two.yaml');
  const topology = await resolveTopology(spec, { isPortFree: async () => true, homeOf: () => '/home/u' });
  const base = await metaFor('replset');
  return {
    ...base,
    name: 'two',
    spec,
    topology,
    supervisors: topology.hosts.map((h) => ({
      host: h.host,
      httpPort: 9001,
      configFile: `${h.supervisorDir}/supervisor.ini`,
    })),
    auth: true,
    security: {
      adminUser: 'admin',
      keyFiles: topology.hosts.map((h) => ({ host: h.host, path: `${h.supervisorDir}/keyfile` })),
    },
    bootStart: true,
  };
}

function authRuntime(meta: ClusterMeta): ClusterRuntime {
  return new ClusterRuntime(meta, new ClusterStore('/nonexistent-home'), 'password', {
    keyFile: 'k'.repeat(40),
    adminPassword: 'p',
  });
}

const NEW_HOST_PART = 'mongod_servers:\n  - { host: 198.51.100.3, port: 27017, replica_set: rs0 }\n';
const NEW_ENDPOINT = {
  host: '198.51.100.3',
  httpPort: 9004,
  configFile: '/srv/two/supervisor/supervisor.ini',
};

describe('a host new to the cluster', () => {
  it('scale-out records it first and sets it up as deploy does; a resume sees the same plan', async () => {
    const meta = await twoHostMeta();
    const { parsed } = parseTopology(NEW_HOST_PART, 'part.yaml');
    assert.ok(parsed);
    const target = await scaleOutTarget(meta, parsed.spec, [NEW_ENDPOINT]);
    assert.deepEqual(
      target.newHosts.map((h) => [h.host, h.supervisorDir, h.user]),
      [['198.51.100.3', '/srv/two/supervisor', 'deploy']],
    );
    const plan = buildScaleOutPlan(authRuntime(meta), target);
    await assertGoldenFile(join(goldenDir, 'replset-scale-out-new-host.txt'), render(plan));
    // Once an interrupted run recorded the host (and its member), the journaled endpoint still names it new.
    const recorded: ClusterMeta = {
      ...meta,
      spec: target.spec,
      topology: target.topology,
      supervisors: [...meta.supervisors, NEW_ENDPOINT],
    };
    const again = await scaleOutTarget(recorded, parsed.spec, [NEW_ENDPOINT]);
    assert.deepEqual(outlinePlan(buildScaleOutPlan(authRuntime(recorded), again)), outlinePlan(plan));
    // Without a journaled endpoint (a part checked before the run), the host is still seen as new.
    assert.deepEqual(
      (await scaleOutTarget(meta, parsed.spec)).newHosts.map((h) => h.host),
      ['198.51.100.3'],
    );
    // A part on the cluster's hosts only has no new host.
    const { parsed: same } = parseTopology(
      'mongod_servers:\n  - { host: 198.51.100.1, port: 27018, replica_set: rs0 }\n',
      'p.yaml',
    );
    assert.ok(same);
    assert.deepEqual((await scaleOutTarget(meta, same.spec)).newHosts, []);
  });

  it('scale-in of the last process on a host clears the host; a host keeping one is left alone', async () => {
    const meta = await twoHostMeta();
    const only = selectForScaleIn(meta, ['198.51.100.1:27017']);
    await assertGoldenFile(
      join(goldenDir, 'replset-scale-in-last-on-host.txt'),
      render(buildScaleInPlan(authRuntime(meta), { ...only, keepData: false })),
    );
    const one = selectForScaleIn(meta, ['198.51.100.2:27018']);
    const phases = outlinePlan(buildScaleInPlan(authRuntime(meta), { ...one, keepData: false })).phases;
    assert.ok(!phases.some((p) => p.name.startsWith('retire-')), phases.map((p) => p.name).join(', '));
    // On resume the stored meta no longer has the removed member: the host is cleared all the same.
    const forgotten: ClusterMeta = {
      ...meta,
      topology: {
        ...meta.topology,
        instances: meta.topology.instances.filter((i) => i.id !== '198.51.100.1:27017'),
      },
    };
    assert.deepEqual(
      outlinePlan(buildScaleInPlan(authRuntime(forgotten), { ...only, keepData: false })),
      outlinePlan(buildScaleInPlan(authRuntime(meta), { ...only, keepData: false })),
    );
  });
});

describe('scale-out rules', () => {
  it('joins, syncs and promotes one member at a time, recording each after its promotion', async () => {
    const meta = await metaFor('replset');
    const ids = outlinePlan(buildScaleOutPlan(runtime(meta), await scaleOutTarget(meta, partOf('replset'))))
      .phases.find((p) => p.name === 'join-rs0')
      ?.steps.map((s) => s.id);
    assert.deepEqual(ids, [
      'add-member:localhost:27104',
      'add-member:localhost:27105',
      'sync:localhost:27104',
      'sync:localhost:27105',
      'promote:localhost:27104',
      'record:localhost:27104',
      'promote:localhost:27105',
      'record:localhost:27105',
    ]);
  });

  it('a standalone mongod added to a standalone cluster is started and recorded', async () => {
    const spec = validateTopology('mongod_servers:\n  - { host: localhost, port: 27017 }\n', 's.yaml');
    const meta = await metaFor('replset');
    const topology = await resolveTopology(spec, { isPortFree: async () => true, homeOf: () => '/home/u' });
    const standalone: ClusterMeta = { ...meta, spec, topology };
    const { parsed } = parseTopology('mongod_servers:\n  - { host: localhost, port: 27018 }\n', 'p.yaml');
    assert.ok(parsed);
    const target = await scaleOutTarget(standalone, parsed.spec);
    const ids = outlinePlan(buildScaleOutPlan(runtime(standalone), target)).phases.flatMap((p) =>
      p.steps.map((s) => s.id),
    );
    assert.deepEqual(ids, [
      'prepare:localhost:27018',
      'config:localhost:27018',
      'supervisor-add:localhost',
      'start:localhost:27018',
      'record:localhost:27018',
      'autostart:localhost',
    ]);
  });

  it('a resume rebuilds the same plan after meta recorded some of the new processes', async () => {
    for (const kind of ['replset', 'sharded'] as const) {
      const meta = await metaFor(kind);
      const part = partOf(kind);
      const first = await scaleOutTarget(meta, part);
      const plan = outlinePlan(buildScaleOutPlan(runtime(meta), first));
      // Meta as the record steps leave it once every new process is in.
      const recorded: ClusterMeta = { ...meta, spec: first.spec, topology: first.topology };
      const again = await scaleOutTarget(recorded, part);
      assert.deepEqual(outlinePlan(buildScaleOutPlan(runtime(recorded), again)), plan, kind);
      assert.deepEqual(again.newSets, first.newSets);
      assert.deepEqual(mergeSpec(recorded.spec, part, true).merged, first.spec);
    }
  });

  it('a bad part is refused with positions in the part, merged rules included', async () => {
    const meta = await metaFor('replset');
    const text = [
      'mongod_servers:',
      '  - host: localhost',
      '    port: 27101',
      '    replica_set: rs0',
      '  - { host: localhost, port: 27106, replica_set: rs0, arbiter_only: true }',
      '  - { host: localhost, port: 27107, replica_set: rs0, arbiter_only: true }',
      'global: { deploy_dir: /srv/other }',
      'replica_set_settings:',
      '  rs0: { chainingAllowed: false }',
      '',
    ].join('\n');
    const error = await checkScaleOutPart(meta, text, 'part.yaml', {
      usedEndpoints: [],
      isPortFree: async () => true,
    }).then(
      () => assert.fail('the part was accepted'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof TopologyError);
    const lines = error.issues.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`);
    assert.ok(
      lines.some((l) => /^3:11 mongod_servers\.0\.port: localhost:27101 is already used/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /^6:\d+ mongod_servers\.2\.arbiter_only: .*already has an arbiter/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /^7:1 global: /.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /^9:3 replica_set_settings\.rs0: replica set "rs0" exists/.test(l)),
      lines.join('\n'),
    );
  });

  it('more than 7 voters, a kind change and an empty part are refused; an even number of voters warns', async () => {
    const meta = await metaFor('replset');
    const check = (text: string) =>
      checkScaleOutPart(meta, text, 'part.yaml', { usedEndpoints: [], isPortFree: async () => true });
    const eight = `mongod_servers:\n${[4, 5, 6, 7, 8].map((n) => `  - { host: localhost, port: 2711${n}, replica_set: rs0 }`).join('\n')}\n`;
    await assert.rejects(check(eight), /has 8 voting members; MongoDB allows at most 7/);
    await assert.rejects(
      check('config_servers:\n  - { host: localhost, port: 27900, replica_set: cfg }\n'),
      /cannot make it sharded/,
    );
    await assert.rejects(check('mongod_servers: []\n'), /a scale-out part adds servers/);
    const one = await check('mongod_servers:\n  - { host: localhost, port: 0, replica_set: rs0 }\n');
    assert.equal(one.warnings.length, 1);
    assert.match(one.warnings[0] as string, /rs0 will have 4 voting members/);
    assert.notEqual(
      one.part.mongod_servers?.[0]?.port,
      0,
      'allocated ports are pinned in the journaled part',
    );
    assert.ok(![27101, 27102, 27103].includes(one.part.mongod_servers?.[0]?.port as number));
  });
});

describe('scale-in refusals', () => {
  it('refuses losing the majority of voters, the last electable member, every mongos or shard, unknown names', async () => {
    const rs = await metaFor('replset');
    const refused = (meta: ClusterMeta, nodes: string[], pattern: RegExp) =>
      assert.throws(
        () => selectForScaleIn(meta, nodes),
        (e: unknown) => e instanceof UsageError && pattern.test(e.message),
      );
    refused(
      rs,
      ['localhost:27101', 'localhost:27102'],
      /lose the majority of its voting members \(2 of 3 leave\)/,
    );
    refused(rs, ['localhost:27101', 'localhost:27102', 'localhost:27103'], /every member of replica set rs0/);
    refused(rs, ['localhost:27999'], /no process 'localhost:27999'/);
    const sh = await metaFor('sharded');
    refused(sh, ['localhost:27501', 'localhost:27502'], /every mongos/);
    refused(sh, ['localhost:27201'], /every member of the config server replica set/);
    refused(
      sh,
      ['localhost:27301', 'localhost:27302', 'localhost:27303', 'localhost:27401', 'localhost:27402'],
      /every shard/,
    );
    // A set whose only electable member would go.
    const passive = await metaFor('replset');
    for (const i of passive.topology.instances)
      if (i.id !== 'localhost:27102' && i.member) i.member = { ...i.member, priority: 0 };
    refused(passive, ['localhost:27102'], /no member left that can become primary/);
    assert.equal(selectForScaleIn(rs, ['mongod-27103']).instances[0]?.id, 'localhost:27103');
  });
});
