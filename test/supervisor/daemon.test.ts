// Daemon lifecycle against real supervisord: start/identify, loopback-only and authenticated API, a port
// owned by someone else, clean shutdown, port allocation and locating the executable.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LocalExecutor } from '../../src/hosts/local.js';
import { SupervisorClient } from '../../src/supervisor/client.js';
import { allocateSupervisorPort, SupervisorDaemon } from '../../src/supervisor/daemon.js';
import {
  SupervisorAuthError,
  SupervisordNotFoundError,
  SupervisorPortTakenError,
} from '../../src/supervisor/errors.js';
import { locateSupervisord } from '../../src/supervisor/locate.js';
import { freePort, makeTestHost } from './harness.js';
import { simPrograms } from './sim-members.js';

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.end());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function rawPost(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const body =
      '<?xml version="1.0"?><methodCall><methodName>supervisor.getState</methodName><params></params></methodCall>';
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/RPC2',
        agent: false,
        headers: { 'Content-Type': 'text/xml', ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('SupervisorDaemon', () => {
  it('starts once, identifies itself, and keeps its files private', async (t) => {
    const host = await makeTestHost(t, 'life');
    await host.writeIni(await simPrograms(join(host.root, 'deploy'), ['mongod-1'], freePort));
    const first = await host.daemon.ensureRunning();
    assert.equal(first.started, true);
    assert.ok(first.pid > 0);
    assert.deepEqual(first.orphans, []);
    assert.equal(await host.executor.isPidAlive(first.pid), true);

    const second = await host.daemon.ensureRunning();
    assert.deepEqual(second, { started: false, pid: first.pid, orphans: [] });
    const client = await host.daemon.client();
    assert.equal(await client.getIdentification(), 'mup-life');
    assert.equal(await host.daemon.pid(), first.pid);
    assert.deepEqual(await client.getState(), { code: 1, name: 'RUNNING' });

    assert.equal((await stat(host.daemon.iniPath)).mode & 0o777, 0o600);
    assert.equal((await stat(host.daemon.config.supervisorDir)).mode & 0o777, 0o700);
  });

  it('listens on 127.0.0.1 only and refuses requests without the password', async (t) => {
    const host = await makeTestHost(t, 'secure');
    await host.writeIni([]);
    await host.daemon.ensureRunning();
    const ss = await host.executor.run('ss', ['-ltnH', `sport = :${host.httpPort}`]);
    const locals = ss.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/)[3]);
    assert.deepEqual(locals, [`127.0.0.1:${host.httpPort}`]);

    assert.equal(await rawPost(host.httpPort, {}), 401);
    const wrong = `Basic ${Buffer.from('mup:wrong').toString('base64')}`;
    assert.equal(await rawPost(host.httpPort, { Authorization: wrong }), 401);
    const right = `Basic ${Buffer.from(`mup:${host.password}`).toString('base64')}`;
    assert.equal(await rawPost(host.httpPort, { Authorization: right }), 200);

    const intruder = new SupervisorClient({
      host: '127.0.0.1',
      port: host.httpPort,
      username: 'mup',
      password: 'x',
    });
    await assert.rejects(intruder.getState(), SupervisorAuthError);
  });

  it('names the owner when another program holds the port', async (t) => {
    const host = await makeTestHost(t, 'blocked');
    await host.writeIni([]);
    const squatter = await listen(host.httpPort);
    t.after(() => squatter.close());
    await assert.rejects(host.daemon.ensureRunning(), (error: unknown) => {
      assert.ok(error instanceof SupervisorPortTakenError);
      assert.equal(error.port, host.httpPort);
      assert.match(error.message, new RegExp(`in use by pid ${process.pid} `));
      return true;
    });
  });

  it('reports supervisord\'s own "already listening" refusal (port taken between probe and start)', async (t) => {
    const host = await makeTestHost(t, 'race');
    await host.writeIni([]);
    const squatter = await listen(host.httpPort);
    t.after(() => squatter.close());
    // The port was free when probed and taken just before supervisord bound it.
    const racy = new LocalExecutor();
    racy.isPortFree = async () => true;
    const daemon = new SupervisorDaemon(racy, host.daemon.config);
    t.after(() => daemon.close());
    await assert.rejects(daemon.ensureRunning(), (error: unknown) => {
      assert.ok(error instanceof SupervisorPortTakenError, String(error));
      assert.match(
        error.message,
        new RegExp(`port ${host.httpPort} on localhost is in use by pid ${process.pid} `),
      );
      return true;
    });
  });

  it("refuses another cluster's daemon on its port", async (t) => {
    const other = await makeTestHost(t, 'other');
    await other.writeIni([]);
    await other.daemon.ensureRunning();
    // Same port and credentials, different cluster: the identification tells them apart.
    const impostor = new SupervisorDaemon(other.executor, { ...other.daemon.config, cluster: 'mine' });
    t.after(() => impostor.close());
    await assert.rejects(impostor.ensureRunning(), /in use by supervisord "mup-other"/);
    await assert.rejects(impostor.shutdown(), SupervisorPortTakenError);
    // display's one-request view gives probe()'s verdict for a daemon that is not ours, and no programs.
    const seen = await impostor.snapshot();
    assert.equal(seen.probe.kind, 'foreign');
    assert.deepEqual(seen.programs, []);
  });

  it('shuts down cleanly: programs stopped, daemon gone; a second shutdown is a no-op', async (t) => {
    const host = await makeTestHost(t, 'down');
    const programs = await simPrograms(join(host.root, 'deploy'), ['a', 'b'], freePort);
    await host.writeIni(programs);
    const { pid } = await host.daemon.ensureRunning();
    const control = await host.control();
    const pids = await Promise.all(
      programs.map(async (p) => (await control.start({ name: p.name, startsecs: 1 })).pid),
    );
    const started = Date.now();
    await host.daemon.shutdown();
    // A hang guard only (no speed gate): each program stops on SIGTERM at once, nothing waits out stopwaitsecs.
    assert.ok(Date.now() - started < 30_000, 'parallel stop then shutdown does not wait out stopwaitsecs');
    assert.equal(await host.executor.isPidAlive(pid), false);
    for (const child of pids) assert.equal(await host.executor.isPidAlive(child), false);
    assert.deepEqual(await host.daemon.probe(), { kind: 'down' });
    await host.daemon.shutdown();
  });

  it('snapshot: identity, pid and program status in one request; down once the daemon is gone', async (t) => {
    const host = await makeTestHost(t, 'snap');
    const programs = await simPrograms(join(host.root, 'deploy'), ['a', 'b'], freePort);
    await host.writeIni(programs);
    const { pid } = await host.daemon.ensureRunning();
    const control = await host.control();
    const started = await control.start({ name: 'a', startsecs: 1 });
    const snap = await host.daemon.snapshot();
    assert.deepEqual(snap.probe, { kind: 'running', pid });
    const rows = (list: { name: string; state: string; pid: number; restarts: number }[]) =>
      list.map((p) => [p.name, p.state, p.pid, p.restarts]).sort();
    assert.deepEqual(rows(snap.programs), rows(await control.status()));
    assert.deepEqual(rows(snap.programs), [
      ['a', 'RUNNING', started.pid, 0],
      ['b', 'STOPPED', 0, 0],
    ]);
    await host.daemon.shutdown();
    assert.deepEqual(await host.daemon.snapshot(), { probe: { kind: 'down' }, programs: [] });
  });

  it('reports a daemon that cannot start with its own message', async (t) => {
    const host = await makeTestHost(t, 'broken');
    await host.daemon.writeConfig('[supervisord]\nminfds=99999999\n[inet_http_server]\nport=127.0.0.1:1\n');
    await assert.rejects(host.daemon.ensureRunning(), /supervisord did not start on localhost: .+/);
  });
});

