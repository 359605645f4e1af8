// Benchmark 8 — rolling upgrade 6.0 → 8.0 (two hops: 7.0, 8.0) under a continuous w:"majority" writer
// (test/helpers/writer.ts): total duration of `mup cluster upgrade`, the longest gap between two
// acknowledged writes, and acknowledged writes missing afterwards. Two topologies:
// - `rs`: a 3-member replica set;
// - `sharded`: a 3-member config server set, two 3-member shards and two mongos; the writer goes through
//   both mongos (the URI lists them), so a mongos restart is a driver failover, not an outage.
// Reference, same run and cluster before its upgrade: one member's own restart — `mup cluster supervisor
// restart <name> <secondary>` until it answers hello as SECONDARY again — median of 3 (and, sharded, one
// mongos's restart until it answers hello), times the process restarts the upgrade makes (every process ×
// 2 hops). The upgrade adds to that: the binaries fetched from a local release mirror (loopback HTTP), a
// preflight and a setFeatureCompatibilityVersion per hop, the step-down of each set's primary (and,
// sharded, the balancer stopped and restored). Every member's quiesce is cut to 1 s for both sides through
// server_configs (shutdownTimeoutMillisForSignaledShutdown), so the figures are not 15 s × N of waiting.
// Each run deploys a fresh 6.0 cluster (an upgrade is one-way) and destroys it.
//   npx tsx bench/upgrade.ts [--runs 1] [--topology rs|sharded|both]
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { writeSimBinaries } from '../sim/src/install.js';
import { makeFakeReleases } from '../sim/src/releases.js';
import { startReleaseServer } from '../test/binaries/helpers/release-server.js';
import { readIds, startWriter } from '../test/helpers/writer.js';
import {
  ALLOW_ROOT,
  benchEnv,
  freePortRange,
  helloOnce,
  isMain,
  median,
  pollUntil,
  progress,
  type Row,
  renderRows,
  runsText,
  secs,
  timed,
} from './lib.js';

const HOPS = 2;

type Kind = 'rs' | 'sharded';

/** The topology of each kind, and how many mongod and mongos processes each hop restarts. */
function topologyOf(kind: Kind): { spec: Record<string, unknown>; mongods: number; mongos: number } {
  const member = (set: string) => ({ host: 'localhost', port: 0, replica_set: set });
  const three = (set: string) => [member(set), member(set), member(set)];
  const quiesce = {
    mongod: { setParameter: { shutdownTimeoutMillisForSignaledShutdown: 1000 } },
    mongos: { setParameter: { mongosShutdownTimeoutMillisForSignaledShutdown: 1000 } },
  };
  if (kind === 'rs')
    return {
      spec: {
        global: { deploy_dir: 'deploy' },
        server_configs: { mongod: quiesce.mongod },
        mongod_servers: three('rs0'),
      },
      mongods: 3,
      mongos: 0,
    };
  return {
    spec: {
      global: { deploy_dir: 'deploy' },
      server_configs: quiesce,
      config_servers: three('cfg'),
      mongod_servers: [...three('sh1'), ...three('sh2')],
      mongos_servers: [
        { host: 'localhost', port: 0 },
        { host: 'localhost', port: 0 },
      ],
    },
    mongods: 9,
    mongos: 2,
  };
}
const FROM = '6.0.16';
const TARGETS = ['ubuntu2204', 'debian12', 'rhel80', 'rhel90'];

interface DisplayJson {
  uri: string;
  processes: { program: string; port: number; status: string; role: string }[];
}

async function waitSecondary(port: number): Promise<void> {
  const ok = await pollUntil(
    async () => ((await helloOnce(port, 1000)).secondary === true ? true : undefined),
    120_000,
    100,
  );
  if (!ok) throw new Error(`member on ${port} not SECONDARY within 120 s`);
}

async function waitHello(port: number): Promise<void> {
  const ok = await pollUntil(async () => ((await helloOnce(port, 1000)).ok ? true : undefined), 120_000, 100);
  if (!ok) throw new Error(`process on ${port} did not answer hello within 120 s`);
}

