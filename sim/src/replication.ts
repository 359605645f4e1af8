// The contract between the server core and replication. The core (wire, commands, storage) never
// knows whether it runs standalone or as a replica-set member: it asks the ReplicationRole.
//
// Who implements it:
//   - StandaloneRole (below): mongod started without --replSet / replication.replSetName.
//   - sim/src/repl/index.ts must export `createReplSetRole(node: SimNode): ReplicationRole | Promise<…>`;
//     main.ts loads it (dynamic import) when replSetName is set. Extend this interface additively
//     (new optional members) so the standalone role keeps compiling.
//
// Lifecycle (main.ts, startup order of SIMULATOR.md / reference §8.4):
//   options → log → dbPath → mongod.lock → Storage.open → FCV check → role created (factory) →
//   port bound → role.start() → "Waiting for connections".  Shutdown: role.stop() before storage closes.
//   The factory may register commands (node.commands.register) and read its persisted state
//   (local.system.replset, local.replset.election) from node.storage; it must not do network I/O
//   before start(). Member-to-member traffic goes through sim/src/wire/client.ts only.
//
// What the core calls, and when:
//   helloFields()       for every hello/isMaster, to build the replication block (§2.3), placed right
//                       after helloOk in the reply. topologyVersion is added by the core (from
//                       node.topology) on 4.4+; the role calls node.topology.bump() on every state change
//                       (member state, reconfig, step-down start/end) so awaitable hello wakes up (§2.4).
//   checkWrite(db)      before any write command touches data; throw CommandError(10107) when not
//                       primary. Writes to the 'local' db are always allowed (§3.10).
//   checkRead(db, ok)   before reads; `ok` = the request allows secondaries ($readPreference not
//                       primary, or the legacy secondaryOk bit). Throw 13435 / 13436 as appropriate.
//   commit(ops)         SYNCHRONOUSLY persists a validated batch of StorageOps. Standalone: straight to
//                       storage. Replica set: assign an optime, add the oplog entries (local.oplog.rs)
//                       to the same batch and call node.storage.apply(batch, {ts}) so data and oplog are
//                       one atomic, fsync'd journal record. Returns what waitForWriteConcern needs.
//   validateWriteConcern(wc)   optional, before the write runs: throw for an unsatisfiable concern.
//   waitForWriteConcern(result, wc)   after the commit, before replying. Resolve undefined when
//                       satisfied, or a writeConcernError document ({code:64, codeName:
//                       'WriteConcernFailed', errmsg:'waiting for replication timed out',
//                       errInfo:{wtimeout:true}}) which the core puts in the reply.
//   replyFields()       extra fields appended after ok on every reply ($clusterTime, operationTime on
//                       replica-set members, §1.7). Standalone: none.
//   serverStatusRepl()  the serverStatus 'repl' section (members only).
//   prepareShutdown()   before a shutdown command or signal shuts the process down. May throw
//                       CommandError(262 ExceededTimeLimit) for a primary without an electable secondary
//                       when `force` is false and the request came from the command (§5.7).
//   enterQuiesceIfSecondary()  optional, 5.0+ shutdown after the step-down: true when this member is
//                       SECONDARY and so enters quiesce mode (it must then no longer stand for election);
//                       absent or false (standalone, primary, ...) means the shutdown goes straight on.
//   start() / stop()    timers and connections: started after the port is bound, stopped at shutdown.
//
// Storage hooks for replication (sim/src/storage/store.ts): apply(ops, {ts}) to log and to apply
// fetched oplog entries, setStableTimestamp(majorityPoint) so compaction never folds rollback-able
// records, recoverToTimestamp(commonPoint) to roll back after a common point. apply() refuses (throws
// StorageError, nothing written) a batch that writes to a collection neither existing nor created
// earlier in the same batch.
//
// Other core facilities a role may use:
//   node.commands.get(name)      the registered spec, to wrap a core command.
//   node.topology                processId/counter of topologyVersion; bump() on every state change.
//   node.clusterKey              the validated security.keyFile contents (member authentication).
//   Retryable writes (commands/retryable.ts): a write with lsid + txnNumber records its reply in
//   config.transactions through node.commit (so it travels in the oplog like any write); a retry with
//   the same txnNumber, e.g. on a new primary after failover, returns the recorded reply. Standalones
//   refuse txnNumber (20 IllegalOperation), which relies on `kind` below.
//   setFeatureCompatibilityVersion commits the FCV document (admin.system.version) through
//   node.commit and waits for w:"majority" by default; a new replica set must write that document
//   itself at initiate (the core only stamps brand-new standalone data directories).
import type { Document, Long, Timestamp } from 'bson';
import { CommandError, ErrorCode } from './errors.js';
import type { SimNode } from './node.js';
import type { StorageOp } from './storage/store.js';

