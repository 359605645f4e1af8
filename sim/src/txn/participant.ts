// Multi-document transactions on a replica-set member (mongod's TransactionParticipant): statements
// carrying `autocommit: false` run inside the session's transaction, which reads a snapshot taken at its
// first statement and buffers its writes until commitTransaction makes them durable in one batch (one
// journal record, replicated through the oplog). abortTransaction, an error in any statement, a newer
// txnNumber on the session or the lifetime limit throw the writes away.
//
// Conflicts follow WiredTiger's first-writer-wins rule: a transaction writing a document another open
// transaction wrote, or one changed since its snapshot, fails with 112 WriteConflict (label
// TransientTransactionError) and is aborted; a write outside any transaction waits until the
// transaction holding the document ends, as mongod's write-conflict retry loop does.
// Sources: MongoDB manual "Transactions", "Production Considerations"; mongod's
// transaction_participant.cpp (error codes and texts), error_labels.cpp (label rules), the Driver
// Transactions specification (what the driver sends and expects).
import { Binary, type Document, Long } from 'bson';
import { asNumber, idKey } from '../bsonvalues.js';
import { writeConcernOf } from '../commands/common.js';
import type { CommandContext, CommandHandler } from '../commands/registry.js';
import { CommandError, ErrorCode, RETRIABLE_CODES } from '../errors.js';
import type { SimNode } from '../node.js';
import type { ReplSetRole } from '../repl/role.js';
import type { CommitResult } from '../replication.js';
import type { Collection, Storage, StorageOp } from '../storage/store.js';
import { atLeast } from '../version.js';
import { TransactionLockWait, WRITE_CONFLICT, waitForLock } from './lock-wait.js';
import { nsOf, Transaction } from './transaction.js';

const NO_SUCH_TRANSACTION = 251;
const TRANSACTION_COMMITTED = 256;
const TRANSACTION_TOO_OLD = 225;
const OPERATION_NOT_SUPPORTED_IN_TRANSACTION = 263;
const CONFLICTING_OPERATION_IN_PROGRESS = 117;

/** Commands a transaction may run (MongoDB manual, "Transactions and Operations"). */
const ALLOWED_IN_TRANSACTION = new Set([
  'find',
  'getMore',
  'killCursors',
  'insert',
  'update',
  'delete',
  'findAndModify',
  'findandmodify',
  'aggregate',
  'distinct',
  'create',
  'createIndexes',
  'commitTransaction',
  'abortTransaction',
]);

const COMMIT_OR_ABORT = new Set(['commitTransaction', 'abortTransaction']);

/** error_labels.cpp isTransientTransactionError / isRetryableWriteError for a transaction command. */
export function transactionErrorLabels(
  code: number,
  command: string,
  hasWriteConcernError: boolean,
): string[] {
  const commitOrAbort = COMMIT_OR_ABORT.has(command);
  let transient = code === WRITE_CONFLICT || code === 24 /* LockTimeout */;
  if (commitOrAbort) transient ||= code === NO_SUCH_TRANSACTION && !hasWriteConcernError;
  else transient ||= RETRIABLE_CODES.has(code) || code === NO_SUCH_TRANSACTION;
  if (transient) return ['TransientTransactionError'];
  if (commitOrAbort && RETRIABLE_CODES.has(code)) return ['RetryableWriteError'];
  return [];
}

function withLabels(err: CommandError, labels: string[]): CommandError {
  if (labels.length === 0) return err;
  const existing = Array.isArray(err.extra.errorLabels) ? (err.extra.errorLabels as string[]) : [];
  const merged = [...new Set([...existing, ...labels])];
  return new CommandError(err.code, err.message, { ...err.extra, errorLabels: merged }, err.codeName);
}

