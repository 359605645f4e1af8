// Resolved instances for the mongod/mongos config tests, written by hand as resolveTopology would produce
// them: the five roles of PRODUCT.md §4's examples (local standalone and replica set, remote sharded parts).
import type { ClusterRenderContext, MongosRenderContext } from '../../src/render/context.js';
import type { ResolvedInstance, Role } from '../../src/topology/types.js';

export const ROLES = ['standalone', 'replset', 'config', 'shard', 'mongos'] as const;
export type FixtureRole = (typeof ROLES)[number];

/** The newest patch of each family at the time of writing; Percona and rapid releases are tested separately. */
export const FAMILY_VERSIONS = {
  '3.6': '3.6.23',
  '4.0': '4.0.28',
  '4.2': '4.2.25',
  '4.4': '4.4.29',
  '5.0': '5.0.31',
  '6.0': '6.0.20',
  '7.0': '7.0.14',
  '8.0': '8.0.4',
} as const;

const MEMBER = {
  priority: 1,
  votes: 1,
  hidden: false,
  arbiterOnly: false,
  secondaryDelaySecs: 0,
  buildIndexes: true,
  tags: {},
};

interface InstanceSpec {
  role: Role;
  host: string;
  port: number;
  local: boolean;
  deployRoot: string;
  replicaSet?: string;
  serverConfig?: Record<string, unknown>;
}

export function resolvedInstance(spec: InstanceSpec): ResolvedInstance {
  const programName = `${spec.role}-${spec.port}`;
  const deployDir = `${spec.deployRoot}/${programName}`;
  const logDir = `${deployDir}/log`;
  const configDir = `${deployDir}/conf`;
  return {
    id: `${spec.host}:${spec.port}`,
    role: spec.role,
    host: spec.host,
    port: spec.port,
    portAllocated: false,
    local: spec.local,
    ...(spec.replicaSet === undefined ? {} : { replicaSet: spec.replicaSet, member: { ...MEMBER } }),
    programName,
    deployDir,
    ...(spec.role === 'mongos' ? {} : { dataDir: `${deployDir}/data` }),
    logDir,
    configDir,
    configFile: `${configDir}/${spec.role}.conf`,
    logFile: `${logDir}/${spec.role}.log`,
    outputFile: `${logDir}/${programName}.out`,
    pidFile: `${deployDir}/${spec.role}.pid`,
    binDir: `${deployDir}/bin`,
    serverConfig: spec.serverConfig ?? {},
  };
}

const LOCAL_ROOT = '/home/dev/mongo-deploy';
const REMOTE_ROOT = '/home/mongodb/mongo-deploy';

/** One instance per role; the replica set and shard carry a cache size from server_configs. */
export function fixtureInstance(role: FixtureRole): ResolvedInstance {
  switch (role) {
    case 'standalone':
      return resolvedInstance({
        role: 'mongod',
        host: 'localhost',
        port: 27017,
        local: true,
        deployRoot: LOCAL_ROOT,
      });
    case 'replset':
      return resolvedInstance({
        role: 'mongod',
        host: 'localhost',
        port: 30001,
        local: true,
        deployRoot: LOCAL_ROOT,
        replicaSet: 'rs0',
        serverConfig: { 'storage.wiredTiger.engineConfig.cacheSizeGB': 1 },
      });
    case 'config':
      return resolvedInstance({
        role: 'config',
        host: '10.0.1.1',
        port: 27019,
        local: false,
        deployRoot: REMOTE_ROOT,
        replicaSet: 'cfg',
      });
    case 'shard':
      return resolvedInstance({
        role: 'mongod',
        host: '10.0.1.2',
        port: 27018,
        local: false,
        deployRoot: REMOTE_ROOT,
        replicaSet: 'shard1',
        serverConfig: { storage: { wiredTiger: { engineConfig: { cacheSizeGB: 2 } } } },
      });
    case 'mongos':
      return resolvedInstance({
        role: 'mongos',
        host: '10.0.1.5',
        port: 27017,
        local: false,
        deployRoot: REMOTE_ROOT,
      });
  }
}

export function clusterContext(version: string, role: FixtureRole): ClusterRenderContext {
  const topologyKind = role === 'standalone' ? 'standalone' : role === 'replset' ? 'replset' : 'sharded';
  return { clusterName: 'prod', version, topologyKind };
}

export function mongosContext(version: string): MongosRenderContext {
  return {
    ...clusterContext(version, 'mongos'),
    configDB: 'cfg/10.0.1.1:27019,10.0.1.3:27019,10.0.1.4:27019',
  };
}

/** A copy of `base` with another server config (as resolveTopology would produce after merging). */
export function withServerConfig(
  base: ResolvedInstance,
  serverConfig: Record<string, unknown>,
): ResolvedInstance {
  return { ...base, serverConfig };
}
