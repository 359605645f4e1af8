// Example topologies printed by `mup template`. They are text, not objects, because the comments are the
// point; tests feed every one of them to `mup topology validate`.

export const TEMPLATE_KINDS = ['standalone', 'replset', 'sharded'] as const;
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

const HEADER = `# mup topology file (validate: mup topology validate FILE; deploy: mup cluster deploy NAME FILE --version 8.0)
`;

const LOCAL_GLOBAL = `global:
  deploy_dir: mongo-deploy   # relative: under your home directory; each instance gets <deploy_dir>/<role>-<port>
`;

const minimal: Record<TemplateKind, string> = {
  standalone: `${HEADER}# One standalone mongod on this machine. "port: 0" lets mup pick a free port (from 30000).
${LOCAL_GLOBAL}
mongod_servers:
  - host: localhost
    port: 0
`,
  replset: `${HEADER}# A three-member replica set on this machine. "port: 0" lets mup pick free ports (from 30000).
${LOCAL_GLOBAL}
mongod_servers:
  - host: localhost
    port: 0
    replica_set: rs0
  - host: localhost
    port: 0
    replica_set: rs0
  - host: localhost
    port: 0
    replica_set: rs0
`,
  sharded: `${HEADER}# A sharded cluster on this machine: one config server replica set, two shards, one mongos.
# "port: 0" lets mup pick free ports (from 30000).
${LOCAL_GLOBAL}
config_servers:            # present → sharded cluster; all share one replica_set name
  - { host: localhost, port: 0, replica_set: cfg }
  - { host: localhost, port: 0, replica_set: cfg }
  - { host: localhost, port: 0, replica_set: cfg }

mongod_servers:            # each replica_set is a shard
  - { host: localhost, port: 0, replica_set: shard1 }
  - { host: localhost, port: 0, replica_set: shard1 }
  - { host: localhost, port: 0, replica_set: shard1 }
  - { host: localhost, port: 0, replica_set: shard2 }
  - { host: localhost, port: 0, replica_set: shard2 }
  - { host: localhost, port: 0, replica_set: shard2 }

mongos_servers:
  - { host: localhost, port: 0 }
`,
};

const FULL_GLOBAL = `global:
  user: mongodb            # processes run as this user (and SSH login on remote hosts); default: you
  ssh_port: 22
  deploy_dir: mongo-deploy # relative → under the login user's home on each host; absolute → as is
  data_dir: data           # relative → under each instance's deploy dir; absolute → <data_dir>/<role>-<port>
  log_dir: log             # same rule as data_dir
  config_dir: conf         # same rule as data_dir

server_configs:            # merged into every rendered config (dotted keys allowed); config servers use mongod
  mongod:
    storage.wiredTiger.engineConfig.cacheSizeGB: 1
    operationProfiling:
      slowOpThresholdMs: 200
  mongos:
    net.maxIncomingConnections: 20000
# mup sets these itself and refuses them here: net.port, storage.dbPath, replication.replSetName,
# sharding.clusterRole, sharding.configDB, processManagement.fork, processManagement.pidFilePath,
# systemLog.path, systemLog.destination.
`;

const full: Record<TemplateKind, string> = {
  standalone: `${HEADER}# Standalone servers on remote hosts, every option shown. Several standalone servers are allowed:
# each is a server of its own.
${FULL_GLOBAL}
mongod_servers:
  - host: 10.0.1.1
    port: 27017
  - host: 10.0.1.2
    port: 27017
    deploy_dir: /data1/mongo-deploy/mongod-27017   # per-instance overrides of any *_dir
    data_dir: /data2/mongo-data                    # absolute: used as is
    log_dir: logs                                  # relative: under this instance's deploy_dir
    config:                                        # per-instance overrides of server_configs.mongod
      storage.wiredTiger.engineConfig.cacheSizeGB: 4
`,
  replset: `${HEADER}# A replica set on remote hosts with every member option and replica-set setting shown.
${FULL_GLOBAL}
replica_set_settings:      # per replica set: passed to replSetInitiate as "settings"
  rs0:
    electionTimeoutMillis: 10000
    heartbeatIntervalMillis: 2000
    heartbeatTimeoutSecs: 10
    catchUpTimeoutMillis: -1
    chainingAllowed: true
    getLastErrorModes:
      twoDataCenters: { dc: 2 }  # a write concern that needs members with two different "dc" tags

mongod_servers:
  # MongoDB's rules: at most 50 members and 7 voting members; votes 0 or 1; priority 0-1000;
  # hidden, delayed and non-voting members have priority 0 (mup defaults it to 0 for them).
  - host: 10.0.1.1
    port: 27017
    replica_set: rs0
    priority: 2            # preferred primary
    tags: { dc: east }
  - host: 10.0.1.2
    port: 27017
    replica_set: rs0
    tags: { dc: west }
  - host: 10.0.1.3
    port: 27017
    replica_set: rs0
    hidden: true           # invisible to clients, never primary
    secondary_delay_secs: 3600   # a delayed member must be hidden
    votes: 0
    build_indexes: true
    tags: { dc: east }
  - host: 10.0.1.4
    port: 27017
    replica_set: rs0
    arbiter_only: true     # votes, holds no data; at most one per replica set
`,
  sharded: `${HEADER}# A sharded cluster on remote hosts: config server replica set, two shards, two mongos.
${FULL_GLOBAL}
replica_set_settings:
  shard1: { electionTimeoutMillis: 5000 }

config_servers:            # one replica set; no arbiters, no delayed members
  - { host: 10.0.1.1, port: 27019, replica_set: cfg }
  - { host: 10.0.1.2, port: 27019, replica_set: cfg }
  - { host: 10.0.1.3, port: 27019, replica_set: cfg }

mongod_servers:            # every server names its shard's replica set
  - { host: 10.0.2.1, port: 27018, replica_set: shard1 }
  - { host: 10.0.2.2, port: 27018, replica_set: shard1 }
  - { host: 10.0.2.3, port: 27018, replica_set: shard1, priority: 0.5 }
  - { host: 10.0.3.1, port: 27018, replica_set: shard2 }
  - { host: 10.0.3.2, port: 27018, replica_set: shard2 }
  - host: 10.0.3.3
    port: 27018
    replica_set: shard2
    hidden: true
    data_dir: /ssd/mongo-data

mongos_servers:
  - host: 10.0.4.1
    port: 27017
  - host: 10.0.4.2
    port: 27017
    config:
      net.maxIncomingConnections: 5000
`,
};

/** The cluster name a template is written for when none is given. */
export const TEMPLATE_DEFAULT_NAME = 'my-cluster';

/**
 * A template for one cluster: its deploy dir is `mongo-deploy/<name>`, so templates made for two clusters
 * never share a supervisor dir or data dirs (mup refuses a deploy that would).
 */
export function topologyTemplate(
  kind: TemplateKind,
  options: { full?: boolean; name?: string } = {},
): string {
  const name = options.name ?? TEMPLATE_DEFAULT_NAME;
  const text = options.full ? full[kind] : minimal[kind];
  return text
    .replace('deploy: mup cluster deploy NAME FILE', `deploy: mup cluster deploy ${name} FILE`)
    .replace(
      /^( {2}deploy_dir: mongo-deploy)( *)/m,
      (_, key: string, pad: string) => `${key}/${name}${pad.slice(name.length + 1) || ' '}`,
    );
}
