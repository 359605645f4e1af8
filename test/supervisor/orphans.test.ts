// Finding and stopping processes that hold a program's port or dbPath outside supervisord.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { LocalExecutor } from '../../src/hosts/local.js';
import { findOrphans, stopOrphan } from '../../src/supervisor/orphans.js';
import { findPortOwner } from '../../src/supervisor/port-owner.js';
import { tempDir } from '../helpers/cli.js';
import { freePort, standIn } from './harness.js';

const executor = new LocalExecutor();

/** A stand-in listening on `port` itself: its own "listening" line, not just a busy port (another test may hold it). */
async function startStandIn(t: TestContext, port: number, extra: string[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, [standIn, '--port', String(port), ...extra], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`stand-in not listening on ${port} after 15 s`)), 15_000);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('stand-in: listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`stand-in exited (${code}) before listening on ${port}`));
    });
  });
  return child;
}

describe('findOrphans', () => {
  it('finds a process by port and by the pid in mongod.lock', async (t) => {
    const dir = await tempDir('mup-orphan-');
    const port = await freePort();
    const child = await startStandIn(t, port, ['--dbpath', join(dir, 'data')]);
    const orphans = await findOrphans(executor, [{ program: 'mongod-1', port, dataDir: join(dir, 'data') }]);
    assert.equal(orphans.length, 1);
    assert.equal(orphans[0]?.pid, child.pid);
    assert.deepEqual(orphans[0]?.foundBy, ['port', 'lock']);
    assert.match(orphans[0]?.command ?? '', /stand-in\.mjs --port/);
    assert.deepEqual(await findPortOwner(executor, port).then((owner) => owner?.pid), child.pid);
  });

  it('finds a process by its lock alone when it listens elsewhere, and nothing on a free port', async (t) => {
    const dir = await tempDir('mup-orphan-');
    const child = await startStandIn(t, await freePort(), ['--dbpath', join(dir, 'data')]);
    const unused = await freePort();
    const orphans = await findOrphans(executor, [
      { program: 'mongod-2', port: unused, dataDir: join(dir, 'data') },
    ]);
    assert.deepEqual(
      orphans.map((orphan) => [orphan.pid, orphan.foundBy]),
      [[child.pid, ['lock']]],
    );
    assert.deepEqual(await findOrphans(executor, [{ program: 'mongos-3', port: unused }]), []);
  });

  it('ignores a lock file left empty by a clean shutdown or naming a dead pid', async () => {
    const dir = await tempDir('mup-orphan-');
    const port = await freePort();
    await executor.writeFile(join(dir, 'mongod.lock'), '');
    assert.deepEqual(await findOrphans(executor, [{ program: 'a', port, dataDir: dir }]), []);
    const dead = spawn('true');
    await new Promise((resolve) => dead.on('close', resolve));
    await executor.writeFile(join(dir, 'mongod.lock'), `${dead.pid}\n`);
    assert.deepEqual(await findOrphans(executor, [{ program: 'a', port, dataDir: dir }]), []);
  });
  it('finds the server holding mongod.lock open though its command line does not name the dbPath', async (t) => {
    const dir = await tempDir('mup-orphan-');
    const lock = join(dir, 'mongod.lock');
    await executor.writeFile(lock, '');
    // The path travels in the environment, as mongod's reaches it through --config.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        'require("fs").openSync(process.env.LOCK, "a+"); console.log("open"); setInterval(() => {}, 1000)',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, LOCK: lock } },
    );
    t.after(() => holder.kill('SIGKILL'));
    await new Promise((resolve) => holder.stdout?.once('data', resolve));
    assert.ok(holder.pid !== undefined);
    await appendFile(lock, `${holder.pid}\n`); // in place: the holder's open file stays the lock file
    const orphans = await findOrphans(executor, [{ program: 'a', port: await freePort(), dataDir: dir }]);
    assert.deepEqual(
      orphans.map((orphan) => [orphan.pid, orphan.foundBy]),
      [[holder.pid, ['lock']]],
    );
  });

  it('ignores a lock naming a live pid that is not the server of that dbPath (a pid reused after a crash)', async (t) => {
    const dir = await tempDir('mup-orphan-');
    const stranger = spawn('sleep', ['30'], { stdio: 'ignore' });
    t.after(() => stranger.kill('SIGKILL'));
    assert.ok(stranger.pid !== undefined);
    await executor.writeFile(join(dir, 'mongod.lock'), `${stranger.pid}\n`);
    assert.deepEqual(
      await findOrphans(executor, [{ program: 'a', port: await freePort(), dataDir: dir }]),
      [],
    );
    assert.equal(await executor.isPidAlive(stranger.pid), true);
  });
});

describe('stopOrphan', () => {
  it('stops a process with SIGTERM and waits for it to go', async (t) => {
    const child = await startStandIn(t, await freePort());
    assert.ok(child.pid !== undefined);
    assert.equal(await stopOrphan(executor, child.pid, { timeoutMs: 10_000 }), true);
    assert.equal(await executor.isPidAlive(child.pid), false);
  });

  it('reports a process that ignores SIGTERM, and kills it only when asked', async (t) => {
    const child = await startStandIn(t, await freePort(), ['--ignore-term']);
    assert.ok(child.pid !== undefined);
    assert.equal(await stopOrphan(executor, child.pid, { timeoutMs: 500 }), false);
    assert.equal(await executor.isPidAlive(child.pid), true);
    assert.equal(await stopOrphan(executor, child.pid, { timeoutMs: 500, kill: true }), true);
    assert.equal(await executor.isPidAlive(child.pid), false);
  });
});
