// `mup playground`: a local cluster in one command, on the same engine as `cluster deploy`. The topology is
// generated from the flags; everything lives under $MUP_HOME/playground/<cluster>, so destroy leaves nothing.
import { rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { BinaryEventListener } from '../binaries/events.js';
import { checkBinaryPath } from '../binaries/index.js';
import { engineLabel } from '../binaries/simulator.js';
import { UsageError } from '../errors.js';
import { type ClusterMeta, ClusterStore } from '../meta/store.js';
import { primaryUri } from '../mongo/uri.js';
import { type DeployResult, deployCluster } from './deploy.js';
import { destroyOperation } from './destroy.js';
import { mongodArgsToConfig } from './mongod-args.js';
import { applyOperation, type OperationOptions, type OperationOutcome } from './operation.js';
import { tlsClientOf } from './runtime.js';
import { startOperation } from './start.js';

export type PlaygroundTopology = 'standalone' | 'replset' | 'sharded';

export interface PlaygroundRequest {
  tag?: string | undefined;
  version?: string | undefined;
  variant: 'mongodb' | 'percona' | 'simulator';
  topology: PlaygroundTopology;
  /** Members per replica set (replset) or per shard (sharded). */
  nodes: number;
  shards: number;
  configServers: number;
  mongos: number;
  arbiter: boolean;
  port: number;
  binaryPath?: string | undefined;
  mirror?: string | undefined;
  target?: string | undefined;
  onBinaryEvent?: BinaryEventListener | undefined;
  /** mongod options given after `--`, as on mongod's command line (see mongod-args.ts). */
  mongodArgs?: readonly string[] | undefined;
  /** The options the user wrote (the rest are defaults): only these must match an existing playground. */
  given?: ReadonlySet<PlaygroundOption> | undefined;
  /** `--allow-root`: a playground started by root runs its processes as root (refused otherwise). */
  allowRoot?: boolean;
  /** Access control as `cluster deploy` sets it up (off by default: a playground is for trying things). */
  auth?: boolean | undefined;
  /** TLS on every port with a CA and certificates made by mup, as `cluster deploy --tls` (off by default). */
  tls?: boolean | undefined;
}

/** Options that shape a playground: `start` on an existing one with other values refuses. */
export type PlaygroundOption =
  | 'topology'
  | 'version'
  | 'variant'
  | 'nodes'
  | 'shards'
  | 'configServers'
  | 'mongos'
  | 'arbiter';

export const DEFAULT_PLAYGROUND_VERSION = '8.0';

export function playgroundName(tag?: string): string {
  return tag ? `playground-${tag}` : 'playground';
}

function localServers(count: number, extra: Record<string, unknown> = {}) {
  return Array.from({ length: count }, () => ({ host: 'localhost', port: 0, ...extra }));
}

/**
 * A laptop cluster has no clients to drain: members and routers get 0.5 s of quiesce after SIGTERM instead of
 * MongoDB's 15 s (5.0+), so a rolling restart of a playground takes seconds. An option the user set wins.
 */
export const PLAYGROUND_QUIESCE_MS = 500;

/** The topology file a playground request stands for (also shown by --dry-run). */
export function playgroundTopology(request: PlaygroundRequest, deployDir: string, version?: string): string {
  if (request.nodes < 1 || request.nodes > 50)
    throw new UsageError(`--nodes ${request.nodes}: a replica set has 1 to 50 members`);
  const spec: Record<string, unknown> = { global: { deploy_dir: deployDir } };
  const serverConfigs = playgroundServerConfigs(request.mongodArgs ?? [], version);
  if (Object.keys(serverConfigs).length > 0) spec.server_configs = serverConfigs;
  const arbiter = request.arbiter ? [{ host: 'localhost', port: 0, arbiter_only: true }] : [];
  if (request.topology === 'standalone') {
    if (request.arbiter)
      throw new UsageError('--arbiter needs a replica set', 'use --topology replset or sharded');
    spec.mongod_servers = localServers(1);
  } else if (request.topology === 'replset') {
    spec.mongod_servers = [
      ...localServers(request.nodes, { replica_set: 'rs0' }),
      ...arbiter.map((a) => ({ ...a, replica_set: 'rs0' })),
    ];
  } else {
    if (request.shards < 1) throw new UsageError('--shards must be at least 1');
    if (request.configServers < 1) throw new UsageError('--config-servers must be at least 1');
    if (request.mongos < 1) throw new UsageError('--mongos must be at least 1');
    spec.config_servers = localServers(request.configServers, { replica_set: 'cfg' });
    spec.mongod_servers = Array.from({ length: request.shards }, (_, i) => [
      ...localServers(request.nodes, { replica_set: `shard${i + 1}` }),
      ...arbiter.map((a) => ({ ...a, replica_set: `shard${i + 1}` })),
    ]).flat();
    spec.mongos_servers = localServers(request.mongos);
  }
  return `# mup playground topology\n${stringify(spec)}`;
}

/** server_configs for mongod (and config servers) from the options after `--`, plus the short quiesce. */
function playgroundServerConfigs(args: readonly string[], version: string | undefined) {
  const mongod = mongodArgsToConfig(args);
  const configs: Record<string, Record<string, unknown>> = {};
  const quiesce = version !== undefined && atLeast(version, 5, 0);
  const withQuiesce = (config: Record<string, unknown>, parameter: string) => {
    if (!quiesce) return config;
    const setParameter = { ...((config.setParameter as Record<string, unknown> | undefined) ?? {}) };
    if (!(parameter in setParameter)) setParameter[parameter] = PLAYGROUND_QUIESCE_MS;
    return { ...config, setParameter };
  };
  const forMongod = withQuiesce(mongod, 'shutdownTimeoutMillisForSignaledShutdown');
  if (Object.keys(forMongod).length > 0) {
    // server_configs.mongod applies to config servers too.
    configs.mongod = forMongod;
  }
  if (quiesce) configs.mongos = withQuiesce({}, 'mongosShutdownTimeoutMillisForSignaledShutdown');
  return configs;
}

function atLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

export interface PlaygroundStartResult extends Partial<DeployResult> {
  cluster: string;
  uri: string;
  /** True when an existing playground was started again rather than deployed. */
  restarted: boolean;
  /** Ports the playground got where the requested ones were taken (a new playground only). */
  movedPorts?: { requested: number[]; used: number[] } | undefined;
}

export async function startPlayground(
  request: PlaygroundRequest,
  options: OperationOptions,
): Promise<PlaygroundStartResult> {
  const name = playgroundName(request.tag);
  const store = new ClusterStore(options.home);
  if (await store.exists(name)) {
    const meta = await store.read(name);
    refuseOtherShape(request, meta);
    await applyOperation(startOperation, name, { selection: {} }, options);
    return {
      cluster: name,
      uri: primaryUri(meta.topology, tlsClientOf(store, meta)),
      variant: meta.variant,
      engine: engineLabel(meta.variant),
      restarted: true,
    };
  }
  const deployDir = join(options.home, 'playground', name);
  // The version decides whether the short quiesce applies (5.0+); with --binary-path alone it is theirs.
  const version =
    request.version ??
    (request.binaryPath
      ? (await checkBinaryPath(request.binaryPath, undefined)).version
      : DEFAULT_PLAYGROUND_VERSION);
  const result = await deployCluster(
    {
      name,
      topologyText: playgroundTopology(request, deployDir, version),
      topologyFile: `<${name} topology>`,
      // With --binary-path alone, the version is what those binaries report.
      version: request.version ?? (request.binaryPath ? undefined : DEFAULT_PLAYGROUND_VERSION),
      variant: request.variant,
      binaryPath: request.binaryPath,
      mirror: request.mirror,
      target: request.target,
      onBinaryEvent: request.onBinaryEvent,
      playground: true,
      portBase: request.port,
      allowRoot: request.allowRoot === true,
      auth: request.auth === true,
      tls: request.tls === true,
    },
    // The playground is the user's own throw-away cluster: no confirmation.
    { ...options, yes: true },
  );
  const used = result.instances.map((i) => i.port);
  const requested = used.map((_, i) => request.port + i);
  const moved = used.some((port, i) => port !== requested[i]);
  return { ...result, restarted: false, ...(moved ? { movedPorts: { requested, used } } : {}) };
}

/** What an existing playground is, in the terms of `start`'s options. */
export function playgroundShape(meta: ClusterMeta): Record<PlaygroundOption, string | number | boolean> {
  const { topology } = meta;
  const sets = topology.replicaSets;
  const dataSets = sets.filter((s) => s.purpose !== 'config');
  const byId = new Map(topology.instances.map((i) => [i.id, i]));
  const voters = (members: string[]) => members.filter((id) => !byId.get(id)?.member?.arbiterOnly).length;
  const first = dataSets[0];
  return {
    topology: topology.kind,
    version: meta.version,
    variant: meta.variant,
    nodes: first ? voters(first.members) : 1,
    shards: sets.filter((s) => s.purpose === 'shard').length,
    configServers: sets.find((s) => s.purpose === 'config')?.members.length ?? 0,
    mongos: topology.instances.filter((i) => i.role === 'mongos').length,
    arbiter: topology.instances.some((i) => i.member?.arbiterOnly === true),
  };
}

const OPTION_FLAGS: Record<PlaygroundOption, string> = {
  topology: '--topology',
  version: '--version',
  variant: '--variant',
  nodes: '--nodes',
  shards: '--shards',
  configServers: '--config-servers',
  mongos: '--mongos',
  arbiter: '--arbiter',
};

/**
 * `start` on an existing playground starts it as it is: options that ask for another shape are refused
 * (exit 2) rather than silently ignored. Only options the user wrote count; shard options only for sharded.
 */
function refuseOtherShape(request: PlaygroundRequest, meta: ClusterMeta): void {
  const shape = playgroundShape(meta);
  const given = request.given ?? new Set<PlaygroundOption>();
  const sharded = (request.given?.has('topology') ? request.topology : shape.topology) === 'sharded';
  const differs: string[] = [];
  for (const option of given) {
    if (!sharded && (option === 'shards' || option === 'configServers' || option === 'mongos')) continue;
    const wanted = request[option];
    const has = shape[option];
    const same =
      option === 'version' ? has === wanted || String(has).startsWith(`${String(wanted)}.`) : has === wanted;
    if (!same)
      differs.push(
        `${OPTION_FLAGS[option]}${typeof wanted === 'boolean' ? '' : ` ${String(wanted)}`} (it has ${String(has)})`,
      );
  }
  if ((request.mongodArgs?.length ?? 0) > 0)
    differs.push('mongod options after -- (they apply when it is created)');
  if (differs.length === 0) return;
  const tag = request.tag ? ` --tag ${request.tag}` : '';
  throw new UsageError(
    `${meta.name} already exists as a ${describeShape(shape)}; start does not change it: ${differs.join(', ')}`,
    `run \`mup playground destroy${tag}\` first, or start another one beside it with --tag NAME`,
  );
}

function describeShape(shape: ReturnType<typeof playgroundShape>): string {
  const version = `MongoDB ${shape.version}`;
  if (shape.topology === 'standalone') return `standalone on ${version}`;
  if (shape.topology === 'replset') return `replica set of ${shape.nodes} members on ${version}`;
  return `sharded cluster (${shape.shards} shards of ${shape.nodes}, ${shape.configServers} config servers, ${shape.mongos} mongos) on ${version}`;
}

/** Destroys a playground without a typed confirmation and removes the playground dir once empty. */
export async function destroyPlayground(
  tag: string | undefined,
  options: OperationOptions,
): Promise<OperationOutcome> {
  const result = await applyOperation(destroyOperation, playgroundName(tag), { keepData: false }, options);
  await rmdir(join(options.home, 'playground')).catch(() => undefined);
  return result;
}
