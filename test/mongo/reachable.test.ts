// checkReachable: the TCP probe display runs before it asks a host or a member anything. A listener whose
// accept queue is full drops new SYNs as a lossy link does; the probe must still find it once it answers
// again, within a bound shorter than the kernel's one-second SYN resend.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { checkReachable } from '../../src/mongo/connect.js';
import { freePort } from '../supervisor/harness.js';

/**
 * A listener with a one-slot accept queue in a process that is then stopped (SIGSTOP): nothing accepts, so
 * once the queue is full the kernel drops every new SYN until the process is continued.
 */
async function stalledListener(t: { after: (fn: () => unknown) => void }) {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      `require('node:net').createServer().listen({ port: ${port}, host: '127.0.0.1', backlog: 1 }, () => console.log('up'))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`listener exited with ${code}`)));
  });
  child.kill('SIGSTOP');
  // Fill the queue: connections open until one does not within 200 ms (its SYN was dropped).
  const fillers: Socket[] = [];
  t.after(() => {
    for (const socket of fillers) socket.destroy();
  });
  for (let i = 0; i < 8; i++) {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    fillers.push(socket);
    const opened = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 200);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!opened) return { port, resume: () => child.kill('SIGCONT') };
  }
  throw new Error('the accept queue never filled');
}

describe('checkReachable', () => {
  it('resolves for a listener and rejects a refused port at once', async (t) => {
    const server = createServer((socket) => socket.destroy());
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    t.after(() => server.close());
    await checkReachable({ host: '127.0.0.1', port }, 1000);
    const closed = await freePort();
    const started = Date.now();
    await assert.rejects(checkReachable({ host: '127.0.0.1', port: closed }, 5000), /ECONNREFUSED/);
    assert.ok(Date.now() - started < 1000, 'a refused connection is an answer, not a wait');
  });

  it('a dropped first SYN: one attempt gives up within the bound, attempts every 250 ms find the host', async (t) => {
    const lossy = await stalledListener(t);
    // One attempt: its SYN is dropped, the kernel resends it only after a second, past the bound.
    const resumeSoon = () => setTimeout(() => lossy.resume(), 300);
    resumeSoon();
    await assert.rejects(
      checkReachable({ host: '127.0.0.1', port: lossy.port }, 900),
      /no answer within 900 ms/,
    );

    const again = await stalledListener(t);
    const timer = setTimeout(() => again.resume(), 300);
    t.after(() => clearTimeout(timer));
    const started = Date.now();
    await checkReachable({ host: '127.0.0.1', port: again.port }, 900, { attemptEveryMs: 250 });
    const took = Date.now() - started;
    assert.ok(took >= 250 && took < 900, `found by a later attempt after ${took} ms`);
  });

  it('an abort gives up at once, before the bound', async (t) => {
    const silent = await stalledListener(t);
    const giveUp = new AbortController();
    setTimeout(() => giveUp.abort(), 200);
    const started = Date.now();
    await assert.rejects(
      checkReachable({ host: '127.0.0.1', port: silent.port }, 5000, {
        attemptEveryMs: 100,
        signal: giveUp.signal,
      }),
      /given up/,
    );
    const took = Date.now() - started;
    assert.ok(took >= 150 && took < 1000, `gave up after ${took} ms`);
  });
});
