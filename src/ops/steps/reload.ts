// Steps of `cluster reload`: a process whose config changed only in runtime-settable server parameters gets
// its new file and a `setParameter` (no restart); any other change is written while the member is down in
// its rolling replacement; the stored meta learns what now runs once every step is through.
import { isDeepStrictEqual } from 'node:util';
import { MupError } from '../../errors.js';
import { adminCommand, formatAddress } from '../../mongo/connect.js';
import { moveAwayPrimary } from '../../mongo/member.js';
import {
  findPrimary,
  memberOf,
  reconfigure,
  setMemberOptions,
  setReplicaSetSettings,
} from '../../mongo/reconfig.js';
import type { Step } from '../../plan/types.js';
import { parseMongoVersion } from '../../render/mongo-version.js';
import { programRefFor } from '../../supervisor/instance-refs.js';
import { isRunningState } from '../../supervisor/process-info.js';
import { isElectable } from '../../topology/servers.js';
import type { ResolvedInstance, ResolvedTopology } from '../../topology/types.js';
import { describeReconfig, type ReconfigChange } from '../plans-reconfig.js';
import type { ClusterRuntime } from '../runtime.js';
import { renderedConfig } from './files.js';
import { setAddresses } from './membership.js';
import { HEALTHY_TIMEOUT_MS } from './replica-set.js';
import { replaceMemberRolling } from './rolling.js';

async function writeNewConfig(rt: ClusterRuntime, instance: ResolvedInstance): Promise<void> {
  await rt.executor(instance.host).writeFile(instance.configFile, renderedConfig(rt, instance), 0o640);
}

function describeParameters(parameters: Record<string, unknown>): string {
  return Object.entries(parameters)
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
    .join(', ');
}

/** New config file, then `setParameter` on the live process; a stopped process reads the file when it starts. */
export function setParametersStep(
  rt: ClusterRuntime,
  instance: ResolvedInstance,
  parameters: Record<string, unknown>,
): Step {
  return {
    id: `set-parameter:${instance.id}`,
    title: `setParameter ${describeParameters(parameters)} on ${instance.programName} (no restart)`,
    host: instance.host,
    run: async () => {
      await writeNewConfig(rt, instance);
      const info = await (await rt.programs(instance.host)).info(programRefFor(instance));
      if (!isRunningState(info.state))
        return `not running (${info.state}): its config file holds the new values`;
      await adminCommand(rt.address(instance), { setParameter: 1, ...parameters }, { timeoutMs: 10_000 });
      return `set ${describeParameters(parameters)}`;
    },
  };
}

/** A rolling restart of one member with its new config file written while it is down. */
export function reloadMemberStep(rt: ClusterRuntime, instance: ResolvedInstance, changed: string[]): Step {
  const what = changed.length > 3 ? `${changed.slice(0, 3).join(', ')}, …` : changed.join(', ');
  return {
    id: `reload:${instance.id}`,
    title: `restart ${instance.programName} on ${instance.host} with its new config (${what})`,
    host: instance.host,
    run: (context) => replaceMemberRolling(rt, instance, context, () => writeNewConfig(rt, instance)),
  };
}

/** Bound on one reconfig, waiting for the previous config to commit included. */
const RECONFIG_TIMEOUT_MS = 120_000;

/**
 * One replSetReconfig of a reload: the members' new options and maybe the set's settings, on the live config
 * (a member already as wanted is left alone, so a resumed reload does not reconfigure twice). A primary the
 * change makes unelectable steps down first: MongoDB refuses such a reconfig (104 NodeNotElectable).
 */
export function reconfigStep(rt: ClusterRuntime, change: ReconfigChange): Step {
  const major = Number(parseMongoVersion(rt.meta.version).core.split('.')[0]);
  const members = setAddresses(rt, change.set);
  const unelectable = new Set(change.members.filter((m) => !isElectable(m.to)).map((m) => m.id));
  return {
    id: `reconfig:${change.set}:${change.n}`,
    title: `replSetReconfig ${change.set}: ${describeReconfig(change)}`,
    run: async (context) => {
      // Bounded: each round elects another primary, and a set has at most 50 members.
      for (let round = 0; round < members.length; round++) {
        const primary = await findPrimary(members, HEALTHY_TIMEOUT_MS);
        if (!primary || !unelectable.has(formatAddress(primary))) break;
        const others = members.filter((m) => formatAddress(m) !== formatAddress(primary));
        const elected = await moveAwayPrimary(primary, others, HEALTHY_TIMEOUT_MS);
        context.log(
          `${formatAddress(primary)} stepped down first (unelectable once changed); ${elected} is primary`,
        );
      }
      const { changed, primary } = await reconfigure(
        members,
        (config) => {
          let differs = false;
          for (const m of change.members) {
            const instance = rt.meta.topology.instances.find((i) => i.id === m.id);
            const doc = instance && memberOf(config, rt.address(instance));
            if (!doc)
              throw new MupError(`${m.id} is not in the config of ${change.set}`, {
                hint: 'see `mup cluster display`; scale-out adds members',
              });
            if (setMemberOptions(doc, m.to, major)) differs = true;
          }
          if (change.settings && setReplicaSetSettings(config, change.settings.from, change.settings.to))
            differs = true;
          return differs;
        },
        RECONFIG_TIMEOUT_MS,
      );
      return changed ? `installed through ${primary}` : 'the live config already had it';
    },
  };
}

/**
 * Records that the reloaded processes run the stored topology: they leave `pending.applied`, which goes
 * once nothing differs. Last in the plan, so a resumed reload rebuilds the same steps from the same meta.
 */
export function recordAppliedStep(
  rt: ClusterRuntime,
  reloaded: readonly ResolvedInstance[],
  reconfiguredSets: readonly string[] = [],
): Step {
  return {
    id: `record-applied:${rt.meta.name}`,
    title: 'record the reloaded configuration in the cluster store',
    run: async () => {
      const stored = await rt.store.read(rt.meta.name);
      if (stored.pending === undefined) return 'nothing was pending';
      const ids = new Set(reloaded.map((i) => i.id));
      const applied: ResolvedTopology = {
        ...stored.pending.applied,
        instances: stored.pending.applied.instances.map((old) =>
          ids.has(old.id) ? (stored.topology.instances.find((i) => i.id === old.id) ?? old) : old,
        ),
        replicaSets: stored.pending.applied.replicaSets.map((old) =>
          reconfiguredSets.includes(old.name)
            ? (stored.topology.replicaSets.find((s) => s.name === old.name) ?? old)
            : old,
        ),
      };
      const { pending, ...rest } = stored;
      const plain = (t: ResolvedTopology) => JSON.parse(JSON.stringify(t)) as unknown;
      if (isDeepStrictEqual(plain(applied), plain(stored.topology))) {
        await rt.store.write(rest);
        return 'every process runs the stored configuration';
      }
      await rt.store.write({ ...rest, pending: { ...pending, applied } });
      return 'processes outside the selection still wait for a reload';
    },
  };
}
