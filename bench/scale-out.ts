// Benchmark 9 — scale-out: `mup cluster scale-out` of one member into a 3-member replica set holding about
// 100 MiB of documents. Timed: from the command's start until the new member answers hello as SECONDARY
// (its initial sync done), and the whole command (it also waits until the member is caught up and gives it
// its vote). Reference, same run: `cp -r` of a member's data dir (the bytes an initial sync has to move, as a
// plain file copy). Between runs the member is removed again with `mup cluster scale-in` (untimed).
//   npx tsx bench/scale-out.ts [--mib 100] [--runs 1]
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MongoBulkWriteError, MongoClient } from 'mongodb';
import { stringify } from 'yaml';
import {
  ALLOW_ROOT,
  benchEnv,
  exec,
  freePortRange,
  helloOnce,
  isMain,
  median,
  pollUntil,
  progress,
  type Row,
  renderRows,
  runsText,
  SIM_VERSION,
  secs,
  sleep,
  timed,
} from './lib.js';

const NAME = 'bench-scale-out';
/** Each document carries this much payload: 100 MiB is about 800 documents. */
const DOC_BYTES = 128 * 1024;

interface DisplayJson {
  uri: string;
  processes: { id: string; port: number; status: string; dataDir?: string }[];
}

async function load(uri: string, mib: number): Promise<void> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 30_000 });
  try {
    const items = client.db('bench').collection<{ _id: number; pad: string }>('items');
    const total = Math.ceil((mib * 1024 * 1024) / DOC_BYTES);
    const pad = 'x'.repeat(DOC_BYTES);
    for (let i = 0; i < total; i += 40) {
      const batch = Array.from({ length: Math.min(40, total - i) }, (_, j) => ({ _id: i + j, pad }));
      // An election under a loaded machine fails a batch now and then: it is sent again (bounded), and
      // the documents of an earlier try that did land are duplicates, not errors.
      for (let attempt = 1; ; attempt++) {
        try {
          await items.insertMany(batch, { ordered: false, writeConcern: { w: 'majority' } });
          break;
        } catch (error) {
          const writeErrors =
            error instanceof MongoBulkWriteError
              ? Array.isArray(error.writeErrors)
                ? error.writeErrors
                : [error.writeErrors]
              : [];
          const duplicatesOnly =
            error instanceof MongoBulkWriteError &&
            error.code !== 189 &&
            writeErrors.length > 0 &&
            writeErrors.every((e) => e.code === 11000);
          if (duplicatesOnly) break;
          if (attempt >= 20) throw error;
          await sleep(1000);
        }
      }
    }
  } finally {
    await client.close();
  }
}

async function du(path: string): Promise<number> {
  const { stdout } = await exec('du', ['-sb', path], { timeoutMs: 60_000 });
  return Number(stdout.split('\t')[0]) / 1024 / 1024;
}

export async function benchScaleOut(mib: number, runs: number): Promise<Row[]> {
  const env = await benchEnv('scale-out');
  try {
    const base = await freePortRange(26400, 4);
    const topo = join(env.root, 'rs.yaml');
    await writeFile(
      topo,
      stringify({
        global: { deploy_dir: 'deploy' },
        server_configs: { mongod: { setParameter: { shutdownTimeoutMillisForSignaledShutdown: 500 } } },
        mongod_servers: [0, 1, 2].map((n) => ({ host: 'localhost', port: base + n, replica_set: 'rs0' })),
      }),
    );
    const newPort = base + 3;
    const part = join(env.root, 'part.yaml');
    await writeFile(
      part,
      stringify({ mongod_servers: [{ host: 'localhost', port: newPort, replica_set: 'rs0' }] }),
    );
    progress('scale-out: deploy a 3-member replica set');
    env.track(NAME);
    await env.mup([
      'cluster',
      'deploy',
      NAME,
      topo,
      '--version',
      SIM_VERSION,
      '--binary-path',
      env.binDir,
      ...ALLOW_ROOT,
      '--yes',
    ]);
    const display = () => env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
    const { uri, processes } = await display();
    progress(`scale-out: load ${mib} MiB`);
    const loadTime = await timed(() => load(uri, mib));
    const source = processes.find((p) => p.port === base + 1)?.dataDir;
    if (!source) throw new Error('scale-out: no data dir of a member');
    const size = await du(source);

    const toSecondary: number[] = [];
    const command: number[] = [];
    const copies: number[] = [];
    for (let i = 0; i < runs; i++) {
      progress(`scale-out: run ${i + 1}/${runs} cp -r of a member's data dir (${size.toFixed(0)} MiB)`);
      const copy = join(env.root, `copy-${i}`);
      copies.push(await timed(() => exec('cp', ['-r', source, copy], { timeoutMs: 600_000 })));
      await rm(copy, { recursive: true, force: true });

      progress(`scale-out: run ${i + 1}/${runs} scale-out of one member`);
      const started = Date.now();
      let secondaryAt: number | undefined;
      const watch = pollUntil(
        async () => {
          const reply = await helloOnce(newPort, 1000).catch(() => undefined);
          if (reply?.secondary === true) {
            secondaryAt = Date.now();
            return true;
          }
          return undefined;
        },
        1_800_000,
        100,
      );
      command.push(await timed(() => env.mup(['cluster', 'scale-out', NAME, part, '--yes'], 1_800_000)));
      await watch;
      if (secondaryAt === undefined) throw new Error('scale-out: the new member never answered as SECONDARY');
      toSecondary.push((secondaryAt - started) / 1000);
      progress(`scale-out: run ${i + 1}/${runs} scale-in (untimed)`);
      await env.mup(['cluster', 'scale-in', NAME, '-N', `localhost:${newPort}`, '--yes'], 600_000);
    }
    const copyMed = median(copies);
    return [
      {
        bench: '9 scale-out',
        metric: `new member SECONDARY (${size.toFixed(0)} MiB)`,
        value: secs(median(toSecondary)),
        baseline: `cp -r data dir ${secs(copyMed)}`,
        ratio: median(toSecondary) / copyMed,
        note: `from the command's start; runs: ${runsText(toSecondary)}; cp runs: ${runsText(copies)}`,
      },
      {
        bench: '9 scale-out',
        metric: 'scale-out command',
        value: secs(median(command)),
        baseline: `cp -r data dir ${secs(copyMed)}`,
        ratio: median(command) / copyMed,
        note: `caught up and promoted included; runs: ${runsText(command)}; loading took ${secs(loadTime)}`,
      },
    ];
  } finally {
    await env.cleanup();
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: { mib: { type: 'string', default: '100' }, runs: { type: 'string', default: '1' } },
  });
  process.stdout.write(`${renderRows(await benchScaleOut(Number(values.mib), Number(values.runs)))}\n`);
}
