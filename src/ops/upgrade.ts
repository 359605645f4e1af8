// `mup cluster upgrade NAME VERSION [--no-fcv]`: a rolling binary upgrade through every release series in
// between (4.4 → 5.0 → 6.0 → 7.0 → 8.0), each hop ending with setFeatureCompatibilityVersion — MongoDB opens
// data only at its own FCV or the previous series' — except the last one with --no-fcv (the rollback
// window; a later upgrade to the same version raises it). A binary downgrade is refused unless the FCV still
// allows the older binary (one series back, FCV not raised yet). The path, with each hop's exact version and
// binary dir, is computed once here and journaled, so resume continues in the hop it stopped in.
import { z } from 'zod';
import { MupError, UsageError } from '../errors.js';
import { type ClusterMeta, ClusterStore } from '../meta/store.js';
import { balancerEnabled, readFcv } from '../mongo/fcv.js';
import { findInstanceConfigProblems } from '../render/instance-config.js';
import { parseMongoVersion, VERSION_FAMILIES } from '../render/mongo-version.js';
import { resolveBinaries } from './binaries.js';
import { gatherFacts } from './facts.js';
import { defineOperation } from './operation.js';
import { planTarget } from './plan-target.js';
import { buildUpgradePlan } from './plans-upgrade.js';
import { ClusterRuntime, loadAuthSecrets } from './runtime.js';
import type { UpgradeHop } from './steps/upgrade.js';

const hopSchema = z.object({
  series: z.string(),
  version: z.string(),
  binaryDir: z.string(),
  expectFcv: z.string(),
  replace: z.boolean(),
  setFcv: z.boolean(),
});

const upgradeArgs = z.object({
  target: z.string(),
  noFcv: z.boolean(),
  hops: z.array(hopSchema).min(1),
  balancer: z.boolean(),
  mirror: z.string().optional(),
});
export type UpgradeArgs = z.infer<typeof upgradeArgs>;

function refusePending(meta: ClusterMeta): void {
  if (meta.pending)
    throw new UsageError(
      `cluster '${meta.name}' has edited configuration not applied yet`,
      `apply it with \`mup cluster reload ${meta.name}\` (or edit it back) before upgrading`,
    );
}

export const upgradeOperation = defineOperation({
  name: 'upgrade',
  args: upgradeArgs,
  confirm: 'plan',
  validate: (meta) => refusePending(meta),
  gather: (rt) => gatherFacts(rt),
  plan: (rt, args, facts) => buildUpgradePlan(rt, args, facts),
  target: (rt, args) =>
    planTarget({ ...rt.meta, version: args.hops.at(-1)?.version ?? rt.meta.version }, rt.meta.topology),
});

export interface UpgradeRequest {
  version: string;
  noFcv: boolean;
  mirror?: string | undefined;
}

const seriesIndex = (series: string) => (VERSION_FAMILIES as readonly string[]).indexOf(series);

/** The FCV the cluster runs at, read from its first data-bearing process that answers. */
async function liveFcv(
  meta: ClusterMeta,
  addressOf: (i: ClusterMeta['topology']['instances'][number]) => ReturnType<ClusterRuntime['address']>,
): Promise<string> {
  let lastError: unknown;
  for (const instance of meta.topology.instances) {
    if (instance.role === 'mongos' || instance.member?.arbiterOnly) continue;
    try {
      return await readFcv(addressOf(instance));
    } catch (error) {
      lastError = error;
    }
  }
  throw new MupError(`no mongod of cluster '${meta.name}' answered for its featureCompatibilityVersion`, {
    hint: `start the cluster (\`mup cluster start ${meta.name}\`) before upgrading it; last error: ${String(lastError)}`,
  });
}

/** Every option of the stored configs that the hop's version refuses, as one usage error. */
function checkConfigFor(meta: ClusterMeta, version: string): void {
  const problems = meta.topology.instances.flatMap((instance) =>
    findInstanceConfigProblems(instance, meta.topology, { clusterName: meta.name, version }).map(
      (p) => `${instance.id}: ${p.option} ${p.message}`,
    ),
  );
  if (problems.length > 0)
    throw new UsageError(
      `the configuration of cluster '${meta.name}' does not fit MongoDB ${version}:\n${problems.join('\n')}`,
      `change it with \`mup cluster edit-config ${meta.name}\` and \`mup cluster reload ${meta.name}\` first`,
    );
}

