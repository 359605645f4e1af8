// validateTopology: rules that the CLI tests cannot reach (endpoints of other clusters), priority defaults that
// make `hidden: true` alone valid, and the shape of TopologyError.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ExitCode } from '../../src/errors.js';
import { TopologyError } from '../../src/topology/issues.js';
import { validateTopology } from '../../src/topology/load.js';
import { resolveTopology } from '../../src/topology/resolve.js';
import { type UsedEndpoint, usedEndpointsOf } from '../../src/topology/rules.js';

function problems(yaml: string, usedEndpoints: UsedEndpoint[] = []): string[] {
  try {
    validateTopology(yaml, 't.yaml', { usedEndpoints });
  } catch (error) {
    assert.ok(error instanceof TopologyError, String(error));
    return error.issues.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`);
  }
  return [];
}

describe('topology rules', () => {
  test('a host:port used by another cluster is refused, also through a loopback alias', () => {
    const used = [
      { host: 'db1', port: 27017, cluster: 'prod' },
      { host: 'localhost', port: 28000, cluster: 'playground' },
    ];
    assert.deepEqual(
      problems(
        'mongod_servers:\n  - { host: db1, port: 27017 }\n  - { host: db1, port: 27018 }\n  - { host: 127.0.0.2, port: 28000 }\n',
        used,
      ),
      [
        '2:24 mongod_servers.0.port: db1:27017 is already used by cluster "prod" (unique host:port across clusters)',
        '4:30 mongod_servers.2.port: 127.0.0.2:28000 is already used by cluster "playground" (unique host:port across clusters)',
      ],
    );
  });

  test('usedEndpointsOf lists every instance of the stored clusters', async () => {
    const spec = validateTopology(
      'mongod_servers:\n  - { host: db1, port: 27017 }\n  - { host: localhost, port: 0 }\n',
      't',
    );
    const topology = await resolveTopology(spec, { isPortFree: async () => true, portBase: 30500 });
    const used = usedEndpointsOf([{ name: 'prod', topology }]);
    assert.deepEqual(used, [
      { host: 'db1', port: 27017, cluster: 'prod' },
      { host: 'localhost', port: 30500, cluster: 'prod' },
    ]);
    assert.equal(problems('mongod_servers:\n  - { host: 127.0.0.1, port: 30500 }\n', used).length, 1);
  });

  test('host names are compared without case', () => {
    assert.equal(
      problems('mongod_servers:\n  - { host: DB1, port: 1 }\n  - { host: db1, port: 1 }\n').length,
      1,
    );
  });

  test('hidden, delayed and non-voting members need no explicit priority 0', () => {
    assert.deepEqual(
      problems(
        'mongod_servers:\n' +
          '  - { host: h1, port: 1, replica_set: rs0 }\n' +
          '  - { host: h2, port: 1, replica_set: rs0, hidden: true, secondary_delay_secs: 100 }\n' +
          '  - { host: h3, port: 1, replica_set: rs0, votes: 0 }\n' +
          '  - { host: h4, port: 1, replica_set: rs0, build_indexes: false }\n' +
          '  - { host: h5, port: 1, replica_set: rs0, arbiter_only: true }\n',
      ),
      [],
    );
  });

  test('seven voters plus non-voters up to fifty members is fine', () => {
    const lines = Array.from(
      { length: 50 },
      (_, i) => `  - { host: h${i}, port: 1, replica_set: rs0${i >= 7 ? ', votes: 0' : ''} }`,
    );
    assert.deepEqual(problems(`mongod_servers:\n${lines.join('\n')}\n`), []);
  });

  test('several standalone servers are fine; each is its own server', () => {
    assert.deepEqual(problems('mongod_servers:\n  - { host: h1, port: 1 }\n  - { host: h2, port: 1 }\n'), []);
  });

  test('a config server set cannot have delayed members or skip indexes', () => {
    const found = problems(
      'config_servers:\n' +
        '  - { host: h1, port: 1, replica_set: cfg }\n' +
        '  - { host: h2, port: 1, replica_set: cfg, hidden: true, secondary_delay_secs: 5, build_indexes: false }\n' +
        'mongod_servers:\n  - { host: h3, port: 1, replica_set: s1 }\nmongos_servers:\n  - { host: h4, port: 1 }\n',
    );
    assert.deepEqual(found, [
      '3:80 config_servers.1.secondary_delay_secs: config server replica sets cannot have delayed members (config server replica set)',
      '3:98 config_servers.1.build_indexes: config servers must build indexes (config server replica set)',
    ]);
  });

  test('a sharded cluster cannot mix local and remote hosts', () => {
    assert.deepEqual(
      problems(
        'config_servers:\n  - { host: localhost, port: 1, replica_set: cfg }\n' +
          'mongod_servers:\n  - { host: localhost, port: 2, replica_set: s1 }\n' +
          'mongos_servers:\n  - { host: 10.0.0.1, port: 3 }\n',
      ),
      [
        '6:13 mongos_servers.0.host: 10.0.0.1 is remote but localhost is local; a sharded cluster uses only localhost addresses or none (localhost references)',
      ],
    );
  });

  test('"config" cannot name a shard', () => {
    assert.deepEqual(
      problems(
        'config_servers:\n  - { host: h, port: 1, replica_set: cfg }\n' +
          'mongod_servers:\n  - { host: h, port: 2, replica_set: config }\n' +
          'mongos_servers:\n  - { host: h, port: 3 }\n',
      ),
      [
        '4:38 mongod_servers.0.replica_set: "config" is reserved by MongoDB and cannot name a shard (shard name)',
      ],
    );
  });

  test('getLastErrorDefaults must name an existing mode and ask for no more members than exist', () => {
    assert.deepEqual(
      problems(
        'replica_set_settings:\n' +
          '  a: { getLastErrorDefaults: { w: twoDCs } }\n' +
          '  b: { getLastErrorDefaults: { w: 3 } }\n' +
          'mongod_servers:\n' +
          '  - { host: h1, port: 1, replica_set: a }\n' +
          '  - { host: h1, port: 2, replica_set: b }\n' +
          '  - { host: h2, port: 2, replica_set: b, arbiter_only: true }\n',
      ),
      [
        '2:35 replica_set_settings.a.getLastErrorDefaults.w: "twoDCs" is neither "majority" nor a mode of getLastErrorModes (write concern)',
        '3:35 replica_set_settings.b.getLastErrorDefaults.w: asks for 3 acknowledgements but the set has 1 data-bearing members (write concern)',
      ],
    );
  });

  test('a topology with only mongos has no servers', () => {
    const found = problems('mongos_servers:\n  - { host: h, port: 1 }\n');
    assert.ok(
      found.includes('1:1 mongod_servers: a topology needs at least one mongod server (servers)'),
      found.join('\n'),
    );
  });

  test('TopologyError is a usage error (exit 2) listing every problem in file order', () => {
    assert.throws(
      () =>
        validateTopology(
          'mongod_servers:\n  - { host: h, port: 1, x: 1 }\n  - { host: h, port: -1 }\n',
          'f.yaml',
        ),
      (error: unknown) => {
        assert.ok(error instanceof TopologyError);
        assert.equal(error.exitCode, ExitCode.usage);
        assert.equal(error.file, 'f.yaml');
        assert.deepEqual(error.message.split('\n'), [
          'f.yaml is not a valid topology (2 errors):',
          'f.yaml:2:25  mongod_servers.0.x: unknown key (allowed: host, port, replica_set, priority, votes, hidden, arbiter_only, secondary_delay_secs, tags, build_indexes, deploy_dir, data_dir, log_dir, config_dir, config)',
          'f.yaml:3:22  mongod_servers.1.port: must be between 1 and 65535, or 0 to allocate a free port (port range)',
        ]);
        return true;
      },
    );
  });
});
