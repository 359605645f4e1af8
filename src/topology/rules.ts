// Cross-field rules of a topology that passed the schema: unique endpoints and dirs, the topology kind and
// sharding, replica_set_settings targets and server configs. Replica-set rules are in replica-set-rules.ts.
import { posix } from 'node:path';
import { endpoint, isLocalHost } from './hosts.js';
import { formatPath, type TopologyIssue } from './issues.js';
import { checkDirValues } from './path-rules.js';
import { checkReplicaSet, checkSetNames, groupReplicaSets } from './replica-set-rules.js';
import type { TopologySpec } from './schema.js';
import { expandServerConfig } from './server-config.js';
import { kindOf, listServers, MEMBER_OPTION_KEYS, pathOf, type ServerEntry } from './servers.js';
import type { ResolvedTopology } from './types.js';

/** A host:port already taken by another cluster mup manages. */
export interface UsedEndpoint {
  host: string;
  port: number;
  cluster: string;
}

/**
 * The endpoints of the clusters mup already manages — their processes and their supervisord APIs — for
 * RuleOptions.usedEndpoints (deploy, scale-out) and for choosing a supervisor port.
 */
export function usedEndpointsOf(
  clusters: readonly {
    name: string;
    topology: ResolvedTopology;
    supervisors?: readonly { host: string; httpPort: number }[];
  }[],
): UsedEndpoint[] {
  return clusters.flatMap(({ name, topology, supervisors = [] }) => [
    ...topology.instances.map((instance) => ({ host: instance.host, port: instance.port, cluster: name })),
    ...supervisors.map((s) => ({ host: s.host, port: s.httpPort, cluster: name })),
  ]);
}

export interface RuleOptions {
  usedEndpoints?: readonly UsedEndpoint[];
}

export function checkRules(spec: TopologySpec, options: RuleOptions = {}): TopologyIssue[] {
  const servers = listServers(spec);
  const issues: TopologyIssue[] = [];
  if ((spec.mongod_servers ?? []).length === 0 && (spec.config_servers ?? []).length === 0) {
    issues.push({
      path: ['mongod_servers'],
      message: 'a topology needs at least one mongod server (servers)',
    });
  }
  issues.push(...checkPorts(servers, options.usedEndpoints ?? []));
  issues.push(...checkDirs(servers));
  issues.push(...checkDirValues(spec));
  issues.push(...checkLocalNames(servers));
  issues.push(...checkKind(spec, servers));
  issues.push(...checkSetNames(servers));
  for (const set of groupReplicaSets(servers)) issues.push(...checkReplicaSet(set, spec));
  issues.push(...checkSettingsTargets(spec, servers));
  issues.push(...checkServerConfigs(spec));
  return issues;
}

/** Same machine, same port: every loopback name is this machine, so `localhost` and `127.0.0.1` collide. */
function endpointKey(entry: { host: string; port: number; local: boolean }): string {
  return entry.local ? `local:${entry.port}` : `${entry.host.toLowerCase()}:${entry.port}`;
}

function checkPorts(servers: readonly ServerEntry[], used: readonly UsedEndpoint[]): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const seen = new Map<string, ServerEntry>();
  const usedByKey = new Map(used.map((u) => [endpointKey({ ...u, local: isLocalHost(u.host) }), u] as const));
  for (const server of servers) {
    const portPath = [...pathOf(server), 'port'];
    if (server.port === 0) {
      if (!server.local) {
        issues.push({
          path: portPath,
          message: `port 0 (allocate a free port) works only on local hosts; ${server.host} is remote (port allocation)`,
        });
      }
      continue;
    }
    const key = endpointKey(server);
    const here = endpoint(server.host, server.port);
    const first = seen.get(key);
    if (first) {
      const there = endpoint(first.host, first.port);
      const alias = there === here ? '' : ` at ${there}, the same machine`;
      issues.push({
        path: portPath,
        message: `${here} is already used by ${formatPath(pathOf(first))}${alias} (unique host:port)`,
      });
      continue;
    }
    seen.set(key, server);
    const other = usedByKey.get(key);
    if (other) {
      issues.push({
        path: portPath,
        message: `${here} is already used by cluster "${other.cluster}" (unique host:port across clusters)`,
      });
    }
  }
  return issues;
}

