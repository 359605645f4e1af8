// Shutdown timeout and quiesce mode (5.0+): shutdownTimeoutMillisForSignaledShutdown on mongod and
// mongosShutdownTimeoutMillisForSignaledShutdown on mongos (startup and runtime, >= 0, default 15000);
// after SIGTERM a SECONDARY (or a mongos) answers hello with 91 ShutdownInProgress for the whole remaining
// timeout while other commands still work; the shutdown command quiesces for its timeoutSecs. 4.4 knows
// neither the parameter nor quiesce. References: §5.7, §2.4, reference/mongod-behavior.md §5.6 (log ids).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Document, Int32, MongoClient } from 'mongodb';
import {
  freePort,
  isAlive,
  removeDir,
  runToExit,
  type SimProcess,
  simBin,
  startMongod,
  startSim,
  tempDir,
  waitFor,
} from '../helpers/sim.js';
import { ShardedClusterFixture } from '../sharding/cluster.js';
import { ReplSetFixture } from './harness.js';

const SETTINGS = { electionTimeoutMillis: 1000, heartbeatIntervalMillis: 200, heartbeatTimeoutSecs: 2 };
const PARAM = 'shutdownTimeoutMillisForSignaledShutdown';
const MONGOS_PARAM = 'mongosShutdownTimeoutMillisForSignaledShutdown';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A direct client whose monitor polls rarely, so the one hello a test sends itself is what meets quiesce
 * mode (a streaming monitor would mark the server Unknown first and the test's command would then wait
 * for server selection instead of reaching the server).
 */
async function quietClient(port: number): Promise<MongoClient> {
  const c = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, {
    serverMonitoringMode: 'poll',
    heartbeatFrequencyMS: 60_000,
    serverSelectionTimeoutMS: 5000,
  });
  await c.connect();
  return c;
}

/** JSON log lines of a process (7.0 logs to stdout in these tests). */
function logLines(p: SimProcess): Document[] {
  return p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Document);
}

function logById(p: SimProcess, id: number): Document | undefined {
  return logLines(p).find((l) => l.id === id);
}

