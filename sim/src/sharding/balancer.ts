// The balancer, run by the config server primary: its on/off switch lives in config.settings
// ({_id:"balancer", mode, stopped}), balancerStatus reports {mode, inBalancerRound, numBalancerRounds}.
// Each round drains chunks off a draining shard and evens the collections' chunks across the open
// shards (migrations in chunk-ops.ts). A timer also creates config.version once the set has a primary. Source: MongoDB manual "Sharded Cluster Balancer", balancerStatus,
// balancerStart/balancerStop, removeShard.
import { type Document, Long } from 'bson';
import { asNumber } from '../bsonvalues.js';
import { atLeast } from '../version.js';
import { CatalogBatch, CONFIG_DB, readAll, readById } from './catalog.js';
import { migrateChunk, rangeToMove, type ShardedCollection, shardedCollection } from './chunk-ops.js';
import type { ConfigServer } from './configsvr.js';
import { replyOk } from './remote.js';

/** The real balancer sleeps 10 s between rounds. */
const DEFAULT_ROUND_MS = 10_000;
const TICK_MS = 200;

export class Balancer {
  private readonly server: ConfigServer;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private lastRound = 0;
  private inRound = false;
  private rounds = 0;

  constructor(server: ConfigServer) {
    this.server = server;
  }

  start(): void {
    // Tests may shorten the round interval with this test-only knob; mup never sets it.
    const envMs = Number(process.env.MONGOD_SIM_BALANCER_ROUND_MS ?? 0);
    const roundMs = envMs > 0 ? envMs : DEFAULT_ROUND_MS;
    this.timer = setInterval(() => this.tick(roundMs), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private tick(roundMs: number): void {
    const server = this.server;
    if (this.busy || !server.isPrimary()) return;
    this.busy = true;
    const due = Date.now() - this.lastRound >= roundMs;
    const work = async (): Promise<void> => {
      await server.ensureVersionDoc();
      if (due) {
        this.lastRound = Date.now();
        await this.round();
      }
    };
    work()
      .catch((err: unknown) => {
        server.node.log.info('SHARDING', 21872, 'Balancer', 'Balancer round failed', {
          error: err instanceof Error ? err.message : String(err),
        });
      })
      .finally(() => {
        this.busy = false;
      });
  }

  mode(): string {
    const s = readById(this.server.storage, 'settings', 'balancer');
    if (!s) return 'full';
    if (typeof s.mode === 'string') return s.mode;
    return s.stopped === true ? 'off' : 'full';
  }

  async setMode(mode: 'full' | 'off'): Promise<Document> {
    const server = this.server;
    return server.exclusive(async () => {
      server.node.role.checkWrite(CONFIG_DB);
      await server.commit(
        new CatalogBatch(server.storage).put('settings', { _id: 'balancer', mode, stopped: mode === 'off' }),
      );
      return {};
    });
  }

  status(): Document {
    this.server.node.role.checkWrite(CONFIG_DB);
    return {
      mode: this.mode(),
      inBalancerRound: this.inRound,
      numBalancerRounds: Long.fromNumber(this.rounds),
    };
  }

  /**
   * One round: first every chunk on a draining shard moves to the open shard holding the fewest chunks
   * of its collection (what lets removeShard complete); then, per collection, one chunk moves from the
   * most to the least loaded open shard when they differ by the migration threshold.
   */
  async round(): Promise<void> {
    if (this.mode() === 'off') return;
    const server = this.server;
    this.inRound = true;
    try {
      for (const coll of readAll(server.storage, 'collections')) {
        if (coll.dropped === true) continue;
        const open = server
          .shards()
          .filter((s) => s.draining !== true)
          .map((s) => String(s._id));
        if (open.length === 0) return;
        await this.drainCollection(String(coll._id), open);
        if (coll.noBalance !== true) await this.balanceCollection(String(coll._id), open);
      }
    } finally {
      this.inRound = false;
      this.rounds++;
    }
  }

  private async drainCollection(ns: string, open: string[]): Promise<void> {
    const server = this.server;
    for (;;) {
      const moved = await server.exclusive(async () => {
        const sc = shardedCollection(server, ns);
        const chunk = sc.chunks.find((c) => !open.includes(String(c.shard)));
        if (!chunk) return false;
        const counts = chunkCounts(sc.chunks, open);
        const to = [...counts.entries()].sort((a, b) => a[1] - b[1])[0]?.[0];
        if (!to) return false;
        await migrateChunk(server, sc, chunk, to);
        return true;
      });
      if (!moved || this.mode() === 'off') return;
    }
  }

  /**
   * Before 6.0 the balancer evens chunk counts: it migrates when the most and least loaded shards
   * differ by 2 chunks (fewer than 20 chunks), 4 (20–79) or 8 (80 and more). From 6.0 it evens data
   * size instead: it migrates when they differ by three times the range size (config.settings
   * chunksize, 128 MB by default). Source: MongoDB manual "Sharded Cluster Balancer", "Migration
   * Thresholds" (4.4/5.0) and "Range Migration" (6.0+).
   */
  private async balanceCollection(ns: string, open: string[]): Promise<void> {
    const server = this.server;
    await server.exclusive(async () => {
      const sc = shardedCollection(server, ns);
      const load = atLeast(server.version, 6, 0)
        ? await this.dataSizes(sc, open)
        : chunkCounts(sc.chunks, open);
      const ranked = [...load.entries()].sort((a, b) => a[1] - b[1]);
      const least = ranked[0];
      const most = ranked[ranked.length - 1];
      if (!least || !most || least[0] === most[0]) return;
      const threshold = atLeast(server.version, 6, 0)
        ? 3 * this.chunkSizeBytes()
        : sc.chunks.length < 20
          ? 2
          : sc.chunks.length < 80
            ? 4
            : 8;
      if (most[1] - least[1] < threshold) return;
      const chunk = sc.chunks.find((c) => c.shard === most[0]);
      if (!chunk) return;
      if (!atLeast(server.version, 6, 0)) {
        await migrateChunk(server, sc, chunk, least[0]);
        return;
      }
      const range = await rangeToMove(server, sc, chunk, most[1] - least[1]);
      await migrateChunk(server, shardedCollection(server, sc.ns), range, least[0]);
    });
  }

  /** config.settings {_id: "chunksize", value: <MB>}, else 128 MB (6.0+ default). */
  private chunkSizeBytes(): number {
    const s = readById(this.server.storage, 'settings', 'chunksize');
    const mb = typeof s?.value === 'number' ? s.value : Number(s?.value ?? Number.NaN);
    return (Number.isFinite(mb) && mb > 0 ? mb : 128) * 1024 * 1024;
  }

  /** Data size of the collection on each open shard (collStats on the shard's primary). */
  private async dataSizes(sc: ShardedCollection, open: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const name of open) {
      const target = this.server.shardTarget(this.server.requireShard(name));
      const r = await target.runOnPrimary(sc.db, { collStats: sc.coll });
      out.set(name, replyOk(r) ? (asNumber(r.size) ?? 0) : 0);
    }
    return out;
  }
}

function chunkCounts(chunks: Document[], open: string[]): Map<string, number> {
  const counts = new Map(open.map((s) => [s, 0]));
  for (const c of chunks) {
    const k = String(c.shard);
    if (counts.has(k)) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}
