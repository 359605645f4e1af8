// Benchmark 13 — what auth costs mup: the same cluster brought up with and without access control, side by side.
//   playground: `mup playground start --binary-path <sim bin>` (3-member replica set, no auth by default)
//               against the same with `--auth` (keyFile on the host, admin user through the localhost exception).
//   deploy:     `mup cluster deploy` of a 3-member replica set with auth (the default) against `--no-auth`.
// Each timed command ends with a running cluster; after it (untimed) a w:"majority" write checks the result:
// through the printed URI without auth, through `mup cluster credentials --uri` with auth. Runs alternate
// (open, auth, open, auth ...) in fresh MUP_HOMEs; medians; ratio auth / open, target ≤ 1.2×. The auth runs
// pay for the keyFile write, SCRAM on each of mup's connections (the driver caches the salted password per
// process) and the createUser step.
//   npx tsx bench/auth.ts [--runs 3]
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { stringify } from 'yaml';
import {
  ALLOW_ROOT,
  type BenchEnv,
  benchEnv,
  freePortRange,
  isMain,
  median,
  progress,
  type Row,
  renderRows,
  runsText,
  secs,
  timed,
} from './lib.js';

const TARGET = 1.2;

async function majorityWrite(uri: string): Promise<void> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 30_000 });
  try {
    await client
      .db('bench')
      .collection('probe')
      .insertOne({ at: new Date() }, { writeConcern: { w: 'majority', wtimeoutMS: 30_000 } });
  } finally {
    await client.close();
  }
}

/** The URI a client writes through: the printed one, or the credentials' one for an auth cluster. */
async function writableUri(env: BenchEnv, cluster: string, printed: string, auth: boolean): Promise<string> {
  if (!auth) return printed;
  return (await env.mup(['cluster', 'credentials', cluster, '--uri'])).stdout.trim();
}

interface Case {
  name: string;
  metric: string;
  /** Brings the cluster up (timed); returns the printed URI. */
  up(env: BenchEnv, auth: boolean, port: number): Promise<string>;
  cluster: string;
  down(env: BenchEnv): Promise<void>;
}

function playgroundCase(): Case {
  return {
    name: '13 auth playground',
    metric: 'playground start, --auth vs open',
    cluster: 'playground',
    up: async (env, auth, port) => {
      env.track('playground');
      const args = [
        'playground',
        'start',
        '--binary-path',
        env.binDir,
        ...ALLOW_ROOT,
        '--port',
        String(port),
      ];
      return (await env.mup(auth ? [...args, '--auth'] : args)).stdout.trim();
    },
    down: async (env) => {
      await env.mup(['playground', 'destroy', '--yes']);
      env.untrack('playground');
    },
  };
}

function deployCase(topology: string): Case {
  return {
    name: '13 auth deploy',
    metric: 'cluster deploy (3-member set), auth vs --no-auth',
    cluster: 'bench-auth',
    up: async (env, auth, port) => {
      env.track('bench-auth');
      const args = [
        'cluster',
        'deploy',
        'bench-auth',
        topology,
        '--binary-path',
        env.binDir,
        ...ALLOW_ROOT,
        '--yes',
        '--port-base',
        String(port),
      ];
      return (await env.mup(auth ? args : [...args, '--no-auth'])).stdout.trim();
    },
    down: async (env) => {
      await env.mup(['cluster', 'destroy', 'bench-auth', '--yes']);
      env.untrack('bench-auth');
    },
  };
}

export async function benchAuth(runs = 3): Promise<Row[]> {
  const env = await benchEnv('auth');
  try {
    const topology = join(env.root, 'rs.yaml');
    await writeFile(
      topology,
      stringify({
        global: { deploy_dir: 'bench-auth' },
        // Cleanup (untimed) would otherwise wait out each secondary's 15 s quiesce.
        server_configs: { mongod: { setParameter: { shutdownTimeoutMillisForSignaledShutdown: 100 } } },
        mongod_servers: [0, 1, 2].map(() => ({ host: 'localhost', port: 0, replica_set: 'rs0' })),
      }),
    );
    const rows: Row[] = [];
    for (const c of [playgroundCase(), deployCase(topology)]) {
      const times: Record<'open' | 'auth', number[]> = { open: [], auth: [] };
      let failed = 0;
      for (let run = 0; run < runs; run++) {
        for (const auth of [false, true]) {
          const port = await freePortRange(24_000, 10);
          progress(`${c.name}: run ${run + 1}/${runs}, ${auth ? 'auth' : 'open'}`);
          let uri = '';
          // On a loaded machine a run can fail (e.g. the binaries' --version probe timing out): it is
          // counted and left out, and the cluster is removed before the next run.
          try {
            const t = await timed(async () => {
              uri = await c.up(env, auth, port);
            });
            await majorityWrite(await writableUri(env, c.cluster, uri, auth));
            times[auth ? 'auth' : 'open'].push(t);
            progress(`${c.name}: ${auth ? 'auth' : 'open'} ${secs(t)}`);
          } catch (error) {
            failed += 1;
            progress(`${c.name}: run failed, left out: ${String(error).split('\n')[0]}`);
          }
          await c.down(env).catch(() => undefined);
        }
      }
      const a = median(times.auth);
      const o = median(times.open);
      rows.push({
        bench: c.name,
        metric: c.metric,
        value: `auth ${secs(a)}`,
        baseline: `open ${secs(o)}`,
        ratio: a / o,
        target: `≤ ${TARGET}×`,
        note: `auth costs ${secs(a - o)}; ${runs} runs${failed > 0 ? ` (${failed} failed, left out)` : ''}; auth: ${runsText(times.auth)}; open: ${runsText(times.open)}`,
      });
    }
    return rows;
  } finally {
    await env.cleanup();
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
  process.stdout.write(`${renderRows(await benchAuth(Number(values.runs)))}\n`);
}
