// Reading a log file on a host: the last lines, follow with appends, torn lines and rotation; and which file a
// `cluster logs` request names (refusals exit 2).
import assert from 'node:assert/strict';
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ExitCode, MupError } from '../../src/errors.js';
import { LocalExecutor } from '../../src/hosts/local.js';
import { chooseLogSource, type LogChunk, readLog } from '../../src/ops/logs.js';
import type { ResolvedInstance } from '../../src/topology/types.js';
import { tempDir } from '../helpers/cli.js';

const executor = new LocalExecutor();

async function collect(gen: AsyncGenerator<LogChunk>): Promise<string> {
  let text = '';
  for await (const chunk of gen) text += chunk.text;
  return text;
}

test('the last n lines of a file, however long its lines', async () => {
  const dir = await tempDir('mup-logs-');
  const path = join(dir, 'mongod.log');
  const lines = Array.from({ length: 300 }, (_, i) => `line ${i} ${'x'.repeat(i * 7)}`);
  await writeFile(path, `${lines.join('\n')}\n`);
  const signal = new AbortController().signal;
  const last = await collect(readLog(executor, path, { lines: 5, follow: false, signal }));
  assert.equal(last, `${lines.slice(-5).join('\n')}\n`);
  const all = await collect(readLog(executor, path, { lines: 1000, follow: false, signal }));
  assert.equal(all, `${lines.join('\n')}\n`);
});

test('a missing file yields nothing; a line still being written is held back', async () => {
  const dir = await tempDir('mup-logs-');
  const signal = new AbortController().signal;
  assert.equal(
    await collect(readLog(executor, join(dir, 'none.log'), { lines: 10, follow: false, signal })),
    '',
  );
  const path = join(dir, 'torn.log');
  await writeFile(path, 'one\ntwo\nthr');
  assert.equal(await collect(readLog(executor, path, { lines: 10, follow: false, signal })), 'one\ntwo\n');
});

test('follow prints appended lines, starts over after a rotation, and ends on abort', async () => {
  const dir = await tempDir('mup-logs-');
  const path = join(dir, 'mongod.log');
  await writeFile(path, 'a\nb\n');
  const abort = new AbortController();
  const gen = readLog(executor, path, { lines: 1, follow: true, signal: abort.signal, intervalMs: 20 });
  const next = async () => {
    const r = await gen.next();
    assert.equal(r.done, false);
    return (r.value as LogChunk).text;
  };
  assert.equal(await next(), 'b\n');
  await appendFile(path, 'c\nd');
  assert.equal(await next(), 'c\n', 'the torn "d" waits for its newline');
  await appendFile(path, '\n');
  assert.equal(await next(), 'd\n');
  await writeFile(path, 'new\n'); // rotated: the file is shorter than what was read
  assert.equal(await next(), 'new\n');
  abort.abort();
  const end = await Promise.race([
    gen.next(),
    new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5_000).unref()),
  ]);
  assert.deepEqual(end, { done: true, value: undefined });
});

function instance(id: string, role: ResolvedInstance['role'], host = 'localhost'): ResolvedInstance {
  const port = Number(id.split(':')[1]);
  return {
    id,
    role,
    host,
    port,
    portAllocated: false,
    local: true,
    programName: `${role}-${port}`,
    deployDir: `/d/${role}-${port}`,
    logDir: `/d/${role}-${port}/log`,
    configDir: `/d/${role}-${port}/conf`,
    configFile: `/d/${role}-${port}/conf/${role}.conf`,
    logFile: `/d/${role}-${port}/log/${role}.log`,
    outputFile: `/d/${role}-${port}/log/${role}-${port}.out`,
    pidFile: `/d/${role}-${port}/${role}.pid`,
    binDir: `/d/${role}-${port}/bin`,
    serverConfig: {},
  };
}

function runtime(instances: ResolvedInstance[], version = '7.0.14') {
  return {
    meta: { name: 'c', version } as Parameters<typeof chooseLogSource>[0]['meta'],
    instances,
    supervisorLogPath: (host: string) => `/sup/${host}/supervisord.log`,
  };
}

function refusal(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof MupError);
    assert.equal(error.exitCode, ExitCode.usage);
    assert.match(`${error.message}\n${error.hint}`, pattern);
    return true;
  });
}

test('log source: the one process, -N by host:port or program name, and the format by version', () => {
  const one = runtime([instance('localhost:30000', 'mongod')]);
  assert.deepEqual(chooseLogSource(one, { supervisor: false }), {
    host: 'localhost',
    path: '/d/mongod-30000/log/mongod.log',
    process: 'localhost:30000',
    format: 'json',
  });
  const rs = runtime(
    [
      instance('localhost:30000', 'mongod'),
      instance('localhost:30001', 'mongod'),
      instance('b:30002', 'mongos', 'b'),
    ],
    '4.2.24',
  );
  assert.equal(
    chooseLogSource(rs, { node: 'mongod-30001', supervisor: false }).path,
    '/d/mongod-30001/log/mongod.log',
  );
  assert.equal(chooseLogSource(rs, { node: 'localhost:30001', supervisor: false }).format, 'text');
  assert.deepEqual(chooseLogSource(rs, { node: 'b', supervisor: true }), {
    host: 'b',
    path: '/sup/b/supervisord.log',
    format: 'text',
  });
  assert.equal(
    chooseLogSource(rs, { node: 'mongos-30002', supervisor: true }).path,
    '/sup/b/supervisord.log',
  );
  assert.equal(chooseLogSource(one, { supervisor: true }).path, '/sup/localhost/supervisord.log');
});

test('log source refusals: several processes without -N, an unknown -N, several hosts for --supervisor', () => {
  const rs = runtime([instance('localhost:30000', 'mongod'), instance('b:30001', 'mongod', 'b')]);
  refusal(() => chooseLogSource(rs, { supervisor: false }), /2 processes.*\n.*localhost:30000, b:30001/);
  refusal(() => chooseLogSource(rs, { node: 'localhost:1', supervisor: false }), /no process 'localhost:1'/);
  refusal(() => chooseLogSource(rs, { supervisor: true }), /2 hosts.*\n.*localhost, b/);
  refusal(() => chooseLogSource(rs, { node: 'nohost', supervisor: true }), /no process 'nohost'/);
});
