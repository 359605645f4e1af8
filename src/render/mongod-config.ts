// mongod.conf for a standalone server, a replica-set member, a shard member or a config server.
import type { ResolvedInstance } from '../topology/types.js';
import { COMMON_OWNED_KEYS, type ComposedConfig, composeConfig, renderComposed } from './compose.js';
import { type ConfigProblem, InstanceRenderError } from './config-problems.js';
import type { ClusterRenderContext } from './context.js';
import { isAtLeast, type MongoVersion, parseMongoVersion } from './mongo-version.js';
import {
  type NetSection,
  netSection,
  type ProcessManagementSection,
  processManagementSection,
  type SecuritySection,
  type SystemLogSection,
  securitySection,
  systemLogSection,
} from './sections.js';

export interface MongodStorageSection {
  dbPath: string;
  journal?: { enabled: true };
}

export interface MongodConfigFile {
  systemLog: SystemLogSection;
  processManagement: ProcessManagementSection;
  net: NetSection;
  security?: SecuritySection;
  storage: MongodStorageSection;
  replication?: { replSetName: string };
  sharding?: { clusterRole: 'configsvr' | 'shardsvr' };
}

/** Set by mup from the topology: a user value that differs is an error (the topology is the place to change them). */
export const MONGOD_OWNED_KEYS: readonly string[] = [
  ...COMMON_OWNED_KEYS,
  'storage.dbPath',
  'replication.replSetName',
  'sharding.clusterRole',
  'security.authorization',
];

/** mup's part of the config: what the topology and the cluster determine, before the user's settings. */
export function buildMongodConfig(
  instance: ResolvedInstance,
  cluster: ClusterRenderContext,
): MongodConfigFile {
  const version = parseMongoVersion(cluster.version);
  if (instance.role === 'mongos') throw new InstanceRenderError(instance.id, 'a mongos has no mongod config');
  if (instance.dataDir === undefined)
    throw new InstanceRenderError(instance.id, 'a mongod needs a data directory');

  const config: MongodConfigFile = {
    systemLog: systemLogSection(instance),
    processManagement: processManagementSection(instance),
    net: netSection(instance, version, cluster.tls),
    storage: storageSection(instance.dataDir, version),
  };
  const security = securitySection(cluster.security, 'mongod');
  if (security !== undefined) config.security = security;
  if (instance.replicaSet !== undefined) config.replication = { replSetName: instance.replicaSet };
  const clusterRole = clusterRoleOf(instance, cluster);
  if (clusterRole !== undefined) config.sharding = { clusterRole };
  return config;
}

// storage.journal.enabled was removed in 6.1 (mongod 7.0/8.0 exit 2 on it); before that mup states it,
// since a replica-set member must journal.
function storageSection(dbPath: string, version: MongoVersion): MongodStorageSection {
  return isAtLeast(version, '6.1.0') ? { dbPath } : { dbPath, journal: { enabled: true } };
}

/**
 * Config servers run with `configsvr`, and every member of a sharded cluster's data replica sets with
 * `shardsvr`. Both must be replica-set members: mongod exits 2 on a standalone configsvr, and on a
 * standalone shardsvr from 5.0.3.
 */
function clusterRoleOf(
  instance: ResolvedInstance,
  cluster: ClusterRenderContext,
): 'configsvr' | 'shardsvr' | undefined {
  const sharded = instance.role === 'config' || cluster.topologyKind === 'sharded';
  if (!sharded) return undefined;
  if (instance.replicaSet === undefined) {
    throw new InstanceRenderError(
      instance.id,
      'config servers and shard members must belong to a replica set',
    );
  }
  return instance.role === 'config' ? 'configsvr' : 'shardsvr';
}

/** mup's settings for the instance merged with its server config, and what stands in the way of rendering it. */
export function composeMongod(instance: ResolvedInstance, cluster: ClusterRenderContext): ComposedConfig {
  return composeConfig({
    process: 'mongod',
    instance,
    cluster,
    base: buildMongodConfig(instance, cluster),
    owned: MONGOD_OWNED_KEYS,
  });
}

/**
 * Everything in the instance's server config that would stop its mongod from starting or that mup would
 * have to override: run it during validation, before anything is deployed. Empty means renderable.
 */
export function findMongodConfigProblems(
  instance: ResolvedInstance,
  cluster: ClusterRenderContext,
): ConfigProblem[] {
  return composeMongod(instance, cluster).problems;
}

/** The mongod.conf text for `instance.configFile`. Throws ServerConfigError while any problem remains. */
export function renderMongodConfig(instance: ResolvedInstance, cluster: ClusterRenderContext): string {
  return renderComposed(instance, cluster.clusterName, composeMongod(instance, cluster));
}