interface SessionTxn {
  readonly sessionId: Binary;
  /** The replica-set term the transaction began in: a step-down (a new term) aborts it, as on mongod. */
  readonly term: number;
  txnNumber: number;
  txn: Transaction;
  /** Ends when the transaction commits or aborts (outside writers wait on it). */
  ended: Promise<void>;
  end: () => void;
  commitResult?: CommitResult;
}

/** The storage a transaction's statements see: its snapshot with its own writes. */
class SnapshotStorage {
  constructor(
    private readonly base: Storage,
    private readonly txn: Transaction,
  ) {}

  getCollection(db: string, coll: string): Collection | undefined {
    return this.txn.view(this.base, db, coll);
  }

  collections(db: string): Collection[] {
    return this.txn
      .collectionNames(this.base, db)
      .map((name) => this.txn.view(this.base, db, name))
      .filter((c): c is Collection => c !== undefined);
  }

  databaseNames(): string[] {
    return this.base.databaseNames();
  }
}

function sessionKey(ctx: CommandContext): { key: string; id: Binary } {
  const id = (ctx.body.lsid as Document | undefined)?.id;
  if (!(id instanceof Binary)) {
    throw new CommandError(ErrorCode.IllegalOperation, 'Transaction number requires a logical session id');
  }
  return { key: idKey(id), id };
}

export class TransactionParticipant {
  private readonly node: SimNode;
  private readonly sessions = new Map<string, SessionTxn>();
  /** The transaction whose commit is being written (its own batch must not conflict with itself). */
  private committing: Transaction | undefined;
  private readonly reaper: NodeJS.Timeout;
  /** serverStatus.transactions counters. */
  private readonly counts = { started: 0, committed: 0, aborted: 0, active: 0 };

  constructor(node: SimNode) {
    this.node = node;
    node.commitObservers.push((ops) => this.beforeCommit(ops));
    this.reaper = setInterval(() => this.abortExpired(), 500);
    this.reaper.unref();
  }

  /** Registry hook: transaction statements run inside their transaction; other writes wait for locks. */
  async run(ctx: CommandContext, handler: CommandHandler): Promise<Document> {
    if (ctx.body.autocommit === undefined) return this.runOutside(ctx, handler);
    try {
      return await this.runInside(ctx, handler);
    } catch (err) {
      if (!(err instanceof CommandError)) throw err;
      throw withLabels(err, transactionErrorLabels(err.code, ctx.name, false));
    }
  }

  // ---- writes outside transactions ----------------------------------------------------------------

  private async runOutside(ctx: CommandContext, handler: CommandHandler): Promise<Document> {
    for (;;) {
      try {
        return await handler(ctx);
      } catch (err) {
        if (!(err instanceof TransactionLockWait)) throw err;
        // Nothing of this command was written: wait for the transaction to end, then run it again.
        await waitForLock(err, ctx.body.maxTimeMS, ctx.node.operations.killedFor(ctx.conn));
      }
    }
  }

  private currentTerm(): number {
    return this.node.role.kind === 'replset' ? (this.node.role as ReplSetRole).topo.term : 0;
  }

  /** Open transactions of an earlier term were aborted by the step-down that ended it. */
  private abortStale(): void {
    const term = this.currentTerm();
    for (const s of this.sessions.values()) {
      if (s.txn.state === 'inProgress' && s.term !== term) this.endTransaction(s, 'aborted');
    }
  }

