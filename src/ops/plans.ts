// Plan builders: from a stored cluster (and the live facts an operation gathered) to the ordered phases of an
// operation. They do no I/O, so `--dry-run` shows exactly what will run, `mup cluster resume` rebuilds the
// plan an interrupted operation was running, and test/ops/plans.test.ts pins the ordering rules.

import { type Phase, type Plan, phase, type Step } from '../plan/types.js';
import type { ResolvedInstance, ResolvedReplicaSet } from '../topology/types.js';
import { type ClusterRuntime, type Identity, ROLE_ORDER } from './runtime.js';
import { isPartial, type Selection, selectInstances } from './selection.js';
import { type AdminUserTarget, createAdminUserStep, writeKeyFileStep } from './steps/auth.js';
import { installBootStep, removeBootStep } from './steps/boot.js';
import {
  prepareInstanceStep,
  removeInstanceStep,
  removeSupervisorStep,
  writeConfigStep,
} from './steps/files.js';
import { startInstanceStep, stopInstanceStep, stopMembersStep, stopsWholeGroup } from './steps/process.js';
import { initiateReplicaSetStep, waitReplicaSetStep } from './steps/replica-set.js';
import { adoptMemberStep, restartMemberStep } from './steps/rolling.js';
import { addShardStep, verifyShardsStep } from './steps/sharding.js';
import { setStatusStep, settleStatusAfterStartStep } from './steps/status.js';
import {
  ensureSupervisordStep,
  recordDesiredStateStep,
  stopIdleSupervisordStep,
  writeSupervisorConfigStep,
} from './steps/supervisord.js';
import { issueCertificatesStep, writeTlsFilesStep } from './steps/tls.js';

/** autostart in each host's supervisor.ini follows what runs once the operation is through (see the step). */
function desiredStatePhase(rt: ClusterRuntime, hosts: readonly string[]): Phase {
  return phase(
    'desired-state',
    'Record which programs supervisord starts at boot',
    true,
    hosts.map((h) => recordDesiredStateStep(rt, h)),
  );
}

function byRole(rt: ClusterRuntime, role: ResolvedInstance['role']): ResolvedInstance[] {
  return rt.instances.filter((i) => i.role === role);
}

/** replSetInitiate (a new cluster only), then a primary and every member healthy, for each set at once. */
function replicaSetPhases(
  rt: ClusterRuntime,
  sets: readonly ResolvedReplicaSet[],
  initiate: boolean,
  names: { suffix: string; initiate: string; healthy: string },
  identity: Identity,
): Phase[] {
  const steps = (build: (s: ResolvedReplicaSet) => Step) => sets.map(build);
  return [
    ...(initiate
      ? [
          phase(
            `initiate${names.suffix}`,
            names.initiate,
            true,
            steps((s) => initiateReplicaSetStep(rt, s)),
          ),
        ]
      : []),
    phase(
      `healthy${names.suffix}`,
      names.healthy,
      true,
      steps((s) => waitReplicaSetStep(rt, s, identity)),
    ),
  ];
}

/**
 * Start processes and bring them to a healthy cluster: config servers → shards/replica sets → mongos. A new
 * cluster (`initiate`) has no admin user yet: on an auth cluster its steps authenticate with the keyFile.
 */
