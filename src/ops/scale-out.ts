// `mup cluster scale-out NAME PART`: the part file (topology format) is checked merged with the stored spec —
// positions point into the part — its ports pinned, and the operation journals that pinned part, so that a
// resume resolves the very same processes. Existing processes are never restarted.
import { z } from 'zod';
import { ExitCode, MupError, UsageError } from '../errors.js';
import { executorFor } from '../hosts/connect.js';
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
import { checkHostsReachable, checkPortsFree } from './preflight.js';
import type { ClusterRuntime } from './runtime.js';
import { checkScaleOutPart, mergeSpec, type ScaleOutTarget, scaleOutTarget } from './scale-spec.js';
import { setAddresses } from './steps/membership.js';

const args = z.object({ partFile: z.string(), part: topologySchema });

/** The merged topology still passes the rules (the cluster may have changed since the part was checked). */
function checkMerged(meta: ClusterMeta, part: z.infer<typeof args>['part'], file: string): void {
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
async function gatherTarget(rt: ClusterRuntime, part: z.infer<typeof args>['part']): Promise<ScaleOutTarget> {
  const meta = rt.meta;
  const target = await scaleOutTarget(meta, part);
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
  gather: (rt, a) => gatherTarget(rt, a.part),
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
  const checked = await checkScaleOutPart(meta, request.partText, request.partFile, {
    usedEndpoints: await usedEndpoints(store, request.name),
    isPortFree: (port) => local.isPortFree(port),
    ...(request.portBase === undefined ? {} : { portBase: request.portBase }),
  });
  const { added } = checked.target;
  await checkHostsReachable(
    checked.target.topology.hosts.filter((h) => added.some((i) => i.host === h.host)),
  );
  await checkPortsFree({ ...checked.target.topology, instances: added });
  await checkDataDirsFree(added, { cluster: request.name, home: options.home }, (host) =>
    executorFor({ host, local: true }),
  );
  for (const warning of checked.warnings) request.warn?.(warning);
  const outcome = await applyOperation(
    scaleOutOperation,
    request.name,
    { partFile: request.partFile, part: checked.part },
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