  /** Commit observer: keeps open transactions' snapshots and detects writes to documents they hold. */
  private beforeCommit(ops: StorageOp[]): void {
    this.abortStale();
    const open = [...this.sessions.values()].filter(
      (s) => s.txn.state === 'inProgress' && s.txn !== this.committing,
    );
    if (open.length === 0) return;
    const storage = this.node.requireStorage();
    const touched: { ns: string; id: unknown; current: Document | undefined }[] = [];
    const dropped: string[] = [];
    for (const op of ops) {
      if (op.db === 'local') continue;
      if (op.op === 'insert' || op.op === 'replace' || op.op === 'delete') {
        const id = op.op === 'delete' ? op.id : op.doc._id;
        touched.push({
          ns: nsOf(op.db, op.coll),
          id,
          current: storage.getCollection(op.db, op.coll)?.findById(id),
        });
      } else if (op.op === 'dropCollection' || op.op === 'renameCollection') {
        dropped.push(nsOf(op.db, op.coll));
        if (op.op === 'renameCollection') dropped.push(nsOf(op.toDb, op.toColl));
      } else if (op.op === 'dropDatabase') {
        for (const c of storage.collections(op.db)) dropped.push(c.ns);
      }
    }
    for (const s of open) {
      for (const t of touched) if (s.txn.hasWritten(t.ns, t.id)) throw new TransactionLockWait(s.ended);
      for (const ns of dropped) if (s.txn.hasWrittenIn(ns)) throw new TransactionLockWait(s.ended);
    }
    for (const s of open) {
      for (const t of touched) s.txn.keepPreimage(t.ns, t.id, t.current);
      for (const ns of dropped) {
        const dot = ns.indexOf('.');
        const c = storage.getCollection(ns.slice(0, dot), ns.slice(dot + 1));
        for (const doc of c?.all() ?? []) s.txn.keepPreimage(ns, doc._id, doc);
      }
    }
  }

  // ---- statements inside transactions --------------------------------------------------------------

  private async runInside(ctx: CommandContext, handler: CommandHandler): Promise<Document> {
    const node = this.node;
    if (node.role.kind === 'standalone') {
      throw new CommandError(
        ErrorCode.IllegalOperation,
        'Transaction numbers are only allowed on a replica set member or mongos',
      );
    }
    if (ctx.body.autocommit !== false) {
      throw new CommandError(ErrorCode.InvalidOptions, 'Specifying autocommit=true is not allowed.');
    }
    const txnNumber = asNumber(ctx.body.txnNumber);
    if (txnNumber === undefined) {
      throw new CommandError(
        ErrorCode.InvalidOptions,
        "'autocommit' field requires a transaction number to also be specified",
      );
    }
    if (ctx.body.startTransaction !== undefined && ctx.body.startTransaction !== true) {
      throw new CommandError(ErrorCode.InvalidOptions, 'Specifying startTransaction=false is not allowed.');
    }
    if (!ALLOWED_IN_TRANSACTION.has(ctx.name)) {
      throw new CommandError(
        OPERATION_NOT_SUPPORTED_IN_TRANSACTION,
        `Cannot run '${ctx.name}' in a multi-document transaction.`,
        {},
        'OperationNotSupportedInTransaction',
      );
    }
    const { key, id } = sessionKey(ctx);
    try {
      node.role.checkWrite('admin');
    } catch {
      throw new CommandError(10107, 'Not primary so we cannot begin or continue a transaction');
    }
    this.abortStale();
    if (ctx.name === 'commitTransaction') return this.commit(ctx, key, id, txnNumber);
    if (ctx.name === 'abortTransaction') return this.abort(key, txnNumber);
    if (ctx.body.writeConcern !== undefined) {
      throw new CommandError(
        ErrorCode.InvalidOptions,
        'writeConcern is not allowed within a multi-statement transaction',
      );
    }
    const session = this.beginOrContinue(key, id, txnNumber, ctx.body.startTransaction === true);
    if (ctx.body.startTransaction !== true && ctx.body.readConcern !== undefined) {
      throw new CommandError(
        ErrorCode.InvalidOptions,
        'Only the first command in a transaction may specify a readConcern',
      );
    }
    const txn = session.txn;
    const inner: CommandContext = { ...ctx, node: this.statementNode(txn), body: statementBody(ctx.body) };
    this.counts.active++;
    try {
      const reply = await handler(inner);
      // Inside a transaction a write error fails the statement (write_ops_exec rethrows it).
      const writeErrors = reply.writeErrors as Document[] | undefined;
      if (Array.isArray(writeErrors) && writeErrors.length > 0) {
        const first = writeErrors[0] as Document;
        const extra: Document = {};
        if (first.keyPattern) {
          extra.keyPattern = first.keyPattern;
          extra.keyValue = first.keyValue;
        }
        throw new CommandError(asNumber(first.code) ?? 1, String(first.errmsg ?? ''), extra);
      }
      return reply;
    } catch (err) {
      // Any failed statement aborts the transaction (service_entry_point: abortTransaction on error).
      this.endTransaction(session, 'aborted');
      throw err;
    } finally {
      this.counts.active--;
    }
  }

