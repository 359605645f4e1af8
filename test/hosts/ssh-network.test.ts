// A host whose network link is cut: typed errors within the configured timeouts, never a hang, and a new
// connection (and working forwards) once the link is back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HostUnreachableError } from '../../src/hosts/errors.js';
import type { ExecutorPool } from '../../src/hosts/pool.js';
import type { SshExecutor } from '../../src/hosts/ssh.js';
import {
  createFleet,
  cutLink,
  destroyFleet,
  type Fleet,
  type FleetHost,
  fleetSupported,
  restoreLink,
  runOnHost,
} from '../fleet/fleet.js';
import { controlMachine, fleetPool, sshTo } from './ssh-helpers.js';

const supported = fleetSupported();
const CONNECT_TIMEOUT_MS = 3000;
const KEEPALIVE_MS = 1000;
const KEEPALIVE_COUNT = 2;
// What the executor promises (connect timeout, or the keep-alives to give up) plus slack for a loaded machine.
const BOUND_MS = CONNECT_TIMEOUT_MS + KEEPALIVE_MS * (KEEPALIVE_COUNT + 1) + 10_000;

async function expectUnreachable(promise: Promise<unknown>, host: FleetHost): Promise<number> {
  const started = Date.now();
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof HostUnreachableError, String(error));
    assert.equal(error.host, host.address);
    assert.match(error.hint ?? '', /sshd answers on port 22/);
    return true;
  });
  const elapsed = Date.now() - started;
  assert.ok(elapsed < BOUND_MS, `took ${elapsed} ms`);
  return elapsed;
}

describe('SSH over a cut link', { skip: supported.ok ? false : supported.reason }, () => {
  let fleet: Fleet;
  let pool: ExecutorPool;
  let host: FleetHost;
  let executor: SshExecutor;

  before(async () => {
    fleet = await createFleet({ hosts: 2 });
    host = fleet.hosts[0] as FleetHost;
    pool = fleetPool(fleet, await controlMachine(fleet), {
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      keepaliveIntervalMs: KEEPALIVE_MS,
      keepaliveCountMax: KEEPALIVE_COUNT,
    });
    executor = sshTo(pool, fleet, host);
  });
  after(async () => {
    await pool?.closeAll();
    if (fleet !== undefined) await destroyFleet(fleet);
  });

  it('fails a command on an established connection once keep-alives go unanswered, then reconnects', async () => {
    assert.equal((await executor.run('uname', ['-n'])).stdout, 'host1\n');
    await cutLink(host);
    try {
      await expectUnreachable(executor.run('true', [], { timeoutMs: 120_000 }), host);
    } finally {
      await restoreLink(host);
    }
    assert.equal((await executor.run('uname', ['-n'])).stdout, 'host1\n');
  });

  it('fails a command in flight when the link is cut, without waiting for it to end', async () => {
    const long = executor.run('sleep', ['8642'], { timeoutMs: 120_000 });
    // Let it start on the host first.
    for (let i = 0; i < 100; i++) {
      if ((await runOnHost(host, 'pgrep -f "^sleep 8642"')).exitCode === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await cutLink(host);
    try {
      await expectUnreachable(long, host);
    } finally {
      await restoreLink(host);
      await runOnHost(host, 'pkill -f "^sleep 8642" || true');
    }
  });

  it('fails a new connection to a cut-off host within the connect timeout', async () => {
    await pool.closeAll();
    const fresh = sshTo(pool, fleet, host);
    await cutLink(host);
    try {
      await expectUnreachable(fresh.connect(), host);
      await expectUnreachable(fresh.exists('/srv'), host);
    } finally {
      await restoreLink(host);
    }
    assert.equal(await fresh.exists('/srv'), true);
    // The other host was never affected.
    assert.equal(
      (await sshTo(pool, fleet, fleet.hosts[1] as FleetHost).run('uname', ['-n'])).stdout,
      'host2\n',
    );
  });

  it('a forward keeps working across a dropped and restored connection', async () => {
    const port = 21000 + Math.floor(Math.random() * 5000);
    await runOnHost(host, `mkdir -p /tmp/www && echo up > /tmp/www/ok.txt`);
    await runOnHost(
      host,
      `cd /tmp/www && setsid python3 -m http.server ${port} --bind 127.0.0.1 >/dev/null 2>&1 &`,
    );
    const current = sshTo(pool, fleet, host);
    const forwarded = await current.forwardPort(port);
    // Bounded: Node 20's fetch never settles when the server closes a connection before the request is
    // written, which the forward does while the host's port still refuses (the server not up yet).
    const get = async () =>
      (
        await fetch(`http://127.0.0.1:${forwarded.port}/ok.txt`, { signal: AbortSignal.timeout(2000) })
      ).text();
    try {
      assert.equal(await retry(get), 'up\n');
      await cutLink(host);
      try {
        await expectUnreachable(current.run('true', []), host);
      } finally {
        await restoreLink(host);
      }
      assert.equal(await retry(get), 'up\n');
    } finally {
      await forwarded.close();
      await runOnHost(host, `pkill -f "^python3 -m http.server ${port}" || true`);
    }
  });
});

/** The server may need a moment to start listening: a few bounded tries. */
async function retry<T>(probe: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i < 50; i++) {
    try {
      return await probe();
    } catch (error) {
      last = error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw last;
}