const DIR_KEYS = ['deploy_dir', 'data_dir', 'log_dir', 'config_dir'] as const;

/** A normalized path without trailing slashes, for comparing dirs. */
function clean(path: string): string {
  return posix.normalize(path).replace(/(.)\/+$/, '$1');
}

/**
 * Two instances on one machine must not share an explicitly given dir: they would share mongod.lock, the log
 * file or the config file. Relative data/log/config dirs are under distinct deploy dirs, so only absolute
 * ones (and deploy dirs, which are relative to the home) can collide.
 */
function checkDirs(servers: readonly ServerEntry[]): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const seen = new Map<string, ServerEntry>();
  for (const server of servers) {
    const machine = server.local ? 'local' : server.host.toLowerCase();
    for (const key of DIR_KEYS) {
      const value = (server.spec as Partial<Record<(typeof DIR_KEYS)[number], string>>)[key];
      if (value === undefined) continue;
      const fromHome = value === '~' || value.startsWith('~/');
      if (!posix.isAbsolute(value) && !fromHome && key !== 'deploy_dir') continue;
      const where = posix.isAbsolute(value) ? clean(value) : `~/${clean(value.replace(/^~\/?/, '') || '.')}`;
      const id = `${machine}|${key}|${where}`;
      const first = seen.get(id);
      if (first) {
        issues.push({
          path: [...pathOf(server), key],
          message: `${value} is also the ${key} of ${formatPath(pathOf(first))} on the same host; each instance needs its own (unique dirs)`,
        });
      } else {
        seen.set(id, server);
      }
    }
  }
  return issues;
}

/**
 * Every loopback name is this machine, which gets one supervisord per cluster: mixing `localhost` and
 * `127.0.0.1` would make two hosts share one supervisor dir.
 */
function checkLocalNames(servers: readonly ServerEntry[]): TopologyIssue[] {
  const first = servers.find((s) => s.local);
  if (!first) return [];
  return servers
    .filter((s) => s.local && s.host !== first.host)
    .map((s) => ({
      path: [...pathOf(s), 'host'],
      message: `${s.host} is this machine, which ${formatPath(pathOf(first))} calls ${first.host}; use one name for it (local host name)`,
    }));
}

