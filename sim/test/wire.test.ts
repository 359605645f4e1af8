// The wire protocol at byte level: legacy OP_QUERY handshake answered with OP_REPLY, OP_MSG kind-1
// sequences, moreToCome requests without replies, error replies, and streaming (exhaust) hello on
// 4.4+ versus none before. The driver-level tests cover interoperability; these pin the framing.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BSON, type Document } from 'bson';
import { MongoClient } from 'mongodb';
import {
  encodeOpMsg,
  encodeOpQuery,
  MessageFramer,
  MsgFlag,
  parseMessage,
  type WireMessage,
} from '../src/wire/protocol.js';
import { killAll, removeDir, type SimProcess, simBin, startMongod, tempDir } from './helpers/sim.js';

/** A raw connection that collects every message the server sends. */
class RawConn {
  private readonly socket: Socket;
  private readonly framer = new MessageFramer();
  readonly received: Array<{ msg: WireMessage; at: number }> = [];
  private waiters: Array<() => void> = [];
  private nextId = 100;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => {
      for (const raw of this.framer.push(c) ?? [])
        this.received.push({ msg: parseMessage(raw), at: Date.now() });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static open(port: number): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new RawConn(s)));
      s.once('error', reject);
    });
  }

  sendRaw(buf: Buffer): void {
    this.socket.write(buf);
  }

  msg(body: Document, flags = 0): number {
    const id = this.nextId++;
    this.socket.write(encodeOpMsg(id, 0, body, flags));
    return id;
  }

  query(ns: string, body: Document): number {
    const id = this.nextId++;
    this.socket.write(encodeOpQuery(id, ns, body));
    return id;
  }

  /** Waits (bounded) until `count` messages have arrived. */
  async waitFor(count: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${this.received.length} of ${count} messages arrived`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The reply document with plain JS numbers (the parser keeps BSON number types). */
function body(m: WireMessage): Document {
  if (m.kind === 'msg') return BSON.deserialize(BSON.serialize(m.body));
  if (m.kind === 'reply') return BSON.deserialize(BSON.serialize(m.documents[0] as Document));
  throw new Error('unexpected OP_QUERY from server');
}

/** OP_MSG with a kind-1 `documents` section, as drivers send inserts. */
function opMsgWithSequence(id: number, cmd: Document, ident: string, docs: Document[]): Buffer {
  const main = BSON.serialize(cmd);
  const seqDocs = Buffer.concat(docs.map((d) => BSON.serialize(d)));
  const identBuf = Buffer.from(`${ident}\0`);
  const seqSize = 4 + identBuf.length + seqDocs.length;
  const parts = [
    Buffer.alloc(4),
    Buffer.from([0]),
    main,
    Buffer.from([1]),
    Buffer.alloc(4),
    identBuf,
    seqDocs,
  ];
  (parts[4] as Buffer).writeInt32LE(seqSize);
  const length = 16 + parts.reduce((n, p) => n + p.length, 0);
  const header = Buffer.alloc(16);
  header.writeInt32LE(length, 0);
  header.writeInt32LE(id, 4);
  header.writeInt32LE(0, 8);
  header.writeInt32LE(2013, 12);
  return Buffer.concat([header, ...parts]);
}

describe('wire protocol', () => {
  let root: string;
  let m70: SimProcess;
  let m42: SimProcess;
  before(async () => {
    root = await tempDir();
    m70 = await startMongod(await simBin('7.0.14', root), join(root, 'db70'));
    m42 = await startMongod(await simBin('4.2.25', root), join(root, 'db42'));
  });
  after(async () => {
    await m70.stop();
    await m42.stop();
    await killAll();
    await removeDir(root);
  });

  it('answers the legacy OP_QUERY isMaster handshake with an OP_REPLY', async () => {
    const c = await RawConn.open(m70.port);
    try {
      const id = c.query('admin.$cmd', {
        ismaster: 1,
        helloOk: true,
        client: { driver: { name: 'raw', version: '0' } },
        compression: [],
      });
      await c.waitFor(1);
      const { msg } = c.received[0] as { msg: WireMessage };
      assert.equal(msg.kind, 'reply');
      assert.equal(msg.header.responseTo, id);
      assert.equal(msg.kind === 'reply' && msg.documents.length, 1);
      const doc = body(msg);
      assert.equal(doc.ismaster, true);
      assert.equal(doc.helloOk, true);
      assert.equal('compression' in doc, false, 'compression is declined by leaving it out');
      assert.equal(doc.maxWireVersion, 21);
      // mongod's build order (reference §2.2): replication block first, ok last.
      assert.deepEqual(Object.keys(doc), [
        'helloOk',
        'ismaster',
        'topologyVersion',
        'maxBsonObjectSize',
        'maxMessageSizeBytes',
        'maxWriteBatchSize',
        'localTime',
        'logicalSessionTimeoutMinutes',
        'connectionId',
        'minWireVersion',
        'maxWireVersion',
        'readOnly',
        'ok',
      ]);
    } finally {
      c.close();
    }
  });

  it('refuses other OP_QUERY commands from 5.1 (352) but runs them on 4.2', async () => {
    const c = await RawConn.open(m70.port);
    const d = await RawConn.open(m42.port);
    try {
      c.query('admin.$cmd', { ping: 1 });
      await c.waitFor(1);
      const err = body((c.received[0] as { msg: WireMessage }).msg);
      assert.equal(err.ok, 0);
      assert.equal(err.code, 352);
      assert.equal(err.codeName, 'UnsupportedOpQueryCommand');
      d.query('admin.$cmd', { ping: 1 });
      await d.waitFor(1);
      assert.equal(body((d.received[0] as { msg: WireMessage }).msg).ok, 1);
    } finally {
      c.close();
      d.close();
    }
  });

  it('merges kind-1 document sequences, sends nothing for moreToCome, errors carry code/codeName/errmsg', async () => {
    const c = await RawConn.open(m70.port);
    try {
      c.sendRaw(
        opMsgWithSequence(7, { insert: 'seq', $db: 'wire' }, 'documents', [
          { _id: 1 },
          { _id: 2 },
          { _id: 3 },
        ]),
      );
      await c.waitFor(1);
      const ins = c.received[0] as { msg: WireMessage };
      assert.equal(ins.msg.header.responseTo, 7);
      assert.equal(body(ins.msg).n, 3);

      c.msg({ insert: 'seq', documents: [{ _id: 4 }], $db: 'wire' }, MsgFlag.moreToCome);
      const pingId = c.msg({ ping: 1, $db: 'admin' });
      await c.waitFor(2);
      assert.equal(
        (c.received[1] as { msg: WireMessage }).msg.header.responseTo,
        pingId,
        'the next reply answers the ping',
      );
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(c.received.length, 2, 'no reply to the moreToCome insert');

      c.msg({ count: 'seq', $db: 'wire' });
      c.msg({ frobnicate: 1, $db: 'admin' });
      c.msg({ ping: 1 });
      await c.waitFor(5);
      assert.equal(
        body((c.received[2] as { msg: WireMessage }).msg).n,
        4,
        'the fire-and-forget insert happened',
      );
      const unknown = body((c.received[3] as { msg: WireMessage }).msg);
      assert.deepEqual(
        { ok: unknown.ok, errmsg: unknown.errmsg, code: unknown.code, codeName: unknown.codeName },
        { ok: 0, errmsg: "no such command: 'frobnicate'", code: 59, codeName: 'CommandNotFound' },
      );
      const noDb = body((c.received[4] as { msg: WireMessage }).msg);
      assert.equal(noDb.code, 40571);
      for (const r of c.received)
        assert.equal(r.msg.kind === 'msg' && r.msg.flags, 0, 'plain replies carry no flags');
    } finally {
      c.close();
    }
  });

  it('streams awaitable hello under exhaustAllowed on 7.0 (moreToCome, chained responseTo)', async () => {
    const c = await RawConn.open(m70.port);
    try {
      c.msg({ hello: 1, $db: 'admin' });
      await c.waitFor(1);
      const tv = body((c.received[0] as { msg: WireMessage }).msg).topologyVersion as Document;
      assert.equal(typeof tv.counter, 'number');
      const started = Date.now();
      const id = c.msg(
        { hello: 1, topologyVersion: tv, maxAwaitTimeMS: 150, $db: 'admin' },
        MsgFlag.exhaustAllowed,
      );
      await c.waitFor(4, 3000);
      const stream = c.received.slice(1, 4);
      assert.equal(stream[0]?.msg.header.responseTo, id);
      assert.equal(stream[1]?.msg.header.responseTo, stream[0]?.msg.header.requestId);
      assert.equal(stream[2]?.msg.header.responseTo, stream[1]?.msg.header.requestId);
      for (const s of stream) {
        assert.equal(s.msg.kind === 'msg' && (s.msg.flags & MsgFlag.moreToCome) !== 0, true);
        assert.equal(body(s.msg).isWritablePrimary, true);
      }
      assert.ok((stream[0]?.at ?? 0) - started >= 120, 'a standalone waits maxAwaitTimeMS before answering');

      const bad = await RawConn.open(m70.port);
      bad.msg({ hello: 1, topologyVersion: tv, $db: 'admin' });
      await bad.waitFor(1);
      assert.equal(body((bad.received[0] as { msg: WireMessage }).msg).code, 31368);
      bad.close();
    } finally {
      c.close();
    }
  });

  it("keeps the driver's streaming monitor healthy on 7.0 and its polling monitor on 4.2", async () => {
    for (const m of [m70, m42]) {
      const client = new MongoClient(`mongodb://127.0.0.1:${m.port}/`, {
        heartbeatFrequencyMS: 500,
        serverSelectionTimeoutMS: 3000,
      });
      const ok: boolean[] = [];
      let failed = 0;
      client.on('serverHeartbeatSucceeded', (e) => ok.push(e.awaited));
      client.on('serverHeartbeatFailed', () => {
        failed++;
      });
      try {
        await client.connect();
        await new Promise((r) => setTimeout(r, 2200));
        assert.equal((await client.db('admin').command({ ping: 1 })).ok, 1);
      } finally {
        await client.close();
      }
      assert.equal(failed, 0, 'no heartbeat failed');
      assert.ok(ok.length >= 3, `heartbeats: ${ok.length}`);
      assert.equal(
        ok.some((awaited) => awaited),
        m === m70,
        'awaited (streamed) heartbeats only on 4.4+',
      );
    }
  });

  it('has no topologyVersion and no streaming before 4.4', async () => {
    const c = await RawConn.open(m42.port);
    try {
      c.msg({ hello: 1, maxAwaitTimeMS: 100, $db: 'admin' }, MsgFlag.exhaustAllowed);
      await c.waitFor(1);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(c.received.length, 1);
      const r = c.received[0] as { msg: WireMessage };
      assert.equal(r.msg.kind === 'msg' && r.msg.flags, 0);
      assert.equal('topologyVersion' in body(r.msg), false);
      assert.equal(body(r.msg).connectionId > 0, true);
    } finally {
      c.close();
    }
  });
});
