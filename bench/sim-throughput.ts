// Benchmark (not a test): write throughput and latency of a simulated 3-member replica set under a continuous
// w:"majority" writer as its data grows, with the journal compaction in a worker thread (today) against the
// compaction inside the write that crosses the threshold (before: MONGOD_SIM_SYNC_COMPACTION=1), side by side
// in the same run, alternately; also each member's start-up time (spawn → listening) and RSS.
// Run: npm run build && npx tsx bench/sim-throughput.ts [--seconds 60] [--runs 1] [--writers 4]
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { type Document, MongoClient } from 'mongodb';
import { quickShutdownArgs, simBin, tempDir } from '../sim/test/helpers/sim.js';
import { freePortRange, median, pidAlive, progress, rssMb, sleep } from './lib.js';

const VERSION = '7.0.14';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const seconds = arg('seconds', 60);
const runs = arg('runs', 1);
const writers = arg('writers', 4);
/** Each document carries this much padding, so the data (and every snapshot) grows quickly. */
const PAD = 'x'.repeat(2048);

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

interface Member {
  readonly pid: number;
  readonly port: number;
  readonly readyMs: number;
}

async function startMember(
  bin: string,
  dbPath: string,
  port: number,
  syncCompaction: boolean,
): Promise<Member> {
  await mkdir(dbPath, { recursive: true });
  const started = process.hrtime.bigint();
  const child = spawn(
    join(bin, 'mongod'),
    [
      '--port',
      String(port),
      '--bind_ip',
      '127.0.0.1',
      '--dbpath',
      dbPath,
      '--replSet',
      'rs0',
      ...quickShutdownArgs(VERSION),
    ],
    {
      stdio: 'ignore',
      detached: true,
      env: { ...process.env, ...(syncCompaction ? { MONGOD_SIM_SYNC_COMPACTION: '1' } : {}) },
    },
  );
  const deadline = Date.now() + 30_000;
  while (!(await canConnect(port))) {
    if (Date.now() > deadline) throw new Error(`mongod on ${port} never listened`);
    await sleep(5);
  }
  return { pid: child.pid as number, port, readyMs: Number(process.hrtime.bigint() - started) / 1e6 };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

interface RunResult {
  readonly label: string;
  readonly writes: number;
  readonly failed: number;
  readonly latencies: number[];
  /** p99 per 10 s window, in order: how latency moves as the data grows. */
  readonly windowP99: number[];
  readonly maxMs: number;
  readonly readyMs: number[];
  readonly rssIdleMb: number[];
  readonly rssEndMb: number[];
  readonly dataMb: number;
}

async function runOnce(
  bin: string,
  root: string,
  syncCompaction: boolean,
  index: number,
): Promise<RunResult> {
  const label = syncCompaction ? 'before (compaction in the write path)' : 'after (compaction in a worker)';
  const ports = [await freePortRange(27100 + index * 10, 3)];
  ports.push((ports[0] as number) + 1, (ports[0] as number) + 2);
  const members: Member[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      members.push(
        await startMember(bin, join(root, `run${index}`, `m${i}`), ports[i] as number, syncCompaction),
      );
    }
    await sleep(300);
    const rssIdleMb = await Promise.all(members.map((m) => rssMb(m.pid)));
    const seed = new MongoClient(`mongodb://127.0.0.1:${ports[0]}/?directConnection=true`, {
      serverSelectionTimeoutMS: 10_000,
    });
    await seed.db('admin').command({
      replSetInitiate: {
        _id: 'rs0',
        members: ports.map((p, i) => ({ _id: i, host: `127.0.0.1:${p}`, priority: i === 0 ? 2 : 1 })),
        settings: { electionTimeoutMillis: 2000, heartbeatIntervalMillis: 500 },
      },
    });
    const primaryDeadline = Date.now() + 30_000;
    while ((await seed.db('admin').command({ hello: 1 })).isWritablePrimary !== true) {
      if (Date.now() > primaryDeadline) throw new Error('no primary');
      await sleep(100);
    }
    await seed.close();
    const client = new MongoClient(
      `mongodb://${ports.map((p) => `127.0.0.1:${p}`).join(',')}/?replicaSet=rs0`,
      {
        serverSelectionTimeoutMS: 10_000,
        maxPoolSize: writers + 2,
      },
    );
    const coll = client.db('bench').collection('grow');
    const latencies: number[] = [];
    const windows: number[][] = [];
    let failed = 0;
    const start = Date.now();
    const end = start + seconds * 1000;
    let n = 0;
    const writer = async () => {
      while (Date.now() < end) {
        const t0 = process.hrtime.bigint();
        try {
          await coll.insertOne({ n: n++, pad: PAD }, { writeConcern: { w: 'majority', wtimeout: 30_000 } });
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          latencies.push(ms);
          const w = Math.floor((Date.now() - start) / 10_000);
          while (windows.length <= w) windows.push([]);
          (windows[w] as number[]).push(ms);
        } catch {
          failed++;
          await sleep(50);
        }
      }
    };
    await Promise.all(Array.from({ length: writers }, writer));
    const stats = (await client.db('bench').command({ dbStats: 1 })) as Document;
    await client.close();
    const rssEndMb = await Promise.all(members.map((m) => rssMb(m.pid)));
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      label,
      writes: latencies.length,
      failed,
      latencies: sorted,
      windowP99: windows.map((w) =>
        percentile(
          [...w].sort((a, b) => a - b),
          99,
        ),
      ),
      maxMs: sorted[sorted.length - 1] ?? 0,
      readyMs: members.map((m) => m.readyMs),
      rssIdleMb,
      rssEndMb,
      dataMb: Number(stats.dataSize) / 1024 / 1024,
    };
  } finally {
    for (const m of members) {
      if (pidAlive(m.pid)) process.kill(m.pid, 'SIGKILL');
    }
  }
}

