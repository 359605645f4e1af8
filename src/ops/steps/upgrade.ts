// Steps of `cluster upgrade`, one hop (a release series) at a time: a preflight (every process healthy, the
// FCV the hop starts from), the hop's binaries in the cache, each member replaced with its bin link moved
// to them and its config rendered for that version, the new version recorded in meta, the balancer held
// while a sharded cluster's members change, and setFeatureCompatibilityVersion with a check on every member.
import { access } from 'node:fs/promises';
import { MupError } from '../../errors.js';
import { formatAddress, hello } from '../../mongo/connect.js';
import {
  balancerEnabled,
  readFcv,
  serverVersion,
  setFcv,
  startBalancer,
  stopBalancer,
  waitForFcv,
} from '../../mongo/fcv.js';
import { isPrimary } from '../../mongo/member.js';
import { waitForHealthyReplicaSet } from '../../mongo/replset.js';
import type { Step } from '../../plan/types.js';
import { renderInstanceConfig } from '../../render/instance-config.js';
import type { ResolvedInstance } from '../../topology/types.js';
import { resolveBinaries } from '../binaries.js';
import type { ClusterRuntime } from '../runtime.js';
import { answersHello } from './process.js';
import { memberSpecs } from './replica-set.js';
import { replaceMemberRolling } from './rolling.js';

/** One hop of an upgrade path, as journaled in the operation's arguments. */
export interface UpgradeHop {
  /** The release series the hop reaches ("7.0"): its FCV. */
  series: string;
  /** The exact version its binaries report. */
  version: string;
  /** Where those binaries are (the cache, or the cluster's own dir for an FCV-only hop). */
  binaryDir: string;
  /** The FCV every member must have when the hop starts. */
  expectFcv: string;
  /** False for a hop that only raises the FCV of binaries already in place. */
  replace: boolean;
  setFcv: boolean;
}

const PREFLIGHT_HEALTHY_MS = 60_000;
const FCV_SPREAD_MS = 60_000;

/** Members that hold data and so an FCV (arbiters report their binary's own default). */
function dataBearing(rt: ClusterRuntime): ResolvedInstance[] {
  return rt.instances.filter((i) => i.role !== 'mongos' && !i.member?.arbiterOnly);
}

function mongosOf(rt: ClusterRuntime): ResolvedInstance {
  const router = rt.instances.find((i) => i.role === 'mongos');
  if (!router) throw new MupError(`cluster '${rt.meta.name}' has no mongos`);
  return router;
}

export function preflightStep(rt: ClusterRuntime, hop: UpgradeHop): Step {
  return {
    id: `preflight:${hop.series}`,
    title: `preflight for ${hop.replace ? hop.version : `FCV ${hop.series}`}: every process healthy, FCV ${hop.expectFcv}`,
    run: async () => {
      for (const set of rt.meta.topology.replicaSets)
        await waitForHealthyReplicaSet(set.name, memberSpecs(rt, set), PREFLIGHT_HEALTHY_MS);
      for (const instance of rt.instances.filter((i) => i.replicaSet === undefined))
        if (!(await answersHello(rt, instance)))
          throw new MupError(`${instance.id} (${instance.programName}) does not answer`, {
            hint: `start it with \`mup cluster start ${rt.meta.name}\` first`,
          });
      const wrong: string[] = [];
      for (const instance of dataBearing(rt)) {
        const fcv = await readFcv(rt.address(instance));
        if (fcv !== hop.expectFcv) wrong.push(`${instance.id} has FCV ${fcv}`);
      }
      if (wrong.length > 0)
        throw new MupError(
          `featureCompatibilityVersion must be ${hop.expectFcv} before this hop: ${wrong.join(', ')}`,
          {
            hint: 'finish or undo the FCV change first (setFeatureCompatibilityVersion), then run the upgrade again',
          },
        );
      return `healthy, FCV ${hop.expectFcv}`;
    },
  };
}

export function fetchBinariesStep(rt: ClusterRuntime, hop: UpgradeHop, mirror: string | undefined): Step {
  return {
    id: `binaries:${hop.version}`,
    title: `fetch MongoDB ${hop.version} binaries`,
    // The cache is on this machine (remote hosts get the binaries from it).
    isDone: () =>
      access(`${hop.binaryDir}/mongod`).then(
        () => true,
        () => false,
      ),
    run: async () => {
      const got = await resolveBinaries(
        { version: hop.version, variant: rt.meta.variant, mirror },
        rt.store.home,
        { install: true },
      );
      if (got.binaryDir !== hop.binaryDir)
        throw new MupError(
          `MongoDB ${hop.version} was installed in ${got.binaryDir}, not ${hop.binaryDir} as planned`,
          {
            hint: 'the release list changed since the upgrade was planned; run the upgrade again',
          },
        );
      return got.binaryDir;
    },
  };
}

