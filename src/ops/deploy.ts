// `mup cluster deploy`: validate the topology, check the hosts, resolve binaries, then plan, confirm and apply
// through the one operation path (operation.ts) — the lock is taken before anything is checked against the
// store, so two deploys of one name never both proceed. Bad input exits 2 and changes nothing.

import { join } from 'node:path';
import { z } from 'zod';
import { engineLabel } from '../binaries/simulator.js';
import { UsageError } from '../errors.js';
import { executorFor } from '../hosts/connect.js';
import { localUidOf } from '../hosts/local.js';
import { ADMIN_USER, type AuthSecrets, generateAuthSecrets } from '../meta/auth-secrets.js';
import { pinPorts } from '../meta/migrations.js';
import { type ClusterMeta, ClusterStore } from '../meta/store.js';
import { connectionUris, primaryUri } from '../mongo/uri.js';
import { checkTopology, findServerOptionIssues, versionForChecks } from '../render/topology-check.js';
import { generateSupervisorCredentials } from '../supervisor/credentials.js';
import { type LoadedTopology, throwIfAny } from '../topology/load.js';
import type { TopologySpec } from '../topology/schema.js';
import type { ResolvedTopology } from '../topology/types.js';
import { type BinarySelection, resolveBinaries } from './binaries.js';
import {
  checkDataDirsFree,
  forgetKeptPorts,
  readKeptCa,
  readKeptPorts,
  readKeptSecrets,
} from './data-dirs.js';
import { usedEndpoints } from './endpoints.js';
import { refuseExposedWithoutAuth } from './exposure.js';
import {
  applyOperation,
  type ClusterSource,
  defineOperation,
  type OperationOptions,
  type OperationOutcome,
} from './operation.js';
import { buildDeployPlan } from './plans.js';
import {
  allocateSupervisorEndpoints,
  checkHostsReachable,
  checkPortsFree,
  checkRunAsUsers,
  checkSupervisorDirsFree,
  checkSupervisordPresent,
  hostOf,
} from './preflight.js';
import { KEYFILE_NAME, tlsClientOf } from './runtime.js';

export interface DeployRequest extends BinarySelection {
  name: string;
  /** Topology YAML text and the name used in its error messages. */
  topologyText: string;
  topologyFile: string;
  playground?: boolean;
  portBase?: number;
  /**
   * Register each host's supervisord with the host's init so that a reboot brings the members back
   * (default: yes, but never for a playground).
   */
  bootStart?: boolean;
  /** `--allow-root`: mongod and mongos may run as root. */
  allowRoot?: boolean;
  /**
   * Access control with a keyFile and an admin user (default on). Off only when asked: `--no-auth`
   * (`authOptOut`), or a playground without `--auth`.
   */
  auth?: boolean;
  /** `--no-auth` was given: an exposed bind address without auth is the user's explicit choice. */
  authOptOut?: boolean;
  /** `--tls`: TLS required on every port, as `global.tls: true` in the topology asks too. */
  tls?: boolean;
}

/** JSON shape of `mup cluster deploy --json` and `mup playground start --json` (schemaVersion 1). */
export interface DeployResult extends OperationOutcome {
  version: string;
  variant: string;
  /** What runs: "MongoDB", "Percona Server for MongoDB" or "simulator (not MongoDB)". */
  engine: string;
  kind: ResolvedTopology['kind'];
  uri: string;
  uris: { name: string; uri: string }[];
  /** host:dir of data dirs kept by `destroy --keep-data` of this cluster and taken back. */
  reusedData: string[];
  instances: { id: string; role: string; replicaSet?: string; program: string; port: number }[];
}

export const deployOperation = defineOperation({
  name: 'deploy',
  args: z.object({ topologyFile: z.string() }),
  confirm: 'plan',
  plan: (rt) => buildDeployPlan(rt),
  // The kept members' ports served their purpose once the cluster runs on them again.
  finish: (rt) => forgetKeptPorts(rt.store.home, rt.meta.name),
});

interface NewCluster {
  meta?: ClusterMeta;
  /** host:dir of kept data dirs this deploy takes back. */
  reusedData: string[];
}

