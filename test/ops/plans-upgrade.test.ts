// The upgrade plan from a journaled path: per hop a preflight, the binaries, (sharded) the balancer held
// while config servers, then the shards side by side, then mongos are replaced, the version recorded, the
// balancer restored, then the FCV; --no-fcv leaves out the last FCV step; an FCV-only hop replaces nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ClusterMeta, ClusterStore } from '../../src/meta/store.js';
import { buildUpgradePlan } from '../../src/ops/plans-upgrade.js';
import { ClusterRuntime } from '../../src/ops/runtime.js';
import type { UpgradeHop } from '../../src/ops/steps/upgrade.js';
import { outlinePlan } from '../../src/plan/types.js';
import { validateTopology } from '../../src/topology/load.js';
import { resolveTopology } from '../../src/topology/resolve.js';

const SHARDED = `global: { deploy_dir: /srv/sh }
config_servers:
  - { host: localhost, port: 27201, replica_set: cfg }
mongod_servers:
  - { host: localhost, port: 27301, replica_set: shard1 }
  - { host: localhost, port: 27302, replica_set: shard1 }
  - { host: localhost, port: 27401, replica_set: shard2 }
mongos_servers:
  - { host: localhost, port: 27501 }
`;
const REPLSET = `global: { deploy_dir: /srv/r }
mongod_servers:
  - { host: localhost, port: 27101, replica_set: rs0 }
  - { host: localhost, port: 27102, replica_set: rs0 }
`;

async function runtime(text: string): Promise<ClusterRuntime> {
  const spec = validateTopology(text, 't.yaml');
  const topology = await resolveTopology(spec, { isPortFree: async () => true, homeOf: () => '/home/u' });
  const meta: ClusterMeta = {
    schemaVersion: 2,
    name: 'c',
    version: '6.0.16',
    variant: 'mongodb',
    status: 'running',
    createdAt: '2026-12-01T00:00:00.000Z',
    updatedAt: '2026-12-01T00:00:00.000Z',
    binaryDir: '/cache/6.0.16/bin',
    spec,
    topology,
    supervisors: [{ host: 'localhost', httpPort: 9001, configFile: '/x/supervisor.ini' }],
    auth: false,
  };
  return new ClusterRuntime(meta, new ClusterStore('/nonexistent-home'), 'password');
}

const hop = (series: string, version: string, expectFcv: string, setFcv = true): UpgradeHop => ({
  series,
  version,
  binaryDir: `/cache/${version}/bin`,
  expectFcv,
  replace: true,
  setFcv,
});

function outline(rt: ClusterRuntime, hops: UpgradeHop[], balancer: boolean, primaries: string[] = []) {
  return outlinePlan(buildUpgradePlan(rt, { hops, balancer }, { primaries: new Set(primaries) })).phases.map(
    (p) => [p.name, ...p.steps.map((s) => s.id)],
  );
}

describe('upgrade plan', () => {
  it('sharded: balancer held, config servers, shards in lanes, mongos, record, balancer, FCV', async () => {
    const rt = await runtime(SHARDED);
    assert.deepEqual(outline(rt, [hop('7.0', '7.0.14', '6.0')], true, ['localhost:27301']), [
      ['7.0:preflight', 'preflight:7.0'],
      ['7.0:binaries', 'binaries:7.0.14'],
      ['7.0:balancer-stop', 'balancer-stop:7.0'],
      ['7.0:restart-cfg', 'upgrade:7.0:localhost:27201'],
      [
        '7.0:restart-shards',
        'upgrade:7.0:localhost:27302',
        'upgrade:7.0:localhost:27301',
        'upgrade:7.0:localhost:27401',
      ],
      ['7.0:restart-mongos', 'upgrade:7.0:localhost:27501'],
      ['7.0:record', 'record-version:7.0'],
      ['7.0:balancer-start', 'balancer-start:7.0'],
      ['7.0:fcv', 'fcv:7.0'],
    ]);
  });

  it('a balancer that was off stays off', async () => {
    const rt = await runtime(SHARDED);
    const names = outline(rt, [hop('7.0', '7.0.14', '6.0')], false).map((p) => p[0]);
    assert.ok(names.includes('7.0:balancer-stop'));
    assert.ok(!names.includes('7.0:balancer-start'));
  });

  it('two hops; --no-fcv leaves out only the last FCV step', async () => {
    const rt = await runtime(REPLSET);
    const phases = outline(rt, [hop('7.0', '7.0.14', '6.0'), hop('8.0', '8.0.4', '7.0', false)], false, [
      'localhost:27101',
    ]);
    assert.deepEqual(
      phases.map((p) => p[0]),
      [
        '7.0:preflight',
        '7.0:binaries',
        '7.0:restart-rs0',
        '7.0:record',
        '7.0:fcv',
        '8.0:preflight',
        '8.0:binaries',
        '8.0:restart-rs0',
        '8.0:record',
      ],
    );
    assert.deepEqual(phases[2], [
      '7.0:restart-rs0',
      'upgrade:7.0:localhost:27102',
      'upgrade:7.0:localhost:27101',
    ]);
  });

  it('an FCV-only hop replaces nothing', async () => {
    const rt = await runtime(REPLSET);
    const fcvOnly: UpgradeHop = { ...hop('8.0', '8.0.4', '7.0'), replace: false };
    assert.deepEqual(outline(rt, [fcvOnly], false), [
      ['8.0:preflight', 'preflight:8.0'],
      ['8.0:fcv', 'fcv:8.0'],
    ]);
  });
});