describe('shutdown timeout and quiesce mode on a 7.0 replica set', { timeout: 120_000 }, () => {
  const rs = new ReplSetFixture('7.0.14');
  const clients: MongoClient[] = [];
  before(async () => {
    // The shutdown timeout is the subject here: members start without the fixtures' 100 ms setting.
    rs.quickShutdown = false;
    await rs.start(0);
    for (let i = 0; i < 3; i++) rs.ports.push(await freePort());
    await Promise.all([
      rs.startMember(0),
      rs.startMember(1),
      rs.startMember(2, ['--setParameter', `${PARAM}=200`]),
    ]);
    await rs.admin(0, { replSetInitiate: rs.config([{ priority: 2 }, {}, {}], SETTINGS) });
    // The first election may go to another member; the priority-2 member then takes over.
    await rs.waitForState(0, 'PRIMARY');
    await rs.waitForState(1, 'SECONDARY');
    await rs.waitForState(2, 'SECONDARY');
  });
  after(async () => {
    for (const c of clients) await c.close(true).catch(() => undefined);
    await rs.close();
  });

  it('getParameter reports the 15000 default and a startup value; negative values are refused', async () => {
    const def = await rs.admin(1, { getParameter: 1, [PARAM]: 1 });
    assert.equal(def[PARAM], 15000);
    const set = await rs.admin(2, { getParameter: 1, [PARAM]: 1 });
    assert.equal(set[PARAM], 200);
    const c = await rs.direct(1);
    const typed = await c.db('admin').command({ getParameter: 1, [PARAM]: 1 }, { promoteValues: false });
    assert.ok(typed[PARAM] instanceof Int32, 'an int, as the IDL declares it');
    await assert.rejects(c.db('admin').command({ setParameter: 1, [PARAM]: -1 }), (e: Document) => {
      assert.equal(e.code, 2);
      assert.equal(e.codeName, 'BadValue');
      assert.match(e.message, /is not greater than or equal to 0/);
      return true;
    });
    assert.equal((await rs.admin(1, { getParameter: 1, [PARAM]: 1 }))[PARAM], 15000, 'unchanged');
    // mongod does not know the mongos parameter.
    await assert.rejects(c.db('admin').command({ setParameter: 1, [MONGOS_PARAM]: 100 }), (e: Document) => {
      assert.equal(e.code, 72);
      return true;
    });
  });

  it('a secondary with the default timeout stays in quiesce mode for ~15 s after SIGTERM', async () => {
    const proc = rs.procs[1] as SimProcess;
    const c = await quietClient(rs.ports[1] as number);
    clients.push(c);
    // A streaming monitor's waiting hello is answered with the error as soon as quiesce begins.
    const streaming = new MongoClient(`mongodb://${rs.host(1)}/?directConnection=true`, {
      heartbeatFrequencyMS: 500,
      serverSelectionTimeoutMS: 5000,
    });
    clients.push(streaming);
    const heartbeatCodes: unknown[] = [];
    streaming.on('serverHeartbeatFailed', (ev) => heartbeatCodes.push((ev.failure as Document).code));
    await streaming.connect();
    // A pooled connection opened before the signal: a new one would fail its handshake hello with 91.
    assert.equal((await c.db('admin').command({ ping: 1 })).ok, 1);
    await sleep(300);

    const started = Date.now();
    rs.signal(1, 'SIGTERM');
    await waitFor(() => heartbeatCodes.includes(91), 3000, 'the streaming monitor to see code 91');
    await sleep(Math.max(0, 3000 - (Date.now() - started)));
    assert.ok(isAlive(proc.pid), 'still running 3 s after SIGTERM');
    // Other operations keep working during quiesce; hello fails with 91 ShutdownInProgress.
    const ping = await c.db('admin').command({ ping: 1 });
    assert.equal(ping.ok, 1);
    await assert.rejects(c.db('admin').command({ hello: 1 }), (e: Document) => {
      assert.equal(e.code, 91);
      assert.equal(e.codeName, 'ShutdownInProgress');
      assert.equal(e.message, 'The server is in quiesce mode and will shut down');
      const remaining = Number(e.errorResponse?.remainingQuiesceTimeMillis);
      assert.ok(remaining > 8000 && remaining <= 12_500, `remainingQuiesceTimeMillis ${remaining}`);
      assert.ok(e.errorResponse?.topologyVersion, 'the error carries the topologyVersion');
      return true;
    });
    const exit = await proc.waitExit(30_000);
    const elapsed = Date.now() - started;
    assert.equal(exit.code, 0);
    assert.ok(elapsed >= 14_500 && elapsed < 22_000, `exited ${elapsed} ms after SIGTERM`);
    rs.procs[1] = undefined;

    const attempt = logById(proc, 4794602);
    const entering = logById(proc, 4695102);
    assert.equal(attempt?.msg, 'Attempting to enter quiesce mode');
    assert.equal(entering?.msg, 'Entering quiesce mode for shutdown');
    assert.equal(entering?.c, 'REPL');
    const quiesceMs = Number(entering?.attr?.quiesceTimeMillis);
    assert.ok(quiesceMs > 14_000 && quiesceMs <= 15_000, `quiesceTimeMillis ${quiesceMs}`);
    assert.equal(logById(proc, 4695103)?.msg, 'Exiting quiesce mode for shutdown');
    assert.equal(logById(proc, 23138)?.attr?.exitCode, 0);
  });

  it('a secondary whose timeout was set to 200 ms at startup exits promptly on SIGTERM', async () => {
    const proc = rs.procs[2] as SimProcess;
    const started = Date.now();
    const exit = await proc.stop('SIGTERM');
    const elapsed = Date.now() - started;
    assert.equal(exit.code, 0);
    assert.ok(elapsed < 3000, `exited ${elapsed} ms after SIGTERM`);
    rs.procs[2] = undefined;
    assert.ok(Number(logById(proc, 4695102)?.attr?.quiesceTimeMillis) <= 200);
  });

  it('a secondary whose timeout was set at runtime with setParameter exits promptly on SIGTERM', async () => {
    await rs.startMember(1);
    await rs.waitForState(1, 'SECONDARY');
    const was = await rs.admin(1, { setParameter: 1, [PARAM]: 200 });
    assert.equal(was.was, 15000);
    assert.equal((await rs.admin(1, { getParameter: 1, [PARAM]: 1 }))[PARAM], 200);
    const proc = rs.procs[1] as SimProcess;
    const started = Date.now();
    const exit = await proc.stop('SIGTERM');
    const elapsed = Date.now() - started;
    assert.equal(exit.code, 0);
    assert.ok(elapsed < 3000, `exited ${elapsed} ms after SIGTERM`);
    rs.procs[1] = undefined;
  });

  it('the shutdown command quiesces a secondary for its timeoutSecs', async () => {
    await rs.startMember(2);
    await rs.waitForState(2, 'SECONDARY');
    const proc = rs.procs[2] as SimProcess;
    const c = await quietClient(rs.ports[2] as number);
    clients.push(c);
    const started = Date.now();
    // mongod never answers a successful shutdown: the connection closes when the process exits.
    const pending = c
      .db('admin')
      .command({ shutdown: 1, timeoutSecs: 3 })
      .catch(() => undefined);
    await sleep(1000);
    assert.ok(isAlive(proc.pid), 'still quiescing 1 s later');
    // A new connection's handshake hello (or any hello) meets quiesce mode.
    await assert.rejects(c.db('admin').command({ hello: 1 }), (e: Document) => e.code === 91);
    const exit = await proc.waitExit(15_000);
    await pending;
    const elapsed = Date.now() - started;
    assert.equal(exit.code, 0);
    assert.ok(elapsed >= 2800 && elapsed < 8000, `exited ${elapsed} ms after the command`);
    rs.procs[2] = undefined;
    // What is left of the 3 s once the process got there: a millisecond may have gone.
    const quiesced = Number(logById(proc, 4695102)?.attr?.quiesceTimeMillis);
    assert.ok(quiesced > 2900 && quiesced <= 3000, `quiesceTimeMillis ${quiesced}`);
  });
});

