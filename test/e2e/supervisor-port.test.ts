// The supervisor API port is allocated when a deploy plans; something else may take it before supervisord
// starts (typically another cluster deployed at the same moment), or while the cluster is stopped. Its
// supervisord then moves to another free port, recorded in meta.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { tempDir } from '../helpers/cli.js';
import { type DisplayJson, destroyCluster, type E2eEnv, e2eEnv, e2ePortBase } from '../helpers/e2e.js';
import { runMupPausing } from '../helpers/interrupt.js';
import { supervisordPidsFor } from '../helpers/processes.js';

const NAME = 'port-race';
/** `port: 0` is allocated from here. */
const PORT_BASE = e2ePortBase();

let env: E2eEnv;
let topology: string;
const holders: Server[] = [];

before(async () => {
  env = await e2eEnv();
  topology = join(await tempDir('mup-e2e-topologies-'), 'standalone.yaml');
  await writeFile(
    topology,
    ['global:', '  deploy_dir: race', 'mongod_servers:', '  - host: localhost', '    port: 0', ''].join('\n'),
  );
});

after(async () => {
  for (const server of holders) server.close();
  await destroyCluster(env, NAME, 120_000);
});

/** Listens on `port` like an unrelated program would: accepts and closes every connection. */
async function hold(port: number): Promise<void> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  holders.push(server);
}

async function storedSupervisorPort(): Promise<number> {
  const meta = parse(await readFile(join(env.home, 'storage', 'clusters', NAME, 'meta.yaml'), 'utf8')) as {
    supervisors: { httpPort: number }[];
  };
  const port = meta.supervisors[0]?.httpPort;
  assert.ok(port);
  return port;
}

let taken: number;

test('a supervisor port taken between plan and supervisord start: the deploy moves to a free port', async () => {
  const run = await runMupPausing(env.deployArgs(NAME, topology, PORT_BASE), {
    home: env.home,
    env: { HOME: env.userHome },
    pauseAfter: (e) => e.state === 'done' && e.step === 'supervisor-config:localhost',
    whilePaused: async () => {
      taken = await storedSupervisorPort();
      // Already held by something else (another deploy running meanwhile) is just as taken.
      await hold(taken).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EADDRINUSE') throw error;
      });
    },
  });
  assert.equal(run.code, 0, run.stderr);
  const started = run.steps.find((s) => s.step === 'supervisord:localhost' && s.state === 'done');
  assert.match(
    started?.output ?? '',
    new RegExp(`port ${taken} on localhost is in use.*; moved the supervisor API to port \\d+`),
  );

  const moved = await storedSupervisorPort();
  assert.notEqual(moved, taken);
  const ini = await readFile(join(env.userHome, 'race', 'supervisor', 'supervisor.ini'), 'utf8');
  assert.match(ini, new RegExp(`^port=127\\.0\\.0\\.1:${moved}$`, 'm'));
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  assert.equal(view.supervisors[0]?.endpoint, `http://127.0.0.1:${moved}`);
  assert.equal(view.supervisors[0]?.state, 'running');
  assert.deepEqual(
    view.processes.map((p) => p.status),
    ['Up'],
  );
});

test('a stopped cluster whose supervisor port another program took: start moves it to a free port', async () => {
  const port = await storedSupervisorPort();
  const stop = await env.mup(['cluster', 'stop', NAME, '--yes']);
  assert.equal(stop.code, 0, stop.stderr);
  // Supervisor API ports are the lowest free ones from 9001: a deploy of a test file running meanwhile
  // may take the port freed by the stop first. Taken by it or by us, the start must move.
  const heldByUs = await hold(port).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE') throw error;
      return false;
    },
  );
  // Meanwhile display says what is so: the cluster's daemon is down (its port is someone else's), the member
  // is down, and who holds the port.
  const stopped = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  assert.equal(stopped.status, 'stopped');
  assert.deepEqual(
    stopped.processes.map((p) => p.status),
    ['Down'],
  );
  assert.equal(stopped.supervisors[0]?.state, 'down');
  assert.match(
    stopped.supervisors[0]?.error ?? '',
    new RegExp(`supervisor API port ${port} is held by .*; \`mup cluster start ${NAME}\` moves it`),
  );
  const start = await env.mup(['--json', 'cluster', 'start', NAME], { timeoutMs: 120_000 });
  assert.equal(start.code, 0, start.stderr);
  const holder = heldByUs ? ` by pid ${process.pid}` : '( by pid \\d+)?';
  assert.match(
    start.stderr,
    new RegExp(`port ${port} on localhost is in use${holder}.*; moved the supervisor API to port \\d+`),
  );
  const moved = await storedSupervisorPort();
  assert.notEqual(moved, port);
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  assert.equal(view.supervisors[0]?.endpoint, `http://127.0.0.1:${moved}`);
  assert.deepEqual(
    view.processes.map((p) => p.status),
    ['Up'],
  );
  assert.equal(supervisordPidsFor(join(env.userHome, 'race', 'supervisor', 'supervisor.ini')).length, 1);
});
