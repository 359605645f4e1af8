// `mup cluster scale-out NAME PART`: the part file (topology format) is checked merged with the stored spec —
// positions point into the part — its ports pinned, and the operation journals that pinned part, so that a
// resume resolves the very same processes. Existing processes are never restarted. A host the cluster does not
// run on yet passes deploy's host checks first and gets a supervisor API port, journaled with the part.
import { z } from 'zod';
import { ExitCode, MupError, UsageError } from '../errors.js';
import { executorFor } from '../hosts/connect.js';
import { supervisorEndpointSchema } from '../meta/schema.js';
import { type ClusterMeta, ClusterNotFoundError, ClusterStore } from '../meta/store.js';
import { hello } from '../mongo/connect.js';
import { findPrimary } from '../mongo/reconfig.js';
import { checkRules } from '../topology/rules.js';
import { topologySchema } from '../topology/schema.js';
import { kindOf } from '../topology/servers.js';
import { checkDataDirsFree } from './data-dirs.js';
import { usedEndpoints } from './endpoints.js';
import {
  applyOperation,
  defineOperation,
  type OperationOptions,
  type OperationOutcome,
} from './operation.js';
import { planTarget } from './plan-target.js';
import { buildScaleOutPlan } from './plans-scale.js';
import {
  allocateSupervisorEndpoints,
  checkHostsReachable,
  checkPortsFree,
  checkRunAsUsers,
  checkSupervisorDirsFree,
  checkSupervisordPresent,
  hostOf,
} from './preflight.js';
import type { ClusterRuntime } from './runtime.js';
import { checkScaleOutPart, mergeSpec, type ScaleOutTarget, scaleOutTarget } from './scale-spec.js';
import { setAddresses } from './steps/membership.js';

const args = z.object({
  partFile: z.string(),
  part: topologySchema,
  /** Supervisor API endpoints of the hosts new to the cluster, chosen before the run: a resume reuses them. */
  hosts: z.array(supervisorEndpointSchema).default([]),
});
type ScaleOutArgs = z.infer<typeof args>;

/** The merged topology still passes the rules (the cluster may have changed since the part was checked). */
function checkMerged(meta: ClusterMeta, part: ScaleOutArgs['part'], file: string): void {
  const { merged } = mergeSpec(meta.spec, part, true);
  const problems = checkRules(merged).map((i) => `${i.path.join('.')}: ${i.message}`);
  if (kindOf(merged) !== meta.topology.kind) problems.push(`scale-out cannot change the cluster's kind`);
  if (problems.length > 0)
    throw new UsageError(
      `${file} no longer fits cluster '${meta.name}':\n${problems.join('\n')}`,
      'check the part against `mup cluster display` and run scale-out again',
    );
}

/** Live conditions: every set that gains members has a primary, and a new shard has a mongos to join through. */
async function gatherTarget(rt: ClusterRuntime, a: ScaleOutArgs): Promise<ScaleOutTarget> {
  const meta = rt.meta;
  const target = await scaleOutTarget(meta, a.part, a.hosts);
  const unplaced = target.newHosts.filter((h) => !a.hosts.some((e) => e.host === h.host));
  if (unplaced.length > 0)
    throw new MupError(
      `no supervisor endpoint was chosen for ${unplaced.map((h) => h.host).join(', ')}, new to cluster '${meta.name}'`,
      {
        exitCode: ExitCode.usage,
        hint: 'run scale-out again (not resume) so that the new hosts are prepared',
      },
    );
  const joined = new Set(
    target.added.flatMap((i) =>
      i.replicaSet && !target.newSets.includes(i.replicaSet) ? [i.replicaSet] : [],
    ),
  );
  for (const set of joined) {
    if (!(await findPrimary(setAddresses(rt, set), 10_000)))
      throw new MupError(`replica set ${set} has no primary: new members cannot join it now`, {
        exitCode: ExitCode.usage,
        hint: `start the cluster (\`mup cluster start ${meta.name}\`) and check \`mup cluster display ${meta.name}\``,
      });
  }
  const router = meta.topology.instances.find((i) => i.role === 'mongos');
  if (target.newSets.length > 0 && meta.topology.kind === 'sharded') {
    const up = router
      ? await hello(rt.address(router), { timeoutMs: 3000 }).then(
          () => true,
          () => false,
        )
      : false;
    if (!up)
      throw new MupError(
        `mongos ${router?.id ?? '(none)'} does not answer: new shards are added through it`,
        {
          exitCode: ExitCode.usage,
          hint: `start the cluster (\`mup cluster start ${meta.name}\`) first`,
        },
      );
  }
  return target;
}

export const scaleOutOperation = defineOperation({
  name: 'scale-out',
  args,
  confirm: 'plan',
  validate: (meta, a) => checkMerged(meta, a.part, a.partFile),
  gather: (rt, a) => gatherTarget(rt, a),
  plan: (rt, _a, target) => buildScaleOutPlan(rt, target),
  target: (rt, _a, target) => planTarget(rt.meta, target.topology),
});

export interface ScaleOutRequest {
  name: string;
  partText: string;
  partFile: string;
  portBase?: number;
  /** Told about sets that end with an even number of voters, before the plan is confirmed. */
  warn?: (text: string) => void;
}

export interface ScaleOutResult extends OperationOutcome {
  added: { id: string; role: string; replicaSet?: string; program: string }[];
  warnings: string[];
}

export async function scaleOutCluster(
  request: ScaleOutRequest,
  options: OperationOptions,
): Promise<ScaleOutResult> {
  const store = new ClusterStore(options.home);
  store.clusterDir(request.name);
  if (!(await store.exists(request.name))) throw new ClusterNotFoundError(request.name);
  const meta = await store.read(request.name);
  const local = executorFor({ host: 'localhost', local: true });
  const used = await usedEndpoints(store, request.name);
  const checked = await checkScaleOutPart(meta, request.partText, request.partFile, {
    usedEndpoints: used,
    isPortFree: (port) => local.isPortFree(port),
    ...(request.portBase === undefined ? {} : { portBase: request.portBase }),
  });
  const { added, topology, newHosts } = checked.target;
  await checkHostsReachable(topology.hosts.filter((h) => added.some((i) => i.host === h.host)));
  // A host new to the cluster passes deploy's checks of a host (its supervisor dir free, supervisord there).
  await checkSupervisorDirsFree(store, { ...topology, hosts: newHosts }, request.name);
  // Root was allowed at deploy (--allow-root) when the cluster already runs its processes as root somewhere.
  await checkRunAsUsers(newHosts, { allowRoot: meta.topology.hosts.some((h) => h.user === 'root') });
  await checkSupervisordPresent(newHosts);
  await checkPortsFree({ ...topology, instances: added });
  await checkDataDirsFree(added, { cluster: request.name, home: options.home }, (host) =>
    executorFor(hostOf(topology, host)),
  );
  const own = meta.supervisors.map((s) => ({ host: s.host, port: s.httpPort, cluster: request.name }));
  const hosts = await allocateSupervisorEndpoints({ ...topology, hosts: newHosts }, [...used, ...own]);
  for (const warning of checked.warnings) request.warn?.(warning);
  const outcome = await applyOperation(
    scaleOutOperation,
    request.name,
    { partFile: request.partFile, part: checked.part, hosts },
    options,
  );
  return {
    ...outcome,
    added: added.map((i) => ({
      id: i.id,
      role: i.role,
      ...(i.replicaSet === undefined ? {} : { replicaSet: i.replicaSet }),
      program: i.programName,
    })),
    warnings: checked.warnings,
  };
}
