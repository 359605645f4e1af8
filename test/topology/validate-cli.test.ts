// `mup topology validate` and `mup template` through the built CLI: good files pass, every bad file is refused
// with exit 2 and a `file:line:col  path: what (rule)` line, and nothing is written to stdout.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot, runMup, tempDir } from '../helpers/cli.js';

const fixtures = join(repoRoot, 'test', 'fixtures', 'topologies');
let work: string;

before(async () => {
  work = await tempDir('mup-topology-');
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Each call in a directory of its own, so that the refusals below can run at the same time. */
async function validate(yaml: string, name = 'topology.yaml') {
  const dir = await mkdtemp(join(work, 'case-'));
  await writeFile(join(dir, name), yaml);
  return runMup(['topology', 'validate', name], { cwd: dir });
}

/** Runs a bad topology and checks exit 2, nothing on stdout, and the exact error line on stderr. */
async function expectRejected(yaml: string, line: string) {
  const run = await validate(yaml);
  assert.equal(run.code, 2, run.stderr);
  assert.equal(run.stdout, '');
  const lines = run.stderr.split('\n');
  assert.ok(lines.includes(line), `expected the line\n  ${line}\nin\n${run.stderr}`);
}

const members = (n: number, extra = '') =>
  Array.from(
    { length: n },
    (_, i) => `  - { host: localhost, port: ${27017 + i}, replica_set: rs0${extra} }`,
  ).join('\n');

describe('the three example topologies of the earlier tool validate unchanged', () => {
  for (const [file, kind, count] of [
    ['standalone.yaml', 'standalone', 1],
    ['replica-set.yaml', 'replset', 3],
    ['sharded-cluster.yaml', 'sharded', 11],
  ] as const) {
    test(`${file}: table`, async () => {
      const run = await runMup(['topology', 'validate', join(fixtures, file)]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`Topology: ${kind}, ${count} instances? on 1 host`));
      assert.match(run.stdout, /ID\s+Role\s+Replica set\s+Host\s+Port\s+Data dir\s+Log dir\s+Config file/);
      assert.match(run.stdout, /\(allocated\)/);
    });

    test(`${file}: --json`, async () => {
      const run = await runMup(['topology', 'validate', join(fixtures, file), '--json']);
      assert.equal(run.code, 0, run.stderr);
      const doc = JSON.parse(run.stdout) as {
        schemaVersion: number;
        kind: string;
        instances: { id: string; port: number; portAllocated: boolean; programName: string; role: string }[];
      };
      assert.equal(doc.schemaVersion, 1);
      assert.equal(doc.kind, kind);
      assert.equal(doc.instances.length, count);
      const ports = doc.instances.map((i) => i.port);
      // One contiguous block, in topology order (config servers, mongod, mongos).
      assert.deepEqual(
        ports,
        ports.map((_, i) => (ports[0] as number) + i),
      );
      for (const instance of doc.instances) {
        assert.equal(instance.portAllocated, true);
        assert.equal(instance.id, `localhost:${instance.port}`);
        assert.equal(instance.programName, `${instance.role}-${instance.port}`);
      }
    });
  }

  test('sharded-cluster.yaml resolves dirs by the absolute global dirs', async () => {
    const run = await runMup(['topology', 'validate', join(fixtures, 'sharded-cluster.yaml'), '--json']);
    const doc = JSON.parse(run.stdout) as {
      instances: { role: string; port: number; dataDir?: string; logDir: string; configFile: string }[];
      replicaSets: { name: string; purpose: string; members: string[] }[];
    };
    const mongos = doc.instances.find((i) => i.role === 'mongos');
    const config = doc.instances.find((i) => i.role === 'config');
    assert.ok(mongos && config);
    assert.equal(mongos.dataDir, undefined);
    assert.equal(config.dataDir, `/data/mongodb/config-${config.port}`);
    assert.equal(config.configFile, `/etc/mongodb/config-${config.port}/config.conf`);
    assert.deepEqual(
      doc.replicaSets.map((s) => [s.name, s.purpose, s.members.length]),
      [
        ['configRS', 'config', 3],
        ['shard1', 'shard', 3],
        ['shard2', 'shard', 3],
      ],
    );
  });
});

describe('validate options', () => {
  test('--port-base moves where port allocation starts', async () => {
    const run = await runMup([
      'topology',
      'validate',
      join(fixtures, 'replica-set.yaml'),
      '--port-base',
      '41000',
      '--json',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const ports = (JSON.parse(run.stdout) as { instances: { port: number }[] }).instances.map((i) => i.port);
    assert.ok((ports[0] as number) >= 41000, `ports ${ports.join(',')}`);
    const bad = await runMup([
      'topology',
      'validate',
      join(fixtures, 'replica-set.yaml'),
      '--port-base',
      '0',
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /expected a port number 1-65535/);
  });

  test('with --json an invalid topology still exits 2, with the error as the JSON document on stdout', async () => {
    await writeFile(
      join(work, 'json-bad.yaml'),
      'mongod_servers:\n  - { host: localhost, port: 0, colour: red }\n',
    );
    const run = await runMup(['topology', 'validate', 'json-bad.yaml', '--json'], { cwd: work });
    assert.equal(run.code, 2);
    const error = JSON.parse(run.stdout) as { error: { code: string; message: string; exitCode: number } };
    assert.equal(error.error.code, 'topology');
    assert.equal(error.error.exitCode, 2);
    assert.ok(
      error.error.message.includes('json-bad.yaml:2:33  mongod_servers.0.colour: unknown key'),
      error.error.message,
    );
  });
});

describe('template outputs validate', () => {
  for (const kind of ['standalone', 'replset', 'sharded']) {
    for (const full of [false, true]) {
      test(`mup template --kind ${kind}${full ? ' --full' : ''}`, async () => {
        const template = await runMup(['template', '--kind', kind, ...(full ? ['--full'] : [])]);
        assert.equal(template.code, 0, template.stderr);
        assert.match(template.stdout, /^# /);
        const run = await validate(template.stdout, `${kind}${full ? '-full' : ''}.yaml`);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, new RegExp(`Topology: ${kind}`));
      });
    }
  }

  test('mup template defaults to a replica set; an unknown kind is a usage error', async () => {
    const run = await runMup(['template']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /replica_set: rs0/);
    const bad = await runMup(['template', '--kind', 'cluster']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Allowed choices are standalone, replset, sharded/);
  });

  test('validate reads the topology from stdin with -', async () => {
    const template = await runMup(['template', '--kind', 'standalone']);
    const run = await runMup(['topology', 'validate', '-', '--json'], { input: template.stdout });
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { kind: string }).kind, 'standalone');
  });
});

// 63 CLI runs that share nothing: four at a time (each test still asserts its own exit code and line).
describe('bad topologies are refused with exit 2 and a positioned message', { concurrency: 4 }, () => {
  test('a missing file', async () => {
    const run = await runMup(['topology', 'validate', 'no-such.yaml'], { cwd: work });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /cannot read topology file no-such\.yaml: no such file/);
  });

  test('YAML syntax: an unclosed flow mapping', async () => {
    await expectRejected(
      'mongod_servers:\n  - { host: localhost, port: 0\n',
      'topology.yaml:3:1  Flow map in block collection must be sufficiently indented and end with a } (YAML syntax)',
    );
  });

  test('YAML syntax: a key given twice', async () => {
    await expectRejected(
      'mongod_servers:\n  - host: localhost\n    port: 0\n    host: other\n',
      'topology.yaml:4:5  Map keys must be unique (YAML syntax)',
    );
  });

  test('YAML syntax: bad indentation', async () => {
    await expectRejected(
      'mongod_servers:\n  - host: localhost\n     port: 0\n',
      'topology.yaml:2:11  Implicit keys need to be on a single line (YAML syntax)',
    );
  });

  test('an empty file', async () => {
    await expectRejected(
      '# nothing here\n',
      'topology.yaml:1:1  the file has no topology; it needs at least mongod_servers (empty file)',
    );
  });

  test('a document that is a list', async () => {
    await expectRejected(
      '- host: localhost\n  port: 0\n',
      'topology.yaml:1:1  must be a mapping, got a list (type)',
    );
  });

  test('unknown top-level key', async () => {
    await expectRejected(
      'mongod_server:\n  - { host: localhost, port: 0 }\n',
      'topology.yaml:1:1  mongod_server: unknown key (allowed: global, server_configs, replica_set_settings, config_servers, mongod_servers, mongos_servers)',
    );
  });

  test('unknown key in global', async () => {
    await expectRejected(
      'global:\n  user: mongodb\n  deploy_directory: /opt\nmongod_servers:\n  - { host: localhost, port: 0 }\n',
      'topology.yaml:3:3  global.deploy_directory: unknown key (allowed: user, tls, ssh_port, deploy_dir, data_dir, log_dir, config_dir)',
    );
  });

  test('unknown key in a mongod server', async () => {
    await expectRejected(
      'mongod_servers:\n  - host: localhost\n    port: 0\n    replica_set: rs0\n    priorty: 2\n',
      'topology.yaml:5:5  mongod_servers.0.priorty: unknown key (allowed: host, port, replica_set, priority, votes, hidden, arbiter_only, secondary_delay_secs, tags, build_indexes, deploy_dir, data_dir, log_dir, config_dir, config)',
    );
  });

  test('unknown key in server_configs', async () => {
    await expectRejected(
      'server_configs:\n  mongodb: {}\nmongod_servers:\n  - { host: localhost, port: 0 }\n',
      'topology.yaml:2:3  server_configs.mongodb: unknown key (allowed: mongod, mongos)',
    );
  });

  test('unknown key in replica_set_settings', async () => {
    await expectRejected(
      `replica_set_settings:\n  rs0:\n    electionTimeout: 5000\nmongod_servers:\n${members(1)}\n`,
      'topology.yaml:3:5  replica_set_settings.rs0.electionTimeout: unknown key (allowed: chainingAllowed, heartbeatIntervalMillis, heartbeatTimeoutSecs, electionTimeoutMillis, catchUpTimeoutMillis, catchUpTakeoverDelayMillis, getLastErrorModes, getLastErrorDefaults, writeConcernMajorityJournalDefault)',
    );
  });

  test('a mongos has no data_dir', async () => {
    await expectRejected(
      'config_servers:\n  - { host: localhost, port: 0, replica_set: cfg }\nmongod_servers:\n  - { host: localhost, port: 0, replica_set: shard1 }\nmongos_servers:\n  - { host: localhost, port: 0, data_dir: /data }\n',
      'topology.yaml:6:33  mongos_servers.0.data_dir: unknown key (allowed: host, port, deploy_dir, log_dir, config_dir, config)',
    );
  });

  test('wrong type: a port given as text', async () => {
    await expectRejected(
      'mongod_servers:\n  - host: localhost\n    port: "27017"\n',
      'topology.yaml:3:11  mongod_servers.0.port: must be an integer, got a string "27017" (type)',
    );
  });

  test('wrong type: a fractional port', async () => {
    await expectRejected(
      'mongod_servers:\n  - host: localhost\n    port: 27017.5\n',
      'topology.yaml:3:11  mongod_servers.0.port: must be an integer, got the fraction 27017.5 (type)',
    );
  });

  test('wrong type: hidden given as yes', async () => {
    await expectRejected(
      `mongod_servers:\n${members(2)}\n  - { host: localhost, port: 28000, replica_set: rs0, hidden: yes }\n`,
      'topology.yaml:4:63  mongod_servers.2.hidden: must be true or false, got a string "yes" (type)',
    );
  });

  test('wrong type: mongod_servers as a mapping', async () => {
    await expectRejected(
      'mongod_servers:\n  host: localhost\n  port: 0\n',
      'topology.yaml:2:3  mongod_servers: must be a list, got a mapping (type)',
    );
  });

  test('a server without host', async () => {
    await expectRejected(
      'mongod_servers:\n  - port: 27017\n',
      'topology.yaml:2:5  mongod_servers.0.host: is required (required key)',
    );
  });

  test('a port written into the host', async () => {
    await expectRejected(
      'mongod_servers:\n  - { host: db1:27017, port: 27017 }\n',
      'topology.yaml:2:13  mongod_servers.0.host: a host with ":" must be an IPv6 address (without brackets); the port goes in port (host)',
    );
  });

  test('two instances on one host sharing a data_dir', async () => {
    await expectRejected(
      'mongod_servers:\n  - { host: db1, port: 1, data_dir: /data/a }\n  - { host: db1, port: 2, data_dir: /data/a/ }\n',
      'topology.yaml:3:37  mongod_servers.1.data_dir: /data/a/ is also the data_dir of mongod_servers.0 on the same host; each instance needs its own (unique dirs)',
    );
  });

  test('port out of range', async () => {
    await expectRejected(
      'mongod_servers:\n  - { host: localhost, port: 70000 }\n',
      'topology.yaml:2:30  mongod_servers.0.port: must be between 1 and 65535, or 0 to allocate a free port (port range)',
    );
  });

  test('ssh_port 0', async () => {
    await expectRejected(
      'global:\n  ssh_port: 0\nmongod_servers:\n  - { host: localhost, port: 0 }\n',
      'topology.yaml:2:13  global.ssh_port: must be between 1 and 65535 (port range)',
    );
  });

  test('port 0 on a remote host', async () => {
    await expectRejected(
      'mongod_servers:\n  - { host: 10.0.1.5, port: 0 }\n',
      'topology.yaml:2:29  mongod_servers.0.port: port 0 (allocate a free port) works only on local hosts; 10.0.1.5 is remote (port allocation)',
    );
  });

  test('the same host:port twice', async () => {
    await expectRejected(
      'mongod_servers:\n  - { host: db1, port: 27017 }\n  - { host: db1, port: 27017 }\n',
      'topology.yaml:3:24  mongod_servers.1.port: db1:27017 is already used by mongod_servers.0 (unique host:port)',
    );
  });

  test('localhost and 127.0.0.1 with the same port are the same machine', async () => {
    await expectRejected(
      'mongod_servers:\n  - { host: localhost, port: 27017 }\n  - { host: 127.0.0.1, port: 27017 }\n',
      'topology.yaml:3:30  mongod_servers.1.port: 127.0.0.1:27017 is already used by mongod_servers.0 at localhost:27017, the same machine (unique host:port)',
    );
  });

  test('two names for this machine in one topology', async () => {
    await expectRejected(
      `mongod_servers:\n${members(2)}\n  - { host: 127.0.0.1, port: 28000, replica_set: rs0 }\n`,
      'topology.yaml:4:13  mongod_servers.2.host: 127.0.0.1 is this machine, which mongod_servers.0 calls localhost; use one name for it (local host name)',
    );
  });

  test('more than 50 members', async () => {
    await expectRejected(
      `mongod_servers:\n${members(51, ', votes: 0')}\n`,
      'topology.yaml:52:5  mongod_servers.50: replica set "rs0" has 51 members; MongoDB allows at most 50 (replica set size)',
    );
  });

  test('more than 7 voting members', async () => {
    await expectRejected(
      `mongod_servers:\n${members(8)}\n`,
      'topology.yaml:9:5  mongod_servers.7: replica set "rs0" has 8 voting members; MongoDB allows at most 7: give the others votes: 0 (voting members)',
    );
  });

  test('votes other than 0 or 1', async () => {
    await expectRejected(
      'mongod_servers:\n  - { host: localhost, port: 27017, replica_set: rs0, votes: 2 }\n',
      'topology.yaml:2:62  mongod_servers.0.votes: must be 0 or 1 (member votes)',
    );
  });

  test('priority above 1000', async () => {
    await expectRejected(
      'mongod_servers:\n  - { host: localhost, port: 27017, replica_set: rs0, priority: 1001 }\n',
      'topology.yaml:2:65  mongod_servers.0.priority: must be between 0 and 1000 (member priority range)',
    );
  });

  test('an arbiter in the config server replica set', async () => {
    await expectRejected(
      'config_servers:\n' +
        '  - { host: localhost, port: 0, replica_set: cfg }\n' +
        '  - { host: localhost, port: 0, replica_set: cfg, arbiter_only: true }\n' +
        'mongod_servers:\n  - { host: localhost, port: 0, replica_set: shard1 }\n' +
        'mongos_servers:\n  - { host: localhost, port: 0 }\n',
      'topology.yaml:3:65  config_servers.1.arbiter_only: config server replica sets cannot have arbiters (config server replica set)',
    );
  });

  test('two arbiters in one replica set', async () => {
    await expectRejected(
      `mongod_servers:\n${members(2)}\n` +
        '  - { host: localhost, port: 28000, replica_set: rs0, arbiter_only: true }\n' +
        '  - { host: localhost, port: 28001, replica_set: rs0, arbiter_only: true }\n',
      'topology.yaml:5:55  mongod_servers.3.arbiter_only: replica set "rs0" already has an arbiter (mongod_servers.2); MongoDB allows one (arbiters)',
    );
  });

  test('an arbiter that does not vote', async () => {
    await expectRejected(
      `mongod_servers:\n${members(2)}\n  - { host: localhost, port: 28000, replica_set: rs0, arbiter_only: true, votes: 0 }\n`,
      'topology.yaml:4:82  mongod_servers.2.votes: an arbiter must vote (arbiter)',
    );
  });

  test('an arbiter with tags', async () => {
    await expectRejected(
      `mongod_servers:\n${members(2)}\n  - { host: localhost, port: 28000, replica_set: rs0, arbiter_only: true, tags: { dc: east } }\n`,
      'topology.yaml:4:81  mongod_servers.2.tags: an arbiter holds no data and cannot have tags (arbiter)',
    );
  });

  test('a hidden member with priority', async () => {
    await expectRejected(
      `mongod_servers:\n${members(2)}\n  - { host: localhost, port: 28000, replica_set: rs0, hidden: true, priority: 1 }\n`,
      'topology.yaml:4:79  mongod_servers.2.priority: a hidden member must have priority 0 (hidden member)',
    );
  });

  test('a delayed member that is not hidden', async () => {
    await expectRejected(
      `mongod_servers:\n${members(2)}\n  - { host: localhost, port: 28000, replica_set: rs0, secondary_delay_secs: 3600 }\n`,
      'topology.yaml:4:77  mongod_servers.2.secondary_delay_secs: a delayed member must be hidden: add hidden: true (delayed member)',
    );
  });

  test('a secondary delay above MongoDB’s limit', async () => {
    await expectRejected(
      `mongod_servers:\n${members(2)}\n  - { host: localhost, port: 28000, replica_set: rs0, hidden: true, secondary_delay_secs: 40000000 }\n`,
      'topology.yaml:4:91  mongod_servers.2.secondary_delay_secs: must be between 0 and 31622400 (secondary delay range)',
    );
  });

  test('a non-voting member with priority', async () => {
    await expectRejected(
      `mongod_servers:\n${members(2)}\n  - { host: localhost, port: 28000, replica_set: rs0, votes: 0, priority: 1 }\n`,
      'topology.yaml:4:75  mongod_servers.2.priority: a non-voting member (votes: 0) must have priority 0 (non-voting member)',
    );
  });

  test('a member that builds no indexes but could become primary', async () => {
    await expectRejected(
      `mongod_servers:\n${members(2)}\n  - { host: localhost, port: 28000, replica_set: rs0, build_indexes: false, priority: 1 }\n`,
      'topology.yaml:4:87  mongod_servers.2.priority: a member with build_indexes: false must have priority 0 (build_indexes)',
    );
  });

  test('a replica set with no member that can become primary', async () => {
    await expectRejected(
      `mongod_servers:\n${members(3, ', priority: 0')}\n`,
      'topology.yaml:2:5  mongod_servers.0: replica set "rs0" has no member that can become primary: one data-bearing member needs priority > 0 (electable member)',
    );
  });

  test('a replica set mixing local and remote hosts', async () => {
    await expectRejected(
      `mongod_servers:\n${members(2)}\n  - { host: 10.0.1.5, port: 27017, replica_set: rs0 }\n`,
      'topology.yaml:4:13  mongod_servers.2.host: 10.0.1.5 is remote but localhost is local; MongoDB wants all members of a replica set to be localhost addresses or none (localhost references)',
    );
  });

  test('an invalid replica set name', async () => {
    await expectRejected(
      'mongod_servers:\n  - { host: localhost, port: 27017, replica_set: "rs/0" }\n',
      'topology.yaml:2:50  mongod_servers.0.replica_set: "rs/0" may contain only letters, digits, "_", "-" and "." (replica set name)',
    );
  });

  test('standalone servers mixed with a replica set', async () => {
    await expectRejected(
      'mongod_servers:\n  - { host: localhost, port: 27017, replica_set: rs0 }\n  - { host: localhost, port: 27018 }\n',
      'topology.yaml:3:5  mongod_servers.1.replica_set: is missing: mongod_servers.0 is in a replica set, and a topology is either standalone servers or replica sets (topology kind)',
    );
  });

  test('member options on a standalone server', async () => {
    await expectRejected(
      'mongod_servers:\n  - { host: localhost, port: 27017, hidden: true }\n',
      'topology.yaml:2:37  mongod_servers.0.hidden: is a replica-set member option; a standalone server (no replica_set) has none (member options)',
    );
  });

  test('a sharded cluster without mongos', async () => {
    await expectRejected(
      'config_servers:\n  - { host: localhost, port: 0, replica_set: cfg }\nmongod_servers:\n  - { host: localhost, port: 0, replica_set: shard1 }\n',
      'topology.yaml:1:1  mongos_servers: a sharded cluster needs at least one mongos in mongos_servers (sharded cluster)',
    );
  });

  test('a sharded cluster without shards', async () => {
    await expectRejected(
      'config_servers:\n  - { host: localhost, port: 0, replica_set: cfg }\nmongos_servers:\n  - { host: localhost, port: 0 }\n',
      'topology.yaml:1:1  mongod_servers: a sharded cluster needs at least one shard: mongod_servers with a replica_set (sharded cluster)',
    );
  });

  test('mongos without config servers', async () => {
    await expectRejected(
      `mongod_servers:\n${members(1)}\nmongos_servers:\n  - { host: localhost, port: 28000 }\n`,
      'topology.yaml:3:1  mongos_servers: mongos needs config servers: add config_servers to make a sharded cluster (sharded cluster)',
    );
  });

  test('config servers naming two replica sets', async () => {
    await expectRejected(
      'config_servers:\n' +
        '  - { host: localhost, port: 0, replica_set: cfg }\n' +
        '  - { host: localhost, port: 0, replica_set: cfg2 }\n' +
        'mongod_servers:\n  - { host: localhost, port: 0, replica_set: shard1 }\n' +
        'mongos_servers:\n  - { host: localhost, port: 0 }\n',
      'topology.yaml:3:46  config_servers.1.replica_set: config servers form exactly one replica set, and config_servers.0 names "cfg" (config server replica set)',
    );
  });

  test('a config server without replica_set', async () => {
    await expectRejected(
      'config_servers:\n  - { host: localhost, port: 0 }\n' +
        'mongod_servers:\n  - { host: localhost, port: 0, replica_set: shard1 }\n' +
        'mongos_servers:\n  - { host: localhost, port: 0 }\n',
      'topology.yaml:2:5  config_servers.0.replica_set: is required: config servers form one replica set (config server replica set)',
    );
  });

  test('a shard server without replica_set', async () => {
    await expectRejected(
      'config_servers:\n  - { host: localhost, port: 0, replica_set: cfg }\n' +
        'mongod_servers:\n  - { host: localhost, port: 0 }\n' +
        'mongos_servers:\n  - { host: localhost, port: 0 }\n',
      'topology.yaml:4:5  mongod_servers.0.replica_set: is required in a sharded cluster: every shard is a replica set (shard replica set)',
    );
  });

  test('a shard named like the config server replica set', async () => {
    await expectRejected(
      'config_servers:\n  - { host: localhost, port: 0, replica_set: cfg }\n' +
        'mongod_servers:\n  - { host: localhost, port: 0, replica_set: cfg }\n' +
        'mongos_servers:\n  - { host: localhost, port: 0 }\n',
      'topology.yaml:4:46  mongod_servers.0.replica_set: "cfg" is the config server replica set; a shard needs a name of its own (shard replica set)',
    );
  });

  test('replica_set_settings for a set that does not exist', async () => {
    await expectRejected(
      `replica_set_settings:\n  rs1: { chainingAllowed: false }\nmongod_servers:\n${members(1)}\n`,
      'topology.yaml:2:3  replica_set_settings.rs1: no server has replica_set "rs1" (replica set settings)',
    );
  });

  test('a replica-set setting of the wrong type', async () => {
    await expectRejected(
      `replica_set_settings:\n  rs0: { electionTimeoutMillis: 10s }\nmongod_servers:\n${members(1)}\n`,
      'topology.yaml:2:33  replica_set_settings.rs0.electionTimeoutMillis: must be an integer, got a string "10s" (type)',
    );
  });

  test('replicaSetId in replica_set_settings', async () => {
    await expectRejected(
      `replica_set_settings:\n  rs0: { replicaSetId: abc }\nmongod_servers:\n${members(1)}\n`,
      'topology.yaml:2:10  replica_set_settings.rs0.replicaSetId: is generated by MongoDB at replSetInitiate and must not be given (replica set settings)',
    );
  });

  test('a write concern mode the members’ tags cannot satisfy', async () => {
    await expectRejected(
      'replica_set_settings:\n  rs0:\n    getLastErrorModes:\n      twoDCs: { dc: 2 }\n' +
        `mongod_servers:\n${members(3, ', tags: { dc: east }')}\n`,
      'topology.yaml:4:21  replica_set_settings.rs0.getLastErrorModes.twoDCs.dc: needs 2 members with different values of tag "dc", but the set has 1 (write concern mode)',
    );
  });

  test('server_configs setting net.port with a dotted key', async () => {
    await expectRejected(
      'server_configs:\n  mongod:\n    net.port: 27017\nmongod_servers:\n  - { host: localhost, port: 0 }\n',
      'topology.yaml:3:5  server_configs.mongod.net.port: mup owns net.port: it comes from the port of the server entry (mup-owned key)',
    );
  });

  test('server_configs setting storage.dbPath as a nested key', async () => {
    await expectRejected(
      'server_configs:\n  mongod:\n    storage:\n      dbPath: /data/db\nmongod_servers:\n  - { host: localhost, port: 0 }\n',
      'topology.yaml:4:7  server_configs.mongod.storage.dbPath: mup owns storage.dbPath: it comes from data_dir (mup-owned key)',
    );
  });

  test('per-instance config setting processManagement.fork', async () => {
    await expectRejected(
      'mongod_servers:\n  - host: localhost\n    port: 0\n    config:\n      processManagement: { fork: true }\n',
      'topology.yaml:5:28  mongod_servers.0.config.processManagement.fork: mup owns processManagement.fork: processes run in the foreground under supervisord (mup-owned key)',
    );
  });

  test('server_configs setting replication.replSetName', async () => {
    await expectRejected(
      `server_configs:\n  mongod: { replication.replSetName: other }\nmongod_servers:\n${members(1)}\n`,
      'topology.yaml:2:13  server_configs.mongod.replication.replSetName: mup owns replication.replSetName: it comes from replica_set (mup-owned key)',
    );
  });

  test('mongos config setting systemLog.path', async () => {
    await expectRejected(
      'config_servers:\n  - { host: localhost, port: 0, replica_set: cfg }\n' +
        'mongod_servers:\n  - { host: localhost, port: 0, replica_set: shard1 }\n' +
        'mongos_servers:\n  - host: localhost\n    port: 0\n    config: { systemLog.path: /tmp/mongos.log }\n',
      'topology.yaml:8:15  mongos_servers.0.config.systemLog.path: mup owns systemLog.path: it comes from log_dir (mup-owned key)',
    );
  });

  test('mongos config with storage options', async () => {
    await expectRejected(
      'server_configs:\n  mongos:\n    storage.wiredTiger.engineConfig.cacheSizeGB: 1\n' +
        'config_servers:\n  - { host: localhost, port: 0, replica_set: cfg }\n' +
        'mongod_servers:\n  - { host: localhost, port: 0, replica_set: shard1 }\n' +
        'mongos_servers:\n  - { host: localhost, port: 0 }\n',
      'topology.yaml:3:5  server_configs.mongos.storage.wiredTiger.engineConfig.cacheSizeGB: mongos has no storage options; it would refuse to start (mongos options)',
    );
  });

  test('a config option set twice, dotted and nested', async () => {
    await expectRejected(
      'server_configs:\n  mongod:\n    net: { bindIp: 127.0.0.1 }\n    net.bindIp: 0.0.0.0\nmongod_servers:\n  - { host: localhost, port: 0 }\n',
      'topology.yaml:4:5  server_configs.mongod.net.bindIp: net.bindIp is already set in another form (dotted and nested) (duplicate config key)',
    );
  });

  test('unknown keys do not hide rule violations elsewhere', async () => {
    const run = await validate(
      'mongod_servers:\n  - { host: db1, port: 27017, replica_set: rs0, prio: 2 }\n  - { host: db1, port: 27017, replica_set: rs0 }\n',
    );
    assert.equal(run.code, 2);
    const reported = run.stderr.split('\n').filter((line) => line.startsWith('topology.yaml:'));
    assert.deepEqual(reported, [
      'topology.yaml:2:49  mongod_servers.0.prio: unknown key (allowed: host, port, replica_set, priority, votes, hidden, arbiter_only, secondary_delay_secs, tags, build_indexes, deploy_dir, data_dir, log_dir, config_dir, config)',
      'topology.yaml:3:24  mongod_servers.1.port: db1:27017 is already used by mongod_servers.0 (unique host:port)',
    ]);
  });

  test('every problem is reported at once, in file order', async () => {
    const run = await validate(
      'global:\n  colour: blue\nmongod_servers:\n  - { host: localhost, port: "x" }\n  - { port: 1 }\n',
    );
    assert.equal(run.code, 2);
    const reported = run.stderr.split('\n').filter((line) => line.startsWith('topology.yaml:'));
    assert.deepEqual(reported, [
      'topology.yaml:2:3  global.colour: unknown key (allowed: user, tls, ssh_port, deploy_dir, data_dir, log_dir, config_dir)',
      'topology.yaml:4:30  mongod_servers.0.port: must be an integer, got a string "x" (type)',
      'topology.yaml:5:5  mongod_servers.1.host: is required (required key)',
    ]);
    assert.match(run.stderr, /is not a valid topology \(3 errors\)/);
  });
});

describe('template --name', () => {
  test('each cluster gets its own deploy dir; a bad name is refused', async () => {
    const prod = await runMup(['template', '--name', 'prod']);
    const dev = await runMup(['template', '--name', 'dev', '--full']);
    assert.match(prod.stdout, /^ {2}deploy_dir: mongo-deploy\/prod /m);
    assert.match(prod.stdout, /deploy: mup cluster deploy prod FILE/);
    assert.match(dev.stdout, /^ {2}deploy_dir: mongo-deploy\/dev /m);
    assert.match((await runMup(['template'])).stdout, /^ {2}deploy_dir: mongo-deploy\/my-cluster /m);
    const bad = await runMup(['template', '--name', '../x']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid cluster name/);
  });
});
