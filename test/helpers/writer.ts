// A continuous majority writer for "nothing lost" checks: inserts sequential ids with w:"majority" until
// stopped, remembers every acknowledged one, and records each primary change the driver observes.
import { MongoClient } from 'mongodb';

export interface WriterReport {
  acknowledged: number[];
  failures: number;
  /** Distinct consecutive primaries the driver saw (per replica set name). */
  primaries: string[];
  /** Longest time between two acknowledged writes. */
  longestStallMs: number;
}

export interface Writer {
  stop(): Promise<WriterReport>;
  /** Resolves once at least `n` writes were acknowledged. */
  waitForWrites(n: number, timeoutMs?: number): Promise<void>;
  /** Writes acknowledged so far. */
  acknowledgedCount(): number;
}

export async function startWriter(uri: string, db = 'mup_e2e', collection = 'writes'): Promise<Writer> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 30_000, retryWrites: true });
  const primaries: string[] = [];
  client.on('serverDescriptionChanged', (event) => {
    if (event.newDescription.type === 'RSPrimary' && primaries.at(-1) !== event.address)
      primaries.push(event.address);
  });
  await client.connect();
  const coll = client.db(db).collection<{ _id: number; at: Date }>(collection);
  const acknowledged: number[] = [];
  let failures = 0;
  let running = true;
  let lastAck = Date.now();
  let longestStallMs = 0;
  const loop = (async () => {
    let next = 0;
    // Bounded: stops when told, and at most 200 000 writes.
    while (running && next < 200_000) {
      const id = next++;
      try {
        await coll.insertOne(
          { _id: id, at: new Date() },
          { writeConcern: { w: 'majority', wtimeoutMS: 30_000 } },
        );
        acknowledged.push(id);
        const now = Date.now();
        longestStallMs = Math.max(longestStallMs, now - lastAck);
        lastAck = now;
      } catch {
        failures++;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  })();
  return {
    acknowledgedCount: () => acknowledged.length,
    waitForWrites: async (n, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (acknowledged.length < n) {
        if (Date.now() > deadline)
          throw new Error(`writer: only ${acknowledged.length} of ${n} writes acknowledged`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: async () => {
      running = false;
      await loop;
      await client.close();
      return { acknowledged, failures, primaries, longestStallMs };
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
