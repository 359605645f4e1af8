// resolveTopology: dirs by TiUP's rules, ports, member options, merged server config, replica sets and hosts.
// Pure: the port probe and the home lookup are injected, so no sockets and no real home dirs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateTopology } from '../../src/topology/load.js';
import { type HostLogin, type ResolveOptions, resolveTopology } from '../../src/topology/resolve.js';
import type { ResolvedInstance, ResolvedTopology } from '../../src/topology/types.js';

const homes = (login: HostLogin) =>
  login.local ? '/home/me' : login.user === 'root' ? '/root' : `/home/${login.user}`;

async function resolve(yaml: string, options: Partial<ResolveOptions> = {}): Promise<ResolvedTopology> {
  const spec = validateTopology(yaml, 'test.yaml', options);
  return resolveTopology(spec, {
    isPortFree: async () => true,
    homeOf: homes,
    currentUser: 'me',
    ...options,
  });
}

function byId(topology: ResolvedTopology, id: string): ResolvedInstance {
  const instance = topology.instances.find((i) => i.id === id);
  assert.ok(instance, `no instance ${id} in ${topology.instances.map((i) => i.id).join(', ')}`);
  return instance;
}

describe('directories', () => {
  test('defaults: ~/mongo-deploy/<role>-<port> with data, log and conf inside', async () => {
    const t = await resolve('mongod_servers:\n  - { host: localhost, port: 27017 }\n');
    const i = byId(t, 'localhost:27017');
    assert.equal(i.deployDir, '/home/me/mongo-deploy/mongod-27017');
    assert.equal(i.dataDir, '/home/me/mongo-deploy/mongod-27017/data');
    assert.equal(i.logDir, '/home/me/mongo-deploy/mongod-27017/log');
    assert.equal(i.configDir, '/home/me/mongo-deploy/mongod-27017/conf');
    assert.equal(i.configFile, '/home/me/mongo-deploy/mongod-27017/conf/mongod.conf');
    assert.equal(i.logFile, '/home/me/mongo-deploy/mongod-27017/log/mongod.log');
    assert.equal(i.outputFile, '/home/me/mongo-deploy/mongod-27017/log/mongod-27017.out');
    assert.equal(i.pidFile, '/home/me/mongo-deploy/mongod-27017/mongod.pid');
    assert.equal(i.binDir, '/home/me/mongo-deploy/mongod-27017/bin');
    assert.equal(i.programName, 'mongod-27017');
    assert.deepEqual(t.hosts, [
      {
        host: 'localhost',
        local: true,
        user: 'me',
        sshPort: 22,
        supervisorDir: '/home/me/mongo-deploy/supervisor',
      },
    ]);
  });

  test('a relative global deploy_dir is under the login user’s home on each remote host', async () => {
    const t = await resolve(
      'global: { user: mongo, ssh_port: 2222, deploy_dir: deploy }\n' +
        'mongod_servers:\n  - { host: db1, port: 27017, replica_set: rs0 }\n  - { host: db2, port: 27017, replica_set: rs0 }\n',
    );
    assert.equal(byId(t, 'db1:27017').deployDir, '/home/mongo/deploy/mongod-27017');
    assert.equal(byId(t, 'db2:27017').dataDir, '/home/mongo/deploy/mongod-27017/data');
    assert.deepEqual(
      t.hosts.map((h) => [h.host, h.user, h.sshPort, h.local, h.supervisorDir]),
      [
        ['db1', 'mongo', 2222, false, '/home/mongo/deploy/supervisor'],
        ['db2', 'mongo', 2222, false, '/home/mongo/deploy/supervisor'],
      ],
    );
  });

  test('root logs in with /root as home; without global.user the current user is the SSH user', async () => {
    const asRoot = await resolve('global: { user: root }\nmongod_servers:\n  - { host: db1, port: 27017 }\n');
    assert.equal(byId(asRoot, 'db1:27017').deployDir, '/root/mongo-deploy/mongod-27017');
    const asMe = await resolve('mongod_servers:\n  - { host: db1, port: 27017 }\n');
    assert.equal(asMe.hosts[0]?.user, 'me');
    assert.equal(byId(asMe, 'db1:27017').deployDir, '/home/me/mongo-deploy/mongod-27017');
  });

  test('local hosts run their processes as global.user, under the home of the user running mup', async () => {
    const t = await resolve(
      'global: { user: mongodb }\nmongod_servers:\n  - { host: 127.0.0.1, port: 27017 }\n',
    );
    assert.equal(t.hosts[0]?.user, 'mongodb');
    assert.equal(byId(t, '127.0.0.1:27017').deployDir, '/home/me/mongo-deploy/mongod-27017');
    const mine = await resolve('mongod_servers:\n  - { host: 127.0.0.1, port: 27017 }\n');
    assert.equal(mine.hosts[0]?.user, 'me');
  });

  test('absolute global dirs get a <role>-<port> subdir per instance', async () => {
    const t = await resolve(
      'global: { deploy_dir: /opt/mongo, data_dir: /data/mongo, log_dir: /var/log/mongo, config_dir: /srv/mongo-conf }\n' +
        'config_servers:\n  - { host: localhost, port: 27019, replica_set: cfg }\n' +
        'mongod_servers:\n  - { host: localhost, port: 27018, replica_set: shard1 }\n' +
        'mongos_servers:\n  - { host: localhost, port: 27017 }\n',
    );
    const config = byId(t, 'localhost:27019');
    assert.equal(config.deployDir, '/opt/mongo/config-27019');
    assert.equal(config.dataDir, '/data/mongo/config-27019');
    assert.equal(config.logDir, '/var/log/mongo/config-27019');
    assert.equal(config.configFile, '/srv/mongo-conf/config-27019/config.conf');
    assert.equal(config.logFile, '/var/log/mongo/config-27019/config.log');
    const mongos = byId(t, 'localhost:27017');
    assert.equal(mongos.dataDir, undefined);
    assert.equal(mongos.configFile, '/srv/mongo-conf/mongos-27017/mongos.conf');
    assert.equal(mongos.pidFile, '/opt/mongo/mongos-27017/mongos.pid');
    assert.equal(t.hosts[0]?.supervisorDir, '/opt/mongo/supervisor');
  });

  test('instance dirs: absolute wins, relative is under the instance deploy dir, ~ is the home', async () => {
    const t = await resolve(
      'global: { deploy_dir: /opt/mongo, data_dir: /data/mongo }\n' +
        'mongod_servers:\n' +
        '  - { host: localhost, port: 27017, deploy_dir: /srv/a, data_dir: /ssd/a, log_dir: logs, config_dir: ~/conf-a }\n' +
        '  - { host: localhost, port: 27018, deploy_dir: b, data_dir: d }\n' +
        '  - { host: localhost, port: 27019, deploy_dir: ~/c }\n',
    );
    const a = byId(t, 'localhost:27017');
    assert.equal(a.deployDir, '/srv/a');
    assert.equal(a.dataDir, '/ssd/a');
    assert.equal(a.logDir, '/srv/a/logs');
    assert.equal(a.configDir, '/home/me/conf-a');
    const b = byId(t, 'localhost:27018');
    // TiUP: a relative instance deploy_dir is under the login user's home.
    assert.equal(b.deployDir, '/home/me/b');
    assert.equal(b.dataDir, '/home/me/b/d');
    assert.equal(b.logDir, '/home/me/b/log');
    const c = byId(t, 'localhost:27019');
    assert.equal(c.deployDir, '/home/me/c');
    assert.equal(c.dataDir, '/data/mongo/mongod-27019');
  });

  test('a global deploy_dir of ~/x is under the home; paths are normalized', async () => {
    const t = await resolve(
      'global: { deploy_dir: ~/x/./y// }\nmongod_servers:\n  - { host: localhost, port: 1 }\n',
    );
    assert.equal(byId(t, 'localhost:1').deployDir, '/home/me/x/y/mongod-1');
  });

  test('the default home lookup uses /home/<user> for remote hosts', async () => {
    const spec = validateTopology(
      'global: { user: ops }\nmongod_servers:\n  - { host: db9, port: 27017 }\n',
      't.yaml',
    );
    const t = await resolveTopology(spec, { isPortFree: async () => true });
    assert.equal(t.instances[0]?.deployDir, '/home/ops/mongo-deploy/mongod-27017');
  });
});