  private beginOrContinue(key: string, id: Binary, txnNumber: number, start: boolean): SessionTxn {
    const now = Date.now();
    const current = this.sessions.get(key);
    const active = current?.txnNumber ?? this.recordedTxnNumber(id) ?? -1;
    if (txnNumber < active) {
      throw new CommandError(
        TRANSACTION_TOO_OLD,
        `Cannot start transaction ${txnNumber} on session ${idKey(id)} because a newer transaction with txnNumber ${active} has already started on this session.`,
        {},
        'TransactionTooOld',
      );
    }
    if (start) {
      if (txnNumber === active) {
        throw new CommandError(
          CONFLICTING_OPERATION_IN_PROGRESS,
          'Only servers in a sharded cluster can start a new transaction at the active transaction number',
          {},
          'ConflictingOperationInProgress',
        );
      }
      // A newer transaction on the session aborts the one still open.
      if (current?.txn.state === 'inProgress') this.endTransaction(current, 'aborted');
      let end: () => void = () => {};
      const ended = new Promise<void>((resolve) => {
        end = resolve;
      });
      this.counts.started++;
      const session: SessionTxn = {
        sessionId: id,
        term: this.currentTerm(),
        txnNumber,
        txn: new Transaction(txnNumber, now),
        ended,
        end,
      };
      this.sessions.set(key, session);
      return session;
    }
    if (!current || current.txnNumber !== txnNumber) {
      throw new CommandError(
        NO_SUCH_TRANSACTION,
        `Given transaction number ${txnNumber} does not match any in-progress transactions. The active transaction number is ${active}`,
        {},
        'NoSuchTransaction',
      );
    }
    if (current.txn.state === 'aborted') throw this.abortedError(txnNumber);
    if (current.txn.state === 'committed') throw this.committedError(txnNumber);
    return current;
  }

  /** The node a statement sees: reads from the transaction's snapshot, writes buffered into it. */
  private statementNode(txn: Transaction): SimNode {
    const node = this.node;
    const view = new SnapshotStorage(node.requireStorage(), txn) as unknown as Storage;
    const proxy = Object.create(node) as SimNode;
    Object.defineProperty(proxy, 'storage', { value: view });
    Object.defineProperty(proxy, 'requireStorage', { value: () => view });
    Object.defineProperty(proxy, 'commit', {
      value: (ops: StorageOp[]): CommitResult => {
        this.buffer(txn, ops);
        return {};
      },
    });
    // Statements do not wait for replication: the commit does.
    Object.defineProperty(proxy, 'waitForWriteConcern', { value: async () => undefined });
    return proxy;
  }

  private buffer(txn: Transaction, ops: StorageOp[]): void {
    for (const op of ops) {
      if (op.op === 'insert' || op.op === 'replace' || op.op === 'delete') {
        const ns = nsOf(op.db, op.coll);
        const id = op.op === 'delete' ? op.id : op.doc._id;
        const heldElsewhere = [...this.sessions.values()].some(
          (s) => s.txn !== txn && s.txn.state === 'inProgress' && s.txn.hasWritten(ns, id),
        );
        if (heldElsewhere || txn.changedSinceSnapshot(ns, id)) {
          throw new CommandError(
            WRITE_CONFLICT,
            'WriteConflict error: this operation conflicted with another operation. Please retry your operation or multi-document transaction.',
            {},
            'WriteConflict',
          );
        }
      } else if (op.op !== 'createCollection' && op.op !== 'createIndex') {
        throw new CommandError(
          OPERATION_NOT_SUPPORTED_IN_TRANSACTION,
          `Cannot run '${op.op}' in a multi-document transaction.`,
          {},
          'OperationNotSupportedInTransaction',
        );
      }
    }
    for (const op of ops) txn.write(op);
  }

