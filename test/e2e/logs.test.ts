// `mup cluster logs` (and display's -N/-R filters) against a deployed standalone: MongoDB's log by -N, raw and pretty, followed until
// Ctrl-C, and supervisord's log read from its file after the daemon stopped.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MongoClient } from 'mongodb';
import { mupBin, repoRoot, tempDir } from '../helpers/cli.js';
import { destroyCluster, type E2eEnv, e2eEnv, e2ePortBase, waitFor } from '../helpers/e2e.js';

const NAME = 'logs-e2e';
const PORT_BASE = e2ePortBase();
let env: E2eEnv;

before(async () => {
  env = await e2eEnv();
  const dir = await tempDir('mup-logs-topology-');
  const topology = join(dir, 'standalone.yaml');
  await writeFile(
    topology,
    `global:\n  deploy_dir: ${NAME}\nmongod_servers:\n  - host: localhost\n    port: ${PORT_BASE}\n`,
  );
  const deploy = await env.mup(env.deployArgs(NAME, topology, PORT_BASE), { timeoutMs: 180_000 });
  assert.equal(deploy.code, 0, deploy.stderr);
});

after(async () => {
  await destroyCluster(env, NAME, 120_000);
});

test('the last lines of the MongoDB log: raw JSON lines in a pipe, one short line each with --format pretty', async () => {
  const raw = await env.mup(['cluster', 'logs', NAME, '-n', '5']);
  assert.equal(raw.code, 0, raw.stderr);
  const lines = raw.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 5);
  for (const line of lines) {
    const entry = JSON.parse(line) as { t: unknown; s: string; msg: string };
    assert.equal(typeof entry.msg, 'string');
  }
  assert.match(raw.stderr, new RegExp(`MongoDB log of localhost:${PORT_BASE}: .*/mongod\\.log on localhost`));

  const byProgram = await env.mup([
    'cluster',
    'logs',
    NAME,
    '-N',
    `mongod-${PORT_BASE}`,
    '-n',
    '3',
    '--json',
  ]);
  assert.equal(byProgram.code, 0, byProgram.stderr);
  assert.equal(byProgram.stdout.trimEnd().split('\n').length, 3);
  assert.equal(byProgram.stderr, '', '--json prints only the log lines');

  const pretty = await env.mup(['cluster', 'logs', NAME, '-n', '5', '--format', 'pretty']);
  assert.equal(pretty.code, 0, pretty.stderr);
  const prettyLines = pretty.stdout.trimEnd().split('\n');
  assert.equal(prettyLines.length, 5);
  for (const line of prettyLines)
    assert.match(line, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ (F|E|W|I|D\d) +[A-Z_-]+ /);
});

test('display -N/-R filters the rows; a selection naming nothing is refused with exit 2', async () => {
  const one = await env.mup(['cluster', 'display', NAME, '-N', `mongod-${PORT_BASE}`, '--json']);
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(
    (JSON.parse(one.stdout) as { processes: { id: string }[] }).processes.map((p) => p.id),
    [`localhost:${PORT_BASE}`],
  );
  const text = await env.mup(['cluster', 'display', NAME, '-R', 'mongod']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^localhost:${PORT_BASE}\\s`, 'm'));
  const unknown = await env.mup(['cluster', 'display', NAME, '-N', 'localhost:1']);
  assert.equal(unknown.code, 2);
  const role = await env.mup(['cluster', 'display', NAME, '-R', 'mongos']);
  assert.equal(role.code, 2);
  assert.match(role.stderr, /no mongos processes/);
});

test('refusals: an unknown -N and a bad --format exit 2, an unknown cluster exits 2', async () => {
  const node = await env.mup(['cluster', 'logs', NAME, '-N', 'localhost:1']);
  assert.equal(node.code, 2);
  assert.match(node.stderr, /no process 'localhost:1'/);
  const format = await env.mup(['cluster', 'logs', NAME, '--format', 'yaml']);
  assert.equal(format.code, 2);
  assert.match(format.stderr, /--format/);
  const missing = await env.mup(['cluster', 'logs', 'no-such-cluster']);
  assert.equal(missing.code, 2);
});

test('-f prints new entries as they are written and ends on Ctrl-C with exit 0', async () => {
  const child = spawn(process.execPath, [mupBin, 'cluster', 'logs', NAME, '-n', '1', '-f'], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', MUP_HOME: env.home, HOME: env.userHome },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    await waitFor('the first line', async () => (stdout.includes('\n') ? true : undefined), 60_000);
    const before = stdout;
    // A client connection makes mongod log "Connection accepted" (id 22943).
    const client = new MongoClient(`mongodb://127.0.0.1:${PORT_BASE}/?directConnection=true`, {
      serverSelectionTimeoutMS: 10_000,
    });
    await client.db('admin').command({ ping: 1 });
    await client.close();
    await waitFor(
      'a followed entry',
      async () => (stdout.slice(before.length).includes('"id":22943') ? true : undefined),
      60_000,
    );
    child.kill('SIGINT');
    const code = await Promise.race([
      exited,
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000).unref()),
    ]);
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test("supervisord's log is read from its file while the daemon is down", async () => {
  const stop = await env.mup(['cluster', 'stop', NAME, '--yes'], { timeoutMs: 120_000 });
  assert.equal(stop.code, 0, stop.stderr);
  const log = await env.mup(['cluster', 'logs', NAME, '--supervisor', '-n', '50']);
  assert.equal(log.code, 0, log.stderr);
  assert.match(log.stdout, new RegExp(`stopped: mongod-${PORT_BASE}`));
  assert.match(log.stderr, /supervisord log: .*supervisord\.log on localhost/);
});