export interface OpTime {
  readonly ts: Timestamp;
  readonly t: Long;
}

export interface HelloRequest {
  /** 'hello' answers isWritablePrimary / secondaryDelaySecs; 'isMaster'/'ismaster' answer ismaster / slaveDelay. */
  readonly commandName: 'hello' | 'isMaster' | 'ismaster';
  readonly body: Document;
}

export interface WriteConcern {
  readonly w?: number | string;
  readonly wtimeout?: number;
  readonly j?: boolean;
}

export interface CommitResult {
  /** Optime of the batch's last oplog entry; undefined on a standalone. */
  readonly opTime?: OpTime;
}

export interface ShutdownRequest {
  readonly force: boolean;
  readonly timeoutSecs: number;
  /** true for SIGTERM/SIGINT: a failed step-down does not block the shutdown. */
  readonly fromSignal: boolean;
}

export interface ReplicationRole {
  readonly kind: 'standalone' | 'replset';
  helloFields(req: HelloRequest): Document;
  checkWrite(db: string): void;
  checkRead(db: string, secondaryOk: boolean): void;
  commit(ops: StorageOp[]): CommitResult;
  /** Optional: reject an unsatisfiable write concern before the write runs (e.g. w > 1 on a standalone). */
  validateWriteConcern?(wc: WriteConcern | undefined): void;
  waitForWriteConcern(result: CommitResult, wc: WriteConcern | undefined): Promise<Document | undefined>;
  replyFields(): Document;
  serverStatusRepl(): Document | undefined;
  prepareShutdown(req: ShutdownRequest): Promise<void>;
  /** Optional (5.0+ shutdown): enter quiesce mode when SECONDARY; returns whether it did. */
  enterQuiesceIfSecondary?(): boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export type ReplicationRoleFactory = (node: SimNode) => ReplicationRole | Promise<ReplicationRole>;

/** mongod without --replSet: always writable, no oplog, w>1 cannot be satisfied. */
export class StandaloneRole implements ReplicationRole {
  readonly kind = 'standalone' as const;
  private readonly node: SimNode;

  constructor(node: SimNode) {
    this.node = node;
  }

  helloFields(req: HelloRequest): Document {
    return req.commandName === 'hello' ? { isWritablePrimary: true } : { ismaster: true };
  }

  checkWrite(_db: string): void {}

  checkRead(_db: string, _secondaryOk: boolean): void {}

  commit(ops: StorageOp[]): CommitResult {
    this.node.requireStorage().apply(ops);
    return {};
  }

  validateWriteConcern(wc: WriteConcern | undefined): void {
    // mongod validates the write concern before running the write: a numeric w > 1 can never be
    // satisfied without replication (BadValue "cannot use 'w' > 1 on a standalone"); "majority" is.
    if (typeof wc?.w === 'number' && wc.w > 1) {
      throw new CommandError(ErrorCode.BadValue, "cannot use 'w' > 1 on a standalone");
    }
  }

  async waitForWriteConcern(
    _result: CommitResult,
    _wc: WriteConcern | undefined,
  ): Promise<Document | undefined> {
    return undefined;
  }

  replyFields(): Document {
    return {};
  }

  serverStatusRepl(): Document | undefined {
    return undefined;
  }

  async prepareShutdown(_req: ShutdownRequest): Promise<void> {}

  async start(): Promise<void> {}

  async stop(): Promise<void> {}
}
