// Process behaviour: --version, strict options (exit 2), global init (exit 1), dbPath (100),
// DBPathInUse (100), port in use (48), logs text/JSON, pid file, lock file, fork, signals, shutdown.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import {
  freePort,
  isAlive,
  killAll,
  removeDir,
  runToExit,
  simBin,
  startMongod,
  startSim,
  tempDir,
  waitFor,
} from './helpers/sim.js';

describe('simulated mongod process behaviour', () => {
  let root: string;
  let bin7: string;
  let bin60: string;
  let bin42: string;
  before(async () => {
    root = await tempDir();
    bin7 = await simBin('7.0.14', root);
    bin60 = await simBin('6.0.16', root);
    bin42 = await simBin('4.2.25', root);
  });
  after(async () => {
    await killAll();
    await removeDir(root);
  });

  it('--version prints the real first line and build info, exit 0', async () => {
    const d = await runToExit(join(bin7, 'mongod'), ['--version']);
    assert.equal(d.code, 0);
    assert.match(d.stdout, /^db version v7\.0\.14\nBuild Info: \{\n/);
    assert.match(d.stdout, /"version": "7\.0\.14"/);
    const s = await runToExit(join(bin7, 'mongos'), ['--version']);
    assert.equal(s.code, 0);
    assert.match(s.stdout, /^mongos version v7\.0\.14\n/);
    const old = await runToExit(join(bin42, 'mongod'), ['--version']);
    assert.match(old.stdout, /^db version v4\.2\.25\ngit version: [0-9a-f]{40}\n/);
  });

  it('an unknown command-line option exits 2 with the boost message', async () => {
    const r = await runToExit(join(bin7, 'mongod'), ['--dbpath', root, '--frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Error parsing command line: unrecognised option '--frobnicate'/);
    assert.match(r.stderr, /try '.*mongod --help' for more information/);
  });

  it('storage.journal.enabled is refused from 6.1 (exit 2) and accepted by 6.0', async () => {
    const dbPath = join(root, 'journal-db');
    await mkdir(dbPath, { recursive: true });
    const port = await freePort();
    const conf = join(root, 'journal.yaml');
    await writeFile(
      conf,
      `storage:\n  dbPath: ${dbPath}\n  journal:\n    enabled: true\nnet:\n  port: ${port}\n  bindIp: 127.0.0.1\n`,
    );
    const r = await runToExit(join(bin7, 'mongod'), ['-f', conf]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^Unrecognized option: storage\.journal\.enabled\n/);
    const nojournal = await runToExit(join(bin7, 'mongod'), ['--nojournal', '--dbpath', dbPath]);
    assert.equal(nojournal.code, 2);
    const ok = await startSim(join(bin60, 'mongod'), ['-f', conf], { port });
    assert.deepEqual(await ok.stop(), { code: 0, signal: null });
  });

  it('an unknown YAML key exits 2; mongos refuses storage options', async () => {
    const conf = join(root, 'unknown.yaml');
    await writeFile(conf, 'net:\n  port: 1\n  colour: blue\n');
    const r = await runToExit(join(bin7, 'mongod'), ['--config', conf]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Unrecognized option: net\.colour/);
    const s = await runToExit(join(bin7, 'mongos'), ['--configdb', 'cfg/127.0.0.1:1', '--dbpath', root]);
    assert.equal(s.code, 2);
    assert.match(s.stderr, /unrecognised option '--dbpath'/);
  });

  it('a configsvr without --replSet exits 2 with BadValue', async () => {
    const r = await runToExit(join(bin7, 'mongod'), ['--configsvr', '--dbpath', root]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /BadValue: Cannot start a configsvr as a standalone server/);
  });

  it('an unknown setParameter fails global initialization with exit 1', async () => {
    const r = await runToExit(join(bin7, 'mongod'), ['--dbpath', root, '--setParameter', 'noSuchKnob=1']);
    assert.equal(r.code, 1);
    const line = JSON.parse(r.stdout.trim().split('\n')[0] as string);
    assert.equal(line.id, 20574);
    assert.equal(line.attr.error.errmsg, "Unknown --setParameter 'noSuchKnob'");
  });

  it('an unopenable log path exits 1', async () => {
    const r = await runToExit(join(bin7, 'mongod'), [
      '--dbpath',
      root,
      '--logpath',
      join(root, 'no', 'such', 'dir', 'm.log'),
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /"id":20574/);
  });

  it('a pid file in a missing directory fails global initialization with exit 1', async () => {
    const r = await runToExit(join(bin7, 'mongod'), [
      '--dbpath',
      root,
      '--pidfilepath',
      join(root, 'no', 'such', 'm.pid'),
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /"id":20574.*Cannot write pid file to .*m\.pid: No such file or directory/);
  });

  it('security.keyFile must exist, be private and hold 6-1024 base64 characters (else exit 1)', async () => {
    const dbPath = join(root, 'key-db');
    await mkdir(dbPath, { recursive: true });
    const key = join(root, 'key');
    const mongod = join(bin7, 'mongod');
    const missing = await runToExit(mongod, ['--dbpath', dbPath, '--keyFile', join(root, 'nokey')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /error getting file .*nokey: No such file or directory/);
    await writeFile(key, 'c2VjcmV0a2V5\n', { mode: 0o644 });
    const open = await runToExit(mongod, ['--dbpath', dbPath, '--keyFile', key]);
    assert.equal(open.code, 1);
    assert.match(open.stdout, /permissions on .*key are too open/);
    const { chmod } = await import('node:fs/promises');
    await chmod(key, 0o600);
    await writeFile(key, 'abc');
    const short = await runToExit(mongod, ['--dbpath', dbPath, '--keyFile', key]);
    assert.equal(short.code, 1);
    assert.match(short.stdout, /has length 3, must be between 6 and 1024 chars/);
    await writeFile(key, 'c2VjcmV0a2V5 c2VjcmV0a2V5\n');
    const port = await freePort();
    const ok = await startSim(mongod, ['--dbpath', dbPath, '--port', String(port), '--keyFile', key], {
      port,
    });
    assert.deepEqual(await ok.stop(), { code: 0, signal: null });
  });

  it('a missing dbPath exits 100 with NonExistentPath (JSON from 4.4, text before)', async () => {
    const missing = join(root, 'does-not-exist');
    const port = await freePort();
    const r = await runToExit(join(bin7, 'mongod'), ['--dbpath', missing, '--port', String(port)]);
    assert.equal(r.code, 100);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const fatal = lines.find((l) => l.id === 20557);
    assert.match(fatal.attr.error, new RegExp(`^NonExistentPath: Data directory ${missing} not found\\.`));
    assert.deepEqual(lines.at(-1).attr, { exitCode: 100 });
    const old = await runToExit(join(bin42, 'mongod'), ['--dbpath', missing, '--port', String(port)]);
    assert.equal(old.code, 100);
    assert.match(
      old.stdout,
      /E {2}STORAGE {2}\[initandlisten\] exception in initAndListen: NonExistentPath: Data directory .* not found\., terminating/,
    );
    assert.match(old.stdout, /shutting down with code:100/);
  });

  it('a dbPath locked by a live mongod exits 100 DBPathInUse; SIGKILL leaves the lock, the next start copes', async () => {
    const dbPath = join(root, 'locked');
    const first = await startMongod(bin7, dbPath);
    assert.equal((await readFile(join(dbPath, 'mongod.lock'), 'utf8')).trim(), String(first.pid));
    const port = await freePort();
    const second = await runToExit(join(bin7, 'mongod'), ['--dbpath', dbPath, '--port', String(port)]);
    assert.equal(second.code, 100);
    assert.match(
      second.stdout,
      /DBPathInUse: Unable to lock the lock file: .*mongod\.lock \(Resource temporarily unavailable\)\. Another mongod instance is already running on the .* directory/,
    );
    assert.ok(isAlive(first.pid), 'the owner keeps running');

    const killed = await first.stop('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    assert.notEqual(
      (await readFile(join(dbPath, 'mongod.lock'), 'utf8')).trim(),
      '',
      'SIGKILL leaves the lock file non-empty',
    );
    const third = await startMongod(bin7, dbPath);
    assert.match(third.output(), /Detected unclean shutdown/);
    assert.deepEqual(await third.stop(), { code: 0, signal: null });
    assert.equal(
      await readFile(join(dbPath, 'mongod.lock'), 'utf8'),
      '',
      'a clean shutdown empties the lock file',
    );
  });

  it('of three servers started at once on one dbPath, exactly one runs; the others exit 100', async () => {
    const dbPath = join(root, 'race-db');
    await mkdir(dbPath, { recursive: true });
    const ports = [await freePort(), await freePort(), await freePort()];
    const children = ports.map((port) =>
      spawn(join(bin7, 'mongod'), ['--dbpath', dbPath, '--port', String(port)], { stdio: 'ignore' }),
    );
    const exits: (number | null)[] = [];
    for (const child of children) child.on('exit', (code) => exits.push(code));
    try {
      // Bounded by count, not by speed: the two losers exit as soon as they find the lock taken, however
      // slow the machine; the winner never does on its own.
      await waitFor(async () => exits.length >= 2, 60_000);
      assert.deepEqual(exits, [100, 100], 'the two others exit 100');
      const survivor = children.find((c) => c.exitCode === null && c.signalCode === null);
      assert.ok(survivor?.pid !== undefined, 'one server keeps running');
      survivor.kill('SIGKILL');
      await waitFor(async () => exits.length === 3, 60_000);
      // A SIGKILLed server leaves its pid in the lock file.
      assert.equal(await readFile(join(dbPath, 'mongod.lock'), 'utf8'), `${survivor.pid}\n`);
    } finally {
      for (const child of children)
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('a port in use exits 48 with "Error setting up listener"', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
    try {
      const dbPath = join(root, 'port-db');
      await mkdir(dbPath, { recursive: true });
      const r = await runToExit(join(bin7, 'mongod'), ['--dbpath', dbPath, '--port', String(port)]);
      assert.equal(r.code, 48);
      const line = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .find((l) => l.id === 20568);
      assert.deepEqual(line.attr.error, {
        code: 9001,
        codeName: 'SocketException',
        errmsg: 'Address already in use',
      });
      assert.equal(
        await readFile(join(dbPath, 'mongod.lock'), 'utf8'),
        '',
        'the lock is released on exit 48',
      );
      // A separate dbPath: the 7.0 attempt already stamped its FCV on the first one (as mongod does).
      const oldDbPath = join(root, 'port-db-42');
      await mkdir(oldDbPath, { recursive: true });
      const old = await runToExit(join(bin42, 'mongod'), ['--dbpath', oldDbPath, '--port', String(port)]);
      assert.equal(old.code, 48);
      assert.match(
        old.stdout,
        /listen\(\): bind\(\) failed errno:98 Address already in use for socket: 127\.0\.0\.1:\d+/,
      );
    } finally {
      blocker.close();
    }
  });

  it('binds every loopback address of bindIp; an address this host lacks exits 48', async () => {
    const dbPath = join(root, 'bind-db');
    await mkdir(dbPath, { recursive: true });
    const port = await freePort();
    const p = await startSim(
      join(bin7, 'mongod'),
      ['--dbpath', dbPath, '--port', String(port), '--bind_ip', '127.0.0.1,127.0.0.2'],
      { port },
    );
    for (const host of ['127.0.0.1', '127.0.0.2']) {
      const client = new MongoClient(`mongodb://${host}:${port}/?directConnection=true`, {
        serverSelectionTimeoutMS: 3000,
      });
      try {
        assert.equal((await client.db('admin').command({ ping: 1 })).ok, 1);
      } finally {
        await client.close();
      }
    }
    assert.deepEqual(await p.stop(), { code: 0, signal: null });
    const r = await runToExit(join(bin7, 'mongod'), [
      '--dbpath',
      dbPath,
      '--port',
      String(port),
      '--bind_ip',
      '127.0.0.1,192.0.2.77',
    ]);
    assert.equal(r.code, 48);
    assert.match(r.stdout, /"id":20568,.*"errmsg":"Cannot assign requested address"/);
  });

  it('logs to systemLog.path: JSON lines with id 23016 from 4.4, text before; logAppend=false renames the old file', async () => {
    const dbPath = join(root, 'log-db');
    await mkdir(dbPath, { recursive: true });
    const logPath = join(root, 'mongod.log');
    await writeFile(logPath, 'old contents\n');
    const port = await freePort();
    const p = await startSim(
      join(bin7, 'mongod'),
      ['--dbpath', dbPath, '--port', String(port), '--logpath', logPath],
      { port, logFile: logPath },
    );
    const lines = (await readFile(logPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const ready = lines.find((l) => l.id === 23016);
    assert.deepEqual(
      { s: ready.s, c: ready.c, ctx: ready.ctx, msg: ready.msg, attr: ready.attr },
      { s: 'I', c: 'NETWORK', ctx: 'listener', msg: 'Waiting for connections', attr: { port, ssl: 'off' } },
    );
    assert.match(lines[0].t.$date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/);
    assert.equal(p.output(), '', 'nothing on stdout when logging to a file');
    assert.deepEqual(await p.stop(), { code: 0, signal: null });

    const oldPath = join(root, 'mongod42.log');
    const oldDbPath = join(root, 'log-db-42');
    await mkdir(oldDbPath, { recursive: true });
    const q = await startSim(
      join(bin42, 'mongod'),
      ['--dbpath', oldDbPath, '--port', String(port), '--logpath', oldPath, '--logappend'],
      { port, logFile: oldPath },
    );
    assert.match(
      await readFile(oldPath, 'utf8'),
      /I {2}NETWORK {2}\[listener\] waiting for connections on port \d+/,
    );
    assert.deepEqual(await q.stop(), { code: 0, signal: null });
    const { readdir } = await import('node:fs/promises');
    assert.ok(
      (await readdir(root)).some((f) => f.startsWith('mongod.log.')),
      'the previous log was renamed',
    );
  });

  it('logRotate renames the log file (rename mode) and keeps logging to a fresh one', async () => {
    const dbPath = join(root, 'rotate-db');
    await mkdir(dbPath, { recursive: true });
    const logDir = join(root, 'rotate-logs');
    await mkdir(logDir);
    const logPath = join(logDir, 'mongod.log');
    const port = await freePort();
    const p = await startSim(
      join(bin7, 'mongod'),
      ['--dbpath', dbPath, '--port', String(port), '--logpath', logPath],
      { port, logFile: logPath },
    );
    const client = new MongoClient(`mongodb://127.0.0.1:${port}/`, { serverSelectionTimeoutMS: 3000 });
    try {
      assert.equal((await client.db('admin').command({ logRotate: 1 })).ok, 1);
    } finally {
      await client.close();
    }
    const { readdir } = await import('node:fs/promises');
    const files = await readdir(logDir);
    const rotated = files.find((f) => /^mongod\.log\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d$/.test(f));
    assert.ok(rotated, `rotated file among ${files.join(',')}`);
    assert.match(await readFile(join(logDir, rotated), 'utf8'), /"id":23016/);
    assert.match(await readFile(logPath, 'utf8'), /Log rotation initiated/);
    assert.deepEqual(await p.stop(), { code: 0, signal: null });
  });

  it('fork: the parent exits 0 once the child listens; the pid file names the child; SIGTERM stops it', async () => {
    const dbPath = join(root, 'fork-db');
    await mkdir(dbPath, { recursive: true });
    const port = await freePort();
    const pidFile = join(root, 'fork.pid');
    const r = await runToExit(join(bin7, 'mongod'), [
      '--fork',
      '--dbpath',
      dbPath,
      '--port',
      String(port),
      '--logpath',
      join(root, 'fork.log'),
      '--pidfilepath',
      pidFile,
    ]);
    assert.equal(r.code, 0);
    assert.match(
      r.stdout,
      /about to fork child process, waiting until server is ready for connections\.\nforked process: \d+\nchild process started successfully, parent exiting\n/,
    );
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    assert.equal(pid, Number(/forked process: (\d+)/.exec(r.stdout)?.[1]));
    assert.ok(isAlive(pid));
    const client = new MongoClient(`mongodb://127.0.0.1:${port}/`, { serverSelectionTimeoutMS: 3000 });
    try {
      assert.equal((await client.db('admin').command({ ping: 1 })).ok, 1);
    } finally {
      await client.close();
    }
    process.kill(pid, 'SIGTERM');
    await waitFor(() => !isAlive(pid), 10_000, 'forked mongod to exit');

    const noLog = await runToExit(join(bin7, 'mongod'), ['--fork', '--dbpath', dbPath]);
    assert.equal(noLog.code, 2);
    assert.match(noLog.stderr, /BadValue: --fork has to be used with --logpath or --syslog/);

    const failing = await runToExit(join(bin7, 'mongod'), [
      '--fork',
      '--dbpath',
      join(root, 'nope'),
      '--port',
      String(port),
      '--logpath',
      join(root, 'fork2.log'),
    ]);
    assert.equal(failing.code, 100);
    assert.match(failing.stdout, /ERROR: child process failed, exited with 100/);
  });

  it('a SIGTERM during a slow start (MONGOD_SIM_STARTUP_DELAY_MS) still exits 0 and empties the lock', async () => {
    const dbPath = join(root, 'slow-db');
    await mkdir(dbPath, { recursive: true });
    const port = await freePort();
    const child = spawn(join(bin7, 'mongod'), ['--dbpath', dbPath, '--port', String(port)], {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, MONGOD_SIM_STARTUP_DELAY_MS: '5000' },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await waitFor(() => out.includes('"id":4615611'), 10_000, 'MongoDB starting');
    await waitFor(
      async () => (await readFile(join(dbPath, 'mongod.lock'), 'utf8').catch(() => '')) !== '',
      5000,
      'the lock',
    );
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.doesNotMatch(out, /"id":23016/, 'it never started listening');
    assert.equal(await readFile(join(dbPath, 'mongod.lock'), 'utf8'), '');
  });

  it('MONGOD_SIM_CRASH_AFTER_MS kills the server like a crash, leaving the lock file', async () => {
    const dbPath = join(root, 'crash-db');
    const p = await startMongod(bin7, dbPath, [], { MONGOD_SIM_CRASH_AFTER_MS: '300' });
    assert.deepEqual(await p.waitExit(), { code: null, signal: 'SIGKILL' });
    assert.equal((await readFile(join(dbPath, 'mongod.lock'), 'utf8')).trim(), String(p.pid));
  });

  it('the shutdown command exits 0 and leaves an empty lock file; non-admin is refused', async () => {
    const dbPath = join(root, 'shutdown-db');
    const p = await startMongod(bin7, dbPath);
    const client = new MongoClient(`mongodb://127.0.0.1:${p.port}/`, { serverSelectionTimeoutMS: 3000 });
    try {
      await assert.rejects(client.db('test').command({ shutdown: 1 }), (e: Error & { code?: number }) => {
        assert.equal(e.code, 13);
        assert.match(e.message, /shutdown may only be run against the admin database/);
        return true;
      });
      // A successful shutdown closes the connection without a reply, as mongod does.
      await assert.rejects(client.db('admin').command({ shutdown: 1 }));
    } finally {
      await client.close().catch(() => undefined);
    }
    assert.deepEqual(await p.waitExit(), { code: 0, signal: null });
    assert.equal(await readFile(join(dbPath, 'mongod.lock'), 'utf8'), '');
    assert.ok(existsSync(join(dbPath, 'mongod.lock')));
  });
});
