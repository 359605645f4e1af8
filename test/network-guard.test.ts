// The tests' network guard (test/helpers/network-guard.mjs), preloaded into a fresh node process as the
// test runner does: loopback and the test fleet's range pass, anything else is refused before it leaves.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';

const guard = join(import.meta.dirname, 'helpers', 'network-guard.mjs');

/** Runs `script` in a node process with the guard preloaded; asynchronous, so this process can serve it. */
function runGuarded(script: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [`--import=${guard}`, '--input-type=module', '-e', script],
      { encoding: 'utf8', timeout: 30_000, env: { ...process.env, NODE_OPTIONS: '' } },
      (_error, stdout, stderr) => resolve({ stdout, stderr }),
    );
  });
}

test('a connection outside loopback and 198.18.0.0/15 throws before any packet is sent', async () => {
  for (const host of ['203.0.113.7', '10.0.0.1', '2001:db8::1', 'fastdl.mongodb.org']) {
    const run = await runGuarded(`
      import net from 'node:net';
      try { net.connect({ host: '${host}', port: 443 }); console.log('connected'); }
      catch (e) { console.log(e.code); }
    `);
    assert.equal(run.stdout.trim(), 'ERR_TEST_NETWORK_GUARD', `${host}: ${run.stdout}${run.stderr}`);
  }
});

test('fetch of a public URL and a DNS lookup of a public name are refused', async () => {
  const run = await runGuarded(`
    import dns from 'node:dns';
    const codes = [];
    try { await fetch('https://fastdl.mongodb.org/'); codes.push('fetched'); }
    catch (e) { codes.push(e.cause?.code ?? e.code); }
    try { await dns.promises.lookup('example.com'); codes.push('resolved'); }
    catch (e) { codes.push(e.code); }
    try { dns.lookup('example.com', () => {}); codes.push('resolved'); }
    catch (e) { codes.push(e.code); }
    console.log(codes.join(','));
  `);
  assert.equal(
    run.stdout.trim(),
    'ERR_TEST_NETWORK_GUARD,ERR_TEST_NETWORK_GUARD,ERR_TEST_NETWORK_GUARD',
    run.stdout + run.stderr,
  );
});

test('loopback by address and by name still connects; the fleet range is not refused by the guard', async () => {
  const server = createServer((socket) => socket.end('hi'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  try {
    const run = await runGuarded(`
      import net from 'node:net';
      const read = (host) => new Promise((resolve, reject) => {
        const s = net.connect({ host, port: ${address.port} });
        let data = '';
        s.on('data', (d) => { data += d; });
        s.on('end', () => resolve(data));
        s.on('error', reject);
      });
      console.log(await read('127.0.0.1'), await read('localhost'));
      // 198.18.0.1 is not routed here: the guard lets it through, the kernel then fails or times out.
      try { const s = net.connect({ host: '198.18.0.1', port: 9, timeout: 100 }); s.on('error', () => {}); s.destroy(); console.log('allowed'); }
      catch (e) { console.log(e.code); }
    `);
    assert.equal(run.stdout.trim(), 'hi hi\nallowed', run.stdout + run.stderr);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
