// MongoDB wire protocol framing: the standard header, OP_MSG (kind-0 body, kind-1 document sequences,
// flag bits), legacy OP_QUERY (only used by drivers for the first handshake) and OP_REPLY.
// Source: reference/mongod-behavior.md §1.1–§1.3 ([S1] OP_MSG spec).
import { BSON, type Document } from 'bson';

export const OpCode = { reply: 1, query: 2004, compressed: 2012, msg: 2013 } as const;

export const MsgFlag = {
  checksumPresent: 1 << 0,
  moreToCome: 1 << 1,
  exhaustAllowed: 1 << 16,
} as const;

/** Bits 0–15 are "required": an unknown one must be rejected (IllegalOpMsgFlag 223). */
const KNOWN_REQUIRED_BITS = MsgFlag.checksumPresent | MsgFlag.moreToCome;

export const MAX_MESSAGE_SIZE = 48_000_000;
export const HEADER_SIZE = 16;

/** Numbers stay typed (Int32/Double/Long) so stored documents keep their BSON types. */
export const DESERIALIZE_OPTIONS = { promoteValues: false, promoteLongs: false } as const;

export interface MessageHeader {
  readonly length: number;
  readonly requestId: number;
  readonly responseTo: number;
  readonly opCode: number;
}

export interface OpMsgRequest {
  readonly kind: 'msg';
  readonly header: MessageHeader;
  readonly flags: number;
  /** The kind-0 body with kind-1 sequences merged in as array fields. */
  readonly body: Document;
}

export interface OpQueryRequest {
  readonly kind: 'query';
  readonly header: MessageHeader;
  readonly flags: number;
  readonly ns: string;
  readonly skip: number;
  readonly numberToReturn: number;
  readonly query: Document;
}

export interface OpReplyMessage {
  readonly kind: 'reply';
  readonly header: MessageHeader;
  readonly flags: number;
  readonly documents: Document[];
}

export type WireMessage = OpMsgRequest | OpQueryRequest | OpReplyMessage;

/** A malformed message: the server answers (when it can) and closes the connection. */
export class ProtocolError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
  }
}

export function readHeader(buf: Buffer, offset = 0): MessageHeader {
  return {
    length: buf.readInt32LE(offset),
    requestId: buf.readInt32LE(offset + 4),
    responseTo: buf.readInt32LE(offset + 8),
    opCode: buf.readInt32LE(offset + 12),
  };
}

function readCString(buf: Buffer, offset: number): { value: string; next: number } {
  const end = buf.indexOf(0, offset);
  if (end < 0) throw new ProtocolError(2, 'unterminated cstring');
  return { value: buf.toString('utf8', offset, end), next: end + 1 };
}

function readDocument(buf: Buffer, offset: number): { doc: Document; next: number } {
  if (offset + 4 > buf.length) throw new ProtocolError(2, 'truncated BSON document');
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > buf.length) throw new ProtocolError(2, 'invalid BSON document size');
  const doc = BSON.deserialize(buf.subarray(offset, offset + size), DESERIALIZE_OPTIONS);
  return { doc, next: offset + size };
}

/** Parses one complete message (header included). */
export function parseMessage(buf: Buffer): WireMessage {
  const header = readHeader(buf);
  if (header.opCode === OpCode.msg) return parseOpMsg(header, buf);
  if (header.opCode === OpCode.query) return parseOpQuery(header, buf);
  if (header.opCode === OpCode.reply) return parseOpReply(header, buf);
  throw new ProtocolError(2, `unsupported opCode ${header.opCode}`);
}

function parseOpMsg(header: MessageHeader, buf: Buffer): OpMsgRequest {
  const flags = buf.readUInt32LE(HEADER_SIZE);
  const unknownRequired = flags & 0xffff & ~KNOWN_REQUIRED_BITS;
  if (unknownRequired !== 0) {
    throw new ProtocolError(223, `Unrecognized field(s) in OP_MSG flags: ${unknownRequired}`);
  }
  // Drivers never send a checksum; when present it is skipped rather than verified.
  const end = flags & MsgFlag.checksumPresent ? buf.length - 4 : buf.length;
  let offset = HEADER_SIZE + 4;
  let body: Document | undefined;
  const sequences: Array<{ id: string; docs: Document[] }> = [];
  while (offset < end) {
    const kind = buf.readUInt8(offset);
    offset += 1;
    if (kind === 0) {
      if (body) throw new ProtocolError(40430, 'Multiple body sections in message');
      const r = readDocument(buf, offset);
      body = r.doc;
      offset = r.next;
    } else if (kind === 1) {
      const size = buf.readInt32LE(offset);
      const sectionEnd = offset + size;
      if (size < 5 || sectionEnd > end) throw new ProtocolError(2, 'invalid document sequence size');
      const id = readCString(buf, offset + 4);
      const docs: Document[] = [];
      let p = id.next;
      while (p < sectionEnd) {
        const r = readDocument(buf, p);
        docs.push(r.doc);
        p = r.next;
      }
      if (sequences.some((s) => s.id === id.value)) {
        throw new ProtocolError(40431, `Duplicate document sequence: ${id.value}`);
      }
      sequences.push({ id: id.value, docs });
      offset = sectionEnd;
    } else {
      throw new ProtocolError(40432, `Unknown section kind ${kind}`);
    }
  }
  if (!body) throw new ProtocolError(40587, 'OP_MSG messages must have a body');
  for (const s of sequences) {
    if (s.id in body) throw new ProtocolError(40433, `Duplicate field name: ${s.id}`);
    body[s.id] = s.docs;
  }
  return { kind: 'msg', header, flags, body };
}

