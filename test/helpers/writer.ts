// A continuous majority writer for "nothing lost" checks: inserts sequential ids with w:"majority" until
// stopped, remembers every acknowledged one, and records each primary change the driver observes.
import { MongoClient, MongoError } from 'mongodb';

export interface WriterReport {
  /** Where the writes went, for reading them back (`lostWrites`). */
  targets: WriterTarget[];
  acknowledged: number[];
  /** Writes that failed (after the driver's own retry), in all. */
  failures: number;
  /** Failed writes by kind (`MongoServerError:NotWritablePrimary`, `MongoServerSelectionError`, ...). */
  failuresByKind: Record<string, number>;
  /** Distinct consecutive primaries the driver saw (per replica set name). */
  primaries: string[];
  /** Longest time between two acknowledged writes. */
  longestStallMs: number;
  /** Why the loop ended: told to stop, or one of its bounds. */
  endedBy: 'stop' | 'time-bound' | 'count-bound';
}

export interface WriterTarget {
  db: string;
  collection: string;
}

export interface WriterOptions {
  /** Namespaces written in turn (id i goes to target i mod n); default one collection of its own. */
  targets?: WriterTarget[];
  /** The loop ends by itself after this long (default 10 min), whatever happens to the test. */
  maxDurationMs?: number;
  /** ... or after this many writes (default 200 000). */
  maxWrites?: number;
}

export interface Writer {
  readonly targets: WriterTarget[];
  /** Stops the loop (bounded: an insert still waiting is abandoned after a while) and reports. Idempotent. */
  stop(): Promise<WriterReport>;
  /** Resolves once at least `n` writes were acknowledged; throws naming the failures seen so far. */
  waitForWrites(n: number, timeoutMs?: number): Promise<void>;
  /** Writes acknowledged so far. */
  acknowledgedCount(): number;
}

let writers = 0;

/** A collection name no earlier writer of this process (nor of another process) used. */
export function uniqueCollection(prefix = 'writes'): string {
  writers += 1;
  return `${prefix}_${process.pid}_${writers}_${Date.now().toString(36)}`;
}

function failureKind(error: unknown): string {
  if (error instanceof MongoError) {
    const codeName = (error as MongoError & { codeName?: string }).codeName;
    return codeName ? `${error.name}:${codeName}` : error.name;
  }
  return error instanceof Error ? error.name : typeof error;
}

/** "3 × MongoServerError:NotWritablePrimary, 1 × MongoServerSelectionError" or "none". */
export function describeFailures(report: Pick<WriterReport, 'failuresByKind'>): string {
  const parts = Object.entries(report.failuresByKind).map(([kind, n]) => `${n} × ${kind}`);
  return parts.length ? parts.join(', ') : 'none';
}

/**
 * Starts the writer. Use it as `const w = await startWriter(uri); try { ... } finally { await w.stop(); }`:
 * the loop is bounded by count and by time, but only `stop` releases the driver client.
 */
