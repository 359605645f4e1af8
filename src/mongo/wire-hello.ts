// hello on one TCP connection (TLS when the address asks for it): one OP_MSG round trip, without loading the
// driver or opening its monitoring and pool connections. `display` asks every member at once and only needs the
// reply document; everything else mup sends to a server goes through the driver (connect.ts).
import { readFile } from 'node:fs/promises';
import { connect, isIP, type Socket } from 'node:net';
import { checkServerIdentity, connect as connectTls } from 'node:tls';
import type { Document } from 'mongodb';
import { MupError } from '../errors.js';
import { formatAddress, type ServerAddress } from './connect.js';

// OP_MSG (MongoDB wire protocol, opcode 2013): header (length, requestID, responseTo, opCode), flagBits, then
// one kind-0 section holding the command document.
const OP_MSG = 2013;
const HEADER_BYTES = 16;
// A hello reply is a few hundred bytes; anything claiming more than this is not a server speaking the protocol.
const MAX_REPLY_BYTES = 1024 * 1024;

/** A member did not answer hello (display shows it down or unreachable). */
export class WireHelloError extends MupError {}

/** The server's reply to `{isMaster: 1}` (answered by every supported version); rejects within `timeoutMs`. */
export async function wireHello(address: ServerAddress, timeoutMs: number): Promise<Document> {
  const { serialize, deserialize } = await import('bson');
  const body = serialize({ isMaster: 1, $db: 'admin' });
  const message = Buffer.alloc(HEADER_BYTES + 4 + 1 + body.length);
  message.writeInt32LE(message.length, 0);
  message.writeInt32LE(1, 4);
  message.writeInt32LE(0, 8);
  message.writeInt32LE(OP_MSG, 12);
  message.writeUInt32LE(0, 16);
  message.writeUInt8(0, 20);
  message.set(body, 21);
  const where = formatAddress(address);
  const tls = address.tls;
  const ca =
    tls === undefined
      ? undefined
      : await readFile(tls.caFile).catch((error: Error) => {
          throw new WireHelloError(`${where}: cannot read the CA file ${tls.caFile}: ${error.message}`);
        });
  return new Promise<Document>((resolve, reject) => {
    let socket: Socket;
    let opened: string;
    if (tls === undefined || ca === undefined) {
      socket = connect({ host: address.host, port: address.port });
      opened = 'connect';
    } else {
      // The server's certificate must chain to the cluster CA and name the host (or the tunnel's far end).
      const name = tls.serverName ?? address.host;
      socket = connectTls({
        host: address.host,
        port: address.port,
        ca,
        ...(isIP(name) === 0 ? { servername: name } : {}),
        checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert),
      });
      opened = 'secureConnect';
    }
    const fail = (why: string) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new WireHelloError(`${where}: ${why}`));
    };
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    let received = Buffer.alloc(0);
    socket.once(opened, () => socket.write(message));
    socket.on('error', (error) => fail(error.message));
    socket.on('close', () => fail('closed the connection before answering'));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const length = received.readInt32LE(0);
      if (length < HEADER_BYTES + 5 || length > MAX_REPLY_BYTES) return fail(`bad reply length ${length}`);
      if (received.length < length) return;
      if (received.readInt32LE(12) !== OP_MSG || received.readUInt8(20) !== 0)
        return fail('reply is not an OP_MSG with a body section');
      // flagBits bit 0 (checksumPresent): a CRC-32C follows the sections.
      const end = (received.readUInt32LE(16) & 1) === 1 ? length - 4 : length;
      let reply: Document;
      try {
        reply = deserialize(received.subarray(21, end));
      } catch (error) {
        return fail(`unreadable reply: ${(error as Error).message}`);
      }
      clearTimeout(timer);
      socket.removeAllListeners('close');
      socket.destroy();
      if (reply.ok !== 1)
        reject(new WireHelloError(`${where}: hello failed: ${String(reply.errmsg ?? 'not ok')}`));
      else resolve(reply);
    });
  });
}
