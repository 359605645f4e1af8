// A checked topology → the ResolvedTopology contract: every instance with its port (allocated for `port: 0`),
// absolute dirs and files, member options and merged server config; replica sets and hosts.
import { homedir, userInfo } from 'node:os';
import { posix } from 'node:path';
import { DEFAULT_DIRS, resolveDeployBase, resolveInstanceDeployDir, resolveInstanceSubDir } from './dirs.js';
import { endpoint, isLocalHost } from './hosts.js';
import { allocatePortBlock, DEFAULT_PORT_BASE, type PortProbe } from './ports.js';
import type { UsedEndpoint } from './rules.js';
import type { TopologySpec } from './schema.js';
import { type ConfigObject, deepMerge, expandServerConfig } from './server-config.js';
import { isElectable, kindOf, listServers, memberOptionsOf, type ServerEntry } from './servers.js';
import type { ResolvedHost, ResolvedInstance, ResolvedReplicaSet, ResolvedTopology } from './types.js';

export interface HostLogin {
  host: string;
  user: string;
  local: boolean;
}

export interface ResolveOptions {
  /** Probe for `port: 0` allocation; only called when some entry has port 0. */
  isPortFree: PortProbe;
  /** First port tried for allocation (default 30000). */
  portBase?: number;
  /** The login user's home on a host (default: os.homedir() locally, /home/<user> or /root remotely). */
  homeOf?: (login: HostLogin) => string;
  /** The user running mup: the default user processes run as, and the default SSH user. */
  currentUser?: string;
  /** Endpoints of other clusters: their local ports are never allocated. */
  usedEndpoints?: readonly UsedEndpoint[];
  /**
   * Members of this cluster whose data `destroy --keep-data` kept: a `port: 0` server of the same host, role
   * and replica set (in topology order) gets its kept port back, so the kept data dir (named after the port)
   * and the replica-set config inside it fit again.
   */
  keptPorts?: readonly KeptPort[];
}

export interface KeptPort {
  host: string;
  role: string;
  replicaSet?: string | undefined;
  port: number;
}

export function defaultHomeOf(login: HostLogin): string {
  if (login.local) return homedir();
  return login.user === 'root' ? '/root' : `/home/${login.user}`;
}

/**
 * Resolves a topology that passed validation (parse + rules); on an unchecked one the result is undefined
 * behaviour. Ports are allocated once here: the result is what gets stored, so they never move later.
 */
export async function resolveTopology(
  spec: TopologySpec,
  options: ResolveOptions,
): Promise<ResolvedTopology> {
  const servers = listServers(spec);
  const ports = await allocatePorts(servers, options);
  const currentUser = options.currentUser ?? userInfo().username;
  const homeOf = options.homeOf ?? defaultHomeOf;
  const global = spec.global ?? {};
  const hosts = new Map<string, ResolvedHost & { home: string; globalDeployDir: string }>();
  const hostOf = (entry: ServerEntry) => {
    let host = hosts.get(entry.host);
    if (!host) {
      // The user the host's processes run as (and the SSH login on remote hosts); mup checks before any change
      // that it can start them as that user (ops/preflight.ts).
      const user = global.user ?? currentUser;
      const home = homeOf({ host: entry.host, user, local: entry.local });
      const globalDeployDir = resolveDeployBase(global.deploy_dir ?? DEFAULT_DIRS.deploy_dir, home);
      host = {
        host: entry.host,
        local: entry.local,
        user,
        sshPort: global.ssh_port ?? 22,
        supervisorDir: posix.join(globalDeployDir, 'supervisor'),
        home,
        globalDeployDir,
      };
      hosts.set(entry.host, host);
    }
    return host;
  };
  const roleConfig = {
    mongod: expandServerConfig(spec.server_configs?.mongod ?? {}, [], 'mongod').config,
    mongos: expandServerConfig(spec.server_configs?.mongos ?? {}, [], 'mongos').config,
  };
  const instances = servers.map((entry, i): ResolvedInstance => {
    const port = ports[i] as number;
    const host = hostOf(entry);
    const programName = `${entry.role}-${port}`;
    const deployDir = resolveInstanceDeployDir({
      name: programName,
      home: host.home,
      globalDeployDir: host.globalDeployDir,
      instanceDeployDir: entry.spec.deploy_dir,
    });
    const subDir = (key: 'data_dir' | 'log_dir' | 'config_dir', value: string | undefined) =>
      resolveInstanceSubDir(value, global[key] ?? DEFAULT_DIRS[key], deployDir, programName, host.home);
    const logDir = subDir('log_dir', entry.spec.log_dir);
    const configDir = subDir('config_dir', entry.spec.config_dir);
    const process = entry.role === 'mongos' ? 'mongos' : 'mongod';
    const own = expandServerConfig(entry.spec.config ?? {}, [], process).config;
    const instance: ResolvedInstance = {
      id: endpoint(entry.host, port),
      role: entry.role,
      host: entry.host,
      port,
      portAllocated: entry.port === 0,
      local: entry.local,
      programName,
      deployDir,
      logDir,
      configDir,
      configFile: posix.join(configDir, `${entry.role}.conf`),
      logFile: posix.join(logDir, `${entry.role}.log`),
      outputFile: posix.join(logDir, `${programName}.out`),
      pidFile: posix.join(deployDir, `${entry.role}.pid`),
      binDir: posix.join(deployDir, 'bin'),
      serverConfig: deepMerge(roleConfig[process], own) as ConfigObject,
    };
    if (entry.mongod) instance.dataDir = subDir('data_dir', entry.mongod.data_dir);
    if (entry.replicaSet !== undefined && entry.mongod) {
      instance.replicaSet = entry.replicaSet;
      instance.member = memberOptionsOf(entry.mongod);
    }
    return instance;
  });
  return {
    kind: kindOf(spec),
    instances,
    replicaSets: replicaSetsOf(spec, instances),
    hosts: [...hosts.values()].map(({ home: _home, globalDeployDir: _deploy, ...host }) => host),
  };
}

