import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ExitCode } from '../../src/errors.js';
import { acquireClusterLock, ClusterLockedError } from '../../src/plan/lock.js';
import { tempDir } from '../helpers/cli.js';

test('a second acquire is refused with exit 3 and the holder named; release frees it', async () => {
  const path = join(await tempDir(), 'lock');
  const first = await acquireClusterLock(path, 'c1', 'mup cluster deploy c1');
  const holder = JSON.parse(await readFile(path, 'utf8'));
  assert.equal(holder.pid, process.pid);
  assert.equal(holder.command, 'mup cluster deploy c1');
  await assert.rejects(acquireClusterLock(path, 'c1', 'mup cluster stop c1'), (error: unknown) => {
    assert.ok(error instanceof ClusterLockedError);
    assert.equal(error.exitCode, ExitCode.locked);
    assert.match(error.message, /locked by 'mup cluster deploy c1' \(pid \d+ on .+, since .+\)/);
    return true;
  });
  await first.release();
  const second = await acquireClusterLock(path, 'c1', 'mup cluster stop c1');
  await second.release();
});

test('a lock left by a dead process on this host is stale and taken over', async () => {
  const path = join(await tempDir(), 'lock');
  const child = spawn(process.execPath, ['-e', '0']);
  const deadPid = child.pid ?? 0;
  await new Promise((r) => child.on('exit', r));
  await writeFile(
    path,
    JSON.stringify({ pid: deadPid, host: hostname(), command: 'mup killed', startedAt: 'then' }),
  );
  const lock = await acquireClusterLock(path, 'c1', 'mup cluster resume c1');
  assert.equal(lock.holder.pid, process.pid);
  await lock.release();
});

test('a lock held by a live process on another host is never taken over', async () => {
  const path = join(await tempDir(), 'lock');
  await writeFile(
    path,
    JSON.stringify({ pid: 1, host: 'elsewhere', command: 'mup cluster upgrade c1', startedAt: 'now' }),
  );
  await assert.rejects(
    acquireClusterLock(path, 'c1', 'x'),
    /locked by 'mup cluster upgrade c1' \(pid 1 on elsewhere/,
  );
});

test('every lock message names the lock file; an empty or torn lock file blocks nobody', async () => {
  const dir = await tempDir();
  const path = join(dir, 'lock');
  const held = await acquireClusterLock(path, 'c1', 'mup cluster stop c1');
  await assert.rejects(acquireClusterLock(path, 'c1', 'x'), (error: Error & { hint?: string }) => {
    assert.ok(error.message.includes(`lock file ${path}`), error.message);
    assert.ok(error.hint?.includes(path));
    return true;
  });
  await held.release();
  for (const torn of ['', '{"pid": 12']) {
    await writeFile(path, torn);
    const lock = await acquireClusterLock(path, 'c1', 'mup cluster resume c1');
    assert.equal(JSON.parse(await readFile(path, 'utf8')).pid, process.pid);
    await lock.release();
  }
  // The holder is written to a temp file and linked: no temp file is left behind either way.
  assert.deepEqual(await readdir(dir), []);
});
