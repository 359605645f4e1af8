// Steps of `cluster reload`: a process whose config changed only in runtime-settable server parameters gets
// its new file and a `setParameter` (no restart); any other change is written while the member is down in
// its rolling replacement; the stored meta learns what now runs once every step is through.
import { isDeepStrictEqual } from 'node:util';
import { adminCommand } from '../../mongo/connect.js';
import type { Step } from '../../plan/types.js';
import { programRefFor } from '../../supervisor/instance-refs.js';
import { isRunningState } from '../../supervisor/process-info.js';
import type { ResolvedInstance, ResolvedTopology } from '../../topology/types.js';
import { addressOf, type ClusterRuntime } from '../runtime.js';
import { renderedConfig } from './files.js';
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
      await adminCommand(addressOf(instance), { setParameter: 1, ...parameters }, { timeoutMs: 10_000 });
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

/**
 * Records that the reloaded processes run the stored topology: they leave `pending.applied`, which goes
 * once nothing differs. Last in the plan, so a resumed reload rebuilds the same steps from the same meta.
 */
export function recordAppliedStep(rt: ClusterRuntime, reloaded: readonly ResolvedInstance[]): Step {
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