  // ---- commit and abort --------------------------------------------------------------------------

  private async commit(ctx: CommandContext, key: string, id: Binary, txnNumber: number): Promise<Document> {
    const session = this.sessions.get(key);
    if (!session || session.txnNumber !== txnNumber) {
      // A commit retried on a new primary: the commit record replicated with the transaction's writes.
      const record = this.node.storage?.getCollection('config', 'transactions')?.findById({ id });
      if (record && asNumber(record.txnNum) === txnNumber && record.state === 'committed') {
        return this.replyAfterConcern(ctx, {});
      }
      const active = session?.txnNumber ?? this.recordedTxnNumber(id) ?? -1;
      if (txnNumber < active) {
        throw new CommandError(
          TRANSACTION_TOO_OLD,
          `Cannot start transaction ${txnNumber} on session ${idKey(id)} because a newer transaction with txnNumber ${active} has already started on this session.`,
          {},
          'TransactionTooOld',
        );
      }
      throw new CommandError(
        NO_SUCH_TRANSACTION,
        `Given transaction number ${txnNumber} does not match any in-progress transactions. The active transaction number is ${active}`,
        {},
        'NoSuchTransaction',
      );
    }
    const txn = session.txn;
    if (txn.state === 'aborted') throw this.abortedError(txnNumber);
    if (txn.state === 'committed') return this.replyAfterConcern(ctx, session.commitResult ?? {});
    const storage = this.node.requireStorage();
    let result: CommitResult = {};
    if (!txn.isReadOnly) {
      const ops = txn.commitOps(storage);
      const record: Document = {
        _id: { id },
        txnNum: Long.fromNumber(txnNumber),
        lastWriteDate: new Date(),
        state: 'committed',
      };
      const records = storage.getCollection('config', 'transactions');
      if (!records) ops.push({ op: 'createCollection', db: 'config', coll: 'transactions' });
      ops.push({
        op: records?.findById(record._id) ? 'replace' : 'insert',
        db: 'config',
        coll: 'transactions',
        doc: record,
      });
      this.committing = txn;
      try {
        result = this.node.commit(ops);
      } finally {
        this.committing = undefined;
      }
    }
    session.commitResult = result;
    this.endTransaction(session, 'committed');
    return this.replyAfterConcern(ctx, result);
  }

  private async replyAfterConcern(ctx: CommandContext, result: CommitResult): Promise<Document> {
    const wce = await this.node.waitForWriteConcern(result, writeConcernOf(ctx));
    if (!wce) return {};
    return { writeConcernError: wce };
  }

  private abort(key: string, txnNumber: number): Document {
    const session = this.sessions.get(key);
    if (!session || session.txnNumber !== txnNumber) {
      throw new CommandError(
        NO_SUCH_TRANSACTION,
        `Given transaction number ${txnNumber} does not match any in-progress transactions. The active transaction number is ${session?.txnNumber ?? -1}`,
        {},
        'NoSuchTransaction',
      );
    }
    if (session.txn.state === 'aborted') throw this.abortedError(txnNumber);
    if (session.txn.state === 'committed') throw this.committedError(txnNumber);
    this.endTransaction(session, 'aborted');
    return {};
  }

  private endTransaction(session: SessionTxn, state: 'committed' | 'aborted'): void {
    if (session.txn.state !== 'inProgress') return;
    session.txn.state = state;
    if (state === 'committed') this.counts.committed++;
    else this.counts.aborted++;
    session.end();
  }