/** Builds the new cluster's meta from the topology, after every check that needs no change; `found` keeps it. */
function newCluster(request: DeployRequest, options: OperationOptions, found: NewCluster): ClusterSource {
  return {
    creates: true,
    load: async (store: ClusterStore) => {
      const used = await usedEndpoints(store, request.name);
      const keptPorts = await readKeptPorts(options.home, request.name);
      const clash = keptPorts.filter((k) => used.some((u) => u.host === k.host && u.port === k.port));
      if (clash.length > 0)
        throw new UsageError(
          `the data kept by destroy --keep-data of ${request.name} belongs to ${clash.map((k) => `${k.host}:${k.port}`).join(', ')}, now used by another cluster`,
          'free that port (destroy or move the other cluster), or give this cluster other data dirs',
        );
      const local = executorFor({ host: 'localhost', local: true });
      // The same host-independent checks as `mup topology validate`, before anything is downloaded: against
      // the requested series now, against the exact version once the binaries are known.
      const given = request.binaryPath
        ? await resolveBinaries(request, options.home, { install: false })
        : undefined;
      const loaded = await checkTopology(request.topologyText, request.topologyFile, {
        version: given?.version ?? versionForChecks(request.version),
        uidOf: localUidOf,
        keptPorts,
        usedEndpoints: used,
        isPortFree: (port) => local.isPortFree(port),
        ...(request.portBase === undefined ? {} : { portBase: request.portBase }),
        ...(request.tls === true ? { tls: true } : {}),
      });
      const { spec, resolved } = loaded;
      const tls = tlsRequested(request, loaded);
      const remote = resolved.hosts.find((h) => !h.local);
      if (request.variant === 'simulator' && remote)
        throw new UsageError(
          `--simulator runs on this machine only, and ${remote.host} is a remote host`,
          'deploy the simulator to localhost, or deploy MongoDB (without --simulator) to remote hosts',
        );
      await checkHostsReachable(resolved.hosts);
      await checkSupervisorDirsFree(store, resolved, request.name);
      found.reusedData = await checkDataDirsFree(
        resolved.instances,
        { cluster: request.name, home: options.home },
        (host) => executorFor(hostOf(resolved, host)),
      );
      // Who the processes run as: before any download, after every check of the input itself.
      await checkRunAsUsers(resolved.hosts, { allowRoot: request.allowRoot === true });
      const binaries = given ?? (await resolveBinaries(request, options.home, { install: !options.dryRun }));
      throwIfAny(request.topologyFile, loaded, findServerOptionIssues(loaded, binaries.version, tls));
      const auth = request.auth ?? true;
      if (!auth && request.authOptOut !== true) refuseExposedWithoutAuth(resolved);
      await checkPortsFree(resolved);
      await checkSupervisordPresent(resolved.hosts);
      // Data kept by destroy --keep-data of a cluster with auth holds its admin user: the same secrets again.
      const kept =
        auth && found.reusedData.length > 0 ? await readKeptSecrets(options.home, request.name) : undefined;
      const authSecrets: AuthSecrets | undefined = auth ? (kept ?? generateAuthSecrets()) : undefined;
      const now = new Date().toISOString();
      const meta: ClusterMeta = {
        schemaVersion: 2,
        name: request.name,
        version: binaries.version,
        variant: binaries.variant,
        status: 'deploying',
        createdAt: now,
        updatedAt: now,
        binaryDir: binaries.binaryDir,
        // --tls is pinned as global.tls, so that the stored topology says what runs (show-config, edit-config).
        spec: tls ? withGlobalTls(pinPorts(spec, resolved)) : pinPorts(spec, resolved),
        topology: resolved,
        supervisors: await allocateSupervisorEndpoints(resolved, used),
        auth,
        ...(auth
          ? {
              security: {
                adminUser: ADMIN_USER,
                // Beside the host's supervisor.ini: removed with it by destroy, and one per cluster per host.
                keyFiles: resolved.hosts.map((h) => ({
                  host: h.host,
                  path: join(h.supervisorDir, KEYFILE_NAME),
                })),
              },
            }
          : {}),
        ...(tls ? { tls: true } : {}),
        ...(request.playground ? { playground: true } : {}),
        bootStart: request.bootStart ?? !request.playground,
      };
      found.meta = meta;
      const keptCa =
        tls && found.reusedData.length > 0 ? await readKeptCa(options.home, request.name) : undefined;
      return { meta, password: generateSupervisorCredentials().password, authSecrets, keptCa };
    },
  };
}

/** TLS from `--tls` or `global.tls: true`; `--tls` against an explicit `global.tls: false` is refused. */
function tlsRequested(request: DeployRequest, loaded: LoadedTopology): boolean {
  const written = loaded.spec.global?.tls;
  if (request.tls === true && written === false)
    throwIfAny(request.topologyFile, loaded, [
      {
        path: ['global', 'tls'],
        message:
          'is false, but --tls asks for TLS; set it to true or remove it, or deploy without --tls (TLS option)',
      },
    ]);
  return request.tls === true || written === true;
}

function withGlobalTls(spec: TopologySpec): TopologySpec {
  return { ...spec, global: { ...spec.global, tls: true } };
}

export async function deployCluster(
  request: DeployRequest,
  options: OperationOptions,
): Promise<DeployResult> {
  const found: NewCluster = { reusedData: [] };
  const outcome = await applyOperation(
    deployOperation,
    request.name,
    { topologyFile: request.topologyFile },
    options,
    newCluster(request, options, found),
  );
  const { meta } = found;
  if (meta === undefined) throw new Error('deploy ended without building the cluster');
  const resolved = meta.topology;
  // A TLS cluster's URIs carry the CA (no secret in it), so that they work as printed.
  const tls = tlsClientOf(new ClusterStore(options.home), meta);
  return {
    ...outcome,
    version: meta.version,
    variant: meta.variant,
    engine: engineLabel(meta.variant),
    kind: resolved.kind,
    uri: primaryUri(resolved, tls),
    uris: connectionUris(resolved, tls),
    reusedData: found.reusedData,
    instances: resolved.instances.map((i) => ({
      id: i.id,
      role: i.role,
      ...(i.replicaSet === undefined ? {} : { replicaSet: i.replicaSet }),
      program: i.programName,
      port: i.port,
    })),
  };
}
