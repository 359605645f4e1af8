// Benchmark (not a test): the longest write stall of one simulated mongod while its journal compacts, as
// the data grows to about 1 GiB. A loader inserts batches of 16 KiB documents (4 per insert by default, w:1) as fast as the
// server takes them; a probe on its own connection inserts one small document after another and records each
// latency. The dbPath is polled every 10 ms for sealed journal segments (`sim-journal.<n>.bson`), which exist
// exactly while a fold runs, so each probe write is classed "during a fold" or "no fold". The probe also waits
// behind the loader's batches (one event loop), so the "no fold" column is the floor the loader alone causes.
// Run: npm run build && npx tsx bench/sim-compaction-stall.ts [--mib 1024] [--batch 4] [--sync]
//   --sync: MONGOD_SIM_SYNC_COMPACTION=1 (the fold inside the write that crosses the threshold), for comparison.
import { spawn } from 'node:child_process';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { simBin, tempDir } from '../sim/test/helpers/sim.js';
import { freePortRange, pidAlive, progress, rssMb, sleep } from './lib.js';

const VERSION = '7.0.14';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const targetMib = arg('mib', 1024);
const sync = process.argv.includes('--sync');
const DOC = 'x'.repeat(16 * 1024);
/** Documents per loader insert (16 KiB each): small batches keep the loader's own share of a probe's wait small. */
const BATCH = arg('batch', 4);
/** The sim holds its data in memory: 1 GiB of documents needs more heap than node's default. */
const HEAP_MB = 12 * 1024;

interface Probe {
  readonly atMs: number;
  readonly latencyMs: number;
  readonly duringFold: boolean;
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
  return total;
}

async function main(): Promise<void> {
  const root = await tempDir('mup-bench-stall-');
  const bin = await simBin(VERSION, root);
  const dbPath = join(root, 'db');
  await mkdir(dbPath, { recursive: true });
  const port = await freePortRange(27300, 1);
  const child = spawn(
    join(bin, 'mongod'),
    ['--port', String(port), '--bind_ip', '127.0.0.1', '--dbpath', dbPath],
    {
      stdio: 'ignore',
      detached: true,
      env: {
        ...process.env,
        NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}`,
        ...(sync ? { MONGOD_SIM_SYNC_COMPACTION: '1' } : {}),
      },
    },
  );
  const pid = child.pid as number;
  const uri = `mongodb://127.0.0.1:${port}/?directConnection=true`;
  const loader = new MongoClient(uri, { serverSelectionTimeoutMS: 30_000, socketTimeoutMS: 600_000 });
  const prober = new MongoClient(uri, { serverSelectionTimeoutMS: 30_000, socketTimeoutMS: 600_000 });
  const probes: Probe[] = [];
  let folding = false;
  let foldsSeen = 0;
  let loading = true;
  const t0 = Date.now();
  try {
    await loader.connect();
    await prober.connect();
    const watch = (async () => {
      while (loading) {
        const sealed = (await readdir(dbPath)).some((n) => /^sim-journal\.\d+\.bson$/.test(n));
        if (sealed && !folding) foldsSeen++;
        folding = sealed;
        await sleep(10);
      }
    })();
    const probe = (async () => {
      const c = prober.db('bench').collection<{ _id: number }>('probe');
      for (let i = 0; loading; i++) {
        const foldAtStart = folding;
        const start = process.hrtime.bigint();
        await c.insertOne({ _id: i });
        const latencyMs = Number(process.hrtime.bigint() - start) / 1e6;
        probes.push({ atMs: Date.now() - t0, latencyMs, duringFold: foldAtStart || folding });
      }
    })();
    const coll = loader.db('bench').collection<{ _id: number; pad: string }>('data');
    const batches = Math.ceil((targetMib * 64) / BATCH);
    let next = 0;
    for (let b = 0; b < batches; b++) {
      const docs = Array.from({ length: BATCH }, () => ({ _id: next++, pad: DOC }));
      await coll.insertMany(docs, { ordered: true });
      if ((next / 64) % 64 === 0) {
        progress(
          `loaded ${next / 64} MiB in ${((Date.now() - t0) / 1000).toFixed(0)} s; folds seen ${foldsSeen}; ` +
            `dbPath ${((await dirBytes(dbPath)) / 1048576).toFixed(0)} MiB`,
        );
      }
    }
    // Let a fold started by the last batches finish under the probe too (bounded).
    const deadline = Date.now() + 300_000;
    while (folding && Date.now() < deadline) await sleep(100);
    loading = false;
    await Promise.all([watch, probe]);
    const rss = await rssMb(pid);
    const during = probes.filter((p) => p.duringFold).map((p) => p.latencyMs);
    const outside = probes.filter((p) => !p.duringFold).map((p) => p.latencyMs);
    const worst = [...probes].sort((a, b) => b.latencyMs - a.latencyMs).slice(0, 5);
    const line = (name: string, xs: number[]): string =>
      `${name.padEnd(16)} ${String(xs.length).padStart(7)} writes  p50 ${percentile(xs, 50).toFixed(1)} ms  p99 ${percentile(
        xs,
        99,
      ).toFixed(1)} ms  max ${Math.max(0, ...xs).toFixed(1)} ms`;
    process.stdout.write(
      [
        `sim-compaction-stall ${VERSION} ${sync ? '(MONGOD_SIM_SYNC_COMPACTION=1)' : '(fold in a worker)'}: ` +
          `${targetMib} MiB loaded in ${((Date.now() - t0) / 1000).toFixed(0)} s, folds seen ${foldsSeen}, ` +
          `dbPath ${((await dirBytes(dbPath)) / 1048576).toFixed(0)} MiB, RSS ${rss.toFixed(0)} MiB`,
        line('during a fold', during),
        line('no fold', outside),
        `longest probe writes: ${worst.map((p) => `${p.latencyMs.toFixed(0)} ms at ${(p.atMs / 1000).toFixed(0)} s${p.duringFold ? ' (fold)' : ''}`).join(', ')}`,
        '',
      ].join('\n'),
    );
  } finally {
    loading = false;
    await loader.close().catch(() => undefined);
    await prober.close().catch(() => undefined);
    if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
    await rm(root, { recursive: true, force: true });
  }
}

await main();
