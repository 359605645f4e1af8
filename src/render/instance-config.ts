// One entry point per instance of a resolved topology: picks the mongod or mongos renderer and derives what
// they need from the topology (kind, the config servers' connection string), so deploy, reload and
// validation do not repeat that wiring.
import type { ResolvedInstance, ResolvedTopology } from '../topology/types.js';
import { type ConfigProblem, InstanceRenderError } from './config-problems.js';
import { type ClusterRenderContext, configDBString } from './context.js';
import { findMongodConfigProblems, renderMongodConfig } from './mongod-config.js';
import { findMongosConfigProblems, renderMongosConfig } from './mongos-config.js';

/** The cluster facts rendering needs besides the topology itself. */
export type ClusterSettings = Omit<ClusterRenderContext, 'topologyKind'>;

/** `sharding.configDB` of a sharded topology's mongos: the config server set and its members, in topology order. */
export function configDBOf(topology: ResolvedTopology): string | undefined {
  const configSet = topology.replicaSets.find((set) => set.purpose === 'config');
  return configSet === undefined ? undefined : configDBString(configSet.name, configSet.members);
}

function contextFor(topology: ResolvedTopology, cluster: ClusterSettings): ClusterRenderContext {
  return { ...cluster, topologyKind: topology.kind };
}

function mongosContext(instance: ResolvedInstance, topology: ResolvedTopology, cluster: ClusterSettings) {
  const configDB = configDBOf(topology);
  if (configDB === undefined) {
    throw new InstanceRenderError(
      instance.id,
      'a mongos needs the config server replica set of a sharded topology',
    );
  }
  return { ...contextFor(topology, cluster), configDB };
}

/** The text of `instance.configFile`. Throws ServerConfigError while the server config has problems. */
export function renderInstanceConfig(
  instance: ResolvedInstance,
  topology: ResolvedTopology,
  cluster: ClusterSettings,
): string {
  return instance.role === 'mongos'
    ? renderMongosConfig(instance, mongosContext(instance, topology, cluster))
    : renderMongodConfig(instance, contextFor(topology, cluster));
}

/** Problems that would stop the instance from starting or that mup would have to override; empty when fine. */
export function findInstanceConfigProblems(
  instance: ResolvedInstance,
  topology: ResolvedTopology,
  cluster: ClusterSettings,
): ConfigProblem[] {
  return instance.role === 'mongos'
    ? findMongosConfigProblems(instance, mongosContext(instance, topology, cluster))
    : findMongodConfigProblems(instance, contextFor(topology, cluster));
}

/** Every instance's problems, for validation before a deploy or reload; instances without problems are left out. */
export function findTopologyConfigProblems(
  topology: ResolvedTopology,
  cluster: ClusterSettings,
): Array<{ instanceId: string; problems: ConfigProblem[] }> {
  return topology.instances
    .map((instance) => ({
      instanceId: instance.id,
      problems: findInstanceConfigProblems(instance, topology, cluster),
    }))
    .filter((entry) => entry.problems.length > 0);
}
