// Open cursors of find/aggregate/listCollections/listIndexes, drained by getMore, closed by
// killCursors or when exhausted; idle cursors time out after 10 minutes as in mongod.
import { BSON, type Document, Long } from 'bson';

interface OpenCursor {
  readonly ns: string;
  readonly docs: Document[];
  position: number;
  lastUsed: number;
}

const IDLE_TIMEOUT_MS = 10 * 60 * 1000;
const MAX_BATCH_BYTES = 16 * 1024 * 1024;
/** First batch default of find/aggregate: 101 documents. */
export const DEFAULT_FIRST_BATCH = 101;

/** Where a batch starting at `start` ends: at most `count` documents and 16 MiB (at least one document). */
export function batchEnd(docs: Document[], start: number, count: number): number {
  const limit = Math.min(docs.length, start + count);
  let end = start;
  let bytes = 0;
  while (end < limit) {
    bytes += BSON.calculateObjectSize(docs[end] as Document);
    if (bytes > MAX_BATCH_BYTES && end > start) break;
    end++;
  }
  return end;
}

export interface Batch {
  readonly docs: Document[];
  /** 0 when the cursor is exhausted. */
  readonly id: Long;
}

export class CursorManager {
  private readonly open = new Map<string, OpenCursor>();
  private nextId = BigInt(Math.floor(Math.random() * 2 ** 40)) + 1000n;

  /** Returns the first batch; registers a cursor only when documents remain. */
  create(ns: string, docs: Document[], batchSize: number | undefined, single = false): Batch {
    this.expire();
    const size = batchSize === undefined || batchSize <= 0 ? DEFAULT_FIRST_BATCH : batchSize;
    const end = batchEnd(docs, 0, size);
    const first = docs.slice(0, end);
    if (single || end >= docs.length) return { docs: first, id: Long.ZERO };
    const id = this.nextId++;
    this.open.set(id.toString(), { ns, docs, position: end, lastUsed: Date.now() });
    return { docs: first, id: Long.fromBigInt(id) };
  }

  get(id: Long): OpenCursor | undefined {
    return this.open.get(id.toString());
  }

  /** Next batch of an open cursor (all remaining when batchSize is unset), closing it when drained. */
  next(id: Long, batchSize: number | undefined): Batch {
    const c = this.open.get(id.toString()) as OpenCursor;
    const end = batchEnd(c.docs, c.position, batchSize && batchSize > 0 ? batchSize : c.docs.length);
    const docs = c.docs.slice(c.position, end);
    c.position = end;
    c.lastUsed = Date.now();
    if (c.position >= c.docs.length) {
      this.open.delete(id.toString());
      return { docs, id: Long.ZERO };
    }
    return { docs, id };
  }

  kill(id: Long): boolean {
    return this.open.delete(id.toString());
  }

  private expire(): void {
    const now = Date.now();
    for (const [k, c] of this.open) if (now - c.lastUsed > IDLE_TIMEOUT_MS) this.open.delete(k);
  }
}
