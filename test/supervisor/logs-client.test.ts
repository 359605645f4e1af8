// Log tail/follow and client behaviour against real supervisord: control characters in log reads,
// supervisord's multicall shape, typed faults, timeouts and an unreachable daemon.
import assert from 'node:assert/strict';
import { createConnection, createServer } from 'node:net';
import { describe, it } from 'node:test';
import { SupervisorClient } from '../../src/supervisor/client.js';
import { Fault, SupervisorFault, SupervisorUnreachableError } from '../../src/supervisor/errors.js';
import {
  followDaemonLog,
  followProgramOutput,
  tailDaemonLog,
  tailProgramOutput,
} from '../../src/supervisor/logs.js';
import { freePort, makeTestHost, refOf, standInProgram, waitFor } from './harness.js';

/** Asks the stand-in on `port` to print `text` ("\xNN" escapes allowed). */
function say(port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write(`say ${text}`));
    socket.on('data', () => {
      socket.end();
      resolve();
    });
    socket.on('error', reject);
  });
}

/** Collects `iterator` until `pattern` matches (bounded: 30 s); `seen()` shows what arrived so far. */
function collectUntil(iterator: AsyncGenerator<string>, pattern: RegExp, controller: AbortController) {
  let text = '';
  const done = (async () => {
    const timer = setTimeout(() => controller.abort(), 30_000);
    try {
      for await (const chunk of iterator) {
        text += chunk;
        if (pattern.test(text)) break;
      }
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
    return text;
  })();
  return { done, seen: () => text };
}

describe('program output and daemon log', () => {
  it('tails and follows program output, control characters included', async (t) => {
    const host = await makeTestHost(t, 'logs');
    const port = await freePort();
    const program = standInProgram(host.root, 'talker', port);
    await host.writeIni([program]);
    await host.daemon.ensureRunning();
    const control = await host.control();
    host.trackPid((await control.start(refOf(program))).pid);
    const client = await host.daemon.client();
    assert.match(await tailProgramOutput(client, 'talker:talker', 1000), /stand-in: listening on \d+/);

    await say(port, 'raw \\x01\\x1b[0m bytes\n');
    await waitFor('output', async () =>
      (await tailProgramOutput(client, 'talker:talker', 100)).includes('bytes') ? true : undefined,
    );
    const tail = await tailProgramOutput(client, 'talker:talker', 100);
    assert.ok(tail.endsWith('raw \u0001\u001b[0m bytes\n'), JSON.stringify(tail));

    const controller = new AbortController();
    const follow = followProgramOutput(client, 'talker:talker', {
      signal: controller.signal,
      intervalMs: 100,
    });
    const collected = collectUntil(follow, /third/, controller);
    // The follower starts at the end of the output as of its first poll: once it shows a marker, every
    // later line must reach it.
    await waitFor('the follower to see a marker line', async () => {
      await say(port, 'marker\n');
      await new Promise((resolve) => setTimeout(resolve, 100));
      return collected.seen().includes('marker\n') ? true : undefined;
    });
    await say(port, 'second line\n');
    await say(port, 'third line\n');
    const text = await collected.done;
    assert.equal(text.slice(text.lastIndexOf('marker\n') + 'marker\n'.length), 'second line\nthird line\n');
  });

  it('tails and follows the daemon log', async (t) => {
    const host = await makeTestHost(t, 'mainlog');
    const program = standInProgram(host.root, 'quiet', await freePort());
    const marker = standInProgram(host.root, 'marker', await freePort());
    await host.writeIni([program, marker]);
    await host.daemon.ensureRunning();
    const control = await host.control();
    host.trackPid((await control.start(refOf(program))).pid);
    const client = await host.daemon.client();
    assert.match(await tailDaemonLog(client, 4096), /success: quiet entered RUNNING state/);

    const controller = new AbortController();
    const follow = followDaemonLog(host.daemon, { signal: controller.signal, intervalMs: 100 });
    const collected = collectUntil(follow, /stopped: quiet/, controller);
    // A line the follower must see before the one under test: another program's start and stop.
    await waitFor('the follower to see the marker program stop', async () => {
      host.trackPid((await control.start(refOf(marker))).pid);
      await control.stop(refOf(marker));
      return /stopped: marker/.test(collected.seen()) ? true : undefined;
    });
    await control.stop(refOf(program));
    const text = await collected.done;
    assert.match(text, /stopped: quiet \(exit status 0\)/);
    assert.doesNotMatch(text, /quiet entered RUNNING/, 'only new lines are followed');
  });
});

describe('SupervisorClient', () => {
  it('returns multicall results bare, with faults typed and not aborting the rest', async (t) => {
    const host = await makeTestHost(t, 'multi');
    await host.writeIni([]);
    const { pid } = await host.daemon.ensureRunning();
    const client = await host.daemon.client();
    const results = await client.multicall([
      { method: 'supervisor.getPID', params: [] },
      { method: 'supervisor.stopProcess', params: ['nope'] },
      { method: 'supervisor.getIdentification', params: [] },
    ]);
    assert.deepEqual(results[0], { ok: true, value: pid });
    const second = results[1];
    assert.ok(second !== undefined && !second.ok);
    assert.equal(second.fault.code, Fault.BAD_NAME);
    assert.equal(second.fault.detail, 'nope');
    assert.deepEqual(results[2], { ok: true, value: 'mup-multi' });

    await assert.rejects(client.getProcessInfo('nope'), (error: unknown) => {
      assert.ok(error instanceof SupervisorFault);
      assert.equal(error.code, Fault.BAD_NAME);
      assert.equal(error.method, 'supervisor.getProcessInfo');
      return true;
    });
    assert.equal(await client.getSupervisorVersion(), '4.2.5');
  });

  it('fails fast when nothing listens, and times out when nothing answers', async (t) => {
    const closed = new SupervisorClient({
      host: '127.0.0.1',
      port: await freePort(),
      username: 'u',
      password: 'p',
    });
    await assert.rejects(closed.getState(), SupervisorUnreachableError);

    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(() => silent.close());
    const address = silent.address();
    assert.ok(address !== null && typeof address === 'object');
    const client = new SupervisorClient({
      host: '127.0.0.1',
      port: address.port,
      username: 'u',
      password: 'p',
    });
    const started = Date.now();
    await assert.rejects(client.getState({ timeoutMs: 300 }), /no answer within 300 ms/);
    // The server never answers: without the timeout this would wait for ever; the bound is generous for a loaded host.
    assert.ok(Date.now() - started < 15_000);
  });
});
