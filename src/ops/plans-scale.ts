// Plan builders of scale-out and scale-in: pure, like plans.ts — from the stored cluster, the arguments and
// the gathered facts to ordered phases; test/ops/plans-scale.test.ts pins their outlines.
//
// scale-out: a host new to the cluster is recorded first and set up as deploy sets up a host (supervisor.ini,
// its supervisord, the keyFile and binaries with the processes' dirs, its boot entry at the end); files and
// supervisor programs of the new processes, start them; then config server members, shard / replica-set
// members (join without a vote, initial sync, promotion one voting change per reconfig), new replica sets
// (initiate, healthy, addShard) and new mongos (checked), each recorded in meta as it is done; last, autostart
// of the hosts that gained programs records that they run.
// scale-in: replica-set members leave by reconfig, whole shards by removeShard, mongos last; each one is then
// stopped, dropped from supervisor.ini, its files removed (data kept with --keep-data), and forgotten in meta.
// A host left with none of the cluster's processes is cleared as destroy clears it, and forgotten.
import type { ClusterMeta } from '../meta/store.js';
import { type Phase, type Plan, phase, type Step } from '../plan/types.js';
import type { ResolvedInstance, ResolvedReplicaSet } from '../topology/types.js';
import type { ClusterRuntime } from './runtime.js';
import type { ScaleOutTarget } from './scale-spec.js';
import { createAdminUserStep, writeKeyFileStep } from './steps/auth.js';
import { installBootStep, removeBootStep } from './steps/boot.js';
import {
  prepareInstanceStep,
  removeInstanceStep,
  removeSupervisorStep,
  writeConfigStep,
} from './steps/files.js';
import {
  addMemberStep,
  checkMongosStep,
  drainShardStep,
  forgetHostStep,
  initialSyncStep,
  leaveSetStep,
  promoteMemberStep,
  recordAddedStep,
  recordHostStep,
  recordRemovedStep,
  supervisorProgramsStep,
} from './steps/membership.js';
import { startInstanceStep, stopInstanceStep, stopMembersStep } from './steps/process.js';
import { initiateReplicaSetStep, waitReplicaSetStep } from './steps/replica-set.js';
import { addShardStep } from './steps/sharding.js';
import {
  ensureSupervisordStep,
  recordDesiredStateStep,
  stopIdleSupervisordStep,
  writeSupervisorConfigStep,
} from './steps/supervisord.js';
import { issueCertificatesStep, writeTlsFilesStep } from './steps/tls.js';

function hostsOf(instances: readonly ResolvedInstance[]): string[] {
  return [...new Set(instances.map((i) => i.host))];
}

const ROLE_RANK = { config: 0, mongod: 1, mongos: 2 } as const;