const root = await tempDir('mup-bench-throughput-');
try {
  const bin = await simBin(VERSION, root);
  const before: RunResult[] = [];
  const after: RunResult[] = [];
  for (let r = 0; r < runs; r++) {
    // Alternate which side goes first, so a drift in the machine's load does not favour one side.
    const order = r % 2 === 0 ? [true, false] : [false, true];
    for (const sync of order) {
      progress(`sim-throughput: run ${r + 1}/${runs}, ${sync ? 'before' : 'after'}, ${seconds} s`);
      const res = await runOnce(bin, root, sync, r * 2 + (sync ? 0 : 1));
      (sync ? before : after).push(res);
      await rm(join(root, `run${r * 2 + (sync ? 0 : 1)}`), { recursive: true, force: true });
    }
  }
  const summary = (rs: RunResult[]) => {
    const all = rs.flatMap((x) => x.latencies).sort((a, b) => a - b);
    return {
      perSec: median(rs.map((x) => x.writes / seconds)),
      p50: percentile(all, 50),
      p99: percentile(all, 99),
      max: Math.max(...rs.map((x) => x.maxMs)),
      failed: rs.reduce((k, x) => k + x.failed, 0),
      windows: rs[0]?.windowP99 ?? [],
      readyMs: median(rs.flatMap((x) => x.readyMs)),
      rssIdle: median(rs.flatMap((x) => x.rssIdleMb)),
      rssEnd: median(rs.flatMap((x) => x.rssEndMb)),
      dataMb: median(rs.map((x) => x.dataMb)),
    };
  };
  const b = summary(before);
  const a = summary(after);
  const line = (name: string, s: ReturnType<typeof summary>) =>
    `${name.padEnd(40)} ${s.perSec.toFixed(0).padStart(6)} w/s  p50 ${s.p50.toFixed(1).padStart(7)} ms  p99 ${s.p99
      .toFixed(1)
      .padStart(
        7,
      )} ms  max ${s.max.toFixed(0).padStart(6)} ms  failed ${s.failed}  data ${s.dataMb.toFixed(0)} MiB`;
  const out = process.stdout;
  out.write(
    `sim-throughput: 3-member set, ${writers} writers, w:"majority", ${seconds} s × ${runs} run(s) per side\n`,
  );
  out.write(`${line('before (compaction in the write path)', b)}\n`);
  out.write(`${line('after (compaction in a worker)', a)}\n`);
  out.write(
    `ratio after/before: throughput ×${(a.perSec / b.perSec).toFixed(2)}, p99 ×${(a.p99 / b.p99).toFixed(2)}, max ×${(
      a.max / b.max
    ).toFixed(2)}\n`,
  );
  out.write(`p99 per 10 s window (ms), as the data grows:\n`);
  out.write(`  before: ${b.windows.map((x) => x.toFixed(0)).join(' ')}\n`);
  out.write(`  after:  ${a.windows.map((x) => x.toFixed(0)).join(' ')}\n`);
  out.write(
    `member start-up (spawn → listening, median): ${a.readyMs.toFixed(0)} ms; RSS per member: ${a.rssIdle.toFixed(
      1,
    )} MiB idle, ${a.rssEnd.toFixed(1)} MiB after the run (before-side: ${b.rssIdle.toFixed(1)} / ${b.rssEnd.toFixed(
      1,
    )} MiB)\n`,
  );
} finally {
  await rm(root, { recursive: true, force: true });
}
