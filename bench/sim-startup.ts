// Benchmark (not a test): how fast one simulated mongod is listening and how much memory it uses,
// against a baseline measured in the same run — a bare `node` process that only opens a TCP listener.
// Budget from SIMULATOR.md: listening well under 0.5 s, under ~80 MB RSS.
// Run: npm run build && npx tsx bench/sim-startup.ts [rounds]
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { freePort, simBin, tempDir } from '../sim/test/helpers/sim.js';

const rounds = Number(process.argv[2] ?? 5);

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

interface Sample {
  readyMs: number;
  rssIdleMb: number;
  rssBusyMb: number;
}

/** Spawns `cmd`, polls the port every 5 ms (bounded), measures RSS idle and after `load`. */
async function measure(
  cmd: string,
  args: string[],
  port: number,
  load?: () => Promise<void>,
): Promise<Sample> {
  const started = process.hrtime.bigint();
  const child = spawn(cmd, args, { stdio: 'ignore' });
  try {
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(port))) {
      if (Date.now() > deadline) throw new Error(`${cmd} never listened on ${port}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
    await new Promise((r) => setTimeout(r, 300));
    const rssIdleMb = await rssMb(child.pid as number);
    if (load) await load();
    const rssBusyMb = await rssMb(child.pid as number);
    return { readyMs, rssIdleMb, rssBusyMb };
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const root = await tempDir('mup-bench-');
try {
  const bin = await simBin('7.0.14', root);
  const baseline: Sample[] = [];
  const sim: Sample[] = [];
  for (let i = 0; i < rounds; i++) {
    const bport = await freePort();
    baseline.push(
      await measure(
        process.execPath,
        ['-e', `require('net').createServer().listen(${bport}, '127.0.0.1')`],
        bport,
      ),
    );
    const port = await freePort();
    const dbPath = join(root, `db${i}`);
    await mkdir(dbPath);
    sim.push(
      await measure(join(bin, 'mongod'), ['--port', String(port), '--dbpath', dbPath], port, async () => {
        const client = new MongoClient(`mongodb://127.0.0.1:${port}/`, { serverSelectionTimeoutMS: 5000 });
        try {
          const docs = Array.from({ length: 1000 }, (_, n) => ({ n, pad: 'x'.repeat(100) }));
          await client.db('bench').collection('c').insertMany(docs);
          await client
            .db('bench')
            .collection('c')
            .find({ n: { $gt: 500 } })
            .toArray();
        } finally {
          await client.close();
        }
      }),
    );
  }
  const row = (name: string, s: Sample[]) =>
    `${name.padEnd(22)} ready ${median(s.map((x) => x.readyMs))
      .toFixed(0)
      .padStart(5)} ms   rss idle ${median(s.map((x) => x.rssIdleMb))
      .toFixed(1)
      .padStart(6)} MB   rss after 1000 inserts ${median(s.map((x) => x.rssBusyMb))
      .toFixed(1)
      .padStart(6)} MB`;
  process.stdout.write(`sim-startup: median of ${rounds} rounds\n`);
  process.stdout.write(`${row('baseline (bare node)', baseline)}\n`);
  process.stdout.write(`${row('simulated mongod 7.0', sim)}\n`);
  const ratio = (f: (x: Sample) => number) => (median(sim.map(f)) / median(baseline.map(f))).toFixed(2);
  process.stdout.write(
    `ratio sim/baseline: ready ×${ratio((x) => x.readyMs)}, idle rss ×${ratio((x) => x.rssIdleMb)}\n`,
  );
  process.stdout.write(`budget: ready < 500 ms, rss < 80 MB\n`);
} finally {
  await rm(root, { recursive: true, force: true });
}