function parseOpQuery(header: MessageHeader, buf: Buffer): OpQueryRequest {
  const flags = buf.readInt32LE(HEADER_SIZE);
  const ns = readCString(buf, HEADER_SIZE + 4);
  const skip = buf.readInt32LE(ns.next);
  const numberToReturn = buf.readInt32LE(ns.next + 4);
  const q = readDocument(buf, ns.next + 8);
  return { kind: 'query', header, flags, ns: ns.value, skip, numberToReturn, query: q.doc };
}

function parseOpReply(header: MessageHeader, buf: Buffer): OpReplyMessage {
  const flags = buf.readInt32LE(HEADER_SIZE);
  const count = buf.readInt32LE(HEADER_SIZE + 16);
  const documents: Document[] = [];
  let offset = HEADER_SIZE + 20;
  for (let i = 0; i < count; i++) {
    const r = readDocument(buf, offset);
    documents.push(r.doc);
    offset = r.next;
  }
  return { kind: 'reply', header, flags, documents };
}

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.allocUnsafe(HEADER_SIZE);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

/** OP_MSG with a single kind-0 section and no checksum (the only shape replies may take, §1.2). */
export function encodeOpMsg(requestId: number, responseTo: number, doc: Document, flags = 0): Buffer {
  const body = BSON.serialize(doc);
  const flagBuf = Buffer.allocUnsafe(5);
  flagBuf.writeUInt32LE(flags >>> 0, 0);
  flagBuf.writeUInt8(0, 4);
  const length = HEADER_SIZE + flagBuf.length + body.length;
  return Buffer.concat([header(length, requestId, responseTo, OpCode.msg), flagBuf, body]);
}

/** OP_REPLY answering a legacy OP_QUERY; responseFlags 8 = AwaitCapable as mongod sets it (§1.3). */
export function encodeOpReply(requestId: number, responseTo: number, docs: Document[], flags = 8): Buffer {
  const bodies = docs.map((d) => BSON.serialize(d));
  const fixed = Buffer.alloc(20);
  fixed.writeInt32LE(flags, 0);
  fixed.writeBigInt64LE(0n, 4);
  fixed.writeInt32LE(0, 12);
  fixed.writeInt32LE(docs.length, 16);
  const length = HEADER_SIZE + fixed.length + bodies.reduce((n, b) => n + b.length, 0);
  return Buffer.concat([header(length, requestId, responseTo, OpCode.reply), fixed, ...bodies]);
}

/** OP_QUERY as a legacy client sends it (used by tests of the handshake path). */
export function encodeOpQuery(requestId: number, ns: string, query: Document, numberToReturn = -1): Buffer {
  const nsBuf = Buffer.from(`${ns}\0`, 'utf8');
  const fixed = Buffer.alloc(4);
  const nums = Buffer.alloc(8);
  nums.writeInt32LE(0, 0);
  nums.writeInt32LE(numberToReturn, 4);
  const body = BSON.serialize(query);
  const length = HEADER_SIZE + fixed.length + nsBuf.length + nums.length + body.length;
  return Buffer.concat([header(length, requestId, 0, OpCode.query), fixed, nsBuf, nums, body]);
}

/**
 * Splits a byte stream into complete messages. Returns null when a declared length is out of bounds,
 * in which case the caller closes the connection (what mongod does, §1.1).
 */
export class MessageFramer {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] | null {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: Buffer[] = [];
    while (this.buffer.length >= 4) {
      const length = this.buffer.readInt32LE(0);
      if (length < HEADER_SIZE || length > MAX_MESSAGE_SIZE) return null;
      if (this.buffer.length < length) break;
      out.push(this.buffer.subarray(0, length));
      this.buffer = this.buffer.subarray(length);
    }
    return out;
  }
}