describe('4.4 has neither the shutdown timeout parameter nor quiesce mode', { timeout: 60_000 }, () => {
  const rs = new ReplSetFixture('4.4.29');
  let root = '';
  before(async () => {
    root = await tempDir('mup-sim-quiesce-');
    await rs.start(2);
    await rs.admin(0, { replSetInitiate: rs.config([{ priority: 2 }, {}], SETTINGS) });
    await rs.waitForPrimary(20_000);
    await rs.waitForState(1, 'SECONDARY');
  });
  after(async () => {
    await rs.close();
    if (root) await removeDir(root);
  });

  it('startup with the parameter fails like any unknown setParameter; at runtime it is unrecognized', async () => {
    const bin = await simBin('4.4.29', root);
    const r = await runToExit(join(bin, 'mongod'), [
      '--port',
      String(await freePort()),
      '--dbpath',
      root,
      '--setParameter',
      `${PARAM}=100`,
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, new RegExp(`Unknown --setParameter '${PARAM}'`));
    await assert.rejects(rs.admin(1, { setParameter: 1, [PARAM]: 100 }), (e: Document) => {
      assert.equal(e.code, 72);
      assert.match(e.message, /unrecognized parameter/);
      return true;
    });
    await assert.rejects(rs.admin(1, { getParameter: 1, [PARAM]: 1 }), (e: Document) => e.code === 72);
  });

  it('a 4.4 secondary exits at once on SIGTERM, without quiesce mode', async () => {
    const proc = rs.procs[1] as SimProcess;
    const started = Date.now();
    const exit = await proc.stop('SIGTERM');
    const elapsed = Date.now() - started;
    assert.equal(exit.code, 0);
    assert.ok(elapsed < 3000, `exited ${elapsed} ms after SIGTERM`);
    rs.procs[1] = undefined;
    assert.equal(logById(proc, 4695102), undefined);
    assert.equal(logById(proc, 4794602), undefined);
    assert.equal(logById(proc, 4784900)?.attr?.waitTimeMillis, 10_000, 'the fixed 10 s step-down wait');
  });
});

describe('startup values of the 7.0 shutdown timeout parameters', { timeout: 60_000 }, () => {
  let root = '';
  before(async () => {
    root = await tempDir('mup-sim-quiesce-');
  });
  after(async () => {
    if (root) await removeDir(root);
  });

  it('a negative value and the other program parameter fail global initialization (exit 1)', async () => {
    const bin = await simBin('7.0.14', root);
    for (const [param, pattern] of [
      [`${PARAM}=-5`, /BadValue.*-5 is not greater than or equal to 0/],
      [`${MONGOS_PARAM}=100`, new RegExp(`Unknown --setParameter '${MONGOS_PARAM}'`)],
    ] as const) {
      const r = await runToExit(join(bin, 'mongod'), [
        '--port',
        String(await freePort()),
        '--dbpath',
        root,
        '--setParameter',
        param,
      ]);
      assert.equal(r.code, 1, param);
      assert.match(r.stdout + r.stderr, pattern);
    }
  });

  it('a standalone 7.0 mongod is not a SECONDARY: it tries quiesce mode but exits at once', async () => {
    const bin = await simBin('7.0.14', root);
    // The config file's setParameter map sets it too.
    const conf = join(root, 'mongod.conf');
    await writeFile(conf, `setParameter:\n  ${PARAM}: 250\n`);
    const m = await startMongod(bin, join(root, 'standalone'), ['-f', conf]);
    const c = await quietClient(m.port);
    try {
      const reply = await c.db('admin').command({ getParameter: 1, [PARAM]: 1 }, { promoteValues: false });
      assert.ok(reply[PARAM] instanceof Int32);
      assert.equal(reply[PARAM].value, 250);
    } finally {
      await c.close();
    }
    const started = Date.now();
    const exit = await m.stop('SIGTERM');
    assert.equal(exit.code, 0);
    // Not the 15 s default period (the log lines below say which period applied); room for a loaded host.
    assert.ok(Date.now() - started < 12_000);
    assert.equal(logById(m, 4794602)?.msg, 'Attempting to enter quiesce mode');
    assert.equal(logById(m, 4695102), undefined);
  });
});

describe('mongos 7.0 quiesce mode', { timeout: 90_000 }, () => {
  const cluster = new ShardedClusterFixture('7.0.14');
  const clients: MongoClient[] = [];
  let configDB = '';
  before(async () => {
    await cluster.init();
    configDB = (await cluster.startSet('cfg', 1, ['--configsvr'])).connectionString;
  });
  after(async () => {
    for (const c of clients) await c.close(true).catch(() => undefined);
    await cluster.close();
  });

  async function startMongos(args: string[]): Promise<SimProcess> {
    const port = await freePort();
    return cluster.track(
      await startSim(
        join(cluster.bin, 'mongos'),
        ['--port', String(port), '--bind_ip', '127.0.0.1', '--configdb', configDB, ...args],
        { port, timeoutMs: 30_000 },
      ),
    );
  }

  it('quiesces for mongosShutdownTimeoutMillisForSignaledShutdown after SIGTERM', async () => {
    const mongos = await startMongos(['--setParameter', `${MONGOS_PARAM}=3000`]);
    const c = await quietClient(mongos.port);
    clients.push(c);
    assert.equal((await c.db('admin').command({ getParameter: 1, [MONGOS_PARAM]: 1 }))[MONGOS_PARAM], 3000);
    await assert.rejects(c.db('admin').command({ getParameter: 1, [PARAM]: 1 }), (e: Document) => {
      assert.equal(e.code, 72, 'mongos does not know the mongod parameter');
      return true;
    });
    const started = Date.now();
    process.kill(mongos.pid, 'SIGTERM');
    await sleep(1000);
    assert.ok(isAlive(mongos.pid), 'still quiescing 1 s after SIGTERM');
    assert.equal((await c.db('admin').command({ ping: 1 })).ok, 1);
    await assert.rejects(c.db('admin').command({ hello: 1 }), (e: Document) => {
      assert.equal(e.code, 91);
      return true;
    });
    const exit = await mongos.waitExit(15_000);
    const elapsed = Date.now() - started;
    assert.equal(exit.code, 0);
    assert.ok(elapsed >= 2800 && elapsed < 8000, `exited ${elapsed} ms after SIGTERM`);
    const entering = logById(mongos, 4695701);
    assert.equal(entering?.msg, 'Entering quiesce mode for mongos shutdown');
    assert.equal(entering?.attr?.quiesceTimeMillis, 3000);
    assert.equal(logById(mongos, 4695702)?.msg, 'Exiting quiesce mode for mongos shutdown');
  });

  it('a runtime setParameter shortens the quiesce of the next SIGTERM', async () => {
    const mongos = await startMongos([]);
    const c = await quietClient(mongos.port);
    clients.push(c);
    assert.equal((await c.db('admin').command({ getParameter: 1, [MONGOS_PARAM]: 1 }))[MONGOS_PARAM], 15000);
    await c.db('admin').command({ setParameter: 1, [MONGOS_PARAM]: 100 });
    const started = Date.now();
    const exit = await mongos.stop('SIGTERM');
    assert.equal(exit.code, 0);
    // Not the 15 s default period (the log line below says which applied); room for a loaded host.
    assert.ok(Date.now() - started < 12_000);
    assert.equal(logById(mongos, 4695701)?.attr?.quiesceTimeMillis, 100);
  });
});