describe('allocateSupervisorPort', () => {
  it('skips ports in use and ports reserved for other clusters', async (t) => {
    const executor = new LocalExecutor();
    const base = await freePort();
    const held = await listen(base);
    t.after(() => held.close());
    const port = await allocateSupervisorPort(executor, { base, reserved: [base + 1], attempts: 50 });
    assert.ok(port >= base + 2 && port < base + 50);
    assert.equal(await executor.isPortFree(port), true);
  });

  it('fails with a hint when nothing is free', async () => {
    await assert.rejects(
      allocateSupervisorPort(new LocalExecutor(), { base: 40000, reserved: [40000, 40001], attempts: 2 }),
      /no free supervisor port on localhost in 40000-40001/,
    );
  });
});

describe('locateSupervisord', () => {
  const executor = new LocalExecutor();

  it('finds it on PATH, or takes MUP_SUPERVISORD', async () => {
    assert.match(await locateSupervisord(executor, { override: undefined }), /\/supervisord$/);
    assert.equal(
      await locateSupervisord(executor, { override: '/usr/bin/supervisord' }),
      '/usr/bin/supervisord',
    );
  });

  it('names the install commands when it is missing', async () => {
    await assert.rejects(
      locateSupervisord(executor, { override: '/nonexistent/supervisord' }),
      (error: unknown) => {
        assert.ok(error instanceof SupervisordNotFoundError);
        assert.match(error.hint ?? '', /apt-get install supervisor/);
        assert.match(error.hint ?? '', /brew install supervisor/);
        assert.match(error.hint ?? '', /pip install supervisor/);
        return true;
      },
    );
    const noPath = new LocalExecutor();
    const run = noPath.run.bind(noPath);
    // The same lookup on a host whose PATH has no supervisord.
    noPath.run = (program, args, options) =>
      run(program, args, { ...options, env: { PATH: '/nonexistent' } });
    await assert.rejects(locateSupervisord(noPath, { override: undefined }), SupervisordNotFoundError);
  });
});