export function buildScaleOutPlan(rt: ClusterRuntime, target: ScaleOutTarget): Plan {
  // A stored endpoint wins over the journaled one: the daemon may have moved off a taken port meanwhile.
  const supervisors = [
    ...rt.meta.supervisors,
    ...target.newEndpoints.filter((e) => !rt.meta.supervisors.some((s) => s.host === e.host)),
  ];
  const meta: ClusterMeta = { ...rt.meta, spec: target.spec, topology: target.topology, supervisors };
  const trt = rt.withMeta(meta);
  const added = [...target.added].sort((a, b) => ROLE_RANK[a.role] - ROLE_RANK[b.role]);
  const newSets = new Set(target.newSets);
  const newHosts = target.newHosts.map((h) => h.host);
  const tls = trt.meta.tls === true;
  const isNew = (host: string) => newHosts.includes(host);
  const phases: Phase[] = [
    ...(newHosts.length === 0
      ? []
      : [
          phase(
            'add-hosts',
            'Record the new hosts',
            false,
            newHosts.map((host) => recordHostStep(trt, host)),
          ),
        ]),
    // A new host gets its certificate from the cluster CA (the others' are reused).
    ...(tls ? [phase('certificates', 'Make TLS certificates', false, [issueCertificatesStep(trt)])] : []),
    phase('prepare', 'Prepare directories of the new processes', true, [
      ...added.map((i) => prepareInstanceStep(trt, i)),
      // Every host a new process runs on needs the cluster's keyFile (already there on a host it ran on).
      ...(trt.meta.auth ? hostsOf(added).map((host) => writeKeyFileStep(trt, host)) : []),
      ...(tls ? hostsOf(added).map((host) => writeTlsFilesStep(trt, host)) : []),
    ]),
    phase('configure', 'Render their configuration files', true, [
      ...added.map((i) => writeConfigStep(trt, i)),
      ...newHosts.map((host) => writeSupervisorConfigStep(trt, host)),
    ]),
    phase(
      'supervisor',
      'Add their programs to supervisord (running programs untouched)',
      false,
      hostsOf(added).map((host) =>
        // A new host's supervisor.ini already lists its programs: its supervisord starts with them.
        isNew(host)
          ? ensureSupervisordStep(trt, host)
          : supervisorProgramsStep(
              trt,
              host,
              `supervisor-add:${host}`,
              `add programs to supervisor.ini on ${host}`,
              async () => meta,
            ),
      ),
    ),
    phase(
      'start',
      'Start the new processes',
      true,
      // A new member has no users until its initial sync copies them (a new shard until its admin user is made):
      // its readiness is checked with the keyFile's identity, as deploy checks a new cluster's.
      added.filter((i) => i.role !== 'mongos').map((i) => startInstanceStep(trt, i, 'system')),
    ),
  ];
  const standalone = added.filter((i) => i.role === 'mongod' && i.replicaSet === undefined);
  if (standalone.length > 0)
    phases.push(
      phase(
        'record-standalone',
        'Record the new standalone mongods',
        false,
        standalone.map((i) => recordAddedStep(trt, target, [i.id], `record:${i.id}`, i.id)),
      ),
    );
  // Existing sets (the config server set first): join without a vote, sync, then promote one by one.
  const joining = target.topology.replicaSets.filter(
    (set) => !newSets.has(set.name) && added.some((i) => i.replicaSet === set.name),
  );
  joining.sort((a, b) => Number(b.purpose === 'config') - Number(a.purpose === 'config'));
  for (const set of joining) {
    const members = added.filter((i) => i.replicaSet === set.name);
    phases.push(
      phase(`join-${set.name}`, `Join the new members to ${set.name}`, false, [
        ...members.map((i) => addMemberStep(trt, i)),
        ...members.map((i) => initialSyncStep(rt, i)),
        ...members.flatMap((i) => [
          ...(i.member?.arbiterOnly ? [] : [promoteMemberStep(trt, i)]),
          recordAddedStep(trt, target, [i.id], `record:${i.id}`, i.id),
        ]),
      ]),
    );
  }
  const created = target.topology.replicaSets.filter((set) => newSets.has(set.name));
  if (created.length > 0) phases.push(...newSetPhases(trt, target, created));
  const routers = added.filter((i) => i.role === 'mongos');
  if (routers.length > 0) {
    const shards = target.topology.replicaSets.filter((s) => s.purpose === 'shard').map((s) => s.name);
    phases.push(
      phase(
        'mongos',
        'Start and check the new mongos routers',
        false,
        routers.flatMap((i) => [
          startInstanceStep(trt, i, 'system'),
          checkMongosStep(rt, i, shards),
          recordAddedStep(trt, target, [i.id], `record:${i.id}`, i.id),
        ]),
      ),
    );
  }
  // As deploy ends: the new programs start with supervisord at a reboot, and a new host's supervisord with it.
  phases.push(
    phase(
      'desired-state',
      'Record which programs supervisord starts at boot',
      true,
      hostsOf(added).map((host) => recordDesiredStateStep(trt, host)),
    ),
  );
  if (meta.bootStart && newHosts.length > 0)
    phases.push(
      phase(
        'boot',
        'Start supervisord at boot on the new hosts',
        true,
        newHosts.map((host) => installBootStep(trt, host)),
      ),
    );
  return { operation: 'scale-out', cluster: rt.meta.name, phases };
}

function newSetPhases(
  trt: ClusterRuntime,
  target: ScaleOutTarget,
  sets: readonly ResolvedReplicaSet[],
): Phase[] {
  const phases = [
    phase(
      'initiate-new',
      'Initiate the new replica sets',
      true,
      sets.map((s) => initiateReplicaSetStep(trt, s)),
    ),
    phase(
      'healthy-new',
      'Wait for the new replica sets',
      true,
      sets.map((s) => waitReplicaSetStep(trt, s, 'system')),
    ),
    // Each new set gets the admin user deploy gives each set or shard (through the localhost exception).
    ...(trt.meta.auth
      ? [
          phase(
            'admin-user-new',
            'Create the admin user on the new replica sets',
            true,
            sets.map((set) => createAdminUserStep(trt, { kind: 'replica-set', set })),
          ),
        ]
      : []),
  ];
  // addShard goes through a mongos the cluster already had: new ones start after the shards are in.
  const router = trt.instances.find((i) => i.role === 'mongos' && !target.added.includes(i));
  const record = (s: ResolvedReplicaSet) =>
    recordAddedStep(trt, target, s.members, `record-set:${s.name}`, `replica set ${s.name}`);
  if (router && sets.some((s) => s.purpose === 'shard'))
    phases.push(
      phase(
        'add-shards',
        'Add the new shards',
        false,
        sets.flatMap((s) =>
          s.purpose === 'shard' ? [addShardStep(trt, s, router), record(s)] : [record(s)],
        ),
      ),
    );
  else phases.push(phase('record-sets', 'Record the new replica sets', false, sets.map(record)));
  return phases;
}

