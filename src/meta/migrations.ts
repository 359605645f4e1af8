// meta.yaml versions this mup reads, and how an older one becomes the current one. A migration runs on read
// and is written back by the next operation that stores meta; the file on disk is never rewritten just by
// reading it (a read-only command changes nothing).
import type { TopologySpec } from '../topology/schema.js';
import type { ResolvedInstance, ResolvedTopology } from '../topology/types.js';

/**
 * A v1 meta kept only the resolved topology. The spec rebuilt from it lists every instance with its own
 * directories, member options and merged config: it resolves to the same topology, so edit-config and
 * scale-out can work from it, though role-wide `server_configs` now sit in each instance's `config`.
 */
export function specFromResolved(topology: ResolvedTopology): TopologySpec {
  const server = (i: ResolvedInstance) => ({
    host: i.host,
    port: i.port,
    deploy_dir: i.deployDir,
    log_dir: i.logDir,
    config_dir: i.configDir,
    ...(Object.keys(i.serverConfig).length > 0 ? { config: i.serverConfig } : {}),
  });
  const member = (i: ResolvedInstance) => ({
    ...server(i),
    ...(i.dataDir === undefined ? {} : { data_dir: i.dataDir }),
    ...(i.replicaSet === undefined ? {} : { replica_set: i.replicaSet }),
    ...(i.member === undefined
      ? {}
      : {
          priority: i.member.priority,
          votes: i.member.votes,
          hidden: i.member.hidden,
          arbiter_only: i.member.arbiterOnly,
          secondary_delay_secs: i.member.secondaryDelaySecs,
          build_indexes: i.member.buildIndexes,
          ...(Object.keys(i.member.tags).length > 0 ? { tags: i.member.tags } : {}),
        }),
  });
  const [firstHost] = topology.hosts;
  const byRole = (role: ResolvedInstance['role']) => topology.instances.filter((i) => i.role === role);
  const settings = Object.fromEntries(
    topology.replicaSets.filter((s) => Object.keys(s.settings).length > 0).map((s) => [s.name, s.settings]),
  );
  const spec: TopologySpec = {
    global: {
      ...(firstHost ? { deploy_dir: parentOf(firstHost.supervisorDir) } : {}),
    },
    ...(Object.keys(settings).length > 0 ? { replica_set_settings: settings } : {}),
    ...(byRole('config').length > 0 ? { config_servers: byRole('config').map(member) } : {}),
    ...(byRole('mongod').length > 0 ? { mongod_servers: byRole('mongod').map(member) } : {}),
    ...(byRole('mongos').length > 0 ? { mongos_servers: byRole('mongos').map(server) } : {}),
  };
  return spec;
}

function parentOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

/** Pins allocated ports into the spec as written: `port: 0` entries get the port they were given. */
export function pinPorts(spec: TopologySpec, topology: ResolvedTopology): TopologySpec {
  const pin = <T extends { host: string; port: number }>(
    servers: T[] | undefined,
    role: ResolvedInstance['role'],
  ) => {
    if (servers === undefined) return undefined;
    const allocated = topology.instances.filter((i) => i.role === role);
    return servers.map((server, index) =>
      server.port === 0 ? { ...server, port: allocated[index]?.port ?? 0 } : server,
    );
  };
  const config = pin(spec.config_servers, 'config');
  const mongod = pin(spec.mongod_servers, 'mongod');
  const mongos = pin(spec.mongos_servers, 'mongos');
  return {
    ...spec,
    ...(config === undefined ? {} : { config_servers: config }),
    ...(mongod === undefined ? {} : { mongod_servers: mongod }),
    ...(mongos === undefined ? {} : { mongos_servers: mongos }),
  };
}
