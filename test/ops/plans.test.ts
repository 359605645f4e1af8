// The ordering rules of every plan, pinned as golden outlines: test/ops/golden/<kind>-<operation>.txt for
// standalone, replica set and sharded × deploy / start / stop / restart / destroy. Plan builders do no I/O,
// so the outlines come from a stored cluster's topology alone (and, for restart, the facts: who is primary).
//
// After an intended change to a plan, regenerate them and review the diff before committing:
//   UPDATE_GOLDEN=1 node scripts/run-tests.mjs test/ops/plans
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { type ClusterMeta, ClusterStore } from '../../src/meta/store.js';
import {
  buildDeployPlan,
  buildDestroyPlan,
  buildRestartPlan,
  buildStartPlan,
  buildStopPlan,
  type ClusterFacts,
} from '../../src/ops/plans.js';
import { ClusterRuntime } from '../../src/ops/runtime.js';
import { outlinePlan, type Plan } from '../../src/plan/types.js';
import { validateTopology } from '../../src/topology/load.js';
import { resolveTopology } from '../../src/topology/resolve.js';

const goldenDir = join(import.meta.dirname, 'golden');
const updating = process.env.UPDATE_GOLDEN === '1';

const TOPOLOGIES = {
  standalone: 'global: { deploy_dir: /srv/s }\nmongod_servers:\n  - { host: localhost, port: 27017 }\n',
  replset: `global: { deploy_dir: /srv/r }
mongod_servers:
  - { host: localhost, port: 27101, replica_set: rs0 }
  - { host: localhost, port: 27102, replica_set: rs0, priority: 2 }
  - { host: localhost, port: 27103, replica_set: rs0, arbiter_only: true }
`,
  sharded: `global: { deploy_dir: /srv/sh }
config_servers:
  - { host: localhost, port: 27201, replica_set: cfg }
mongod_servers:
  - { host: localhost, port: 27301, replica_set: shard1 }
  - { host: localhost, port: 27302, replica_set: shard1 }
  - { host: localhost, port: 27401, replica_set: shard2 }
  - { host: localhost, port: 27402, replica_set: shard2 }
mongos_servers:
  - { host: localhost, port: 27501 }
  - { host: localhost, port: 27502 }
`,
} as const;

async function runtimeFor(kind: keyof typeof TOPOLOGIES, auth = false): Promise<ClusterRuntime> {
  const spec = validateTopology(TOPOLOGIES[kind], `${kind}.yaml`);
  const topology = await resolveTopology(spec, { isPortFree: async () => true, homeOf: () => '/home/u' });
  const meta: ClusterMeta = {
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
    bootStart: true,
    auth,
    ...(auth
      ? {
          security: {
            adminUser: 'mup-admin',
            keyFiles: topology.hosts.map((h) => ({ host: h.host, path: `${h.supervisorDir}/keyfile` })),
          },
        }
      : {}),
  };
  return new ClusterRuntime(
    meta,
    new ClusterStore('/nonexistent-home'),
    'password',
    auth ? { keyFile: 'a'.repeat(756), adminPassword: 'pw' } : undefined,
  );
}

/** The first member of each set is primary: restart must take it last. */
function factsFor(rt: ClusterRuntime): ClusterFacts {
  return { primaries: new Set(rt.meta.topology.replicaSets.map((s) => s.members[0] as string)) };
}