export async function startWriter(uri: string, options: WriterOptions = {}): Promise<Writer> {
  const targets = options.targets ?? [{ db: 'mup_e2e', collection: uniqueCollection() }];
  const maxDurationMs = options.maxDurationMs ?? 10 * 60_000;
  const maxWrites = options.maxWrites ?? 200_000;
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 30_000, retryWrites: true });
  const primaries: string[] = [];
  client.on('serverDescriptionChanged', (event) => {
    if (event.newDescription.type === 'RSPrimary' && primaries.at(-1) !== event.address)
      primaries.push(event.address);
  });
  await client.connect();
  const collections = targets.map((t) => client.db(t.db).collection<{ _id: number; at: Date }>(t.collection));
  const acknowledged: number[] = [];
  const failuresByKind: Record<string, number> = {};
  const lastErrors: string[] = [];
  let failures = 0;
  let running = true;
  let endedBy: WriterReport['endedBy'] = 'stop';
  let lastAck = Date.now();
  let longestStallMs = 0;
  const deadline = Date.now() + maxDurationMs;
  const loop = (async () => {
    let next = 0;
    while (running) {
      if (next >= maxWrites) {
        endedBy = 'count-bound';
        break;
      }
      if (Date.now() > deadline) {
        endedBy = 'time-bound';
        break;
      }
      const id = next++;
      const coll = collections[id % collections.length];
      if (!coll) break;
      try {
        await coll.insertOne(
          { _id: id, at: new Date() },
          { writeConcern: { w: 'majority', wtimeoutMS: 30_000 } },
        );
        acknowledged.push(id);
        const now = Date.now();
        longestStallMs = Math.max(longestStallMs, now - lastAck);
        lastAck = now;
      } catch (error) {
        if (!running) break; // the client was closed under a pending insert by stop()
        failures++;
        const kind = failureKind(error);
        failuresByKind[kind] = (failuresByKind[kind] ?? 0) + 1;
        lastErrors.push(`${kind}: ${error instanceof Error ? error.message : String(error)}`);
        if (lastErrors.length > 3) lastErrors.shift();
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  })();
  let report: Promise<WriterReport> | undefined;
  const stop = async (): Promise<WriterReport> => {
    running = false;
    // An insert may wait out server selection (30 s); don't wait that long for a loop told to stop.
    const settled = await Promise.race([
      loop.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 5_000).unref()),
    ]);
    await client.close(!settled);
    await loop;
    return {
      targets,
      acknowledged,
      failures,
      failuresByKind: { ...failuresByKind },
      primaries,
      longestStallMs,
      endedBy,
    };
  };
  return {
    targets,
    acknowledgedCount: () => acknowledged.length,
    waitForWrites: async (n, timeoutMs = 60_000) => {
      const until = Date.now() + timeoutMs;
      while (acknowledged.length < n) {
        const why = !running
          ? 'the writer was stopped'
          : Date.now() > until
            ? `${timeoutMs} ms passed`
            : Date.now() > deadline
              ? 'the writer reached its time bound'
              : undefined;
        if (why)
          throw new Error(
            `writer: only ${acknowledged.length} of ${n} writes acknowledged (${why}); failures: ` +
              `${describeFailures({ failuresByKind })}; last: ${lastErrors.join(' | ') || 'none'}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: () => {
      report ??= stop();
      return report;
    },
  };
}

/** Ids present in the collection, read from the primary with majority read concern. */
export async function readIds(uri: string, db = 'mup_e2e', collection = 'writes'): Promise<Set<number>> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 30_000 });
  try {
    await client.connect();
    const docs = await client
      .db(db)
      .collection<{ _id: number }>(collection)
      .find({}, { projection: { _id: 1 }, readConcern: { level: 'majority' } })
      .toArray();
    return new Set(docs.map((d) => d._id));
  } finally {
    await client.close();
  }
}

/** Acknowledged ids of `report` missing from its targets now (majority reads). */
export async function lostWrites(uri: string, report: WriterReport): Promise<number[]> {
  const present = new Set<number>();
  for (const target of report.targets)
    for (const id of await readIds(uri, target.db, target.collection)) present.add(id);
  return report.acknowledged.filter((id) => !present.has(id));
}

export interface PrimaryWatch {
  /** Per replica set: the sequence of distinct primaries seen, in order. */
  stop(): Promise<Map<string, string[]>>;
}

/** Polls every member's isMaster every 200 ms and records, per set, each change of primary. Bounded by stop(). */
export function watchPrimaries(sets: Map<string, string[]>): PrimaryWatch {
  const seen = new Map<string, string[]>([...sets.keys()].map((name) => [name, []]));
  const clients = new Map<string, MongoClient>();
  let running = true;
  const clientFor = (address: string) => {
    let client = clients.get(address);
    if (!client) {
      client = new MongoClient(`mongodb://${address}/?directConnection=true`, {
        serverSelectionTimeoutMS: 500,
        connectTimeoutMS: 500,
      });
      clients.set(address, client);
    }
    return client;
  };
  const loop = (async () => {
    while (running) {
      for (const [name, members] of sets) {
        for (const member of members) {
          try {
            const reply = await clientFor(member).db('admin').command({ isMaster: 1 });
            if (reply.ismaster === true && reply.setName === name) {
              const list = seen.get(name) ?? [];
              if (list.at(-1) !== member) list.push(member);
              seen.set(name, list);
            }
          } catch {
            // Down during its restart. A driver client whose connection was refused stays unusable, so the
            // next poll starts a fresh one.
            const broken = clients.get(member);
            clients.delete(member);
            await broken?.close(true).catch(() => undefined);
          }
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      await Promise.all([...clients.values()].map((c) => c.close(true)));
      return seen;
    },
  };
}

/**
 * The availability check of a rolling operation: no write failed at all. The writer's writes are retryable
 * (the driver's default), and a primary stepping down labels the write it interrupts RetryableWriteError, so
 * the driver retries it once on the new primary: through any number of primary changes nothing surfaces.
 */
export function assertWriterAvailability(report: WriterReport, primaryChanges: number): void {
  if (report.failures > 0)
    throw new Error(
      `writer failures through ${primaryChanges} primary change(s), where retryable writes must see none: ${describeFailures(report)}`,
    );
}