export async function benchUpgrade(runs: number, kind: Kind = 'rs'): Promise<Row[]> {
  const env = await benchEnv(`upgrade-${kind}`);
  const shape = topologyOf(kind);
  const processes = shape.mongods + shape.mongos;
  const label = kind === 'rs' ? '8 upgrade (3-member set)' : '8 upgrade (2 shards)';
  const mirrorRoot = join(env.root, 'mirror');
  await makeFakeReleases({
    outDir: mirrorRoot,
    versions: ['7.0.14', '8.0.4'].map((version) => ({ version, targets: TARGETS })),
  });
  const server = await startReleaseServer(mirrorRoot);
  const fromBin = join(env.root, 'bin-6.0');
  await writeSimBinaries(fromBin, FROM);
  try {
    const topo = join(env.root, 'upgrade.yaml');
    await writeFile(topo, stringify(shape.spec));
    const memberTimes: number[] = [];
    const mongosTimes: number[] = [];
    const totals: number[] = [];
    const stalls: number[] = [];
    let lost = 0;
    let acked = 0;
    let failures = 0;
    let primaryChanges = 0;
    for (let run = 0; run < runs; run++) {
      const name = `bench-upgrade-${kind}-${run}`;
      const portBase = await freePortRange(26100 + run * 20, processes);
      progress(
        `upgrade: run ${run + 1}/${runs}: deploy a ${FROM} ${kind === 'rs' ? 'replica set' : 'sharded cluster'}`,
      );
      env.track(name);
      await env.mup([
        'cluster',
        'deploy',
        name,
        topo,
        '--version',
        FROM,
        '--binary-path',
        fromBin,
        ...ALLOW_ROOT,
        '--port-base',
        String(portBase),
        '--yes',
        '--json',
      ]);
      const display = () => env.mupJson<DisplayJson>(['cluster', 'display', name]);
      // display probes with short timeouts: right after a deploy on a loaded machine a member may show as
      // Unknown or Starting for a moment.
      const settled = await pollUntil(
        async () => {
          const view = await display();
          const primaries = view.processes.filter((p) => p.status === 'Up|P').length;
          const healthy = view.processes.every((p) => ['Up|P', 'Up|S', 'Up'].includes(p.status));
          return healthy && primaries === shape.mongods / 3 ? view : undefined;
        },
        120_000,
        500,
      );
      if (!settled) throw new Error('upgrade: the deployed set did not settle with one primary');
      const { uri } = settled;
      for (let i = 0; i < 3; i++) {
        const secondary = await pollUntil(
          async () => (await display()).processes.find((p) => p.status === 'Up|S'),
          60_000,
          500,
        );
        if (!secondary) throw new Error('upgrade: no secondary to restart');
        progress(`upgrade: run ${run + 1}: restart of ${secondary.program} alone (${i + 1}/3)`);
        memberTimes.push(
          await timed(async () => {
            await env.mup(['cluster', 'supervisor', 'restart', name, secondary.program, '--yes']);
            await waitSecondary(secondary.port);
          }),
        );
      }
      const router = settled.processes.find((p) => p.role === 'mongos');
      if (router) {
        progress(`upgrade: run ${run + 1}: restart of ${router.program} alone`);
        mongosTimes.push(
          await timed(async () => {
            await env.mup(['cluster', 'supervisor', 'restart', name, router.program, '--yes']);
            await waitHello(router.port);
          }),
        );
      }
      progress(`upgrade: run ${run + 1}: upgrade to 8.0 under a w:majority writer`);
      const writer = await startWriter(uri, { targets: [{ db: 'bench', collection: `writes${run}` }] });
      let report: Awaited<ReturnType<typeof writer.stop>> | undefined;
      try {
        await writer.waitForWrites(20);
        totals.push(
          await timed(() =>
            env.mup(['cluster', 'upgrade', name, '8.0', '--mirror', server.url, '--yes', '--json'], 900_000),
          ),
        );
        await new Promise((r) => setTimeout(r, 1000));
      } finally {
        report = await writer.stop();
      }
      const present = await readIds(uri, 'bench', `writes${run}`);
      lost += report.acknowledged.filter((id) => !present.has(id)).length;
      acked += report.acknowledged.length;
      failures += report.failures;
      primaryChanges += Math.max(0, report.primaries.length - 1);
      stalls.push(report.longestStallMs / 1000);
      await env.mup(['cluster', 'destroy', name, '--yes'], 300_000);
      env.untrack(name);
    }
    const member = median(memberTimes);
    const router = mongosTimes.length > 0 ? median(mongosTimes) : 0;
    const sum = (member * shape.mongods + router * shape.mongos) * HOPS;
    const restarts =
      shape.mongos > 0
        ? `${shape.mongods * HOPS} × member + ${shape.mongos * HOPS} × mongos`
        : `${shape.mongods * HOPS} × member`;
    return [
      {
        bench: label,
        metric: 'member restart alone',
        value: secs(member),
        baseline: '',
        note: `until SECONDARY again, 1 s quiesce; runs: ${runsText(memberTimes)}`,
      },
      ...(shape.mongos > 0
        ? [
            {
              bench: label,
              metric: 'mongos restart alone',
              value: secs(router),
              baseline: '',
              note: `until it answers hello again, 1 s quiesce; runs: ${runsText(mongosTimes)}`,
            },
          ]
        : []),
      {
        bench: label,
        metric: `upgrade ${FROM} → 8.0.4 total`,
        value: secs(median(totals)),
        baseline: `${restarts} ${secs(sum)}`,
        ratio: median(totals) / sum,
        note: `mup adds ${secs(median(totals) - sum)} (binaries, preflight, FCV, step-downs); runs: ${runsText(totals)}`,
      },
      {
        bench: label,
        metric: 'longest w:majority stall',
        value: secs(median(stalls)),
        baseline: `member ${secs(member)}`,
        ratio: median(stalls) / member,
        note: `runs: ${runsText(stalls)}; ${acked} writes acked, ${lost} lost, ${failures} failed attempts, ${primaryChanges} primary changes`,
      },
    ];
  } finally {
    await env.cleanup();
    await server.close();
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '1' }, topology: { type: 'string', default: 'both' } },
  });
  const kinds: Kind[] = values.topology === 'both' ? ['rs', 'sharded'] : [values.topology as Kind];
  const rows: Row[] = [];
  for (const kind of kinds) rows.push(...(await benchUpgrade(Number(values.runs), kind)));
  process.stdout.write(`${renderRows(rows)}\n`);
}
