// `mup cluster scale-in NAME -N host:port ...`: members leave their replica set by reconfig, whole shards by
// removeShard, mongos last. Refused (exit 2, nothing changed) when a selection names nothing, or when a set
// would lose the majority of its voters or its last member able to become primary. The selected instances
// are journaled as they were at the start: each one is forgotten in meta as soon as it is gone, and a
// resume still knows what it was removing.
import { z } from 'zod';
import { ExitCode, MupError, UsageError } from '../errors.js';
import { resolvedTopologySchema } from '../meta/schema.js';
import { type ClusterMeta, ClusterNotFoundError, ClusterStore } from '../meta/store.js';
import { adminCommand, formatAddress } from '../mongo/connect.js';
import { isElectable } from '../topology/servers.js';
import type { ResolvedInstance } from '../topology/types.js';
import {
  applyOperation,
  defineOperation,
  type OperationOptions,
  type OperationOutcome,
} from './operation.js';
import { planTarget, withoutInstances } from './plan-target.js';
import { buildScaleInPlan } from './plans-scale.js';
import type { ClusterRuntime } from './runtime.js';

const args = z.object({
  nodes: z.array(z.string()).min(1),
  keepData: z.boolean(),
  instances: z.array(resolvedTopologySchema.shape.instances.element),
  wholeShards: z.array(z.string()),
});
type ScaleInArgs = z.infer<typeof args>;

function refuse(message: string, hint: string): never {
  throw new UsageError(message, hint);
}

/** The selected instances and the shards leaving whole; every refusal rule, against the stored cluster. */
export function selectForScaleIn(
  meta: ClusterMeta,
  nodes: readonly string[],
): {
  instances: ResolvedInstance[];
  wholeShards: string[];
} {
  const all = meta.topology.instances;
  const unknown = nodes.filter((n) => !all.some((i) => i.id === n || i.programName === n));
  if (unknown.length > 0)
    refuse(
      `no process ${unknown.map((n) => `'${n}'`).join(', ')} in cluster '${meta.name}'`,
      `processes: ${all.map((i) => i.id).join(', ')}`,
    );
  const chosen = all.filter((i) => nodes.includes(i.id) || nodes.includes(i.programName));
  const ids = new Set(chosen.map((i) => i.id));
  for (const i of chosen.filter((c) => c.role === 'mongod' && c.replicaSet === undefined))
    refuse(
      `${i.id} is a standalone mongod: its data exists nowhere else`,
      `back it up and use \`mup cluster destroy ${meta.name}\` to remove the whole cluster`,
    );
  const routers = all.filter((i) => i.role === 'mongos');
  if (routers.length > 0 && routers.every((r) => ids.has(r.id)))
    refuse('scale-in would remove every mongos: a sharded cluster needs one', 'keep at least one mongos');
  const wholeShards: string[] = [];
  for (const set of meta.topology.replicaSets) {
    const members = all.filter((i) => i.replicaSet === set.name);
    const leaving = members.filter((m) => ids.has(m.id));
    if (leaving.length === 0) continue;
    if (leaving.length === members.length) {
      if (set.purpose !== 'shard')
        refuse(
          `scale-in would remove every member of ${set.purpose === 'config' ? 'the config server replica set' : `replica set ${set.name}`}`,
          `keep at least one member; \`mup cluster destroy ${meta.name}\` removes a whole cluster`,
        );
      wholeShards.push(set.name);
      continue;
    }
    const voters = members.filter((m) => m.member?.votes === 1);
    const staying = voters.filter((m) => !ids.has(m.id));
    // The remaining voters must be a majority of today's: otherwise the members that leave could be the
    // ones holding the latest majority-committed writes.
    if (staying.length * 2 <= voters.length)
      refuse(
        `replica set ${set.name} would lose the majority of its voting members (${voters.length - staying.length} of ${voters.length} leave)`,
        'remove fewer members at a time, or add members first (`mup cluster scale-out`)',
      );
    const electable = members.filter((m) => !ids.has(m.id) && m.member && isElectable(m.member));
    if (electable.length === 0)
      refuse(
        `replica set ${set.name} would have no member left that can become primary`,
        'keep a data-bearing member with votes 1 and priority > 0',
      );
  }
  const shards = meta.topology.replicaSets.filter((s) => s.purpose === 'shard');
  if (shards.length > 0 && shards.every((s) => wholeShards.includes(s.name)))
    refuse('scale-in would remove every shard', 'keep at least one shard');
  return { instances: chosen, wholeShards };
}

/** The voters that stay must be reachable in a majority, or no reconfig can commit without the leavers. */
async function checkLiveMajority(rt: ClusterRuntime, a: ScaleInArgs): Promise<void> {
  const meta = rt.meta;
  const leaving = new Set(a.instances.map((i) => i.id));
  const sets = new Set(
    a.instances.flatMap((i) => (i.replicaSet && !a.wholeShards.includes(i.replicaSet) ? [i.replicaSet] : [])),
  );
  for (const set of sets) {
    const members = meta.topology.instances.filter((i) => i.replicaSet === set);
    const voters = members.filter((m) => m.member?.votes === 1 && !leaving.has(m.id));
    let up = 0;
    for (const voter of voters) {
      const ok = await adminCommand(rt.address(voter), { isMaster: 1 }, { timeoutMs: 3000 }).then(
        () => true,
        () => false,
      );
      if (ok) up++;
    }
    const needed = Math.floor(voters.length / 2) + 1;
    if (voters.length > 0 && up < needed)
      throw new MupError(
        `replica set ${set}: only ${up} of the ${voters.length} voting members that stay answer; ${needed} are needed to commit its new config`,
        {
          exitCode: ExitCode.usage,
          hint: `start the stopped members first (\`mup cluster start ${meta.name}\`)`,
        },
      );
  }
}

export const scaleInOperation = defineOperation({
  name: 'scale-in',
  args,
  confirm: 'plan',
  validate: (meta, a) => {
    const again = selectForScaleIn(meta, a.nodes);
    const same =
      again.instances.length === a.instances.length &&
      again.instances.every((i) => a.instances.some((s) => s.id === i.id));
    if (!same)
      throw new UsageError(
        `cluster '${meta.name}' changed while scale-in was being prepared`,
        'run scale-in again',
      );
  },
  gather: async (rt, a) => checkLiveMajority(rt, a),
  plan: (rt, a) =>
    buildScaleInPlan(rt, { instances: a.instances, wholeShards: a.wholeShards, keepData: a.keepData }),
  target: (rt, a) =>
    planTarget(rt.meta, withoutInstances(rt.meta.topology, new Set(a.instances.map((i) => i.id)))),
});

export interface ScaleInRequest {
  name: string;
  nodes: string[];
  keepData: boolean;
}

export interface ScaleInResult extends OperationOutcome {
  removedInstances: string[];
}

export async function scaleInCluster(
  request: ScaleInRequest,
  options: OperationOptions,
): Promise<ScaleInResult> {
  const store = new ClusterStore(options.home);
  store.clusterDir(request.name);
  if (!(await store.exists(request.name))) throw new ClusterNotFoundError(request.name);
  const meta = await store.read(request.name);
  const { instances, wholeShards } = selectForScaleIn(meta, request.nodes);
  const outcome = await applyOperation(
    scaleInOperation,
    request.name,
    { nodes: request.nodes, keepData: request.keepData, instances, wholeShards },
    options,
  );
  return {
    ...outcome,
    removedInstances: instances.map((i) => formatAddress({ host: i.host, port: i.port })),
  };
}
