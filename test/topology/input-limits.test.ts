// Hostile or malformed input refused with a position: YAML resource attacks, aliases, tags, integer spellings,
// host names, replica set names and every path rule (characters, escapes, system dirs, nesting, files).
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { TopologyError } from '../../src/topology/issues.js';
import { loadTopology, validateTopology } from '../../src/topology/load.js';
import { tempDir } from '../helpers/cli.js';

function rejected(yaml: string): string[] {
  try {
    validateTopology(yaml, 't.yaml');
  } catch (error) {
    assert.ok(error instanceof TopologyError, String(error));
    return error.issues.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`);
  }
  return [];
}

async function loadRejected(yaml: string, home = '/home/me'): Promise<string[]> {
  try {
    await loadTopology(yaml, 't.yaml', { isPortFree: async () => true, homeOf: () => home });
  } catch (error) {
    assert.ok(error instanceof TopologyError, String(error));
    return error.issues.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`);
  }
  return [];
}

const one = (server: string) => `mongod_servers:\n  - { host: localhost, port: 27017${server} }\n`;

describe('YAML limits', () => {
  test('an undefined alias is refused at the alias', () => {
    assert.deepEqual(rejected('mongod_servers:\n  - *nope\n'), [
      '2:5 : alias *nope has no anchor &nope before it (YAML aliases)',
    ]);
  });

  test('a billion-laughs document is refused cheaply at the first alias', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      lines.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    const [first] = rejected(`${lines.join('\n')}\n`);
    assert.match(first ?? '', /^2:\d+ : aliases expand to too many nodes/);
  });

  test('a recursive alias is refused', () => {
    assert.match(rejected('x: &a [*a]\n')[0] ?? '', /refers to a node that contains it \(YAML aliases\)/);
  });

  test('deep nesting is refused with a position, in flow and block style', () => {
    const flow = `mongod_servers: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
    assert.match(rejected(flow)[0] ?? '', /^1:\d+ : the document is nested too deeply/);
    const block = `server_configs:\n  mongod:\n${Array.from({ length: 40 }, (_, i) => `${' '.repeat(4 + 2 * i)}k${i}:`).join('\n')} 1\n`;
    assert.match(rejected(block)[0] ?? '', /is nested more than 32 levels deep \(nesting\)/);
  });

  test('unknown tags are refused instead of becoming strings', () => {
    assert.match(
      rejected('mongod_servers:\n  - { host: !env HOSTNAME, port: 1 }\n')[0] ?? '',
      /^2:13 : Unresolved tag: !env/,
    );
  });

  test('a file over 2 MiB is refused before parsing', () => {
    assert.match(rejected(`# ${'x'.repeat(2 * 1024 * 1024)}\n`)[0] ?? '', /^1:1 : .*\(file size\)/);
  });

  test('integers spelled 1e3, 0x10 or 0o17 are refused', () => {
    for (const spelling of ['1e3', '0x10', '0o17']) {
      assert.deepEqual(rejected(`mongod_servers:\n  - { host: localhost, port: ${spelling} }\n`), [
        `2:30 : port must be written as a plain decimal integer, got ${spelling} (type)`,
      ]);
    }
  });
});

describe('hosts and names', () => {
  for (const host of ['a..b', '-db', 'db_1', 'ex ample', '999.1.1.1', '10.0.1', 'x'.repeat(64), 'ｄｂ']) {
    test(`host ${JSON.stringify(host)} is refused at its position`, () => {
      const [problem] = rejected(`mongod_servers:\n  - { host: ${JSON.stringify(host)}, port: 1 }\n`);
      assert.match(problem ?? '', /^2:13 mongod_servers\.0\.host: .*\(host\)$/);
    });
  }
  for (const host of ['db1.example.com', '10.0.0.1', '::1', 'fe80::1', 'localhost', 'DB-1.']) {
    test(`host ${host} is accepted`, () => {
      assert.deepEqual(rejected(`mongod_servers:\n  - { host: "${host}", port: 1 }\n`), []);
    });
  }
  test('a replica set name over 64 characters is refused', () => {
    assert.match(
      rejected(one(`, replica_set: ${'r'.repeat(65)}`))[0] ?? '',
      /at most 64 \(replica set name\)/,
    );
  });
});

describe('path rules', () => {
  const cases: [string, RegExp][] = [
    ['deploy_dir: "a\\nb"', /control characters/],
    ['deploy_dir: "a\\u0000b"', /control characters/],
    ['deploy_dir: "a ;x"', /path characters/],
    ['deploy_dir: "%(here)s"', /path characters/],
    ['deploy_dir: "$HOME/x"', /path characters/],
    ['deploy_dir: "~nobody/x"', /~user form/],
    ['deploy_dir: ../../../etc', /path escape/],
    ['data_dir: /srv/../etc', /path escape/],
    ['deploy_dir: /', /root of the file system/],
    ['data_dir: /etc', /system dir \/etc/],
    ['log_dir: /proc/x', /system dir \/proc/],
    [`deploy_dir: /${'d'.repeat(300)}`, /path component of 300/],
    [`deploy_dir: /${'d/'.repeat(600)}`, /at most 1024 \(path length\)/],
  ];
  for (const [line, pattern] of cases) {
    test(`${line.slice(0, 40)} is refused`, () => {
      const [problem] = rejected(`mongod_servers:\n  - host: localhost\n    port: 1\n    ${line}\n`);
      assert.match(problem ?? '', /^4:\d+ mongod_servers\.0\.\w+_dir: /);
      assert.match(problem ?? '', pattern);
    });
  }

  test('the home itself as global deploy dir is refused', () => {
    assert.match(
      rejected(`global: { deploy_dir: "~" }\n${one('')}`)[0] ?? '',
      /must not be the home dir itself/,
    );
  });

  test('config_dir may be beneath /etc, but not /etc itself', async () => {
    assert.deepEqual(await loadRejected(`global: { config_dir: /etc/mongodb }\n${one('')}`), []);
    assert.match((await loadRejected(one(', config_dir: /etc')))[0] ?? '', /inside the system dir \/etc/);
  });

  test('a data dir inside another member’s dbPath is refused at its key', async () => {
    const yaml =
      'mongod_servers:\n  - { host: localhost, port: 1, replica_set: rs, data_dir: /srv/a }\n' +
      '  - { host: localhost, port: 2, replica_set: rs, data_dir: /srv/a/inner }\n';
    assert.deepEqual(await loadRejected(yaml), [
      '3:60 mongod_servers.1.data_dir: data_dir of mongod-2 (/srv/a/inner) is inside the data_dir of mongod-1 (/srv/a); instances must not share or nest dirs (nested dirs)',
    ]);
  });

  test('a log dir inside the supervisor dir is refused', async () => {
    const [problem] = await loadRejected(one(', log_dir: /home/me/mongo-deploy/supervisor/logs'));
    assert.match(problem ?? '', /overlaps the cluster's supervisor dir/);
  });

  test('a deploy dir that is an existing regular file is refused at validate', async () => {
    const root = await tempDir();
    await mkdir(join(root, 'd'));
    await writeFile(join(root, 'd', 'file'), 'x');
    const [problem] = await loadRejected(one(`, deploy_dir: ${join(root, 'd', 'file', 'sub')}`));
    assert.match(
      problem ?? '',
      new RegExp(`needs ${join(root, 'd', 'file')} to be a directory, but it is a file`),
    );
  });
});
