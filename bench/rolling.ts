// Benchmark 5 — rolling restart of a 3-member replica set under a continuous w:"majority" writer
// (test/helpers/writer.ts): the longest gap between two acknowledged writes, the total duration of
// `mup cluster restart`, and that no acknowledged write is missing afterwards.
// Reference, same run: one member's own restart — `mup cluster supervisor restart <name> <secondary>` until
// that member answers hello as SECONDARY again — median over runs, times the number of members. A rolling
// restart cannot beat that sum; what it adds on top is the step-down of the primary and the checks between
// members. Like for like: both stop every member as a SECONDARY (the rolling restart moves the primary away
// first) with SIGTERM through supervisord, so from 5.0 both pay the member's quiesce mode, 15 s by default
// (shutdownTimeoutMillisForSignaledShutdown, kept on purpose by a rolling restart: time for clients to move).
// A topology shortens it for both with server_configs: { mongod: { setParameter:
// { shutdownTimeoutMillisForSignaledShutdown: <ms> } } }; this benchmark keeps the default.
//   npx tsx bench/rolling.ts [--runs 3]
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
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
  SIM_VERSION,
  secs,
  timed,
} from './lib.js';

const MEMBERS = 3;
const NAME = 'bench-rolling';

interface DisplayJson {
  uri: string;
  processes: { program: string; port: number; status: string; pid?: number }[];
}

async function waitSecondary(port: number): Promise<void> {
  const ok = await pollUntil(
    async () => ((await helloOnce(port, 1000)).secondary === true ? true : undefined),
    120_000,
    100,
  );
  if (!ok) throw new Error(`member on ${port} not SECONDARY within 120 s`);
}

export async function benchRolling(runs: number): Promise<Row[]> {
  const env = await benchEnv('rolling');
  try {
    const topo = join(env.root, 'rolling.yaml');
    await writeFile(
      topo,
      stringify({
        global: { deploy_dir: 'deploy' },
        mongod_servers: Array.from({ length: MEMBERS }, () => ({
          host: 'localhost',
          port: 0,
          replica_set: 'rs0',
        })),
      }),
    );
    const portBase = await freePortRange(26000, MEMBERS);
    progress('rolling: deploy a 3-member replica set');
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
      '--port-base',
      String(portBase),
      '--yes',
      '--json',
    ]);
    const display = () => env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
    const { uri } = await display();

    const cliTimes: number[] = [];
    const memberTimes: number[] = [];
    for (let i = 0; i < runs; i++) {
      const secondary = (await display()).processes.find((p) => p.status === 'Up|S');
      if (!secondary) throw new Error('rolling: no secondary to restart');
      progress(`rolling: run ${i + 1}/${runs} restart of ${secondary.program} alone`);
      let cli = 0;
      memberTimes.push(
        await timed(async () => {
          cli = await timed(() =>
            env.mup(['cluster', 'supervisor', 'restart', NAME, secondary.program, '--yes']),
          );
          await waitSecondary(secondary.port);
        }),
      );
      cliTimes.push(cli);
    }

    const totals: number[] = [];
    const stalls: number[] = [];
    let lost = 0;
    let acked = 0;
    let failures = 0;
    let primaryChanges = 0;
    for (let i = 0; i < runs; i++) {
      progress(`rolling: run ${i + 1}/${runs} rolling restart under a w:majority writer`);
      const writer = await startWriter(uri, { targets: [{ db: 'bench', collection: `writes${i}` }] });
      let report: Awaited<ReturnType<typeof writer.stop>> | undefined;
      try {
        await writer.waitForWrites(20);
        totals.push(await timed(() => env.mup(['cluster', 'restart', NAME, '--yes', '--json'])));
        // Keep writing a moment after the restart, so a stall at its very end is measured too.
        await new Promise((r) => setTimeout(r, 1000));
      } finally {
        report = await writer.stop();
      }
      const present = await readIds(uri, 'bench', `writes${i}`);
      lost += report.acknowledged.filter((id) => !present.has(id)).length;
      acked += report.acknowledged.length;
      failures += report.failures;
      primaryChanges += Math.max(0, report.primaries.length - 1);
      stalls.push(report.longestStallMs / 1000);
    }
    const memberMed = median(memberTimes);
    const sum = memberMed * MEMBERS;
    return [
      {
        bench: '5 rolling',
        metric: 'member restart alone',
        value: secs(memberMed),
        baseline: `supervisor restart CLI ${secs(median(cliTimes))}`,
        note: `until SECONDARY again, quiesce included; runs: ${runsText(memberTimes)}`,
      },
      {
        bench: '5 rolling',
        metric: 'rolling restart total',
        value: secs(median(totals)),
        baseline: `${MEMBERS} × member ${secs(sum)}`,
        ratio: median(totals) / sum,
        note: `mup adds ${secs(median(totals) - sum)}; runs: ${runsText(totals)}; each member restart includes its quiesce (15 s by default from 5.0)`,
      },
      {
        bench: '5 rolling',
        metric: 'longest w:majority stall',
        value: secs(median(stalls)),
        baseline: `${MEMBERS} × member ${secs(sum)}`,
        ratio: median(stalls) / sum,
        note: `runs: ${runsText(stalls)}; ${acked} writes acked, ${lost} lost, ${failures} failed attempts, ${primaryChanges} primary changes`,
      },
    ];
  } finally {
    await env.cleanup();
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
  process.stdout.write(`${renderRows(await benchRolling(Number(values.runs)))}\n`);
}
