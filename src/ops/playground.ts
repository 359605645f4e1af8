// `mup playground`: a local cluster in one command, on the same engine as `cluster deploy`. The topology is
// generated from the flags; everything lives under $MUP_HOME/playground/<cluster>, so destroy leaves nothing.
import { rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { BinaryEventListener } from '../binaries/events.js';
import { engineLabel } from '../binaries/simulator.js';
import { UsageError } from '../errors.js';
import { ClusterStore } from '../meta/store.js';
import { primaryUri } from '../mongo/uri.js';
import { type DeployResult, deployCluster } from './deploy.js';
import { destroyOperation } from './destroy.js';
import { applyOperation, type OperationOptions, type OperationOutcome } from './operation.js';
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
}

export const DEFAULT_PLAYGROUND_VERSION = '8.0';

export function playgroundName(tag?: string): string {
  return tag ? `playground-${tag}` : 'playground';
}

function localServers(count: number, extra: Record<string, unknown> = {}) {
  return Array.from({ length: count }, () => ({ host: 'localhost', port: 0, ...extra }));
}

/** The topology file a playground request stands for (also shown by --dry-run). */
export function playgroundTopology(request: PlaygroundRequest, deployDir: string): string {
  if (request.nodes < 1 || request.nodes > 50)
    throw new UsageError(`--nodes ${request.nodes}: a replica set has 1 to 50 members`);
  const spec: Record<string, unknown> = { global: { deploy_dir: deployDir } };
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

export interface PlaygroundStartResult extends Partial<DeployResult> {
  cluster: string;
  uri: string;
  /** True when an existing playground was started again rather than deployed. */
  restarted: boolean;
}

export async function startPlayground(
  request: PlaygroundRequest,
  options: OperationOptions,
): Promise<PlaygroundStartResult> {
  const name = playgroundName(request.tag);
  const store = new ClusterStore(options.home);
  if (await store.exists(name)) {
    const meta = await store.read(name);
    await applyOperation(startOperation, name, { selection: {} }, options);
    return {
      cluster: name,
      uri: primaryUri(meta.topology),
      variant: meta.variant,
      engine: engineLabel(meta.variant),
      restarted: true,
    };
  }
  const deployDir = join(options.home, 'playground', name);
  const result = await deployCluster(
    {
      name,
      topologyText: playgroundTopology(request, deployDir),
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
    },
    // The playground is the user's own throw-away cluster: no confirmation.
    { ...options, yes: true },
  );
  return { ...result, restarted: false };
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