function checkKind(spec: TopologySpec, servers: readonly ServerEntry[]): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const kind = kindOf(spec);
  const mongods = servers.filter((s) => s.role === 'mongod');
  const configs = servers.filter((s) => s.role === 'config');
  const mongos = servers.filter((s) => s.role === 'mongos');
  if (kind === 'sharded') {
    if (mongos.length === 0) {
      issues.push({
        path: ['mongos_servers'],
        message: 'a sharded cluster needs at least one mongos in mongos_servers (sharded cluster)',
      });
    }
    if (mongods.length === 0) {
      issues.push({
        path: ['mongod_servers'],
        message:
          'a sharded cluster needs at least one shard: mongod_servers with a replica_set (sharded cluster)',
      });
    }
    for (const server of mongods.filter((s) => s.replicaSet === undefined)) {
      issues.push({
        path: [...pathOf(server), 'replica_set'],
        message: 'is required in a sharded cluster: every shard is a replica set (shard replica set)',
      });
    }
    for (const server of configs.filter((s) => s.replicaSet === undefined)) {
      issues.push({
        path: [...pathOf(server), 'replica_set'],
        message: 'is required: config servers form one replica set (config server replica set)',
      });
    }
    const configSet = configs.find((s) => s.replicaSet !== undefined);
    for (const server of configs) {
      if (configSet && server.replicaSet !== undefined && server.replicaSet !== configSet.replicaSet) {
        issues.push({
          path: [...pathOf(server), 'replica_set'],
          message: `config servers form exactly one replica set, and ${formatPath(pathOf(configSet))} names "${configSet.replicaSet}" (config server replica set)`,
        });
      }
    }
    const reported = new Set<string>();
    for (const server of mongods) {
      const name = server.replicaSet;
      if (name === undefined || reported.has(name)) continue;
      if (configSet && name === configSet.replicaSet) {
        reported.add(name);
        issues.push({
          path: [...pathOf(server), 'replica_set'],
          message: `"${name}" is the config server replica set; a shard needs a name of its own (shard replica set)`,
        });
      } else if (name === 'config' || name === 'admin') {
        reported.add(name);
        issues.push({
          path: [...pathOf(server), 'replica_set'],
          message: `"${name}" is reserved by MongoDB and cannot name a shard (shard name)`,
        });
      }
    }
    const first = servers[0];
    const mixed = first && servers.find((s) => s.local !== first.local);
    if (first && mixed) {
      issues.push({
        path: [...pathOf(mixed), 'host'],
        message: `${mixed.host} is ${mixed.local ? 'local' : 'remote'} but ${first.host} is ${first.local ? 'local' : 'remote'}; a sharded cluster uses only localhost addresses or none (localhost references)`,
      });
    }
    return issues;
  }
  if (mongos.length > 0) {
    issues.push({
      path: ['mongos_servers'],
      message: 'mongos needs config servers: add config_servers to make a sharded cluster (sharded cluster)',
      atKey: true,
    });
  }
  const inSets = mongods.filter((s) => s.replicaSet !== undefined);
  if (inSets.length > 0) {
    for (const server of mongods.filter((s) => s.replicaSet === undefined)) {
      issues.push({
        path: [...pathOf(server), 'replica_set'],
        message: `is missing: ${formatPath(pathOf(inSets[0] as ServerEntry))} is in a replica set, and a topology is either standalone servers or replica sets (topology kind)`,
      });
    }
  }
  for (const server of mongods.filter((s) => s.replicaSet === undefined)) {
    for (const key of MEMBER_OPTION_KEYS) {
      if (server.mongod?.[key] !== undefined) {
        issues.push({
          path: [...pathOf(server), key],
          message:
            'is a replica-set member option; a standalone server (no replica_set) has none (member options)',
          atKey: true,
        });
      }
    }
  }
  return issues;
}

function checkSettingsTargets(spec: TopologySpec, servers: readonly ServerEntry[]): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const names = new Set(servers.map((s) => s.replicaSet).filter((n) => n !== undefined));
  for (const [name, settings] of Object.entries(spec.replica_set_settings ?? {})) {
    if (!names.has(name)) {
      issues.push({
        path: ['replica_set_settings', name],
        message: `no server has replica_set "${name}" (replica set settings)`,
        atKey: true,
      });
    }
    if (settings.replicaSetId !== undefined) {
      issues.push({
        path: ['replica_set_settings', name, 'replicaSetId'],
        message: 'is generated by MongoDB at replSetInitiate and must not be given (replica set settings)',
        atKey: true,
      });
    }
  }
  return issues;
}

function checkServerConfigs(spec: TopologySpec): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const mongod = spec.server_configs?.mongod;
  if (mongod) issues.push(...expandServerConfig(mongod, ['server_configs', 'mongod'], 'mongod').issues);
  const mongos = spec.server_configs?.mongos;
  if (mongos) issues.push(...expandServerConfig(mongos, ['server_configs', 'mongos'], 'mongos').issues);
  for (const server of listServers(spec)) {
    if (!server.spec.config) continue;
    const process = server.role === 'mongos' ? 'mongos' : 'mongod';
    issues.push(...expandServerConfig(server.spec.config, [...pathOf(server), 'config'], process).issues);
  }
  return issues;
}
