// allocatePortBlock: contiguous blocks, skipping busy and reserved ports; one test with real sockets.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { describe, test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { LocalExecutor } from '../../src/hosts/local.js';
import { allocatePortBlock } from '../../src/topology/ports.js';

describe('allocatePortBlock', () => {
  test('the first block from the base when everything is free', async () => {
    assert.deepEqual(await allocatePortBlock(3, { isPortFree: async () => true }), [30000, 30001, 30002]);
    assert.deepEqual(await allocatePortBlock(0, { isPortFree: async () => true }), []);
  });

  test('a busy port moves the block past it, probing each port once', async () => {
    const probed: number[] = [];
    const ports = await allocatePortBlock(3, {
      base: 100,
      isPortFree: async (port) => {
        probed.push(port);
        return port !== 101 && port !== 104;
      },
    });
    assert.deepEqual(ports, [105, 106, 107]);
    assert.deepEqual(probed, [100, 101, 102, 103, 104, 105, 106, 107]);
  });

  test('reserved ports are skipped without probing', async () => {
    const probed: number[] = [];
    const ports = await allocatePortBlock(2, {
      base: 200,
      reserved: new Set([201]),
      isPortFree: async (port) => {
        probed.push(port);
        return true;
      },
    });
    assert.deepEqual(ports, [202, 203]);
    assert.ok(!probed.includes(201));
  });

  test('no room left below 65536 is a usage error', async () => {
    await assert.rejects(
      allocatePortBlock(3, { base: 65534, isPortFree: async () => true }),
      (error: unknown) =>
        error instanceof UsageError && /no block of 3 free contiguous ports/.test(error.message),
    );
  });

  test('with real sockets: a port something listens on is skipped', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    try {
      const address = server.address();
      assert.ok(address && typeof address === 'object');
      const busy = address.port;
      const probe = new LocalExecutor();
      const ports = await allocatePortBlock(2, { base: busy, isPortFree: (port) => probe.isPortFree(port) });
      assert.ok(!ports.includes(busy), `allocated the busy port ${busy}`);
      assert.ok((ports[0] as number) > busy);
      assert.equal(ports[1], (ports[0] as number) + 1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
