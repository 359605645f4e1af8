// mongos.conf: a query router that keeps no data and finds the cluster through the config server replica set.
import type { ResolvedInstance } from '../topology/types.js';
import { COMMON_OWNED_KEYS, type ComposedConfig, composeConfig, renderComposed } from './compose.js';
import { type ConfigProblem, InstanceRenderError } from './config-problems.js';
import type { MongosRenderContext } from './context.js';
import { parseMongoVersion } from './mongo-version.js';
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

export interface MongosConfigFile {
  systemLog: SystemLogSection;
  // processManagement is a general server option: mongos has --fork and --pidfilepath as mongod does.
  processManagement: ProcessManagementSection;
  net: NetSection;
  security?: SecuritySection;
  sharding: { configDB: string };
}

export const MONGOS_OWNED_KEYS: readonly string[] = [...COMMON_OWNED_KEYS, 'sharding.configDB'];

// `<setName>/host:port[,host:port...]`: the config servers are a replica set since 3.4, and the old mirrored
// form without a set name was removed then (MongoDB 5.0 release notes: mongos --configdb needs the replica-set form).
const CONFIG_DB_PATTERN = /^[^/\s,]+\/[^/\s,]+:\d+(,[^/\s,]+:\d+)*$/;

export function buildMongosConfig(
  instance: ResolvedInstance,
  cluster: MongosRenderContext,
): MongosConfigFile {
  const version = parseMongoVersion(cluster.version);
  if (instance.role !== 'mongos')
    throw new InstanceRenderError(instance.id, `a ${instance.role} has no mongos config`);
  if (!CONFIG_DB_PATTERN.test(cluster.configDB)) {
    throw new InstanceRenderError(
      instance.id,
      `sharding.configDB "${cluster.configDB}" is not <configReplicaSet>/host:port,host:port`,
    );
  }
  const config: MongosConfigFile = {
    systemLog: systemLogSection(instance),
    processManagement: processManagementSection(instance),
    net: netSection(instance, version, cluster.tls),
    sharding: { configDB: cluster.configDB },
  };
  const security = securitySection(cluster.security, 'mongos');
  if (security !== undefined) config.security = security;
  return config;
}

/** mup's settings for the instance merged with its server config, and what stands in the way of rendering it. */
export function composeMongos(instance: ResolvedInstance, cluster: MongosRenderContext): ComposedConfig {
  return composeConfig({
    process: 'mongos',
    instance,
    cluster,
    base: buildMongosConfig(instance, cluster),
    owned: MONGOS_OWNED_KEYS,
  });
}

/** Problems in the instance's server config that would stop its mongos or that mup would have to override. */
export function findMongosConfigProblems(
  instance: ResolvedInstance,
  cluster: MongosRenderContext,
): ConfigProblem[] {
  return composeMongos(instance, cluster).problems;
}

/** The mongos.conf text for `instance.configFile`. Throws ServerConfigError while any problem remains. */
export function renderMongosConfig(instance: ResolvedInstance, cluster: MongosRenderContext): string {
  return renderComposed(instance, cluster.clusterName, composeMongos(instance, cluster));
}
