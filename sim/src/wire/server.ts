// TCP listener and per-connection loop: frames messages, dispatches commands one at a time per
// connection (as mongod does), answers OP_MSG with OP_MSG and the legacy OP_QUERY handshake with
// OP_REPLY, honours moreToCome, and streams awaitable hello replies under exhaustAllowed (4.4+).
// Source: reference/mongod-behavior.md §1.2, §1.3, §2.4, §5.6 (connection log lines).
import { createServer, type Server, type Socket } from 'node:net';
import type { Document } from 'bson';
import { Double, UUID } from 'bson';
import { AuthSession } from '../auth/session.js';
import type { CommandContext, ConnectionState } from '../commands/registry.js';
import { CommandError, ErrorCode } from '../errors.js';
import type { SimNode } from '../node.js';
import { hasTopologyVersion, opQueryHandshakeOnly } from '../version.js';
import {
  encodeOpMsg,
  encodeOpReply,
  MessageFramer,
  MsgFlag,
  type OpMsgRequest,
  type OpQueryRequest,
  ProtocolError,
  parseMessage,
} from './protocol.js';
import { acceptWithTls } from './tls.js';

const HELLO_NAMES = new Set(['hello', 'isMaster', 'ismaster']);
/** OP_QUERY flag bit 2: SecondaryOk (historically SlaveOk). */
const QUERY_SECONDARY_OK = 1 << 2;

export class WireServer {
  private readonly node: SimNode;
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private nextConnectionId = 1;
  private nextRequestId = 1;
  private closing = false;

  constructor(node: SimNode) {
    this.node = node;
  }

  /**
   * Binds every address on `port`; rejects with the socket error (EADDRINUSE → exit 48 in main). Resolves
   * with the bound port: the kernel picks one for port 0, which mongod allows on one address only.
   */
  async listen(addresses: string[], port: number): Promise<number> {
    if (port === 0 && addresses.filter((a) => !a.startsWith('/')).length > 1) {
      throw new EphemeralPortError();
    }
    let bound = port;
    for (const address of addresses) {
      const server = createServer((socket) => this.accept(socket));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: address, port, exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.servers.push(server);
      const info = server.address();
      if (port === 0 && info !== null && typeof info === 'object') bound = info.port;
    }
    return bound;
  }