describe('ports', () => {
  test('port 0 gets a contiguous block from 30000: config servers, then mongod, then mongos', async () => {
    const t = await resolve(
      'mongos_servers:\n  - { host: localhost, port: 0 }\n' +
        'mongod_servers:\n  - { host: localhost, port: 0, replica_set: s1 }\n  - { host: localhost, port: 0, replica_set: s1 }\n' +
        'config_servers:\n  - { host: localhost, port: 0, replica_set: cfg }\n',
    );
    assert.deepEqual(
      t.instances.map((i) => [i.role, i.port, i.portAllocated]),
      [
        ['config', 30000, true],
        ['mongod', 30001, true],
        ['mongod', 30002, true],
        ['mongos', 30003, true],
      ],
    );
  });

  test('a block with a busy port is skipped; explicit ports are kept and never handed out', async () => {
    const probed: number[] = [];
    const t = await resolve(
      'mongod_servers:\n' +
        '  - { host: localhost, port: 0, replica_set: rs0 }\n' +
        '  - { host: localhost, port: 30005, replica_set: rs0 }\n' +
        '  - { host: localhost, port: 0, replica_set: rs0 }\n' +
        '  - { host: localhost, port: 0, replica_set: rs0 }\n',
      {
        portBase: 30000,
        isPortFree: async (port) => {
          probed.push(port);
          return port !== 30001;
        },
      },
    );
    // 30000-30002 has busy 30001; 30002-30004 is free; 30005 is explicit and stays.
    assert.deepEqual(
      t.instances.map((i) => i.port),
      [30002, 30005, 30003, 30004],
    );
    assert.deepEqual(
      t.instances.map((i) => i.portAllocated),
      [true, false, true, true],
    );
    assert.ok(!probed.includes(30005), 'explicit ports are never probed for allocation');
  });

  test('ports used by other clusters are not allocated', async () => {
    const t = await resolve('mongod_servers:\n  - { host: localhost, port: 0 }\n', {
      portBase: 31000,
      usedEndpoints: [{ host: '127.0.0.1', port: 31000, cluster: 'other' }],
    });
    assert.equal(t.instances[0]?.port, 31001);
  });

  test('no probing when no port is 0', async () => {
    const t = await resolve('mongod_servers:\n  - { host: localhost, port: 27017 }\n', {
      isPortFree: async () => {
        throw new Error('probed');
      },
    });
    assert.equal(t.instances[0]?.portAllocated, false);
  });

  test('an IPv6 loopback instance id has brackets', async () => {
    const t = await resolve('mongod_servers:\n  - { host: "::1", port: 27017 }\n');
    assert.equal(t.instances[0]?.id, '[::1]:27017');
    assert.equal(t.instances[0]?.local, true);
  });
});

