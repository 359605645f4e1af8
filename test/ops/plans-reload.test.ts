// The reload plan from the topology the processes run with and the stored (edited) one: runtime-settable
// parameters by setParameter, other changes by a rolling restart of only the changed members (primary
// last), unchanged processes untouched, and the record of what runs last.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ClusterMeta, ClusterStore } from '../../src/meta/store.js';
import { buildReloadPlan } from '../../src/ops/plans-reload.js';
import { ClusterRuntime } from '../../src/ops/runtime.js';
import { outlinePlan } from '../../src/plan/types.js';
import { validateTopology } from '../../src/topology/load.js';
import { resolveTopology } from '../../src/topology/resolve.js';
import type { MemberOptions, ResolvedTopology } from '../../src/topology/types.js';

const TOPOLOGY = `global: { deploy_dir: /srv/sh }
config_servers:
  - { host: localhost, port: 27201, replica_set: cfg }
mongod_servers:
  - { host: localhost, port: 27301, replica_set: shard1 }
  - { host: localhost, port: 27302, replica_set: shard1 }
  - { host: localhost, port: 27401, replica_set: shard2 }
  - { host: localhost, port: 27402, replica_set: shard2 }
  - { host: localhost, port: 27403, replica_set: shard2 }
mongos_servers:
  - { host: localhost, port: 27501 }
  - { host: localhost, port: 27502 }
`;

/** The edit: shard1 and one mongos get runtime parameters, shard2 an option read at startup. */
function edited(topology: ResolvedTopology): ResolvedTopology {
  const config: Record<string, Record<string, unknown>> = {
    'localhost:27301': { setParameter: { cursorTimeoutMillis: 1000 } },
    'localhost:27302': { setParameter: { cursorTimeoutMillis: 1000 } },
    'localhost:27401': { storage: { syncPeriodSecs: 30 } },
    'localhost:27402': { storage: { syncPeriodSecs: 30 } },
    'localhost:27403': { storage: { syncPeriodSecs: 30 } },
    'localhost:27502': { setParameter: { logLevel: 1 } },
  };
  return {
    ...topology,
    instances: topology.instances.map((i) => ({ ...i, serverConfig: config[i.id] ?? i.serverConfig })),
  };
}

/** The edit of member options and settings: shard2 loses a voter, gains one, and changes its settings. */
function reconfigured(topology: ResolvedTopology): ResolvedTopology {
  const members: Record<string, Partial<MemberOptions>> = {
    'localhost:27401': { priority: 5 },
    'localhost:27402': { votes: 0, priority: 0 },
    'localhost:27403': { tags: { dc: 'east' } },
  };
  return {
    ...topology,
    instances: topology.instances.map((i) =>
      i.member && members[i.id] ? { ...i, member: { ...i.member, ...members[i.id] } } : i,
    ),
    replicaSets: topology.replicaSets.map((s) =>
      s.name === 'shard2' ? { ...s, settings: { electionTimeoutMillis: 5000 } } : s,
    ),
  };
}

async function runtime(
  pending: boolean,
  edit: (t: ResolvedTopology) => ResolvedTopology = edited,
): Promise<ClusterRuntime> {
  const spec = validateTopology(TOPOLOGY, 'sharded.yaml');
  const applied = await resolveTopology(spec, { isPortFree: async () => true, homeOf: () => '/home/u' });
  const meta: ClusterMeta = {
    schemaVersion: 2,
    name: 'sh',
    version: '7.0.14',
    variant: 'mongodb',
    status: 'running',
    createdAt: '2026-12-01T00:00:00.000Z',
    updatedAt: '2026-12-01T00:00:00.000Z',
    binaryDir: '/opt/mongodb/bin',
    spec,
    topology: pending ? edit(applied) : applied,
    supervisors: [{ host: 'localhost', httpPort: 9001, configFile: '/srv/sh/supervisor/supervisor.ini' }],
    auth: false,
    ...(pending ? { pending: { since: '2026-12-01T00:00:00.000Z', applied } } : {}),
  };
  return new ClusterRuntime(meta, new ClusterStore('/nonexistent-home'), 'password');
}

const facts = { primaries: new Set(['localhost:27401']) };

function stepIds(rt: ClusterRuntime, selection = {}): string[][] {
  return outlinePlan(buildReloadPlan(rt, selection, facts, false)).phases.map((p) => [
    p.name,
    ...p.steps.map((s) => s.id),
  ]);
}

describe('reload plan', () => {
  it('sets runtime parameters, restarts only the members whose startup options changed, primary last', async () => {
    assert.deepEqual(stepIds(await runtime(true)), [
      [
        'set-parameters',
        'set-parameter:localhost:27301',
        'set-parameter:localhost:27302',
        'set-parameter:localhost:27502',
      ],
      ['restart-shard2', 'reload:localhost:27402', 'reload:localhost:27403', 'reload:localhost:27401'],
      ['finish', 'record-applied:sh'],
    ]);
  });

  it('names what changes in the step titles and reports every process', async () => {
    const plan = buildReloadPlan(await runtime(true), {}, facts, false);
    const titles = outlinePlan(plan).phases.flatMap((p) => p.steps.map((s) => s.title));
    assert.ok(titles.includes('setParameter cursorTimeoutMillis=1000 on mongod-27301 (no restart)'));
    assert.ok(
      titles.includes('restart mongod-27402 on localhost with its new config (storage.syncPeriodSecs)'),
    );
    const report = plan.report?.() as { processes: { id: string; action: string }[] };
    assert.deepEqual(
      report.processes.filter((p) => p.action === 'none').map((p) => p.id),
      ['localhost:27201', 'localhost:27501'],
    );
  });

  it('touches only the selection', async () => {
    assert.deepEqual(stepIds(await runtime(true), { nodes: ['localhost:27403'] }), [
      ['restart-shard2', 'reload:localhost:27403'],
      ['finish', 'record-applied:sh'],
    ]);
  });

  it('has nothing to do without pending changes', async () => {
    assert.deepEqual(stepIds(await runtime(false)), [['finish', 'record-applied:sh']]);
  });

  it('member options and settings: replSetReconfig steps after the restarts, one voting change each', async () => {
    const rt = await runtime(true, reconfigured);
    assert.deepEqual(stepIds(rt), [
      ['reconfig-shard2', 'reconfig:shard2:1', 'reconfig:shard2:2'],
      ['finish', 'record-applied:sh'],
    ]);
    const plan = buildReloadPlan(rt, {}, facts, false);
    const report = plan.report?.() as { reconfigs: { step: string; changes: string }[] };
    assert.deepEqual(report.reconfigs, [
      {
        set: 'shard2',
        step: 'reconfig:shard2:1',
        changes:
          'localhost:27401 priority 1→5; localhost:27403 tags {}→{"dc":"east"}; settings electionTimeoutMillis default→5000',
      },
      { set: 'shard2', step: 'reconfig:shard2:2', changes: 'localhost:27402 priority 1→0, votes 1→0' },
    ]);
    assert.deepEqual(
      stepIds(rt, { nodes: ['localhost:27402'] }),
      [
        ['reconfig-shard2', 'reconfig:shard2:1'],
        ['finish', 'record-applied:sh'],
      ],
      'a partial selection changes only its members, and no settings',
    );
  });
});
