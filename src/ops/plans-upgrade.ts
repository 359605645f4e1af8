// The plan of `cluster upgrade`: per hop of the journaled path, a preflight, the binaries, the balancer
// stopped (sharded), every process replaced in rolling order (config servers, shards side by side, mongos),
// the version recorded, the balancer restored, then the FCV raised — except after the last hop with
// --no-fcv. Built from the arguments alone (the path was computed once, before the lock), so a resumed
// upgrade rebuilds the same steps whatever hop it stopped in.
import type { Phase, Plan } from '../plan/types.js';
import { type ClusterFacts, rollingPhases } from './plans.js';
import type { ClusterRuntime } from './runtime.js';
import {
  balancerStartStep,
  balancerStopStep,
  fcvStep,
  fetchBinariesStep,
  preflightStep,
  recordVersionStep,
  type UpgradeHop,
  upgradeMemberStep,
} from './steps/upgrade.js';

export interface UpgradePath {
  hops: UpgradeHop[];
  /** A sharded cluster's balancer was on when the upgrade was planned: it is restored after each hop. */
  balancer: boolean;
  mirror?: string | undefined;
}

export function buildUpgradePlan(rt: ClusterRuntime, path: UpgradePath, facts: ClusterFacts): Plan {
  const sharded = rt.meta.topology.kind === 'sharded';
  const phases: Phase[] = [];
  for (const hop of path.hops) {
    const s = hop.series;
    const one = (name: string, title: string, step: Phase['steps'][number]): Phase => ({
      name: `${s}:${name}`,
      title,
      parallel: false,
      steps: [step],
    });
    phases.push(
      one('preflight', `Preflight before ${hop.replace ? hop.version : `FCV ${s}`}`, preflightStep(rt, hop)),
    );
    if (hop.replace) {
      phases.push(
        one('binaries', `MongoDB ${hop.version} binaries`, fetchBinariesStep(rt, hop, path.mirror)),
      );
      if (sharded) phases.push(one('balancer-stop', 'Stop the balancer', balancerStopStep(rt, hop)));
      phases.push(
        ...rollingPhases(rt, rt.instances, facts, (i) => upgradeMemberStep(rt, i, hop), {
          serial: false,
        }).map((phase) => ({
          ...phase,
          name: `${s}:${phase.name}`,
          title: `${phase.title.replace(/^Rolling restart of|^Restart/, 'Upgrade')} to ${hop.version}`,
        })),
      );
      phases.push(one('record', `Record ${hop.version}`, recordVersionStep(rt, hop)));
      if (sharded && path.balancer)
        phases.push(one('balancer-start', 'Restore the balancer', balancerStartStep(rt, hop)));
    }
    if (hop.setFcv) phases.push(one('fcv', `Feature compatibility version ${s}`, fcvStep(rt, hop)));
  }
  return {
    operation: 'upgrade',
    cluster: rt.meta.name,
    phases,
    report: () => ({
      version: rt.meta.version,
      hops: path.hops.map((h) => ({
        series: h.series,
        version: h.version,
        replace: h.replace,
        setFcv: h.setFcv,
      })),
    }),
  };
}
