// Internal wire-protocol client for member-to-member traffic (heartbeats, votes, oplog fetching):
// OP_MSG runCommand with per-request timeouts over one TCP connection. Members never share files.
import { connect, isIP, type Socket } from 'node:net';
import { type ConnectionOptions as TlsConnectionOptions, connect as tlsConnect } from 'node:tls';
import type { Document } from 'bson';
import { encodeOpMsg, MessageFramer, MsgFlag, parseMessage } from './protocol.js';

/** How members connect to each other: internal authentication (keyFile) and, later, TLS. */
export interface ConnectOptions {
  /** Runs once the connection is open, before any other command (e.g. authenticate as __system). */
  readonly afterConnect?: (client: WireClient) => Promise<void>;
  /** Connect with TLS using these options (members under preferTLS / requireTLS). */
  readonly tls?: TlsConnectionOptions;
}

export class WireClientError extends Error {
  /** 'timeout' | 'closed' | 'connect' | 'auth' */
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.name = 'WireClientError';
    this.reason = reason;
  }
}

interface Pending {
  resolve: (doc: Document) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class WireClient {
  private readonly socket: Socket;
  private readonly framer = new MessageFramer();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closedError: WireClientError | undefined;
  readonly host: string;
  readonly port: number;

  private constructor(socket: Socket, host: string, port: number) {
    this.socket = socket;
    this.host = host;
    this.port = port;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new WireClientError('closed', err.message)));
    socket.on('close', () =>
      this.fail(new WireClientError('closed', `connection to ${host}:${port} closed`)),
    );
  }

  /** Connects within `timeoutMs`; rejects with WireClientError('connect'|'timeout'|'auth'). */
  static async connect(
    host: string,
    port: number,
    timeoutMs = 5000,
    options: ConnectOptions = {},
  ): Promise<WireClient> {
    const client = await WireClient.open(host, port, timeoutMs, options.tls);
    if (!options.afterConnect) return client;
    try {
      await options.afterConnect(client);
    } catch (err) {
      client.close();
      if (err instanceof WireClientError) throw err;
      throw new WireClientError('auth', err instanceof Error ? err.message : String(err));
    }
    return client;
  }

  private static open(
    host: string,
    port: number,
    timeoutMs: number,
    tls: TlsConnectionOptions | undefined,
  ): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const socket = tls
        ? tlsConnect({ host, port, ...tls, ...(isIP(host) ? {} : { servername: host }) })
        : connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new WireClientError('timeout', `connect to ${host}:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once(tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new WireClient(socket, host, port));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new WireClientError('connect', `connect to ${host}:${port} failed: ${err.message}`));
      });
    });
  }

  get isClosed(): boolean {
    return this.closedError !== undefined;
  }

  /** Runs `body` against `db` and resolves with the reply document (ok:0 replies resolve too). */
  command(db: string, body: Document, timeoutMs = 10_000): Promise<Document> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        // A late reply would desynchronise nothing (replies are matched by id), but a peer that
        // stopped answering is treated as gone: close so the caller reconnects.
        this.close();
        reject(
          new WireClientError('timeout', `${Object.keys(body)[0]} to ${this.host}:${this.port} timed out`),
        );
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.write(encodeOpMsg(id, 0, { ...body, $db: db }));
    });
  }

  /** Sends without waiting for a reply (moreToCome). */
  fireAndForget(db: string, body: Document): void {
    if (this.closedError) return;
    this.socket.write(encodeOpMsg(this.nextId++, 0, { ...body, $db: db }, MsgFlag.moreToCome));
  }

  close(): void {
    this.socket.destroy();
    this.fail(new WireClientError('closed', `connection to ${this.host}:${this.port} closed`));
  }

  private onData(chunk: Buffer): void {
    const messages = this.framer.push(chunk);
    if (messages === null) {
      this.close();
      return;
    }
    for (const raw of messages) {
      let msg: ReturnType<typeof parseMessage>;
      try {
        msg = parseMessage(raw);
      } catch {
        this.close();
        return;
      }
      const p = this.pending.get(msg.header.responseTo);
      if (!p) continue;
      this.pending.delete(msg.header.responseTo);
      clearTimeout(p.timer);
      if (msg.kind === 'msg') p.resolve(msg.body);
      else if (msg.kind === 'reply') p.resolve(msg.documents[0] ?? {});
    }
  }

  private fail(err: WireClientError): void {
    if (!this.closedError) this.closedError = err;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(err);
    }
  }
}
