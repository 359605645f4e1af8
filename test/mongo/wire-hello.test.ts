// display's one-round-trip hello: the request it sends, the reply it reads, and every way a member can fail
// to answer (refused, silent, garbage, a failed command), against small loopback servers.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { deserialize, serialize } from 'bson';
import { WireHelloError, wireHello } from '../../src/mongo/wire-hello.js';
import { freePort } from '../supervisor/harness.js';

async function serve(
  t: { after: (fn: () => unknown) => void },
  onData: (socket: Socket, data: Buffer) => void,
) {
  const server: Server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.on('data', (data) => onData(socket, data));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { host: '127.0.0.1', port };
}

function opMsg(doc: Record<string, unknown>, responseTo: number, flags = 0): Buffer {
  const body = serialize(doc);
  const message = Buffer.alloc(21 + body.length);
  message.writeInt32LE(message.length, 0);
  message.writeInt32LE(7, 4);
  message.writeInt32LE(responseTo, 8);
  message.writeInt32LE(2013, 12);
  message.writeUInt32LE(flags, 16);
  message.writeUInt8(0, 20);
  message.set(body, 21);
  return message;
}

describe('wireHello', () => {
  it('sends isMaster as an OP_MSG to admin and returns the reply document, split over packets', async (t) => {
    const requests: Record<string, unknown>[] = [];
    const address = await serve(t, (socket, data) => {
      assert.equal(data.readInt32LE(0), data.length);
      assert.equal(data.readInt32LE(12), 2013);
      requests.push(deserialize(data.subarray(21)));
      const reply = opMsg({ ismaster: true, setName: 'rs0', ok: 1 }, data.readInt32LE(4));
      socket.write(reply.subarray(0, 3));
      setTimeout(() => socket.end(reply.subarray(3)), 20);
    });
    const reply = await wireHello(address, 2000);
    assert.deepEqual(requests, [{ isMaster: 1, $db: 'admin' }]);
    assert.equal(reply.ismaster, true);
    assert.equal(reply.setName, 'rs0');
  });

  it('reads a reply that carries a checksum after its body', async (t) => {
    const address = await serve(t, (socket, data) => {
      const reply = opMsg({ ok: 1, secondary: true }, data.readInt32LE(4), 1);
      const withChecksum = Buffer.concat([reply, Buffer.from([1, 2, 3, 4])]);
      withChecksum.writeInt32LE(withChecksum.length, 0);
      socket.end(withChecksum);
    });
    assert.equal((await wireHello(address, 2000)).secondary, true);
  });

  it('rejects a refused port at once', async () => {
    // A free port from the registry: nobody listens on it.
    const port = await freePort();
    const started = Date.now();
    await assert.rejects(wireHello({ host: '127.0.0.1', port }, 60_000), WireHelloError);
    // Refused, not timed out: well before the 60 s timeout, with room for a loaded host.
    assert.ok(Date.now() - started < 30_000);
  });

  it('rejects a server that never answers, within the bound', async (t) => {
    const address = await serve(t, () => undefined);
    await assert.rejects(wireHello(address, 300), /no answer within 300 ms/);
  });

  it('rejects garbage, a closed connection and a failed command', async (t) => {
    const garbage = await serve(t, (socket) => socket.end(Buffer.from([255, 255, 255, 127, 0, 0, 0, 0])));
    await assert.rejects(wireHello(garbage, 2000), /bad reply length/);
    const closing = await serve(t, (socket) => socket.end());
    await assert.rejects(wireHello(closing, 2000), /closed the connection/);
    const failing = await serve(t, (socket, data) =>
      socket.end(opMsg({ ok: 0, errmsg: 'not now' }, data.readInt32LE(4))),
    );
    await assert.rejects(wireHello(failing, 2000), /hello failed: not now/);
  });
});
