// One entry point per instance of a resolved topology: picks the mongod or mongos renderer and derives what
// they need from the topology (kind, the config servers' connection string), so deploy, reload and
// validation do not repeat that wiring.
import type { ResolvedInstance, ResolvedTopology } from '../topology/types.js';
import { type ComposedConfig, renderComposed } from './compose.js';
import { type ConfigProblem, InstanceRenderError } from './config-problems.js';
import { type ClusterRenderContext, configDBString } from './context.js';
import { composeMongod } from './mongod-config.js';
import { composeMongos } from './mongos-config.js';

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

function composeInstance(
  instance: ResolvedInstance,
  topology: ResolvedTopology,
  cluster: ClusterSettings,
): ComposedConfig {
  return instance.role === 'mongos'
    ? composeMongos(instance, mongosContext(instance, topology, cluster))
    : composeMongod(instance, contextFor(topology, cluster));
}

/** The text of `instance.configFile`. Throws ServerConfigError while the server config has problems. */
export function renderInstanceConfig(
  instance: ResolvedInstance,
  topology: ResolvedTopology,
  cluster: ClusterSettings,
): string {
  return renderComposed(instance, cluster.clusterName, composeInstance(instance, topology, cluster));
}

/** Problems that would stop the instance from starting or that mup would have to override; empty when fine. */
export function findInstanceConfigProblems(
  instance: ResolvedInstance,
  topology: ResolvedTopology,
  cluster: ClusterSettings,
): ConfigProblem[] {
  return composeInstance(instance, topology, cluster).problems;
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