function bringUpPhases(rt: ClusterRuntime, options: { initiate: boolean }): Phase[] {
  const identity: Identity = options.initiate ? 'system' : 'admin';
  const sets = rt.meta.topology.replicaSets;
  const start = (name: string, title: string, instances: ResolvedInstance[]) =>
    instances.length === 0
      ? []
      : [
          phase(
            name,
            title,
            true,
            instances.map((i) => startInstanceStep(rt, i, identity)),
          ),
        ];
  const config = byRole(rt, 'config');
  const mongod = byRole(rt, 'mongod');
  const dataSets = sets.filter((s) => s.purpose !== 'config');
  return [
    ...start('start-config', 'Start config servers', config),
    ...(config.length === 0
      ? []
      : replicaSetPhases(
          rt,
          sets.filter((s) => s.purpose === 'config'),
          options.initiate,
          {
            suffix: '-config',
            initiate: 'Initiate the config server replica set',
            healthy: 'Wait for the config server replica set',
          },
          identity,
        )),
    ...start(
      'start-mongod',
      rt.meta.topology.kind === 'sharded' ? 'Start shard members' : 'Start mongod processes',
      mongod,
    ),
    ...(mongod.length === 0 || dataSets.length === 0
      ? []
      : replicaSetPhases(
          rt,
          dataSets,
          options.initiate,
          {
            suffix: '',
            initiate: 'Initiate replica sets',
            healthy: 'Wait for replica sets',
          },
          identity,
        )),
    ...start('start-mongos', 'Start mongos routers', byRole(rt, 'mongos')),
  ];
}

