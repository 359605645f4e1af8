// mongos as a process: its option set (sharding.configDB required and naming a replica set; no storage
// or replication options, exit 2 like the real binary) and its startup while the config servers are not
// there yet (no listener, a retry line every 2 seconds, a clean exit on SIGTERM).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, removeDir, runToExit, simBin, tempDir, waitFor } from '../helpers/sim.js';
import { ShardedClusterFixture } from './cluster.js';

describe('simulated mongos process', () => {
  let root: string;
  let bin: string;
  let bin44: string;
  before(async () => {
    root = await tempDir('mup-sim-mongos-');
    bin = await simBin('7.0.14', root);
    bin44 = await simBin('4.4.29', root);
  });
  after(async () => {
    await removeDir(root);
  });

  it('requires sharding.configDB', async () => {
    const r = await runToExit(join(bin, 'mongos'), ['--port', String(await freePort())]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /BadValue: error: no args for --configdb/);
    assert.match(r.stderr, /try '.*mongos --help' for more information/);
  });

  it('accepts only a replica-set connection string for the config servers', async () => {
    const r = await runToExit(join(bin, 'mongos'), ['--configdb', '127.0.0.1:27019']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /BadValue: configdb supports only replica set connection string/);
  });

  it('has no storage, replication or cluster-role options', async () => {
    for (const args of [['--replSet', 'rs0'], ['--shardsvr'], ['--configsvr'], ['--dbpath', root]]) {
      const r = await runToExit(join(bin, 'mongos'), ['--configdb', 'cfg/127.0.0.1:1', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')} must be refused`);
      assert.match(r.stderr, new RegExp(`unrecognised option '${args[0]}'`));
    }
    const conf = join(root, 'mongos.conf');
    await writeFile(conf, 'sharding:\n  configDB: cfg/127.0.0.1:1\nstorage:\n  dbPath: /tmp\n');
    const y = await runToExit(join(bin, 'mongos'), ['-f', conf]);
    assert.equal(y.code, 2);
    assert.match(y.stderr, /Unrecognized option: storage\.dbPath/);
    const mongod = await runToExit(join(bin44, 'mongod'), ['--configdb', 'cfg/127.0.0.1:1']);
    assert.equal(mongod.code, 2, 'configdb is a mongos option only');
  });

  it('will not start on config servers running an older binary (upgrade order)', {
    timeout: 60_000,
  }, async () => {
    const old = new ShardedClusterFixture('6.0.16');
    await old.init();
    try {
      const cfg = await old.startSet('cfg', 1, ['--configsvr']);
      const port = await freePort();
      const log = join(root, 'incompatible.log');
      const child = spawn(
        join(bin, 'mongos'),
        [
          '--port',
          String(port),
          '--bind_ip',
          '127.0.0.1',
          '--configdb',
          cfg.connectionString,
          '--logpath',
          log,
        ],
        { stdio: 'ignore' },
      );
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        await waitFor(
          async () =>
            existsSync(log) &&
            /IncompatibleServerVersion|incompatible with client min wire version \(21,21\)/.test(
              await readFile(log, 'utf8'),
            ),
          20_000,
          'the incompatibility to be reported',
        );
        assert.match(await readFile(log, 'utf8'), /Error initializing sharding state/);
        child.kill('SIGTERM');
        assert.equal(await exited, 0);
      } finally {
        if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
      }
    } finally {
      await old.close();
    }
  });

  it('waits for unreachable config servers without listening, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const deadConfig = await freePort();
    const log = join(root, 'waiting.log');
    const child = spawn(
      join(bin, 'mongos'),
      [
        '--port',
        String(port),
        '--bind_ip',
        '127.0.0.1',
        '--configdb',
        `cfg/127.0.0.1:${deadConfig}`,
        '--logpath',
        log,
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(
        async () =>
          existsSync(log) &&
          ((await readFile(log, 'utf8')).match(/Error initializing sharding state/g)?.length ?? 0) >= 2,
        15_000,
        'two retry lines',
      );
      const listening = await new Promise<boolean>((resolve) => {
        const s = connect({ host: '127.0.0.1', port });
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      assert.equal(listening, false);
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    }
  });
});
