// Transactions through mongos (mongos's TransactionRouter): statements of a transaction are forwarded
// with the session fields to the shard that owns their data, the first statement a shard sees starting
// the transaction there (with the transaction's readConcern); commitTransaction and abortTransaction go
// to every participant shard. The commit is sent to the participants one after the other: with one
// participant this is exactly mongos's single-shard commit; a multi-shard commit is not two-phase here.
// Sources: MongoDB manual "Transactions" (sharded clusters), the Driver Transactions specification.
import { Binary, type Document } from 'bson';
import { asNumber, idKey } from '../bsonvalues.js';
import type { CommandContext, CommandRegistry } from '../commands/registry.js';
import { CommandError, ErrorCode } from '../errors.js';
import { replyError, replyOk, type SetTarget } from '../sharding/remote.js';

interface RouterTxn {
  readonly txnNumber: number;
  readonly readConcern: Document | undefined;
  /** setName → the shard taking part, in the order they joined. */
  readonly participants: Map<string, SetTarget>;
}

function lsidOf(ctx: CommandContext): { key: string; lsid: Document } {
  const lsid = ctx.body.lsid as Document | undefined;
  if (!(lsid?.id instanceof Binary)) {
    throw new CommandError(ErrorCode.IllegalOperation, 'Transaction number requires a logical session id');
  }
  return { key: idKey(lsid.id), lsid };
}

export class TransactionRouter {
  private readonly sessions = new Map<string, RouterTxn>();

  /**
   * The session fields to add to a statement forwarded to `target` (none outside a transaction). The
   * statement's own transaction fields never reach the shard as the client sent them: mongos decides
   * where the transaction starts.
   */
  fieldsFor(ctx: CommandContext, target: SetTarget): Document {
    if (ctx.body.autocommit === undefined) return {};
    const txnNumber = asNumber(ctx.body.txnNumber);
    if (txnNumber === undefined) {
      throw new CommandError(
        ErrorCode.InvalidOptions,
        "'autocommit' field requires a transaction number to also be specified",
      );
    }
    const { key, lsid } = lsidOf(ctx);
    let txn = this.sessions.get(key);
    if (ctx.body.startTransaction === true) {
      txn = {
        txnNumber,
        readConcern: ctx.body.readConcern as Document | undefined,
        participants: new Map(),
      };
      this.sessions.set(key, txn);
    } else if (!txn || txn.txnNumber !== txnNumber) {
      throw new CommandError(
        ErrorCode.NoSuchTransaction,
        `Given transaction number ${txnNumber} does not match any in-progress transactions. The active transaction number is ${txn?.txnNumber ?? -1}`,
        { errorLabels: ['TransientTransactionError'] },
      );
    }
    const fields: Document = { lsid, txnNumber: ctx.body.txnNumber, autocommit: false };
    const setName = target.cs.setName;
    if (!txn.participants.has(setName)) {
      txn.participants.set(setName, target);
      fields.startTransaction = true;
      if (txn.readConcern) fields.readConcern = txn.readConcern;
    }
    return fields;
  }

  private async finish(
    ctx: CommandContext,
    command: 'commitTransaction' | 'abortTransaction',
  ): Promise<Document> {
    const txnNumber = asNumber(ctx.body.txnNumber);
    if (txnNumber === undefined || ctx.body.autocommit !== false) {
      throw new CommandError(
        ErrorCode.InvalidOptions,
        `'${command}' can only be run with a transaction number and autocommit: false`,
      );
    }
    const { key, lsid } = lsidOf(ctx);
    const txn = this.sessions.get(key);
    if (!txn || txn.txnNumber !== txnNumber) {
      throw new CommandError(
        ErrorCode.NoSuchTransaction,
        `Given transaction number ${txnNumber} does not match any in-progress transactions. The active transaction number is ${txn?.txnNumber ?? -1}`,
        command === 'commitTransaction' ? { errorLabels: ['TransientTransactionError'] } : {},
      );
    }
    const body: Document = { [command]: 1, lsid, txnNumber: ctx.body.txnNumber, autocommit: false };
    if (ctx.body.writeConcern !== undefined) body.writeConcern = ctx.body.writeConcern;
    let writeConcernError: Document | undefined;
    for (const target of txn.participants.values()) {
      const reply = await target.runOnPrimary('admin', body, { timeoutMs: 600_000 });
      if (!replyOk(reply)) {
        // The shard's own labels (TransientTransactionError, RetryableWriteError) travel with its error.
        throw replyError(reply);
      }
      if (reply.writeConcernError) writeConcernError = reply.writeConcernError as Document;
    }
    return writeConcernError ? { writeConcernError } : {};
  }

  register(registry: CommandRegistry): void {
    registry.register({
      names: ['commitTransaction'],
      program: 'mongos',
      adminOnly: true,
      handler: (ctx) => this.finish(ctx, 'commitTransaction'),
    });
    registry.register({
      names: ['abortTransaction'],
      program: 'mongos',
      adminOnly: true,
      handler: (ctx) => this.finish(ctx, 'abortTransaction'),
    });
  }
}

/** One TransactionRouter per mongos router (keyed by the instance, so processes in tests never share one). */
const routers = new WeakMap<object, TransactionRouter>();

export function transactionRouterFor(owner: object): TransactionRouter {
  let r = routers.get(owner);
  if (!r) {
    r = new TransactionRouter();
    routers.set(owner, r);
  }
  return r;
}