  /** transactionLifetimeLimitSeconds (default 60): the periodic reaper aborts older open transactions. */
  private abortExpired(): void {
    const limit = asNumber(this.node.parameters.get('transactionLifetimeLimitSeconds')) ?? 60;
    const now = Date.now();
    this.abortStale();
    for (const s of this.sessions.values()) {
      if (s.txn.state === 'inProgress' && now - s.txn.startedMs > limit * 1000)
        this.endTransaction(s, 'aborted');
    }
  }

  private recordedTxnNumber(id: Binary): number | undefined {
    const record = this.node.storage?.getCollection('config', 'transactions')?.findById({ id });
    return record ? asNumber(record.txnNum) : undefined;
  }

  /** "Transaction with { txnNumber: N } has been aborted." (6.0+); "Transaction N has been aborted." before. */
  private abortedError(txnNumber: number): CommandError {
    const which = atLeast(this.node.version, 6, 0) ? `with { txnNumber: ${txnNumber} }` : String(txnNumber);
    return new CommandError(
      NO_SUCH_TRANSACTION,
      `Transaction ${which} has been aborted.`,
      {},
      'NoSuchTransaction',
    );
  }

  private committedError(txnNumber: number): CommandError {
    const which = atLeast(this.node.version, 6, 0) ? `with { txnNumber: ${txnNumber} }` : String(txnNumber);
    return new CommandError(
      TRANSACTION_COMMITTED,
      `Transaction ${which} has been committed.`,
      {},
      'TransactionCommitted',
    );
  }

  /** The serverStatus `transactions` section of a replica-set member (prepared transactions do not exist here). */
  serverStatusSection(): Document {
    const open = [...this.sessions.values()].filter((x) => x.txn.state === 'inProgress').length;
    const n = (v: number): Long => Long.fromNumber(v);
    return {
      retriedCommandsCount: n(0),
      retriedStatementsCount: n(0),
      transactionsCollectionWriteCount: n(this.counts.committed),
      currentActive: n(this.counts.active),
      currentInactive: n(Math.max(0, open - this.counts.active)),
      currentOpen: n(open),
      totalAborted: n(this.counts.aborted),
      totalCommitted: n(this.counts.committed),
      totalStarted: n(this.counts.started),
      totalPrepared: n(0),
      totalPreparedThenCommitted: n(0),
      totalPreparedThenAborted: n(0),
      currentPrepared: n(0),
    };
  }

  close(): void {
    clearInterval(this.reaper);
  }
}

/** A statement's body for the command handler: the transaction fields are the session layer's business. */
function statementBody(body: Document): Document {
  const out: Document = { ...body };
  delete out.txnNumber;
  delete out.autocommit;
  delete out.startTransaction;
  return out;
}

/** Installs transactions on a replica-set member (standalones refuse them inside run()). */
export function installTransactions(node: SimNode): TransactionParticipant {
  const participant = new TransactionParticipant(node);
  node.commands.around = (ctx, handler) => participant.run(ctx, handler);
  node.commands.register({
    names: ['commitTransaction', 'abortTransaction'],
    program: 'mongod',
    adminOnly: true,
    handler: (ctx) => {
      // Reached only without `autocommit`: these commands exist only inside a transaction.
      throw new CommandError(
        ErrorCode.InvalidOptions,
        `'${ctx.name}' can only be run with a transaction number and autocommit: false`,
      );
    },
  });
  const status = node.commands.get('serverStatus');
  if (status) {
    const inner = status.handler;
    node.commands.register({
      ...status,
      handler: async (ctx) => {
        const reply = await inner(ctx);
        if (node.role.kind === 'replset' && ctx.body.transactions !== 0) {
          reply.transactions = participant.serverStatusSection();
        }
        return reply;
      },
    });
  }
  return participant;
}