describe('members, replica sets, config', () => {
  test('member options get MongoDB’s defaults; passive members default to priority 0', async () => {
    const t = await resolve(
      'mongod_servers:\n' +
        '  - { host: localhost, port: 1, replica_set: rs0, tags: { dc: east } }\n' +
        '  - { host: localhost, port: 2, replica_set: rs0, hidden: true, secondary_delay_secs: 60 }\n' +
        '  - { host: localhost, port: 3, replica_set: rs0, votes: 0 }\n' +
        '  - { host: localhost, port: 4, replica_set: rs0, arbiter_only: true }\n' +
        '  - { host: localhost, port: 5, replica_set: rs0, priority: 0.5, build_indexes: true }\n',
    );
    assert.deepEqual(byId(t, 'localhost:1').member, {
      priority: 1,
      votes: 1,
      hidden: false,
      arbiterOnly: false,
      secondaryDelaySecs: 0,
      buildIndexes: true,
      tags: { dc: 'east' },
    });
    assert.equal(byId(t, 'localhost:2').member?.priority, 0);
    assert.equal(byId(t, 'localhost:2').member?.secondaryDelaySecs, 60);
    assert.equal(byId(t, 'localhost:3').member?.priority, 0);
    assert.equal(byId(t, 'localhost:4').member?.priority, 0);
    assert.equal(byId(t, 'localhost:4').member?.arbiterOnly, true);
    assert.equal(byId(t, 'localhost:5').member?.priority, 0.5);
  });

  test('standalone servers and mongos have no replica set and no member options', async () => {
    const t = await resolve(
      'mongod_servers:\n  - { host: localhost, port: 1 }\n  - { host: localhost, port: 2 }\n',
    );
    assert.equal(t.kind, 'standalone');
    assert.deepEqual(t.replicaSets, []);
    for (const i of t.instances) {
      assert.equal(i.replicaSet, undefined);
      assert.equal(i.member, undefined);
    }
  });

  test('replica sets: purpose, members in order, settings, and the first electable member initiates', async () => {
    const t = await resolve(
      'replica_set_settings:\n  shard1: { electionTimeoutMillis: 5000, chainingAllowed: false }\n' +
        'config_servers:\n  - { host: localhost, port: 10, replica_set: cfg }\n' +
        'mongod_servers:\n' +
        '  - { host: localhost, port: 20, replica_set: shard1, priority: 0 }\n' +
        '  - { host: localhost, port: 21, replica_set: shard1 }\n' +
        '  - { host: localhost, port: 30, replica_set: shard2 }\n' +
        'mongos_servers:\n  - { host: localhost, port: 40 }\n',
    );
    assert.equal(t.kind, 'sharded');
    assert.deepEqual(t.replicaSets, [
      { name: 'cfg', purpose: 'config', members: ['localhost:10'], initiator: 'localhost:10', settings: {} },
      {
        name: 'shard1',
        purpose: 'shard',
        members: ['localhost:20', 'localhost:21'],
        initiator: 'localhost:21',
        settings: { electionTimeoutMillis: 5000, chainingAllowed: false },
      },
      {
        name: 'shard2',
        purpose: 'shard',
        members: ['localhost:30'],
        initiator: 'localhost:30',
        settings: {},
      },
    ]);
    assert.equal(byId(t, 'localhost:10').role, 'config');
    assert.equal(byId(t, 'localhost:40').replicaSet, undefined);
  });

  test('non-sharded replica sets have purpose replset', async () => {
    const t = await resolve(
      'mongod_servers:\n  - { host: localhost, port: 1, replica_set: a }\n  - { host: localhost, port: 2, replica_set: b }\n',
    );
    assert.equal(t.kind, 'replset');
    assert.deepEqual(
      t.replicaSets.map((s) => [s.name, s.purpose]),
      [
        ['a', 'replset'],
        ['b', 'replset'],
      ],
    );
  });

  test('serverConfig: the role’s server_configs deep-merged with the instance config, dotted keys expanded', async () => {
    const t = await resolve(
      'server_configs:\n' +
        '  mongod:\n' +
        '    storage.wiredTiger.engineConfig.cacheSizeGB: 1\n' +
        '    net: { bindIp: 127.0.0.1, maxIncomingConnections: 100 }\n' +
        '  mongos:\n' +
        '    net.maxIncomingConnections: 500\n' +
        'config_servers:\n  - { host: localhost, port: 10, replica_set: cfg }\n' +
        'mongod_servers:\n' +
        '  - host: localhost\n' +
        '    port: 20\n' +
        '    replica_set: s1\n' +
        '    config:\n' +
        '      net.maxIncomingConnections: 200\n' +
        '      storage: { wiredTiger.collectionConfig.blockCompressor: zstd }\n' +
        'mongos_servers:\n  - { host: localhost, port: 30 }\n',
    );
    assert.deepEqual(byId(t, 'localhost:10').serverConfig, {
      storage: { wiredTiger: { engineConfig: { cacheSizeGB: 1 } } },
      net: { bindIp: '127.0.0.1', maxIncomingConnections: 100 },
    });
    assert.deepEqual(byId(t, 'localhost:20').serverConfig, {
      storage: {
        wiredTiger: { engineConfig: { cacheSizeGB: 1 }, collectionConfig: { blockCompressor: 'zstd' } },
      },
      net: { bindIp: '127.0.0.1', maxIncomingConnections: 200 },
    });
    assert.deepEqual(byId(t, 'localhost:30').serverConfig, { net: { maxIncomingConnections: 500 } });
  });
});
