// Strict option parsing per program and version (reference §5.1–§5.2): what is accepted, what is
// refused, and the exact messages the process prints before exiting 2.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OptionsError, parseOptions } from '../src/options.js';
import { parseVersion } from '../src/version.js';
import { removeDir, tempDir } from './helpers/sim.js';

const v = (s: string) => parseVersion(s);

function run(argv: string[], version = '7.0.14', program: 'mongod' | 'mongos' = 'mongod') {
  const out = parseOptions(argv, program, v(version));
  if (out.kind !== 'run') throw new Error(`expected a run outcome, got ${out.kind}`);
  return out;
}

function refusal(argv: string[], version = '7.0.14', program: 'mongod' | 'mongos' = 'mongod'): string {
  try {
    parseOptions(argv, program, v(version));
  } catch (err) {
    if (err instanceof OptionsError) return err.message;
    throw err;
  }
  throw new Error('expected an OptionsError');
}

describe('option parsing', () => {
  let dir: string;
  const conf = async (name: string, text: string) => {
    const p = join(dir, name);
    await writeFile(p, text);
    return p;
  };
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await removeDir(dir);
  });

  it('reads the command line boost-style and applies role defaults', () => {
    const o = run([
      '--port=28000',
      '--bind_ip',
      '127.0.0.1,localhost',
      '--dbpath',
      '/d',
      '--setParameter',
      'enableTestCommands=1',
      '--logappend',
    ]).options;
    assert.equal(o.port, 28000);
    assert.deepEqual(o.bindIps, ['127.0.0.1', 'localhost']);
    assert.equal(o.dbPath, '/d');
    assert.equal(o.logAppend, true);
    assert.deepEqual(o.setParameters, { enableTestCommands: '1' });
    assert.deepEqual(o.parsed, {
      net: { port: 28000, bindIp: '127.0.0.1,localhost' },
      storage: { dbPath: '/d' },
      setParameter: { enableTestCommands: '1' },
      systemLog: { logAppend: true },
    });
    assert.equal(run(['--replSet', 'rs0', '--configsvr']).options.port, 27019);
    assert.equal(run(['--replSet', 'rs0', '--configsvr']).options.dbPath, '/data/configdb');
    assert.equal(run(['--replSet', 'rs0', '--shardsvr']).options.port, 27018);
    assert.equal(run([]).options.port, 27017);
    assert.deepEqual(run([]).options.bindIps, ['localhost']);
  });

  it('--version and --help win over everything else', () => {
    assert.equal(parseOptions(['--port', '1', '--version'], 'mongod', v('7.0.14')).kind, 'version');
    assert.equal(parseOptions(['--help'], 'mongos', v('7.0.14')).kind, 'help');
  });

  it('refuses unknown and version-inappropriate flags with the boost message', () => {
    assert.equal(refusal(['--nope']), "Error parsing command line: unrecognised option '--nope'");
    assert.equal(
      refusal(['--nojournal'], '6.1.0'),
      "Error parsing command line: unrecognised option '--nojournal'",
    );
    assert.equal(run(['--nojournal'], '6.0.16').options.parsed.storage.journal.enabled, false);
    assert.equal(
      refusal(['--tlsMode', 'disabled'], '4.0.28'),
      "Error parsing command line: unrecognised option '--tlsMode'",
    );
    assert.equal(
      refusal(['--port']),
      "Error parsing command line: the required argument for option '--port' is missing",
    );
    assert.equal(
      refusal(['--fork=yes']),
      "Error parsing command line: option '--fork' does not take any arguments",
    );
    assert.equal(refusal(['--port', 'abc']), 'Error parsing option "net.port" as int on command line: abc');
  });

  it('keeps mongod and mongos option sets apart', () => {
    assert.equal(
      refusal(['--configdb', 'cfg/h:1', '--replSet', 'x'], '7.0.14', 'mongos'),
      "Error parsing command line: unrecognised option '--replSet'",
    );
    assert.equal(
      refusal(['--configdb', 'cfg/h:1']),
      "Error parsing command line: unrecognised option '--configdb'",
    );
    assert.equal(refusal([], '7.0.14', 'mongos'), 'BadValue: error: no args for --configdb');
  });

  it('reads YAML strictly: unknown keys, removed keys, bad types, bad documents', async () => {
    const good = await conf(
      'good.yaml',
      'net:\n  port: 27500\n  bindIp: 127.0.0.1\nstorage:\n  dbPath: /x\n  wiredTiger:\n    engineConfig:\n      cacheSizeGB: 0.25\nsystemLog:\n  destination: file\n  path: /x/m.log\n  logAppend: true\n  component:\n    replication:\n      election:\n        verbosity: 2\nreplication:\n  replSetName: rs0\nsetParameter:\n  enableTestCommands: 1\n',
    );
    const o = run(['-f', good]).options;
    assert.equal(o.port, 27500);
    assert.equal(o.logPath, '/x/m.log');
    assert.equal(o.replSetName, 'rs0');
    assert.equal(o.configPath, good);
    assert.equal(o.parsed.config, good);
    assert.deepEqual(o.setParameters, { enableTestCommands: '1' });
    assert.equal(
      run(['-f', good, '--port', '27600']).options.port,
      27600,
      'the command line overrides the file',
    );

    assert.equal(
      run(['-f', await conf('empty.yaml', 'net:\nstorage:\n  dbPath: /e\n')]).options.dbPath,
      '/e',
    );
    const journal = await conf('journal.yaml', 'storage:\n  journal:\n    enabled: false\n');
    assert.equal(refusal(['-f', journal], '7.0.14'), 'Unrecognized option: storage.journal.enabled');
    assert.equal(refusal(['-f', journal], '8.0.3'), 'Unrecognized option: storage.journal.enabled');
    assert.equal(run(['-f', journal], '6.0.16').options.parsed.storage.journal.enabled, false);
    assert.equal(
      refusal(['-f', await conf('u.yaml', 'net:\n  portt: 1\n')]),
      'Unrecognized option: net.portt',
    );
    assert.equal(refusal(['-f', await conf('top.yaml', 'bogus: 1\n')]), 'Unrecognized option: bogus');
    assert.equal(
      refusal(['-f', await conf('comp.yaml', 'systemLog:\n  component:\n    nosuch:\n      verbosity: 1\n')]),
      'Unrecognized option: systemLog.component.nosuch.verbosity',
    );
    assert.equal(
      refusal(['-f', await conf('type.yaml', 'net:\n  port: twelve\n')]),
      'Error parsing option "net.port" as int in config file: twelve',
    );
    assert.equal(
      refusal(['-f', await conf('bool.yaml', 'net:\n  bindIpAll: maybe\n')]),
      'Error parsing option "net.bindIpAll" as bool in config file: maybe',
    );
    assert.equal(
      refusal(['-f', await conf('list.yaml', '- a\n- b\n')]),
      'No map found at top level of YAML config',
    );
    assert.match(
      refusal(['-f', await conf('dup.yaml', 'net:\n  port: 1\n  port: 2\n')]),
      /^Error parsing YAML config file: /,
    );
    assert.equal(
      refusal(['-f', join(dir, 'missing.yaml')]),
      'Error reading config file: No such file or directory',
    );
    assert.equal(
      refusal(
        ['-f', await conf('mongos.yaml', 'sharding:\n  configDB: cfg/h:1\nstorage:\n  dbPath: /x\n')],
        '7.0.14',
        'mongos',
      ),
      'Unrecognized option: storage.dbPath',
    );
  });

  it('checks option combinations like mongod (BadValue, exit 2)', () => {
    assert.equal(
      refusal(['--fork', '--dbpath', '/x']),
      'BadValue: --fork has to be used with --logpath or --syslog',
    );
    assert.equal(
      refusal(['--configsvr']),
      'BadValue: Cannot start a configsvr as a standalone server. Please use the option --replSet to start the node as a replica set.',
    );
    assert.equal(
      refusal(['--shardsvr'], '5.0.28'),
      'BadValue: Cannot start a shardsvr as a standalone server. Please use the option --replset to start the node as a replica set.',
    );
    assert.equal(
      run(['--shardsvr'], '4.4.29').options.clusterRole,
      'shardsvr',
      'a standalone shard was still allowed before 5.0',
    );
    assert.equal(
      refusal(['--bind_ip', '127.0.0.1', '--bind_ip_all']),
      'BadValue: net.bindIp and net.bindIpAll are mutually exclusive',
    );
  });

  it('reports unknown setParameter names for global init (exit 1), not as option errors', () => {
    const out = run(['--setParameter', 'noSuch=1', '--setParameter', 'enableTestCommands=1']);
    assert.deepEqual(out.unknownSetParameters, ['noSuch']);
  });
});
