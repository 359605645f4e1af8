// Plan builders: from a stored cluster to the ordered phases of an operation. Kept apart from the commands
// so that `mup cluster resume` rebuilds exactly the plan an interrupted operation was running.
import type { Phase, Plan, Step } from '../plan/types.js';
import type { ResolvedInstance } from '../topology/types.js';
import type { ClusterRuntime } from './runtime.js';
import {
  addShardStep,
  ensureSupervisordStep,
  initiateReplicaSetStep,
  prepareInstanceStep,
  setStatusStep,
  startInstanceStep,
  verifyShardsStep,
  waitReplicaSetStep,
  writeConfigStep,
  writeSupervisorConfigStep,
} from './steps.js';

function phase(name: string, title: string, parallel: boolean, steps: Step[]): Phase {
  return { name, title, parallel, steps };
}

function byRole(rt: ClusterRuntime, role: ResolvedInstance['role']): ResolvedInstance[] {
  return rt.instances.filter((i) => i.role === role);
}

/** Start processes and bring them to a healthy cluster: config servers → shards/replica sets → mongos. */
function bringUpPhases(rt: ClusterRuntime, options: { initiate: boolean }): Phase[] {
  const sets = rt.meta.topology.replicaSets;
  const configSets = sets.filter((s) => s.purpose === 'config');
  const dataSets = sets.filter((s) => s.purpose !== 'config');
  const phases: Phase[] = [];
  const config = byRole(rt, 'config');
  if (config.length > 0) {
    phases.push(
      phase(
        'start-config',
        'Start config servers',
        true,
        config.map((i) => startInstanceStep(rt, i)),
      ),
    );
    if (options.initiate)
      phases.push(
        phase(
          'initiate-config',
          'Initiate the config server replica set',
          true,
          configSets.map((s) => initiateReplicaSetStep(rt, s)),
        ),
      );
    phases.push(
      phase(
        'healthy-config',
        'Wait for the config server replica set',
        true,
        configSets.map((s) => waitReplicaSetStep(rt, s)),
      ),
    );
  }
  const mongod = byRole(rt, 'mongod');
  if (mongod.length > 0) {
    const title = rt.meta.topology.kind === 'sharded' ? 'Start shard members' : 'Start mongod processes';
    phases.push(
      phase(
        'start-mongod',
        title,
        true,
        mongod.map((i) => startInstanceStep(rt, i)),
      ),
    );
    if (dataSets.length > 0) {
      if (options.initiate)
        phases.push(
          phase(
            'initiate',
            'Initiate replica sets',
            true,
            dataSets.map((s) => initiateReplicaSetStep(rt, s)),
          ),
        );
      phases.push(
        phase(
          'healthy',
          'Wait for replica sets',
          true,
          dataSets.map((s) => waitReplicaSetStep(rt, s)),
        ),
      );
    }
  }
  const mongos = byRole(rt, 'mongos');
  if (mongos.length > 0)
    phases.push(
      phase(
        'start-mongos',
        'Start mongos routers',
        true,
        mongos.map((i) => startInstanceStep(rt, i)),
      ),
    );
  return phases;
}

export function buildDeployPlan(rt: ClusterRuntime): Plan {
  const hosts = rt.meta.topology.hosts.map((h) => h.host);
  const phases: Phase[] = [
    phase(
      'prepare',
      'Prepare directories and binaries',
      true,
      rt.instances.map((i) => prepareInstanceStep(rt, i)),
    ),
    phase('configure', 'Render configuration files', true, [
      ...rt.instances.map((i) => writeConfigStep(rt, i)),
      ...hosts.map((h) => writeSupervisorConfigStep(rt, h)),
    ]),
    phase(
      'supervisord',
      'Start supervisord',
      true,
      hosts.map((h) => ensureSupervisordStep(rt, h)),
    ),
    ...bringUpPhases(rt, { initiate: true }),
  ];
  const [router] = byRole(rt, 'mongos');
  if (router) {
    const shards = rt.meta.topology.replicaSets.filter((s) => s.purpose === 'shard');
    phases.push(
      phase('add-shards', 'Add shards', false, [
        ...shards.map((s) => addShardStep(rt, s, router)),
        verifyShardsStep(rt, router),
      ]),
    );
  }
  phases.push(phase('finish', 'Finish', false, [setStatusStep(rt, 'running')]));
  return { operation: 'deploy', cluster: rt.meta.name, phases };
}