function render(plan: Plan): string {
  const outline = outlinePlan(plan);
  const lines = [`${outline.operation} ${outline.cluster}`];
  for (const phase of outline.phases) {
    const how = phase.parallel === 'lanes' ? ' (lanes)' : phase.parallel ? ' (parallel)' : '';
    lines.push(`${phase.name}${how}: ${phase.title}`);
    for (const step of phase.steps)
      lines.push(
        `  ${step.id}  — ${step.title}${step.lane && phase.parallel === 'lanes' ? `  [${step.lane}]` : ''}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

const OPERATIONS: Record<string, (rt: ClusterRuntime) => Plan> = {
  deploy: (rt) => buildDeployPlan(rt),
  start: (rt) => buildStartPlan(rt, {}),
  stop: (rt) => buildStopPlan(rt, {}),
  restart: (rt) => buildRestartPlan(rt, {}, false, factsFor(rt)),
  'restart-parallel': (rt) => buildRestartPlan(rt, {}, true, factsFor(rt)),
  'restart-serial': (rt) => buildRestartPlan(rt, {}, false, factsFor(rt), true),
  destroy: (rt) => buildDestroyPlan(rt, false),
  // supervisord was killed and every process runs on unsupervised: handed back one member at a time.
  'start-orphans': (rt) =>
    buildStartPlan(rt, {}, { ...factsFor(rt), orphans: rt.instances.map((i) => i.id) }),
  'stop-mongos': (rt) => buildStopPlan(rt, { roles: ['mongos'] }),
  'start-mongos': (rt) => buildStartPlan(rt, { roles: ['mongos'] }),
};

describe('golden plan outlines', () => {
  for (const kind of Object.keys(TOPOLOGIES) as (keyof typeof TOPOLOGIES)[]) {
    for (const [operation, build] of Object.entries(OPERATIONS)) {
      const shardedOnly = ['stop-mongos', 'start-mongos', 'restart-serial'];
      if (shardedOnly.includes(operation) && kind !== 'sharded') continue;
      it(`${kind} ${operation}`, async () => {
        const path = join(goldenDir, `${kind}-${operation}.txt`);
        const actual = render(build(await runtimeFor(kind)));
        if (updating) {
          assert.ok(!process.env.CI, 'UPDATE_GOLDEN is for a developer machine, never CI');
          await writeFile(path, actual);
        }
        assert.equal(actual, await readFile(path, 'utf8'));
      });
    }
  }
});

describe('golden plan outlines with auth', () => {
  for (const kind of Object.keys(TOPOLOGIES) as (keyof typeof TOPOLOGIES)[]) {
    it(`${kind} deploy: keyFile on every host first, the admin user once the cluster is assembled`, async () => {
      const path = join(goldenDir, `${kind}-deploy-auth.txt`);
      const actual = render(buildDeployPlan(await runtimeFor(kind, true)));
      if (updating) {
        assert.ok(!process.env.CI, 'UPDATE_GOLDEN is for a developer machine, never CI');
        await writeFile(path, actual);
      }
      assert.equal(actual, await readFile(path, 'utf8'));
    });
  }

  it('an auth cluster without stored secrets is refused before any plan', async () => {
    const rt = await runtimeFor('replset', true);
    assert.throws(
      () => new ClusterRuntime(rt.meta, rt.store, 'password'),
      /has auth but no stored credentials/,
    );
  });

  it('every process address carries the credentials; the password never serializes', async () => {
    const rt = await runtimeFor('replset', true);
    const [first] = rt.instances;
    assert.ok(first);
    const admin = rt.address(first);
    assert.equal(admin.credentials?.username, 'mup-admin');
    assert.equal(admin.credentials?.password, 'pw');
    assert.equal(rt.address(first, 'system').credentials?.username, '__system');
    const shown = `${JSON.stringify(admin)} ${inspect(admin)} ${String(admin.credentials)}`;
    assert.doesNotMatch(shown, /pw"|pw\b|aaaa/);
    assert.equal((await runtimeFor('replset')).address(first).credentials, undefined);
  });
});

describe('ordering rules', () => {
  it('sharded start: config servers, then shards, then mongos; stop the reverse', async () => {
    const rt = await runtimeFor('sharded');
    const phases = (plan: Plan) => outlinePlan(plan).phases.map((p) => p.name);
    const start = phases(buildStartPlan(rt, {}));
    assert.ok(start.indexOf('start-config') < start.indexOf('start-mongod'));
    assert.ok(start.indexOf('start-mongod') < start.indexOf('start-mongos'));
    const stop = phases(buildStopPlan(rt, {}));
    assert.deepEqual(
      stop.filter((p) => p.startsWith('stop-')),
      ['stop-mongos', 'stop-mongod', 'stop-config'],
    );
  });

  it('rolling restart takes each set primary last, whoever it is', async () => {
    const rt = await runtimeFor('replset');
    const ids = (primary: string) =>
      outlinePlan(buildRestartPlan(rt, {}, false, { primaries: new Set([primary]) })).phases.flatMap((p) =>
        p.steps.map((s) => s.id),
      );
    assert.equal(ids('localhost:27102').at(-1), 'restart:localhost:27102');
    assert.equal(ids('localhost:27101').at(-1), 'restart:localhost:27101');
  });

  it('rolling restart: config servers alone, then one member per shard at a time, mongos keeping half serving', async () => {
    const rt = await runtimeFor('sharded');
    const outline = outlinePlan(buildRestartPlan(rt, {}, false, factsFor(rt)));
    const shards = outline.phases.find((p) => p.name === 'restart-shards');
    assert.equal(shards?.parallel, 'lanes');
    assert.deepEqual([...new Set(shards?.steps.map((s) => s.lane))], ['shard1', 'shard2']);
    assert.ok(
      outline.phases.findIndex((p) => p.name === 'restart-cfg') < outline.phases.indexOf(shards as never),
    );
    // Two mongos: one at a time. Four: two lanes, so never more than two of four down.
    assert.equal(outline.phases.at(-1)?.parallel, false);
    const four = {
      ...rt.meta.topology,
      instances: [
        ...rt.meta.topology.instances,
        ...rt.meta.topology.instances
          .filter((i) => i.role === 'mongos')
          .map((i) => ({ ...i, id: `localhost:${i.port + 10}`, port: i.port + 10 })),
      ],
    };
    const wide = new ClusterRuntime({ ...rt.meta, topology: four }, rt.store, 'pw');
    const mongos = outlinePlan(buildRestartPlan(wide, {}, false, factsFor(wide))).phases.at(-1);
    assert.equal(mongos?.parallel, 'lanes');
    assert.equal(new Set(mongos?.steps.map((s) => s.lane)).size, 2);
  });

  it('start hands unsupervised members back one at a time: down ones first, config before shards, primary last, mongos kept serving', async () => {
    const rt = await runtimeFor('sharded');
    // 27302 is down; every other process runs without its supervisord.
    const orphans = rt.instances.filter((i) => i.port !== 27302).map((i) => i.id);
    const outline = outlinePlan(buildStartPlan(rt, {}, { ...factsFor(rt), orphans }));
    const names = outline.phases.map((p) => p.name);
    const at = (name: string) => names.indexOf(name);
    assert.deepEqual(
      outline.phases.find((p) => p.name === 'start-down')?.steps.map((s) => s.id),
      ['start-down:localhost:27302'],
    );
    assert.ok(at('supervisord') < at('start-down'));
    assert.ok(at('start-down') < at('adopt-cfg') && at('adopt-cfg') < at('adopt-shards'));
    assert.ok(at('adopt-shards') < at('adopt-mongos') && at('adopt-mongos') < at('start-config'));
    const shards = outline.phases[at('adopt-shards')];
    assert.equal(shards?.parallel, 'lanes');
    // shard1's primary (27301, the first member) is the only one of shard1 handed back; shard2's primary last.
    assert.deepEqual(
      shards?.steps.map((s) => s.id),
      ['adopt:localhost:27301', 'adopt:localhost:27402', 'adopt:localhost:27401'],
    );
    assert.equal(outline.phases[at('adopt-mongos')]?.parallel, false, 'two mongos: one at a time');
    // Nothing unsupervised: the plan is the plain start.
    assert.deepEqual(
      outlinePlan(buildStartPlan(rt, {}, { ...factsFor(rt), orphans: [] })),
      outlinePlan(buildStartPlan(rt, {})),
    );
  });

  it('a partial stop of some members keeps their quiesce; stopping a whole set cuts it', async () => {
    const rt = await runtimeFor('replset');
    const titles = (plan: Plan) => outlinePlan(plan).phases.flatMap((p) => p.steps.map((s) => s.id));
    assert.ok(
      titles(buildStopPlan(rt, { nodes: ['localhost:27101'] })).includes('stop-set:rs0:localhost:27101'),
    );
    assert.ok(
      titles(buildStopPlan(rt, {})).includes('stop-set:rs0:localhost:27101,localhost:27102,localhost:27103'),
    );
  });
});
