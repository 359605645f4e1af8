// The sharding catalog as the config server stores it in its `config` database, replicated by the
// config server replica set: config.shards, config.databases, config.collections, config.chunks,
// config.version and config.settings (balancer). Document shapes follow MongoDB's ShardType,
// DatabaseType, CollectionType, ChunkType and the balancer settings document (MongoDB manual
// "Config Database"); fields that only exist in some versions are added per version.
import { Binary, type Document, Int32, Long, ObjectId, Timestamp, type UUID } from 'bson';
import type { Storage, StorageOp } from '../storage/store.js';
import { atLeast, type VersionInfo } from '../version.js';

export const CONFIG_DB = 'config';

export interface ShardDoc {
  _id: string;
  host: string;
  state: number;
  draining?: boolean;
}

export interface DatabaseDoc {
  _id: string;
  primary: string;
  partitioned?: boolean;
}

export interface CollectionDoc {
  _id: string;
  key: Document;
  unique: boolean;
  uuid: UUID;
}

export interface ChunkDoc {
  _id: ObjectId;
  ns?: string;
  uuid?: UUID;
  min: Document;
  max: Document;
  shard: string;
}

export function readAll(storage: Storage, coll: string): Document[] {
  return [...(storage.getCollection(CONFIG_DB, coll)?.all() ?? [])];
}

export function readById(storage: Storage, coll: string, id: unknown): Document | undefined {
  return storage.getCollection(CONFIG_DB, coll)?.findById(id);
}

/** Ops that create `config.<coll>` when it does not exist yet (inserts need the collection). */
function ensureCollection(storage: Storage, coll: string, pending: Set<string>): StorageOp[] {
  if (storage.getCollection(CONFIG_DB, coll) || pending.has(coll)) return [];
  pending.add(coll);
  return [{ op: 'createCollection', db: CONFIG_DB, coll }];
}

/** Builds one atomic batch of catalog changes against the current state. */
export class CatalogBatch {
  readonly ops: StorageOp[] = [];
  private readonly storage: Storage;
  private readonly created = new Set<string>();

  constructor(storage: Storage) {
    this.storage = storage;
  }

  /** Insert or replace by _id. */
  put(coll: string, doc: Document): this {
    this.ops.push(...ensureCollection(this.storage, coll, this.created));
    const exists = readById(this.storage, coll, doc._id) !== undefined;
    this.ops.push({ op: exists ? 'replace' : 'insert', db: CONFIG_DB, coll, doc });
    return this;
  }

  remove(coll: string, id: unknown): this {
    if (readById(this.storage, coll, id) !== undefined)
      this.ops.push({ op: 'delete', db: CONFIG_DB, coll, id });
    return this;
  }
}

export function clusterTimestamp(): Timestamp {
  return Timestamp.fromBits(1, Math.floor(Date.now() / 1000));
}

/** config.version, written once when the config server first becomes primary. */
export function versionDoc(v: VersionInfo): Document {
  const doc: Document = { _id: 1 };
  if (!atLeast(v, 5, 0)) {
    doc.minCompatibleVersion = new Int32(5);
    doc.currentVersion = new Int32(6);
  }
  doc.clusterId = new ObjectId();
  return doc;
}

export function shardDoc(v: VersionInfo, name: string, host: string): Document {
  const doc: Document = { _id: name, host, state: new Int32(1) };
  if (atLeast(v, 5, 0)) doc.topologyTime = clusterTimestamp();
  return doc;
}

export function databaseDoc(
  v: VersionInfo,
  name: string,
  primary: string,
  uuid: UUID,
  lastMod: number,
  partitioned: boolean,
): Document {
  const doc: Document = { _id: name, primary };
  // `partitioned` disappeared with enableSharding becoming optional (6.0).
  if (!atLeast(v, 6, 0)) doc.partitioned = partitioned;
  const version: Document = { uuid, lastMod: new Int32(lastMod) };
  if (atLeast(v, 5, 0)) version.timestamp = clusterTimestamp();
  doc.version = version;
  return doc;
}

export function collectionDoc(
  v: VersionInfo,
  ns: string,
  key: Document,
  unique: boolean,
  uuid: UUID,
): Document {
  const doc: Document = { _id: ns, lastmodEpoch: new ObjectId(), lastmod: new Date() };
  if (!atLeast(v, 5, 0)) doc.dropped = false;
  if (atLeast(v, 5, 0)) doc.timestamp = clusterTimestamp();
  doc.uuid = uuid;
  doc.key = key;
  doc.unique = unique;
  doc.noBalance = false;
  return doc;
}

/** The single initial chunk [MinKey, MaxKey) of a newly sharded collection. */
export function chunkDoc(
  v: VersionInfo,
  ns: string,
  uuid: UUID,
  min: Document,
  max: Document,
  shard: string,
  epoch: ObjectId,
  major: number,
): Document {
  const doc: Document = { _id: new ObjectId() };
  // Chunks name their collection by namespace until 5.0, by UUID after.
  if (atLeast(v, 5, 0)) doc.uuid = uuid;
  else doc.ns = ns;
  doc.min = min;
  doc.max = max;
  doc.shard = shard;
  doc.lastmod = Timestamp.fromBits(0, major);
  doc.lastmodEpoch = epoch;
  doc.history = [{ validAfter: clusterTimestamp(), shard }];
  return doc;
}

export function chunksOf(storage: Storage, v: VersionInfo, ns: string, uuid: UUID | undefined): Document[] {
  return readAll(storage, 'chunks').filter((c) => (atLeast(v, 5, 0) ? sameUuid(c.uuid, uuid) : c.ns === ns));
}

/** UUIDs read back from storage are plain Binary values: compare their bytes. */
export function sameUuid(a: unknown, b: unknown): boolean {
  if (!(a instanceof Binary) || !(b instanceof Binary)) return false;
  return Buffer.from(a.buffer).equals(Buffer.from(b.buffer));
}

export function asLong(n: number): Long {
  return Long.fromNumber(n);
}
