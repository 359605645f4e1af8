// The resolved topology: every instance with its role, replica set, host, port and absolute directories.
// Produced by resolveTopology (topology/resolve.ts) and consumed by rendering, planning and the cluster store.
// Stored in meta.yaml, so later changes to defaults never move a live process.

/** Role of a process. `config` is a config-server mongod; `mongod` is a standalone, replica-set or shard member. */
export type Role = 'mongod' | 'config' | 'mongos';

export type TopologyKind = 'standalone' | 'replset' | 'sharded';

/** Replica-set member options, already defaulted as MongoDB would (priority 1, votes 1, ...). */
export interface MemberOptions {
  priority: number;
  votes: number;
  hidden: boolean;
  arbiterOnly: boolean;
  secondaryDelaySecs: number;
  buildIndexes: boolean;
  tags: Record<string, string>;
}

export interface ResolvedInstance {
  /** `host:port`, unique in the cluster. */
  id: string;
  role: Role;
  host: string;
  port: number;
  /** True when the topology said `port: 0` and the port was allocated. */
  portAllocated: boolean;
  /** True when host is localhost / 127.0.0.0/8 / ::1. */
  local: boolean;
  /** Replica set (a shard's set in sharded clusters, the config server set for `config`); absent for standalone and mongos. */
  replicaSet?: string;
  /** Member options; present exactly when replicaSet is. */
  member?: MemberOptions;
  /** supervisord program name: `<role>-<port>`, e.g. `mongod-27018`, `config-27019`, `mongos-27017`. */
  programName: string;
  /** Absolute paths on the instance's host. */
  deployDir: string;
  /** dbPath; absent for mongos. */
  dataDir?: string;
  logDir: string;
  configDir: string;
  /** `<configDir>/<role>.conf` */
  configFile: string;
  /** `<logDir>/<role>.log` (MongoDB's own log) */
  logFile: string;
  /** `<logDir>/<programName>.out` (supervisord's capture of stdout/stderr) */
  outputFile: string;
  /** `<deployDir>/<role>.pid` */
  pidFile: string;
  /** `<deployDir>/bin` */
  binDir: string;
  /** server_configs for the role merged with the instance's own `config`, dotted keys expanded into nested objects. */
  serverConfig: Record<string, unknown>;
}

export interface ResolvedReplicaSet {
  name: string;
  /** `shard` in a sharded cluster, `config` for the config server set, `replset` otherwise. */
  purpose: 'replset' | 'shard' | 'config';
  /** Instance ids (`host:port`) in topology order. */
  members: string[];
  /**
   * The member to run replSetInitiate on: the first electable one (data-bearing, priority > 0), because
   * MongoDB refuses to initiate from a member that is not electable under the new config.
   */
  initiator: string;
  /** `replica_set_settings[name]`, passed to replSetInitiate as `settings`. */
  settings: Record<string, unknown>;
}

export interface ResolvedHost {
  host: string;
  local: boolean;
  /**
   * The user the host's mongod/mongos run as (supervisord `user=`, and the owner of their dirs): `global.user`,
   * else the user who deployed. Also the SSH login user on remote hosts.
   */
  user: string;
  sshPort: number;
  /** `<global deploy_dir>/supervisor` on this host: supervisor.ini, supervisord.log, supervisord.pid. */
  supervisorDir: string;
}

export interface ResolvedTopology {
  kind: TopologyKind;
  instances: ResolvedInstance[];
  replicaSets: ResolvedReplicaSet[];
  hosts: ResolvedHost[];
}