/** Explicit ports as written; `port: 0` entries get one contiguous block, in topology order. */
async function allocatePorts(servers: readonly ServerEntry[], options: ResolveOptions): Promise<number[]> {
  const kept = [...(options.keptPorts ?? [])];
  const taken = new Set(servers.filter((s) => s.port !== 0).map((s) => s.port));
  const keptFor = servers.map((server) => {
    if (server.port !== 0) return undefined;
    const index = kept.findIndex(
      (k) =>
        k.host === server.host &&
        k.role === server.role &&
        k.replicaSet === server.replicaSet &&
        !taken.has(k.port),
    );
    if (index < 0) return undefined;
    const [match] = kept.splice(index, 1);
    return match?.port;
  });
  const wanted = keptFor.filter((port, i) => port === undefined && servers[i]?.port === 0).length;
  const reserved = new Set<number>();
  for (const server of servers) if (server.local && server.port !== 0) reserved.add(server.port);
  for (const port of keptFor) if (port !== undefined) reserved.add(port);
  for (const used of options.usedEndpoints ?? []) if (isLocalHost(used.host)) reserved.add(used.port);
  const block = await allocatePortBlock(wanted, {
    base: options.portBase ?? DEFAULT_PORT_BASE,
    isPortFree: options.isPortFree,
    reserved,
  });
  let next = 0;
  return servers.map((server, i) =>
    server.port === 0 ? (keptFor[i] ?? (block[next++] as number)) : server.port,
  );
}

function replicaSetsOf(spec: TopologySpec, instances: readonly ResolvedInstance[]): ResolvedReplicaSet[] {
  const kind = kindOf(spec);
  const sets = new Map<string, ResolvedReplicaSet>();
  for (const instance of instances) {
    if (instance.replicaSet === undefined || !instance.member) continue;
    let set = sets.get(instance.replicaSet);
    if (!set) {
      set = {
        name: instance.replicaSet,
        purpose: instance.role === 'config' ? 'config' : kind === 'sharded' ? 'shard' : 'replset',
        members: [],
        initiator: instance.id,
        settings: { ...(spec.replica_set_settings?.[instance.replicaSet] ?? {}) },
      };
      sets.set(instance.replicaSet, set);
    }
    set.members.push(instance.id);
  }
  // MongoDB refuses replSetInitiate on a member that is not electable under the new config.
  for (const set of sets.values()) {
    const electable = instances.find(
      (i) => i.replicaSet === set.name && i.role !== 'mongos' && i.member && isElectable(i.member),
    );
    if (electable) set.initiator = electable.id;
  }
  return [...sets.values()];
}
