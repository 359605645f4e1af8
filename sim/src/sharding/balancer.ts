// The balancer, run by the config server primary: its on/off switch lives in config.settings
// ({_id:"balancer", mode, stopped}), balancerStatus reports {mode, inBalancerRound, numBalancerRounds}.
// Chunks are never split here, so the only imbalance it corrects is data left on a draining shard: each
// round moves those chunks (documents first, then the catalog, then the donor's copy) to the open shard
// with the fewest chunks, which is what lets removeShard complete. A timer also creates config.version
// once the set has a primary. Source: MongoDB manual "Sharded Cluster Balancer", balancerStatus,
// balancerStart/balancerStop, removeShard.
import { type Document, Long } from 'bson';
import { CatalogBatch, CONFIG_DB, chunkDoc, chunksOf, readAll, readById } from './catalog.js';
import type { ConfigServer } from './configsvr.js';
import { copyCollection, emptyCollection, listCollectionInfos } from './data-copy.js';

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

  /** One round: move every chunk off draining shards. */
  async round(): Promise<void> {
    if (this.mode() === 'off') return;
    const server = this.server;
    this.inRound = true;
    try {
      const shards = server.shards();
      const draining = shards.filter((s) => s.draining === true);
      const open = shards.filter((s) => s.draining !== true);
      if (draining.length === 0 || open.length === 0) return;
      for (const d of draining) {
        const chunks = readAll(server.storage, 'chunks').filter((c) => c.shard === d._id);
        for (const chunk of chunks) {
          const counts = new Map(open.map((s) => [String(s._id), 0]));
          for (const c of readAll(server.storage, 'chunks')) {
            const k = String(c.shard);
            if (counts.has(k)) counts.set(k, (counts.get(k) ?? 0) + 1);
          }
          const to = [...counts.entries()].sort((a, b) => a[1] - b[1])[0]?.[0];
          if (!to) return;
          await server.exclusive(() => this.migrateChunk(chunk, d, server.requireShard(to)));
        }
      }
    } finally {
      this.inRound = false;
      this.rounds++;
    }
  }

  private collectionOfChunk(chunk: Document): Document | undefined {
    const server = this.server;
    return readAll(server.storage, 'collections').find((c) =>
      chunk.ns !== undefined
        ? c._id === chunk.ns
        : chunksOf(server.storage, server.version, String(c._id), c.uuid).some(
            (x) => String(x._id) === String(chunk._id),
          ),
    );
  }

  /** Moves a whole chunk: copy the documents, commit the new owner, then clean the donor. */
  private async migrateChunk(chunk: Document, from: Document, to: Document): Promise<void> {
    const server = this.server;
    const coll = this.collectionOfChunk(chunk);
    if (!coll) return;
    const ns = String(coll._id);
    const db = ns.slice(0, ns.indexOf('.'));
    const name = ns.slice(ns.indexOf('.') + 1);
    const donor = server.shardTarget(from);
    const recipient = server.shardTarget(to);
    const info = (await listCollectionInfos(donor, db)).find((i) => i.name === name) ?? { name, options: {} };
    await copyCollection(donor, recipient, db, info);
    const lastmod = chunk.lastmod as { t?: number } | undefined;
    const major = (lastmod?.t ?? 1) + 1;
    const next = chunkDoc(
      server.version,
      ns,
      coll.uuid,
      chunk.min,
      chunk.max,
      String(to._id),
      coll.lastmodEpoch,
      major,
    );
    await server.commit(
      new CatalogBatch(server.storage).put('chunks', { ...chunk, shard: to._id, lastmod: next.lastmod }),
    );
    await emptyCollection(donor, db, name);
    server.node.log.info('SHARDING', 21868, 'Balancer', 'Migration succeeded', {
      ns,
      from: from._id,
      to: to._id,
    });
  }
}