/** What scale-in takes away, decided from the stored cluster and the -N selection (see scale-in.ts). */
export interface ScaleInSelection {
  /** The selected instances, as stored when the operation began (resume works from this copy). */
  instances: ResolvedInstance[];
  /** Shards all of whose members are selected: they leave by removeShard. */
  wholeShards: string[];
  keepData: boolean;
}

export function buildScaleInPlan(rt: ClusterRuntime, selection: ScaleInSelection): Plan {
  const removed: string[] = [];
  const whole = new Set(selection.wholeShards);
  const chosen = selection.instances;
  const cleanup = (i: ResolvedInstance): Step[] => [
    recordRemovedStep(rt, i),
    supervisorProgramsStep(
      rt,
      i.host,
      `supervisor-remove:${i.id}`,
      `remove ${i.programName} from supervisor.ini on ${i.host}`,
      () => rt.store.read(rt.meta.name),
    ),
    removeInstanceStep(rt, i, selection.keepData, removed),
  ];
  const phases: Phase[] = [];
  const members = chosen.filter((i) => i.replicaSet !== undefined && !whole.has(i.replicaSet));
  const sets = [...new Set(members.map((i) => i.replicaSet as string))];
  for (const set of sets)
    phases.push(
      phase(
        `leave-${set}`,
        `Remove members from ${set}, one reconfig each`,
        false,
        members
          .filter((i) => i.replicaSet === set)
          .flatMap((i) => [
            leaveSetStep(rt, i),
            // Out of the set, it serves no client any more: no quiesce period to wait out.
            stopInstanceStep(rt, i, { wholeGroup: true }),
            ...cleanup(i),
          ]),
      ),
    );
  const remainingShards = rt.meta.topology.replicaSets
    .filter((s) => s.purpose === 'shard' && !whole.has(s.name))
    .map((s) => s.name);
  const chosenIds = new Set(chosen.map((i) => i.id));
  const router = rt.instances.find((i) => i.role === 'mongos' && !chosenIds.has(i.id));
  for (const set of selection.wholeShards) {
    const shardMembers = chosen.filter((i) => i.replicaSet === set);
    phases.push(
      phase(`remove-shard-${set}`, `Drain and remove shard ${set}`, false, [
        ...(router ? [drainShardStep(rt, set, router, remainingShards[0] ?? '')] : []),
        stopMembersStep(rt, set, shardMembers, { wholeGroup: true }),
        ...shardMembers.flatMap(cleanup),
      ]),
    );
  }
  const routers = chosen.filter((i) => i.role === 'mongos');
  if (routers.length > 0)
    phases.push(
      phase(
        'remove-mongos',
        'Remove mongos routers',
        false,
        routers.flatMap((i) => [stopInstanceStep(rt, i), ...cleanup(i)]),
      ),
    );
  // A host left with nothing of the cluster is left clean, as destroy leaves it: its supervisord stopped, its
  // boot entry, supervisor dir (keyFile, shipped binaries) and an emptied deploy dir removed, then forgotten.
  // Decided from the journaled selection: on resume the forgotten instances still count as leaving.
  const retiring = hostsOf(chosen).filter((host) =>
    rt.instances.every((i) => i.host !== host || chosenIds.has(i.id)),
  );
  for (const host of retiring)
    phases.push(
      phase(`retire-${host}`, `Clear host ${host} of the cluster`, false, [
        stopIdleSupervisordStep(rt, host),
        removeBootStep(rt, host, removed),
        removeSupervisorStep(rt, host, removed),
        forgetHostStep(rt, host),
      ]),
    );
  return {
    operation: 'scale-in',
    cluster: rt.meta.name,
    phases,
    report: () => ({
      removedInstances: chosen.map((i) => i.id),
      removed,
      keptData: selection.keepData
        ? chosen.flatMap((i) => (i.dataDir ? [`${i.host}:${i.dataDir}`] : []))
        : [],
    }),
  };
}
