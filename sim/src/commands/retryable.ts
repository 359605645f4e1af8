// Retryable writes: a write carrying lsid + txnNumber is executed at most once per session. Its result
// is recorded in config.transactions through the normal write path (so it is replicated like real
// session records), and a retry with the same txnNumber — typically sent by a driver to the new primary
// after a failover — gets the recorded result instead of running again.
// Source: MongoDB "Retryable Writes" specification; mongod errors IllegalOperation (20) on a standalone
// and TransactionTooOld (225) for an older txnNumber.
import { Binary, type Document, Long } from 'bson';
import { asNumber, idKey } from '../bsonvalues.js';
import { CommandError, ErrorCode, RETRIABLE_CODES } from '../errors.js';
import type { CommitResult } from '../replication.js';
import type { StorageOp } from '../storage/store.js';
import { atLeast } from '../version.js';
import type { CommandContext, CommandHandler } from './registry.js';

const DB = 'config';
const RETRYABLE_COMMANDS = new Set(['insert', 'update', 'delete', 'findAndModify', 'findandmodify']);
const COLL = 'transactions';

export interface TxnInfo {
  readonly sessionId: Binary;
  readonly txnNumber: number;
}

/** The session and txnNumber of a retryable write, or undefined for a plain write. */
export function txnInfo(ctx: CommandContext): TxnInfo | undefined {
  const n = asNumber(ctx.body.txnNumber);
  if (n === undefined) return undefined;
  if (ctx.node.role.kind === 'standalone') {
    throw new CommandError(
      ErrorCode.IllegalOperation,
      'Transaction numbers are only allowed on a replica set member or mongos',
    );
  }
  const id = (ctx.body.lsid as Document | undefined)?.id;
  if (!(id instanceof Binary)) {
    throw new CommandError(ErrorCode.IllegalOperation, 'Transaction number requires a logical session id');
  }
  return { sessionId: id, txnNumber: n };
}

function recordOf(ctx: CommandContext, txn: TxnInfo): Document | undefined {
  return ctx.node.storage?.getCollection(DB, COLL)?.findById({ id: txn.sessionId });
}

/**
 * Wraps a write handler: a retry of an already executed txnNumber returns the recorded reply, and a retryable
 * write that fails with a retriable code (this member stepped down, shuts down...) carries the
 * RetryableWriteError label, on the error or beside its writeConcernError, as mongod adds it from 4.4
 * (error_labels.cpp). Drivers retry on that label alone when talking to 4.4+ servers.
 */
export function retryableWrite(handler: CommandHandler): CommandHandler {
  return async (ctx) => {
    const txn = txnInfo(ctx);
    if (!txn) return handler(ctx);
    if (ctx.body.autocommit !== undefined || !atLeast(ctx.node.version, 4, 4))
      return runOnce(ctx, txn, handler);
    let reply: Document;
    try {
      reply = await runOnce(ctx, txn, handler);
    } catch (err) {
      if (!(err instanceof CommandError) || !RETRIABLE_CODES.has(err.code)) throw err;
      throw new CommandError(err.code, err.message, withLabel(err.extra), err.codeName);
    }
    const wceCode = asNumber((reply.writeConcernError as Document | undefined)?.code);
    return wceCode !== undefined && RETRIABLE_CODES.has(wceCode) ? withLabel(reply) : reply;
  };
}

function withLabel(doc: Document): Document {
  const labels = Array.isArray(doc.errorLabels) ? (doc.errorLabels as string[]) : [];
  return { ...doc, errorLabels: [...new Set([...labels, 'RetryableWriteError'])] };
}

async function runOnce(ctx: CommandContext, txn: TxnInfo, handler: CommandHandler): Promise<Document> {
  const record = recordOf(ctx, txn);
  const recorded = asNumber(record?.txnNum);
  if (record && recorded !== undefined) {
    if (recorded > txn.txnNumber) {
      throw new CommandError(
        225,
        `Retryable write with txnNumber ${txn.txnNumber} is prohibited on session ${idKey(txn.sessionId)} because a newer retryable write with txnNumber ${recorded} has already started on this session.`,
        {},
        'TransactionTooOld',
      );
    }
    if (recorded === txn.txnNumber && record.reply) {
      ctx.node.role.checkWrite(ctx.db);
      const wce = await ctx.node.waitForWriteConcern({}, undefined);
      const reply: Document = { ...(record.reply as Document) };
      if (wce) reply.writeConcernError = wce;
      return reply;
    }
  }
  return handler(ctx);
}

/**
 * Records the reply of a retryable write (called before waiting for write concern, so the record is
 * covered by the same wait). Returns the commit result to wait on, or `result` for plain writes.
 */
export function recordRetryableWrite(
  ctx: CommandContext,
  result: CommitResult,
  reply: Document,
): CommitResult {
  if (!RETRYABLE_COMMANDS.has(ctx.name)) return result;
  const txn = txnInfo(ctx);
  if (!txn) return result;
  const storage = ctx.node.requireStorage();
  const stored: Document = { ...reply };
  delete stored.writeConcernError;
  const doc: Document = {
    _id: { id: txn.sessionId },
    txnNum: Long.fromNumber(txn.txnNumber),
    lastWriteDate: new Date(),
    reply: stored,
  };
  const ops: StorageOp[] = [];
  const coll = storage.getCollection(DB, COLL);
  if (!coll) ops.push({ op: 'createCollection', db: DB, coll: COLL });
  ops.push({ op: coll?.findById(doc._id) ? 'replace' : 'insert', db: DB, coll: COLL, doc });
  return ctx.node.commit(ops);
}
