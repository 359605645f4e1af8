// One multi-document transaction on a replica-set member: a snapshot of the data as of its first
// statement, its own writes on top, and the write set other writers conflict with.
//
// The snapshot is kept copy-on-write: when a write outside the transaction changes a document after
// the snapshot was taken, the transaction keeps the document's previous version (its "pre-image"), so
// reads inside the transaction keep seeing the data as of its start (readConcern "snapshot").
import type { Document } from 'bson';
import { idKey } from '../bsonvalues.js';
import { Collection, type Storage, type StorageOp } from '../storage/store.js';

/** A document key inside a namespace: "<db>.<coll>" + idKey(_id). */
type DocKey = string;

function nsOf(db: string, coll: string): string {
  return `${db}.${coll}`;
}

function docKey(ns: string, id: unknown): DocKey {
  return `${ns}\u0000${idKey(id)}`;
}

export type TxnState = 'inProgress' | 'committed' | 'aborted';

export class Transaction {
  readonly txnNumber: number;
  readonly startedMs: number;
  state: TxnState = 'inProgress';
  /** Documents changed outside the transaction since its snapshot: their version at the snapshot (null: absent). */
  private readonly preimages = new Map<DocKey, Document | null>();
  /** ns → (idKey → pre-image) for iteration of a namespace's changed documents. */
  private readonly preimagesByNs = new Map<string, Map<string, { id: unknown; doc: Document | null }>>();
  /** The transaction's own writes: latest version of each document it wrote (null: deleted). */
  private readonly writes = new Map<string, Map<string, { id: unknown; doc: Document | null }>>();
  /** Collections the transaction creates (implicitly by a first insert, or `create`). */
  private readonly created = new Map<string, StorageOp & { op: 'createCollection' }>();
  /** Index creations, applied after the documents at commit. */
  private readonly indexOps: StorageOp[] = [];

  constructor(txnNumber: number, now: number) {
    this.txnNumber = txnNumber;
    this.startedMs = now;
  }

  /** True when this transaction wrote the document (it holds its write lock until it ends). */
  hasWritten(ns: string, id: unknown): boolean {
    return this.writes.get(ns)?.has(idKey(id)) ?? false;
  }

  /** True when this transaction wrote anything in the namespace. */
  hasWrittenIn(ns: string): boolean {
    return (this.writes.get(ns)?.size ?? 0) > 0 || this.created.has(ns);
  }

  /** True when a write outside the transaction changed the document after the snapshot (a write conflict). */
  changedSinceSnapshot(ns: string, id: unknown): boolean {
    return this.preimages.has(docKey(ns, id));
  }

  /** Called before a write outside this transaction changes `id` in `ns` (current version `current`). */
  keepPreimage(ns: string, id: unknown, current: Document | undefined): void {
    const key = docKey(ns, id);
    if (this.preimages.has(key)) return;
    this.preimages.set(key, current ?? null);
    let m = this.preimagesByNs.get(ns);
    if (!m) {
      m = new Map();
      this.preimagesByNs.set(ns, m);
    }
    m.set(idKey(id), { id, doc: current ?? null });
  }

  /** Records a buffered write (the caller checked conflicts). */
  write(op: StorageOp): void {
    switch (op.op) {
      case 'createCollection':
        if (!this.created.has(nsOf(op.db, op.coll))) this.created.set(nsOf(op.db, op.coll), op);
        return;
      case 'createIndex':
        this.indexOps.push(op);
        return;
      case 'insert':
      case 'replace':
        this.own(nsOf(op.db, op.coll)).set(idKey(op.doc._id), { id: op.doc._id, doc: op.doc });
        return;
      case 'delete':
        this.own(nsOf(op.db, op.coll)).set(idKey(op.id), { id: op.id, doc: null });
        return;
      default:
        // Callers refuse every other operation inside a transaction before it gets here.
        throw new Error(`operation ${op.op} cannot run inside a transaction`);
    }
  }

  private own(ns: string): Map<string, { id: unknown; doc: Document | null }> {
    let m = this.writes.get(ns);
    if (!m) {
      m = new Map();
      this.writes.set(ns, m);
    }
    return m;
  }

  get isReadOnly(): boolean {
    return this.writes.size === 0 && this.created.size === 0 && this.indexOps.length === 0;
  }

  /** The collection as this transaction sees it (snapshot + own writes), or undefined when absent. */
  view(storage: Storage, db: string, coll: string): Collection | undefined {
    const ns = nsOf(db, coll);
    const base = storage.getCollection(db, coll);
    const created = this.created.get(ns);
    if (!base && !created) return undefined;
    const out = base
      ? new Collection(db, coll, base.options, base.uuid)
      : new Collection(db, coll, created?.options ?? {}, created?.uuid);
    if (base) out.indexes = [...base.indexes];
    const pre = this.preimagesByNs.get(ns);
    for (const [key, doc] of base?.docs ?? []) {
      const old = pre?.get(key);
      if (old === undefined) out.docs.set(key, doc);
      else if (old.doc) out.docs.set(key, old.doc);
    }
    // Documents deleted outside after the snapshot still exist in it.
    for (const [key, old] of pre ?? []) if (old.doc && !out.docs.has(key)) out.docs.set(key, old.doc);
    for (const [key, mine] of this.writes.get(ns) ?? []) {
      if (mine.doc) out.docs.set(key, mine.doc);
      else out.docs.delete(key);
    }
    for (const op of this.indexOps) {
      if (op.op === 'createIndex' && op.db === db && op.coll === coll) out.indexes.push(op.spec);
    }
    return out;
  }

  /** The namespaces this transaction sees in `db`: existing collections and those it creates. */
  collectionNames(storage: Storage, db: string): string[] {
    const names = new Set(storage.collections(db).map((c) => c.name));
    for (const op of this.created.values()) if (op.db === db) names.add(op.coll);
    return [...names];
  }

  /** The storage operations that make the transaction's writes durable, in a replayable order. */
  commitOps(storage: Storage): StorageOp[] {
    const ops: StorageOp[] = [];
    for (const op of this.created.values()) {
      if (!storage.getCollection(op.db, op.coll)) ops.push(op);
    }
    for (const [ns, docs] of this.writes) {
      const dot = ns.indexOf('.');
      const db = ns.slice(0, dot);
      const coll = ns.slice(dot + 1);
      const base = storage.getCollection(db, coll);
      for (const { id, doc } of docs.values()) {
        const exists = base?.findById(id) !== undefined;
        if (doc) ops.push({ op: exists ? 'replace' : 'insert', db, coll, doc });
        else if (exists) ops.push({ op: 'delete', db, coll, id });
      }
    }
    ops.push(...this.indexOps);
    return ops;
  }
}

export { docKey, nsOf };