  /** Stops accepting and destroys open connections. */
  async close(): Promise<void> {
    this.closing = true;
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  private accept(socket: Socket): void {
    const node = this.node;
    if (this.closing || node.shuttingDown) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const tls = node.tls;
    if (!tls) {
      this.serve(socket, socket);
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    acceptWithTls(
      socket,
      tls,
      (s) => this.serve(s, socket),
      () =>
        node.log.info(
          'NETWORK',
          22988,
          'conn',
          'Error receiving request from client. Ending connection from remote',
          {
            error: {
              code: 141,
              codeName: 'SSLHandshakeFailed',
              errmsg: 'The server is configured to only allow SSL connections',
            },
            remote: `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`,
          },
        ),
    );
  }

  /** The connection loop on `socket` (the TLS socket when encrypted); `raw` carries the peer address. */
  private serve(socket: Socket, raw: Socket): void {
    const node = this.node;
    const id = this.nextConnectionId++;
    const remoteAddress = raw.remoteAddress ?? '127.0.0.1';
    const remote = `${remoteAddress}:${raw.remotePort ?? 0}`;
    const abort = new AbortController();
    const conn: ConnectionState = {
      id,
      remote,
      remoteAddress,
      closed: abort.signal,
      destroy: () => socket.destroy(),
      auth: new AuthSession(),
    };
    const uuid = new UUID();
    this.sockets.add(socket);
    node.operations.connections.add(conn);
    node.connections.current++;
    node.connections.totalCreated++;
    const count = node.connections.current;
    node.log.info(
      'NETWORK',
      22943,
      'listener',
      'Connection accepted',
      { remote, uuid: { uuid: { $uuid: uuid.toHexString(true) } }, connectionId: id, connectionCount: count },
      `connection accepted from ${remote} #${id} (${count} connection${count === 1 ? '' : 's'} now open)`,
    );

    const framer = new MessageFramer();
    let queue: Promise<void> = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      const messages = framer.push(chunk);
      if (messages === null) {
        socket.destroy();
        return;
      }
      for (const raw of messages) {
        node.network.bytesIn += raw.length;
        node.network.numRequests++;
        queue = queue
          .then(() => this.handle(socket, conn, raw))
          .catch(() => {
            socket.destroy();
          });
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      abort.abort();
      this.sockets.delete(socket);
      node.operations.connections.delete(conn);
      node.connections.current--;
      const left = node.connections.current;
      node.log.info(
        'NETWORK',
        22944,
        `conn${id}`,
        'Connection ended',
        {
          remote,
          uuid: { uuid: { $uuid: uuid.toHexString(true) } },
          connectionId: id,
          connectionCount: left,
        },
        `end connection ${remote} (${left} connection${left === 1 ? '' : 's'} now open)`,
      );
    });
  }

  private send(socket: Socket, buf: Buffer): void {
    if (socket.destroyed) return;
    this.node.network.bytesOut += buf.length;
    socket.write(buf);
  }

  private async handle(socket: Socket, conn: ConnectionState, raw: Buffer): Promise<void> {
    let msg: ReturnType<typeof parseMessage>;
    try {
      msg = parseMessage(raw);
    } catch (err) {
      // Bad framing or opcodes close the connection (mongod does the same, §1.1).
      if (err instanceof ProtocolError && raw.length >= 16) {
        const reply = this.node.commands.failure(this.node, new CommandError(err.code, err.message));
        this.send(socket, encodeOpMsg(this.nextRequestId++, raw.readInt32LE(4), reply));
      }
      socket.end();
      return;
    }
    if (msg.kind === 'query') return this.handleQuery(socket, conn, msg);
    if (msg.kind === 'msg') return this.handleMsg(socket, conn, msg);
    socket.destroy();
  }

  private context(
    conn: ConnectionState,
    db: string,
    body: Document,
    secondaryOk: boolean,
    fireAndForget: boolean,
  ) {
    const name = Object.keys(body)[0] ?? '';
    const ctx: CommandContext = { node: this.node, conn, db, name, body, secondaryOk, fireAndForget };
    return ctx;
  }

  private async handleQuery(socket: Socket, conn: ConnectionState, msg: OpQueryRequest): Promise<void> {
    const node = this.node;
    const requestId = msg.header.requestId;
    const dot = msg.ns.indexOf('.');
    const db = dot < 0 ? msg.ns : msg.ns.slice(0, dot);
    const coll = dot < 0 ? '' : msg.ns.slice(dot + 1);
    if (coll !== '$cmd') {
      // Legacy OP_QUERY reads are gone (5.1+) and unused by any supported driver (§1.3).
      const doc = {
        $err: 'OP_QUERY is no longer supported. The client driver may require an upgrade. For more details see https://dochub.mongodb.org/core/legacy-opcode-removal',
        code: 5739101,
      };
      this.send(socket, encodeOpReply(this.nextRequestId++, requestId, [doc], 2));
      return;
    }
    let body = msg.query;
    if (body.$query && typeof body.$query === 'object') body = body.$query as Document;
    const ctx = this.context(conn, db, body, (msg.flags & QUERY_SECONDARY_OK) !== 0, false);
    let reply: Document;
    if (!HELLO_NAMES.has(ctx.name) && opQueryHandshakeOnly(node.version)) {
      reply = node.commands.failure(
        node,
        new CommandError(
          ErrorCode.UnsupportedOpQueryCommand,
          `Unsupported OP_QUERY command: ${ctx.name}. The client driver may require an upgrade. For more details see https://dochub.mongodb.org/core/legacy-opcode-removal`,
        ),
      );
    } else {
      reply = await node.commands.run(ctx);
    }
    this.send(socket, encodeOpReply(this.nextRequestId++, requestId, [reply]));
  }

  private async handleMsg(socket: Socket, conn: ConnectionState, msg: OpMsgRequest): Promise<void> {
    const node = this.node;
    const body = msg.body;
    const fireAndForget = (msg.flags & MsgFlag.moreToCome) !== 0;
    const db = body.$db;
    const readPref = body.$readPreference as Document | undefined;
    const secondaryOk = typeof readPref?.mode === 'string' && readPref.mode !== 'primary';
    let reply: Document;
    let ctx: CommandContext | undefined;
    if (typeof db !== 'string') {
      reply = node.commands.failure(
        node,
        new CommandError(40571, 'OP_MSG requests require a $db argument', {}, 'Location40571'),
      );
    } else {
      ctx = this.context(conn, db, body, secondaryOk, fireAndForget);
      reply = await node.commands.run(ctx);
    }
    if (fireAndForget) return;

    const exhaust =
      ctx !== undefined &&
      (msg.flags & MsgFlag.exhaustAllowed) !== 0 &&
      HELLO_NAMES.has(ctx.name) &&
      hasTopologyVersion(node.version) &&
      body.maxAwaitTimeMS !== undefined &&
      isOk(reply);
    if (!exhaust || !ctx) {
      this.send(socket, encodeOpMsg(this.nextRequestId++, msg.header.requestId, reply));
      return;
    }
    // Streaming hello (§2.4): every reply sets moreToCome and answers the previous reply; the stream
    // ends only with an error reply or when the connection closes.
    let responseTo = msg.header.requestId;
    let current = reply;
    let helloCtx: CommandContext = ctx;
    while (!socket.destroyed && !conn.closed.aborted) {
      const ok = isOk(current);
      const requestId = this.nextRequestId++;
      this.send(socket, encodeOpMsg(requestId, responseTo, current, ok ? MsgFlag.moreToCome : 0));
      if (!ok) return;
      responseTo = requestId;
      const nextBody: Document = { ...helloCtx.body, topologyVersion: current.topologyVersion };
      helloCtx = { ...helloCtx, body: nextBody };
      current = await node.commands.run(helloCtx);
    }
  }
}

function isOk(reply: Document): boolean {
  const ok = reply.ok;
  return ok instanceof Double ? ok.value === 1 : ok === 1;
}

/** transport_layer_asio: "Port 0 (ephemeral port) is not allowed when listening on multiple IP interfaces". */
export class EphemeralPortError extends Error {
  constructor() {
    super('Port 0 (ephemeral port) is not allowed when listening on multiple IP interfaces');
    this.name = 'EphemeralPortError';
  }
}
