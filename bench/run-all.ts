// Runs every benchmark in turn and prints one table (stdout); progress goes to stderr.
// Needs `npm run build` first (the benchmarks run the built CLI and the compiled simulator).
//   npx tsx bench/run-all.ts            full: sizes 3,14,30,60, several runs each (about 8 minutes here)
//   npx tsx bench/run-all.ts --quick    fewer runs, sizes 3 and 14, a 50 MiB download (a few minutes)
//   npx tsx bench/run-all.ts --only startup,playground,scale,rolling,download
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../test/helpers/cli.js';
import { benchAuth } from './auth.js';
import { exec, progress, type Row, renderRows } from './lib.js';
import { benchPlayground } from './playground.js';
import { benchRolling } from './rolling.js';
import { benchScale } from './scale.js';
import { benchStartup } from './startup.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const quick = values.quick === true;
const only = values.only === undefined ? undefined : new Set(values.only.split(','));
const settings = quick
  ? {
      startupRuns: 5,
      playgroundRuns: 1,
      authRuns: 1,
      sizes: [3, 14],
      scaleRuns: 1,
      displayRuns: 3,
      rollingRuns: 1,
      mib: 50,
      downloadRuns: 2,
    }
  : {
      startupRuns: 15,
      playgroundRuns: 3,
      authRuns: 3,
      sizes: [3, 14, 30, 60],
      scaleRuns: 3,
      displayRuns: 5,
      rollingRuns: 3,
      mib: 200,
      downloadRuns: 5,
    };

/** bench/download.ts is a script of its own: run it and read its summary lines. */
async function benchDownload(mib: number, runs: number): Promise<Row[]> {
  const { stdout } = await exec(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'bench', 'download.ts'),
      '--size-mb',
      String(mib),
      '--runs',
      String(runs),
    ],
    { cwd: repoRoot, timeoutMs: 1_800_000 },
  );
  const mup = /mup mongo install\s+median ([\d.]+) s \((\d+) MiB\/s\)\s+runs: (.*)/.exec(stdout);
  const base = /curl\|sha256sum \+ tar\s+median ([\d.]+) s \((\d+) MiB\/s\)\s+runs: (.*)/.exec(stdout);
  const ratio = /ratio mup \/ baseline: ([\d.]+)/.exec(stdout);
  if (!mup || !base || !ratio) throw new Error(`unexpected output of bench/download.ts:\n${stdout}`);
  return [
    {
      bench: '6 download',
      metric: `mongo install ${mib} MiB`,
      value: `${mup[1]} s (${mup[2]} MiB/s)`,
      baseline: `curl|sha256sum+tar ${base[1]} s`,
      ratio: Number(ratio[1]),
      note: `${runs} runs; mup: ${mup[3]}; baseline: ${base[3]}`,
    },
  ];
}

const benchmarks: [string, () => Promise<Row[]>][] = [
  ['startup', async () => (await benchStartup(settings.startupRuns, false)).rows],
  ['playground', () => benchPlayground(settings.playgroundRuns)],
  ['scale', () => benchScale(settings.sizes, settings.scaleRuns, settings.displayRuns)],
  ['rolling', () => benchRolling(settings.rollingRuns)],
  ['download', () => benchDownload(settings.mib, settings.downloadRuns)],
  ['auth', () => benchAuth(settings.authRuns)],
];

const started = new Date();
const loadBefore = loadavg();
const rows: Row[] = [];
for (const [name, run] of benchmarks) {
  if (only && !only.has(name)) continue;
  progress(`${name}: start`);
  const t0 = Date.now();
  try {
    rows.push(...(await run()));
  } catch (error) {
    progress(`${name}: failed: ${error instanceof Error ? error.stack : String(error)}`);
    rows.push({
      bench: name,
      metric: 'failed',
      value: '-',
      baseline: '-',
      note: String(error).split('\n')[0],
    });
  }
  progress(`${name}: done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
const loadAfter = loadavg();
const cpu = cpus();
process.stdout.write(
  [
    `mup benchmarks, ${quick ? 'quick' : 'full'} run, ${started.toISOString()} → ${new Date().toISOString()}`,
    `machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ` +
      `load average ${loadBefore[0]?.toFixed(1)} at start, ${loadAfter[0]?.toFixed(1)} at end`,
    'ratios compare medians measured side by side in this run; lower is better for mup',
    '',
    renderRows(rows),
    '',
  ].join('\n'),
);