export function buildDeployPlan(rt: ClusterRuntime): Plan {
  const hosts = rt.meta.topology.hosts.map((h) => h.host);
  const phases: Phase[] = [
    // TLS: the certificates exist in the store before any host gets its copy.
    ...(rt.meta.tls === true
      ? [phase('certificates', 'Make TLS certificates', false, [issueCertificatesStep(rt)])]
      : []),
    phase('prepare', 'Prepare directories and binaries', true, [
      ...rt.instances.map((i) => prepareInstanceStep(rt, i)),
      ...(rt.meta.auth ? hosts.map((h) => writeKeyFileStep(rt, h)) : []),
      ...(rt.meta.tls === true ? hosts.map((h) => writeTlsFilesStep(rt, h)) : []),
    ]),
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
  if (rt.meta.auth)
    phases.push(
      phase(
        'admin-user',
        'Create the admin user',
        true,
        adminUserTargets(rt).map((t) => createAdminUserStep(rt, t)),
      ),
    );
  phases.push(desiredStatePhase(rt, hosts));
  if (rt.meta.bootStart)
    phases.push(
      phase(
        'boot',
        'Start supervisord at boot',
        true,
        hosts.map((h) => installBootStep(rt, h)),
      ),
    );
  phases.push(phase('finish', 'Finish', false, [setStatusStep(rt, 'running')]));
  return { operation: 'deploy', cluster: rt.meta.name, phases };
}

/**
 * Where deploy creates the admin user: a sharded cluster's users live on its config servers (created through
 * a mongos), and each shard gets its own for shard-local maintenance; otherwise each replica set and
 * standalone mongod.
 */
function adminUserTargets(rt: ClusterRuntime): AdminUserTarget[] {
  const sets = rt.meta.topology.replicaSets;
  if (rt.meta.topology.kind === 'sharded') {
    const [router] = byRole(rt, 'mongos');
    return [
      ...(router ? [{ kind: 'instance' as const, instance: router }] : []),
      ...sets.filter((s) => s.purpose === 'shard').map((set) => ({ kind: 'replica-set' as const, set })),
    ];
  }
  return [
    ...sets.map((set) => ({ kind: 'replica-set' as const, set })),
    ...byRole(rt, 'mongod')
      .filter((i) => i.replicaSet === undefined)
      .map((instance) => ({ kind: 'instance' as const, instance })),
  ];
}

function hostsOf(instances: readonly ResolvedInstance[]): string[] {
  return [...new Set(instances.map((i) => i.host))];
}

function ordered(
  instances: readonly ResolvedInstance[],
  roles: readonly ResolvedInstance['role'][],
): ResolvedInstance[] {
  return roles.flatMap((role) => instances.filter((i) => i.role === role));
}

/** What `cluster start` found running before it began. */
export interface StartFacts extends ClusterFacts {
  /**
   * Ids of the members whose process runs unsupervised (left by a killed supervisord): they are handed back
   * to supervisord one at a time rather than all stopped together.
   */
  orphans: readonly string[];
}

/**
 * `cluster start`: supervisord first, then processes in start order. Members a killed supervisord left
 * running are handed back to the new daemon in rolling order (config servers, then the shards one member per
 * set at a time, secondaries before the primary, then mongos keeping at least one serving) after whatever was
 * down has started, so that every replica set keeps its majority and clients keep a router.
 */
export function buildStartPlan(
  rt: ClusterRuntime,
  selection: Selection,
  facts: StartFacts = { primaries: new Set(), orphans: [] },
): Plan {
  const chosen = selectInstances(rt.instances, selection);
  const partial = isPartial(selection);
  const hosts = hostsOf(chosen);
  const orphans = chosen.filter((i) => facts.orphans.includes(i.id));
  const handedBack = orphans.map((i) => i.id);
  const phases: Phase[] = [
    phase(
      'configure',
      'Check configuration files',
      true,
      hosts.map((h) => writeSupervisorConfigStep(rt, h)),
    ),
    phase(
      'supervisord',
      'Start supervisord',
      true,
      hosts.map((h) => ensureSupervisordStep(rt, h, 'stop', handedBack)),
    ),
  ];
  if (orphans.length > 0) {
    const down = chosen.filter((i) => !handedBack.includes(i.id));
    if (down.length > 0)
      phases.push(
        phase(
          'start-down',
          'Start the processes that are down, before any running one is handed back',
          false,
          ordered(down, ROLE_ORDER).map((i) => ({
            ...startInstanceStep(rt, i),
            id: `start-down:${i.id}`,
          })),
        ),
      );
    phases.push(
      ...rollingPhases(rt, orphans, facts, (i) => adoptMemberStep(rt, i), {
        serial: false,
        label: { name: 'adopt', title: 'Hand back to supervisord' },
      }),
    );
  }
  if (partial) {
    phases.push(
      phase(
        'start',
        'Start processes',
        false,
        ordered(chosen, ROLE_ORDER).map((i) => startInstanceStep(rt, i)),
      ),
      desiredStatePhase(rt, hosts),
    );
    phases.push(phase('finish', 'Finish', false, [settleStatusAfterStartStep(rt)]));
  } else {
    phases.push(...bringUpPhases(rt, { initiate: false }));
    phases.push(desiredStatePhase(rt, hosts));
    phases.push(phase('finish', 'Finish', false, [setStatusStep(rt, 'running')]));
  }
  return { operation: 'start', cluster: rt.meta.name, phases };
}

/**
 * `cluster stop`: reverse start order (mongos, shards, config servers), then idle supervisord daemons. The
 * members of a replica set get SIGTERM together: a primary shutting down waits (up to 15 s) for an electable,
 * caught-up secondary to hand over to, and stopping members one after another always leaves the last primary
 * with none (stopping the primary first only hands the primary role on to the next member stopped). When a
 * whole set, or every mongos, stops, 5.0+ servers are first told to cut that wait and their quiesce period short.
 */
export function buildStopPlan(rt: ClusterRuntime, selection: Selection): Plan {
  const chosen = selectInstances(rt.instances, selection);
  const stopping = new Set(chosen.map((i) => i.id));
  const phases: Phase[] = [];
  for (const role of [...ROLE_ORDER].reverse()) {
    const group = chosen.filter((i) => i.role === role);
    const sets = [...new Set(group.flatMap((i) => (i.replicaSet === undefined ? [] : [i.replicaSet])))];
    const steps = [
      ...sets.map((set) => {
        const members = group.filter((i) => i.replicaSet === set);
        const wholeGroup = members.some((m) => stopsWholeGroup(rt, m, stopping));
        return stopMembersStep(rt, set, members, { wholeGroup });
      }),
      ...group
        .filter((i) => i.replicaSet === undefined)
        .map((i) => stopInstanceStep(rt, i, { wholeGroup: stopsWholeGroup(rt, i, stopping) })),
    ];
    if (steps.length > 0) phases.push(phase(`stop-${role}`, `Stop ${ROLE_TITLES[role]}`, true, steps));
  }
  // While the daemons still answer: a partial stop keeps the others' autostart.
  phases.push(desiredStatePhase(rt, hostsOf(chosen)));
  phases.push(
    phase(
      'supervisord',
      'Stop idle supervisord daemons',
      true,
      hostsOf(chosen).map((h) => stopIdleSupervisordStep(rt, h)),
    ),
  );
  phases.push(
    phase('finish', 'Finish', false, [setStatusStep(rt, isPartial(selection) ? 'partial' : 'stopped')]),
  );
  return { operation: 'stop', cluster: rt.meta.name, phases };
}

const ROLE_TITLES: Record<ResolvedInstance['role'], string> = {
  config: 'config servers',
  mongod: 'mongod processes',
  mongos: 'mongos routers',
};

/** Live state a plan depends on, read by `gatherFacts` before the (pure) builder runs. */
export interface ClusterFacts {
  /** Ids of the members that answered hello as primary. */
  primaries: ReadonlySet<string>;
}

/** Secondaries (and arbiters) first, the current primary last; unreachable members keep topology order. */
function rollingOrder(members: ResolvedInstance[], facts: ClusterFacts): ResolvedInstance[] {
  const last = (m: ResolvedInstance) => facts.primaries.has(m.id);
  return [...members.filter((m) => !last(m)), ...members.filter(last)];
}

/**
 * `cluster restart`: rolling — config servers, then each shard / replica set, then mongos, one process at a
 * time, secondaries before the primary (which steps down first). `parallel` is the explicit stop-all/start-all.
 */
export function buildRestartPlan(
  rt: ClusterRuntime,
  selection: Selection,
  parallel: boolean,
  facts: ClusterFacts,
  serial = false,
): Plan {
  const chosen = selectInstances(rt.instances, selection);
  if (parallel) {
    const stop = buildStopPlan(rt, selection).phases.filter((p) => p.name.startsWith('stop-'));
    // All of it: back in start order, healthy with a primary per set, as `cluster start` leaves it.
    const start = isPartial(selection)
      ? [
          phase(
            'start',
            'Start processes',
            true,
            ordered(chosen, ROLE_ORDER).map((i) => startInstanceStep(rt, i)),
          ),
        ]
      : bringUpPhases(rt, { initiate: false });
    return { operation: 'restart', cluster: rt.meta.name, phases: [...stop, ...start] };
  }
  return {
    operation: 'restart',
    cluster: rt.meta.name,
    phases: rollingPhases(rt, chosen, facts, (i) => restartMemberStep(rt, i), { serial }),
  };
}

/**
 * The rolling order every member-by-member operation shares (restart now; upgrade, reload and edit-config
 * pass their own step): the config server replica set first and alone; then the shards' replica sets side by
 * side, one member per set at a time, secondaries before the primary; standalone mongods; then mongos in
 * batches that always leave at least half of them serving. `serial` keeps one process of the whole cluster
 * at a time. The safety rule is one member per replica set, not per cluster: shards are independent sets.
 */
export function rollingPhases(
  rt: ClusterRuntime,
  chosen: readonly ResolvedInstance[],
  facts: ClusterFacts,
  replace: (instance: ResolvedInstance) => Step,
  options: { serial: boolean; label?: { name: string; title: string } },
): Phase[] {
  const phases: Phase[] = [];
  // Phase names and titles: `restart-rs0` / "Rolling restart of rs0" unless the caller names its own.
  const label = options.label ?? { name: 'restart', title: 'Rolling restart' };
  const titled = (restart: string, other: string) => (options.label ? `${label.title}: ${other}` : restart);
  const setSteps = (set: ResolvedReplicaSet) =>
    rollingOrder(
      chosen.filter((i) => i.replicaSet === set.name),
      facts,
    ).map((i) => ({ ...replace(i), lane: set.name }));
  const sets = rt.meta.topology.replicaSets.filter((set) => chosen.some((i) => i.replicaSet === set.name));
  const configSets = sets.filter((s) => s.purpose === 'config');
  const dataSets = sets.filter((s) => s.purpose !== 'config');
  const oneByOne = (set: ResolvedReplicaSet) =>
    phase(
      `${label.name}-${set.name}`,
      titled(`Rolling restart of ${set.name}`, `${set.name}, one member at a time`),
      false,
      setSteps(set),
    );
  phases.push(...configSets.map(oneByOne));
  if (options.serial || dataSets.length < 2) phases.push(...dataSets.map(oneByOne));
  else
    phases.push(
      phase(
        `${label.name}-shards`,
        titled(
          `Rolling restart of ${dataSets.map((s) => s.name).join(', ')}: one member per set at a time, sets in parallel`,
          `${dataSets.map((s) => s.name).join(', ')}, one member per set at a time, sets in parallel`,
        ),
        'lanes',
        dataSets.flatMap(setSteps),
      ),
    );
  const standalone = chosen.filter((i) => i.role === 'mongod' && i.replicaSet === undefined);
  if (standalone.length > 0)
    phases.push(
      phase(
        `${label.name}-standalone`,
        titled('Restart standalone mongod', 'standalone mongod'),
        false,
        standalone.map(replace),
      ),
    );
  const routers = chosen.filter((i) => i.role === 'mongos');
  const all = rt.instances.filter((i) => i.role === 'mongos').length;
  // At most this many down at once, so that at least half of every mongos keeps serving (and one at least).
  const batch = options.serial ? 1 : Math.max(1, Math.floor(all / 2));
  if (routers.length > 0)
    phases.push(
      batch === 1
        ? phase(
            `${label.name}-mongos`,
            titled('Restart mongos routers one at a time', 'mongos routers one at a time'),
            false,
            routers.map(replace),
          )
        : phase(
            `${label.name}-mongos`,
            titled(`Restart mongos routers, ${batch} at a time`, `mongos routers, ${batch} at a time`),
            'lanes',
            routers.map((i, n) => ({ ...replace(i), lane: `mongos-${n % batch}` })),
          ),
    );
  return phases;
}

/**
 * `cluster destroy`: stop everything (as `cluster stop` would), then remove each process's files and, once
 * they are gone, each host's supervisord files. `removed` collects what was deleted, for the result.
 */
export function buildDestroyPlan(rt: ClusterRuntime, keepData: boolean): Plan {
  const removed: string[] = [];
  const hosts = rt.meta.topology.hosts.map((h) => h.host);
  const stop = buildStopPlan(rt, {}).phases.filter(
    (p) => p.name.startsWith('stop-') || p.name === 'supervisord',
  );
  return {
    operation: 'destroy',
    cluster: rt.meta.name,
    phases: [
      phase('mark', 'Mark the cluster as being destroyed', false, [setStatusStep(rt, 'destroying')]),
      ...stop,
      phase(
        'remove',
        'Remove process files',
        true,
        rt.instances.map((i) => removeInstanceStep(rt, i, keepData, removed)),
      ),
      // Whatever deploy registered (or an older entry of this cluster's supervisor.ini), before the ini goes.
      phase(
        'remove-boot',
        'Remove boot entries',
        true,
        hosts.map((h) => removeBootStep(rt, h, removed)),
      ),
      // After the instances, so that the global deploy dir is empty when its removal is tried.
      phase(
        'remove-supervisor',
        'Remove supervisord files',
        true,
        hosts.map((h) => removeSupervisorStep(rt, h, removed)),
      ),
    ],
    report: () => ({
      removed,
      keptData: keepData ? rt.instances.flatMap((i) => (i.dataDir ? [`${i.host}:${i.dataDir}`] : [])) : [],
    }),
  };
}
