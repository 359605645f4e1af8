import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UploadVerificationError } from '../../src/hosts/errors.js';
import { LocalExecutor } from '../../src/hosts/local.js';
import { tempDir } from '../helpers/cli.js';

const executor = new LocalExecutor();

function listen(host: string, port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host }, () => resolve(server));
  });
}

function portOf(server: Server): number {
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

describe('LocalExecutor.run', () => {
  it('returns exit code, stdout and stderr without a shell', async () => {
    const result = await executor.run('sh', ['-c', 'echo out; echo err >&2; exit 3']);
    assert.deepEqual(result, { exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('passes arguments literally, stdin, env and cwd', async () => {
    const dir = await tempDir('mup-local-');
    const result = await executor.run(
      'sh',
      ['-c', 'printf "%s|%s|%s|" "$1" "$MUP_X" "$(pwd)"; cat', 'sh', '$HOME; rm -rf /'],
      { input: 'from stdin', env: { MUP_X: 'x y' }, cwd: dir },
    );
    assert.equal(result.stdout, `$HOME; rm -rf /|x y|${dir}|from stdin`);
  });

  it('rejects when the program does not exist', async () => {
    await assert.rejects(executor.run('/nonexistent/mup-no-such-program', []), /ENOENT/);
  });

  it('kills a command that exceeds its timeout', async () => {
    const started = Date.now();
    await assert.rejects(executor.run('sleep', ['60'], { timeoutMs: 200 }), /did not finish within 200 ms/);
    // Well before sleep would have ended by itself, with room for a loaded host.
    assert.ok(Date.now() - started < 30_000);
  });
});

describe('LocalExecutor files', () => {
  it('writes atomically with the requested mode, creating parents, leaving no temp files', async () => {
    const dir = await tempDir('mup-local-');
    const path = join(dir, 'a', 'b', 'secret.ini');
    await executor.writeFile(path, 'first', 0o600);
    await executor.writeFile(path, new TextEncoder().encode('second'), 0o600);
    assert.equal(await readFile(path, 'utf8'), 'second');
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(join(dir, 'a', 'b')), ['secret.ini']);
  });

  it('removes the temp file a killed earlier write of the same file left, and nothing else', async () => {
    const dir = await tempDir('mup-local-');
    const path = join(dir, 'mongod.conf');
    await writeFile(`${path}.2755219714`, 'half written');
    await writeFile(`${path}.bak`, 'kept');
    await writeFile(join(dir, 'other.conf.123'), 'kept');
    await executor.writeFile(path, 'whole');
    assert.deepEqual((await readdir(dir)).sort(), ['mongod.conf', 'mongod.conf.bak', 'other.conf.123']);
  });

  it('reads files and tails the last bytes; tail of a missing file is undefined', async () => {
    const dir = await tempDir('mup-local-');
    const path = join(dir, 'log');
    await writeFile(path, 'line1\nline2\nline3\n');
    assert.equal((await executor.readFile(path)).toString(), 'line1\nline2\nline3\n');
    assert.equal(await executor.tailFile(path, 6), 'line3\n');
    assert.equal(await executor.tailFile(path, 1000), 'line1\nline2\nline3\n');
    assert.equal(await executor.tailFile(join(dir, 'missing'), 10), undefined);
  });

  it('mkdir, exists and remove', async () => {
    const dir = await tempDir('mup-local-');
    const sub = join(dir, 'x', 'y');
    assert.equal(await executor.exists(sub), false);
    await executor.mkdir(sub, 0o700);
    assert.equal(await executor.exists(sub), true);
    assert.equal((await stat(sub)).mode & 0o777, 0o700);
    await executor.remove(join(dir, 'x'));
    assert.equal(await executor.exists(join(dir, 'x')), false);
    await executor.remove(join(dir, 'x'));
  });
});

describe('LocalExecutor probes', () => {
  it('sees a port bound on 127.0.0.1 as taken and frees it after close', async () => {
    const server = await listen('127.0.0.1');
    const port = portOf(server);
    assert.equal(await executor.isPortFree(port), false);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    assert.equal(await executor.isPortFree(port), true);
  });

  it('sees a port bound only on ::1 as taken', async (t) => {
    let server: Server;
    try {
      server = await listen('::1');
    } catch {
      t.skip('no IPv6 loopback on this machine');
      return;
    }
    try {
      assert.equal(await executor.isPortFree(portOf(server)), false);
    } finally {
      server.close();
    }
  });

  it('tells live pids from dead ones', async () => {
    assert.equal(await executor.isPidAlive(process.pid), true);
    const child = spawn('true');
    const pid = child.pid;
    assert.ok(pid !== undefined);
    await new Promise((resolve) => child.on('close', resolve));
    assert.equal(await executor.isPidAlive(pid), false);
    assert.equal(await executor.isPidAlive(0), false);
  });

  it('treats an exited but unreaped process (zombie) as gone', async (t) => {
    // sh prints its background child's pid, then execs into sleep, which never reaps that child.
    const parent = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 3'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    t.after(() => parent.kill('SIGKILL'));
    const pid = await new Promise<number>((resolve) =>
      parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString()))),
    );
    let zombie = false;
    for (let i = 0; i < 40 && !zombie; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      zombie = (await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')).includes(') Z');
    }
    if (!zombie) {
      t.skip('no /proc zombie observed on this platform');
      return;
    }
    assert.equal(await executor.isPidAlive(pid), false);
  });

  it('knows the home directory and forwards a port to itself', async () => {
    assert.equal(await executor.homeDir(), homedir());
    const forwarded = await executor.forwardPort(9001);
    assert.deepEqual({ host: forwarded.host, port: forwarded.port }, { host: '127.0.0.1', port: 9001 });
    await forwarded.close();
    assert.equal(executor.local, true);
    assert.equal(executor.host, 'localhost');
  });
});

describe('LocalExecutor.upload', () => {
  it('copies with a mode and the sha256, skips an identical copy, refuses a wrong known sum', async () => {
    const dir = await tempDir('mup-local-');
    const source = join(dir, 'archive.tgz');
    await writeFile(source, 'archive bytes');
    const target = join(dir, 'hosts', 'pkg', 'archive.tgz');
    const first = await executor.upload(source, target, { mode: 0o640 });
    assert.equal(first.skipped, false);
    assert.equal(first.bytes, 13);
    assert.equal(first.sha256, createHash('sha256').update('archive bytes').digest('hex'));
    assert.equal((await stat(target)).mode & 0o777, 0o640);
    assert.deepEqual(await executor.upload(source, target, { mode: 0o640 }), { ...first, skipped: true });
    await assert.rejects(
      executor.upload(source, join(dir, 'hosts', 'pkg', 'other.tgz'), { sha256: '0'.repeat(64) }),
      UploadVerificationError,
    );
    assert.deepEqual(await readdir(join(dir, 'hosts', 'pkg')), ['archive.tgz']);
    await executor.close();
  });
});

describe('LocalExecutor.lstat', () => {
  it('reports a link as a link, never what it points at, and nothing for a missing path', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'file'), 'x');
    await symlink(join(dir, 'file'), join(dir, 'link'));
    await symlink(join(dir, 'gone'), join(dir, 'dangling'));
    assert.deepEqual(await executor.lstat(dir), { kind: 'dir', uid: (await stat(dir)).uid });
    assert.equal((await executor.lstat(join(dir, 'file')))?.kind, 'file');
    assert.equal((await executor.lstat(join(dir, 'link')))?.kind, 'symlink');
    assert.equal((await executor.lstat(join(dir, 'dangling')))?.kind, 'symlink');
    assert.equal(await executor.lstat(join(dir, 'missing')), undefined);
    assert.equal(await executor.lstat(join(dir, 'file', 'below')), undefined);
  });
});
