// Connections to the other members, one lazily opened WireClient per host and purpose (heartbeats,
// votes, oplog fetching), so a long-polling oplog fetch never delays a heartbeat. TCP only (SIMULATOR.md).
import type { Document } from 'bson';
import { type ConnectOptions, WireClient, WireClientError } from '../wire/client.js';
import { hostName, hostPort } from './config.js';

/**
 * The text mongod puts in lastHeartbeatMessage and quorum-check failures for a network error, e.g.
 * "Error connecting to h:27017 (127.0.0.1:27017) :: caused by :: Connection refused".
 */
export function networkErrorText(host: string, err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const reason = err instanceof WireClientError ? err.reason : '';
  if (reason === 'connect') {
    const cause = /ECONNREFUSED/.test(msg)
      ? 'Connection refused'
      : msg.replace(/^connect to \S+ failed: /, '');
    return `Error connecting to ${host} :: caused by :: ${cause}`;
  }
  if (reason === 'timeout') return `Request timed out: ${msg}`;
  return msg;
}

/** 'handoff' carries replSetStepUp, which answers only after the election: it must not hold up 'misc'. */
export type Channel = 'heartbeat' | 'election' | 'fetch' | 'misc' | 'handoff';

export class PeerPool {
  private readonly clients = new Map<string, Promise<WireClient>>();
  private closed = false;
  /** keyFile authentication (and TLS) for every connection, read when one opens. */
  private readonly connectOptions: () => ConnectOptions;

  constructor(connectOptions: () => ConnectOptions = () => ({})) {
    this.connectOptions = connectOptions;
  }

  /** Runs a command on `host` (admin db unless given); rejects on connection failure or timeout. */
  async run(
    host: string,
    channel: Channel,
    body: Document,
    timeoutMs: number,
    db = 'admin',
    retried = false,
  ): Promise<Document> {
    if (this.closed) throw new Error('replication is shutting down');
    const key = `${channel}|${host}`;
    let pending = this.clients.get(key);
    if (!pending) {
      pending = WireClient.connect(
        hostName(host).replace(/^\[|\]$/g, ''),
        hostPort(host),
        Math.min(timeoutMs, 5000),
        this.connectOptions(),
      );
      this.clients.set(key, pending);
      pending.catch(() => {
        if (this.clients.get(key) === pending) this.clients.delete(key);
      });
    }
    const client = await pending;
    if (client.isClosed) {
      if (this.clients.get(key) === pending) this.clients.delete(key);
      // One reconnect for a connection that closed while idle; a peer that keeps closing is an error.
      if (!retried) return this.run(host, channel, body, timeoutMs, db, true);
      throw new Error(`connection to ${host} closed`);
    }
    try {
      return await client.command(db, body, timeoutMs);
    } catch (err) {
      if (client.isClosed && this.clients.get(key) === pending) this.clients.delete(key);
      throw err;
    }
  }

  /** Drops the connections to a host (after a failure, so the next call reconnects). */
  reset(host: string): void {
    for (const [key, p] of this.clients) {
      if (key.endsWith(`|${host}`)) {
        this.clients.delete(key);
        p.then((c) => c.close()).catch(() => undefined);
      }
    }
  }

  /** Closes one channel to a host, failing its in-flight request (e.g. an oplog fetch from an old source). */
  resetChannel(host: string, channel: Channel): void {
    const key = `${channel}|${host}`;
    const p = this.clients.get(key);
    if (!p) return;
    this.clients.delete(key);
    p.then((c) => c.close()).catch(() => undefined);
  }

  close(): void {
    this.closed = true;
    for (const p of this.clients.values()) p.then((c) => c.close()).catch(() => undefined);
    this.clients.clear();
  }
}
