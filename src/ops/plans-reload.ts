// The plan of `cluster reload`, from the topology the processes run with (`pending.applied`, kept by
// edit-config) and the stored one: per selected process, nothing, a setParameter (only runtime-settable
// server parameters changed) or a rolling restart with the new file; supervisor.ini of a host whose
// programs changed goes through reloadConfig (unchanged programs untouched). Pure, like plans.ts: the
// facts come from gather, and the plan depends only on the stored meta, so a resumed reload gets the same.
import type { Phase, Plan } from '../plan/types.js';
import { classifyConfigChange } from '../render/config-change.js';
import { renderInstanceConfig } from '../render/instance-config.js';
import { parseMongoVersion } from '../render/mongo-version.js';
import { renderSupervisorIni, supervisorIniSpecForHost } from '../render/supervisor-ini.js';
import type { ResolvedInstance, ResolvedTopology } from '../topology/types.js';
import { type ClusterFacts, rollingPhases } from './plans.js';
import { describeReconfig, planReconfigs } from './plans-reconfig.js';
import { type ClusterRuntime, SUPERVISOR_USERNAME } from './runtime.js';
import { type Selection, selectInstances } from './selection.js';
import { reconfigStep, recordAppliedStep, reloadMemberStep, setParametersStep } from './steps/reload.js';
import { supervisorReloadStep } from './steps/supervisord.js';

export interface ReloadDecision {
  id: string;
  action: 'none' | 'set-parameter' | 'restart';
  /** Settings that differ (restart) or the parameters set (set-parameter). */
  changed: string[];
}

function renderFor(rt: ClusterRuntime, topology: ResolvedTopology, instance: ResolvedInstance): string {
  return renderInstanceConfig(instance, topology, { clusterName: rt.meta.name, version: rt.meta.version });
}

/** supervisor.ini of a host as far as the topology decides it (the password and fd limit are the same). */
function iniShape(rt: ClusterRuntime, topology: ResolvedTopology, host: string): string {
  const resolvedHost = topology.hosts.find((h) => h.host === host);
  const supervisorDir = resolvedHost?.supervisorDir ?? '';
  return renderSupervisorIni(
    supervisorIniSpecForHost({
      cluster: rt.meta.name,
      supervisorDir,
      httpPort: rt.endpoint(host).httpPort,
      username: SUPERVISOR_USERNAME,
      password: 'unused',
      minfds: 1024,
      instances: topology.instances.filter((i) => i.host === host),
      ...(resolvedHost === undefined ? {} : { user: resolvedHost.user }),
    }),
  );
}

/** One replSetReconfig the reload makes: its step and what it changes. */
export interface ReconfigDecision {
  set: string;
  step: string;
  changes: string;
}

export function buildReloadPlan(
  rt: ClusterRuntime,
  selection: Selection,
  facts: ClusterFacts,
  serial: boolean,
): Plan {
  const applied = rt.meta.pending?.applied ?? rt.meta.topology;
  const version = parseMongoVersion(rt.meta.version);
  const chosen = selectInstances(rt.instances, selection);
  const decisions: ReloadDecision[] = [];
  const restart: ResolvedInstance[] = [];
  const restartChanges = new Map<string, string[]>();
  const setParameter: Phase['steps'] = [];
  for (const instance of chosen) {
    const old = applied.instances.find((i) => i.id === instance.id) ?? instance;
    const change = classifyConfigChange(
      renderFor(rt, applied, old),
      renderFor(rt, rt.meta.topology, instance),
      instance.role === 'mongos' ? 'mongos' : 'mongod',
      version,
    );
    if (change.kind === 'none') decisions.push({ id: instance.id, action: 'none', changed: [] });
    else if (change.kind === 'runtime') {
      decisions.push({ id: instance.id, action: 'set-parameter', changed: Object.keys(change.parameters) });
      setParameter.push(setParametersStep(rt, instance, change.parameters));
    } else {
      decisions.push({ id: instance.id, action: 'restart', changed: change.changed });
      restart.push(instance);
      restartChanges.set(instance.id, change.changed);
    }
  }
  const hosts = [...new Set(chosen.map((i) => i.host))].filter(
    (host) => iniShape(rt, applied, host) !== iniShape(rt, rt.meta.topology, host),
  );
  const phases: Phase[] = [];
  if (hosts.length > 0)
    phases.push({
      name: 'supervisor',
      title: 'Reload supervisord configuration (unchanged programs untouched)',
      parallel: true,
      steps: hosts.map((host) => supervisorReloadStep(rt, host)),
    });
  if (setParameter.length > 0)
    phases.push({
      name: 'set-parameters',
      title: 'Set runtime server parameters (no restart)',
      parallel: true,
      steps: setParameter,
    });
  phases.push(
    ...rollingPhases(rt, restart, facts, (i) => reloadMemberStep(rt, i, restartChanges.get(i.id) ?? []), {
      serial,
    }),
  );
  // Member options and replica_set_settings: replSetReconfig, no restart; after the restarts, so that their
  // rolling order is the one planned from the current primary.
  const reconfigs = planReconfigs(applied, rt.meta.topology, new Set(chosen.map((i) => i.id)));
  const reconfigDecisions: ReconfigDecision[] = [];
  for (const set of [...new Set(reconfigs.map((r) => r.set))]) {
    const steps = reconfigs.filter((r) => r.set === set);
    phases.push({
      name: `reconfig-${set}`,
      title: `Reconfigure ${set} (replSetReconfig, no restart; one voting change at a time)`,
      parallel: false,
      steps: steps.map((r) => reconfigStep(rt, r)),
    });
    for (const r of steps)
      reconfigDecisions.push({ set, step: `reconfig:${set}:${r.n}`, changes: describeReconfig(r) });
  }
  const settled = [...new Set(reconfigs.filter((r) => r.settings).map((r) => r.set))];
  phases.push({
    name: 'finish',
    title: 'Finish',
    parallel: false,
    steps: [recordAppliedStep(rt, chosen, settled)],
  });
  return {
    operation: 'reload',
    cluster: rt.meta.name,
    phases,
    report: () => ({ processes: decisions, reconfigs: reconfigDecisions }),
  };
}