/**
 * The upgrade path from what runs now to `request.version`: hop by hop, each with its exact version and
 * binary dir (resolved from the release list without downloading; the plan fetches them). Refuses (exit 2,
 * nothing changed) downgrades the FCV does not allow, and configs a hop's version refuses.
 */
export async function planUpgradePath(
  home: string,
  name: string,
  request: UpgradeRequest,
): Promise<UpgradeArgs> {
  const store = new ClusterStore(home);
  const meta = await store.read(name);
  // The cluster's credentials (auth clusters): planning reads the FCV and the balancer state.
  const access = new ClusterRuntime(meta, store, '', await loadAuthSecrets(store, meta));
  const addressOf = (i: ClusterMeta['topology']['instances'][number]) => access.address(i);
  refusePending(meta);
  const current = parseMongoVersion(meta.version);
  const target = parseMongoVersion(request.version);
  const from = seriesIndex(current.family);
  const to = seriesIndex(target.family);
  const fcv = await liveFcv(meta, addressOf);
  const resolve = async (version: string) =>
    resolveBinaries({ version, variant: meta.variant, mirror: request.mirror }, home, { install: false });
  const hops: UpgradeHop[] = [];
  const replaceHop = async (series: string, version: string, expectFcv: string, setFcv: boolean) => {
    const binaries = await resolve(version);
    checkConfigFor(meta, binaries.version);
    hops.push({
      series,
      version: binaries.version,
      binaryDir: binaries.binaryDir,
      expectFcv,
      replace: true,
      setFcv,
    });
  };
  if (to < from) {
    // A newer binary opens data at its own FCV or the previous series'; only the latter lets the older one back.
    if (to !== from - 1 || fcv !== target.family)
      throw new UsageError(
        `cannot downgrade cluster '${name}' from ${meta.version} to ${request.version}: its featureCompatibilityVersion is ${fcv}`,
        fcv === current.family
          ? `MongoDB ${target.family} binaries cannot open data at FCV ${fcv}; a binary downgrade is possible only while the FCV is still the previous series (after \`upgrade --no-fcv\`), one series back`
          : 'a binary downgrade goes one release series back at a time',
      );
    await replaceHop(target.family, request.version, fcv, false);
  } else {
    let fcvNow = fcv;
    if (fcvNow !== current.family) {
      // Binaries of this series run at the previous FCV (an earlier --no-fcv): raise it first.
      if (seriesIndex(fcvNow) !== from - 1)
        throw new MupError(
          `cluster '${name}' runs ${meta.version} at featureCompatibilityVersion ${fcvNow}, which mup does not know how to continue from`,
          {
            hint: 'set the FCV to the running series by hand (setFeatureCompatibilityVersion), then upgrade',
          },
        );
      const last = to === from && target.core === current.core;
      hops.push({
        series: current.family,
        version: meta.version,
        binaryDir: meta.binaryDir,
        expectFcv: fcvNow,
        replace: false,
        setFcv: !(last && request.noFcv),
      });
      fcvNow = current.family;
    }
    if (to === from && target.core !== current.core) {
      const binaries = await resolve(request.version);
      if (binaries.version !== meta.version) {
        checkConfigFor(meta, binaries.version);
        hops.push({
          series: `${target.family}.patch`,
          version: binaries.version,
          binaryDir: binaries.binaryDir,
          expectFcv: fcvNow,
          replace: true,
          setFcv: false,
        });
      }
    }
    for (let n = from + 1; n <= to; n++) {
      const series = VERSION_FAMILIES[n] as string;
      const last = n === to;
      await replaceHop(
        series,
        last ? request.version : series,
        VERSION_FAMILIES[n - 1] as string,
        !(last && request.noFcv),
      );
    }
  }
  if (hops.length === 0)
    throw new UsageError(
      `cluster '${name}' already runs ${meta.version} at featureCompatibilityVersion ${fcv}`,
      'nothing to upgrade',
    );
  let balancer = false;
  const router = meta.topology.instances.find((i) => i.role === 'mongos');
  if (meta.topology.kind === 'sharded' && router) balancer = await balancerEnabled(addressOf(router));
  return {
    target: request.version,
    noFcv: request.noFcv,
    hops,
    balancer,
    ...(request.mirror === undefined ? {} : { mirror: request.mirror }),
  };
}