/** One member's binary swap: its bin link moves to the hop's binaries and its config is rendered for them. */
export function upgradeMemberStep(rt: ClusterRuntime, instance: ResolvedInstance, hop: UpgradeHop): Step {
  return {
    id: `upgrade:${hop.series}:${instance.id}`,
    title: `${instance.programName} on ${instance.host} → ${hop.version}`,
    host: instance.host,
    // A member a killed run already brought back on the hop's binaries is not restarted again — once it is
    // SECONDARY or PRIMARY again: the next member must not go down while this one still syncs.
    isDone: async () => {
      const reply = await hello(rt.address(instance), { timeoutMs: 2000 }).catch(() => undefined);
      if (reply === undefined) return false;
      if (instance.replicaSet !== undefined && reply.ismaster !== true && reply.secondary !== true)
        return false;
      return (await serverVersion(rt.address(instance)).catch(() => '')) === hop.version;
    },
    run: (context) =>
      replaceMemberRolling(rt, instance, context, async () => {
        const executor = rt.executor(instance.host);
        // Remote hosts get the new version's binaries shipped beside the old ones first.
        const binaries = await rt.binaryDirOn(instance.host, hop.binaryDir);
        const linked = await executor.run('ln', ['-sfn', binaries, instance.binDir]);
        if (linked.exitCode !== 0)
          throw new MupError(`cannot link ${instance.binDir} → ${binaries}: ${linked.stderr.trim()}`);
        const config = renderInstanceConfig(instance, rt.meta.topology, {
          clusterName: rt.meta.name,
          version: hop.version,
        });
        await executor.writeFile(instance.configFile, config, 0o640);
      }),
  };
}

export function recordVersionStep(rt: ClusterRuntime, hop: UpgradeHop): Step {
  return {
    id: `record-version:${hop.series}`,
    title: `record version ${hop.version} in the cluster store`,
    run: async () => {
      const stored = await rt.store.read(rt.meta.name);
      await rt.store.write({ ...stored, version: hop.version, binaryDir: hop.binaryDir });
      rt.meta.version = hop.version;
      rt.meta.binaryDir = hop.binaryDir;
      return hop.version;
    },
  };
}

export function balancerStopStep(rt: ClusterRuntime, hop: UpgradeHop): Step {
  return {
    id: `balancer-stop:${hop.series}`,
    title: 'stop the balancer',
    isDone: async () => !(await balancerEnabled(rt.address(mongosOf(rt)))),
    run: async () => {
      await stopBalancer(rt.address(mongosOf(rt)));
      return undefined;
    },
  };
}

export function balancerStartStep(rt: ClusterRuntime, hop: UpgradeHop): Step {
  return {
    id: `balancer-start:${hop.series}`,
    title: 'restore the balancer',
    isDone: () => balancerEnabled(rt.address(mongosOf(rt))),
    run: async () => {
      await startBalancer(rt.address(mongosOf(rt)));
      return undefined;
    },
  };
}

/** Where setFeatureCompatibilityVersion goes: a mongos, each replica set's primary, or the standalone. */
async function fcvTargets(rt: ClusterRuntime): Promise<ResolvedInstance[]> {
  if (rt.meta.topology.kind === 'sharded') return [mongosOf(rt)];
  const targets: ResolvedInstance[] = [];
  for (const set of rt.meta.topology.replicaSets) {
    const members = rt.instances.filter((i) => i.replicaSet === set.name && !i.member?.arbiterOnly);
    let primary: ResolvedInstance | undefined;
    for (const member of members)
      if (await isPrimary(rt.address(member)).catch(() => false)) {
        primary = member;
        break;
      }
    if (!primary) throw new MupError(`replica set ${set.name} has no primary`);
    targets.push(primary);
  }
  for (const instance of rt.instances.filter((i) => i.role === 'mongod' && i.replicaSet === undefined))
    targets.push(instance);
  return targets;
}

export function fcvStep(rt: ClusterRuntime, hop: UpgradeHop): Step {
  const everyone = () => dataBearing(rt).map((i) => rt.address(i));
  return {
    id: `fcv:${hop.series}`,
    title: `setFeatureCompatibilityVersion ${hop.series}${Number(hop.series.split('.')[0]) >= 7 ? ' (confirm: true)' : ''} and check every member`,
    isDone: async () => {
      for (const address of everyone())
        if ((await readFcv(address).catch(() => '')) !== hop.series) return false;
      return true;
    },
    run: async () => {
      const targets = await fcvTargets(rt);
      for (const target of targets) await setFcv(rt.address(target), hop.series);
      await waitForFcv(everyone(), hop.series, FCV_SPREAD_MS);
      return `FCV ${hop.series} on ${everyone().map(formatAddress).join(', ')}`;
    },
  };
}
