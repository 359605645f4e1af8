// Benchmark 14 — rolling restart as a sharded cluster grows: `mup cluster restart` of a 2-shard and of an
// 8-shard cluster (3 members per shard, a 3-member config server set, 2 mongos, the same 1 s quiesce for every
// member), the shards' replica sets side by side; and of the 8-shard cluster with `--serial` (one process of
// the whole cluster at a time, the order before sets ran in parallel). Restarts of the three kinds alternate
// within each run, on clusters deployed once. `--concurrency` is the number of shards, so every set is in
// flight at once (with the default of 5, the 8-shard restart would run 5 sets, then 3).
// Target (issue 17): 8 shards ≤ 1.5× 2 shards.
//   npx tsx bench/rolling-shards.ts [--runs 2]
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { mupBin } from '../test/helpers/cli.js';
import {
  ALLOW_ROOT,
  benchEnv,
  freePortRange,
  isMain,
  median,
  progress,
  type Row,
  renderRows,
  runsText,
  SIM_VERSION,
  secs,
  timed,
} from './lib.js';

const QUIESCE_MS = 1000;
const MEMBERS = 3;

function shardedTopology(shards: number, deployDir: string): string {
  const member = (set: string) => ({ host: 'localhost', port: 0, replica_set: set });
  return stringify({
    global: { deploy_dir: deployDir },
    server_configs: {
      mongod: { setParameter: { shutdownTimeoutMillisForSignaledShutdown: QUIESCE_MS } },
      mongos: { setParameter: { mongosShutdownTimeoutMillisForSignaledShutdown: QUIESCE_MS } },
    },
    config_servers: Array.from({ length: MEMBERS }, () => member('configRS')),
    mongod_servers: Array.from({ length: shards }, (_, s) =>
      Array.from({ length: MEMBERS }, () => member(`shard${String(s + 1).padStart(2, '0')}`)),
    ).flat(),
    mongos_servers: [0, 1].map(() => ({ host: 'localhost', port: 0 })),
  });
}

const processCount = (shards: number) => MEMBERS + shards * MEMBERS + 2;

export async function benchRollingShards(runs: number): Promise<Row[]> {
  const env = await benchEnv('rolling-shards');
  try {
    let nextPort = 26000;
    const deploy = async (shards: number) => {
      const name = `bench-shards${shards}`;
      const file = join(env.root, `${name}.yaml`);
      await writeFile(file, shardedTopology(shards, join(env.root, name)));
      const portBase = await freePortRange(nextPort, processCount(shards));
      nextPort = portBase + processCount(shards) + 10;
      progress(`rolling-shards: deploy ${name} (${processCount(shards)} processes from port ${portBase})`);
      env.track(name);
      const seconds = await timed(() =>
        env.mup(
          [
            'cluster',
            'deploy',
            name,
            file,
            '--version',
            SIM_VERSION,
            '--binary-path',
            env.binDir,
            ...ALLOW_ROOT,
            '--no-auth',
            '--port-base',
            String(portBase),
            '--yes',
          ],
          1_200_000,
        ),
      );
      progress(`rolling-shards: ${name} deployed in ${seconds.toFixed(1)} s`);
      return name;
    };
    const two = await deploy(2);
    const eight = await deploy(8);
    // A restart that fails (under heavy load a member may not answer hello in time) is counted, left out of the
    // medians, and finished with `cluster resume` (untimed) so the next run starts from a healthy cluster.
    const failures: string[] = [];
    const restart = async (name: string, shards: number, serial: boolean): Promise<number | undefined> => {
      const args = [
        'cluster',
        'restart',
        name,
        '--concurrency',
        String(shards),
        ...(serial ? ['--serial'] : []),
      ];
      const started = process.hrtime.bigint();
      const error = await new Promise<string | undefined>((resolve) =>
        execFile(
          process.execPath,
          [mupBin, ...args, '--yes'],
          { env: env.env, maxBuffer: 64 * 1024 * 1024, timeout: 1_200_000 },
          (failure, _stdout, stderr) =>
            resolve(
              failure
                ? (String(stderr)
                    .split('\n')
                    .find((line) => /failed|error/i.test(line) && !line.startsWith('{')) ?? failure.message)
                : undefined,
            ),
        ),
      );
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (error === undefined) return seconds;
      failures.push(`${name}${serial ? ' --serial' : ''}: ${error}`);
      progress(`rolling-shards: ${name} restart failed after ${seconds.toFixed(1)} s: ${error}`);
      await env.mup(['cluster', 'resume', name, '--yes'], 1_200_000);
      return undefined;
    };
    const times = { two: [] as number[], eight: [] as number[], serial: [] as number[] };
    for (let run = 1; run <= runs; run++) {
      // Alternate which goes first, so that a drift in the machine's load does not favour one kind.
      const order = run % 2 === 1 ? ['two', 'eight', 'serial'] : ['serial', 'eight', 'two'];
      for (const kind of order) {
        const seconds =
          kind === 'two' ? await restart(two, 2, false) : await restart(eight, 8, kind === 'serial');
        if (seconds !== undefined) times[kind as keyof typeof times].push(seconds);
        progress(`rolling-shards run ${run}/${runs}: ${kind} ${seconds?.toFixed(1) ?? 'failed'}`);
      }
    }
    // A kind whose every run failed has no figure: shown as such, never as a ratio of 0.
    const med = (xs: number[]) => (xs.length > 0 ? median(xs) : undefined);
    const [m2, m8, m8s] = [med(times.two), med(times.eight), med(times.serial)];
    const show = (x: number | undefined) => (x === undefined ? 'no run succeeded' : secs(x));
    const ratio = (a: number | undefined, b: number | undefined) =>
      a === undefined || b === undefined ? undefined : a / b;
    return [
      {
        bench: '14 rolling-shards',
        metric: `restart, 8 shards (${processCount(8)} processes)`,
        value: show(m8),
        baseline: `2 shards (${processCount(2)} processes) ${show(m2)}`,
        ratio: ratio(m8, m2),
        target: '≤ 1.5×',
        note: `8: ${runsText(times.eight)}; 2: ${runsText(times.two)}`,
      },
      {
        bench: '14 rolling-shards',
        metric: 'restart, 8 shards --serial',
        value: show(m8s),
        baseline: `8 shards in parallel ${show(m8)}`,
        ratio: ratio(m8s, m8),
        note: `serial: ${runsText(times.serial)}; failed restarts: ${failures.length ? failures.join(' | ') : 'none'}`,
      },
    ];
  } finally {
    await env.cleanup();
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '2' } } });
  process.stdout.write(`${renderRows(await benchRollingShards(Number(values.runs)))}\n`);
}
