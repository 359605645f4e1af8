// Benchmark 1 — CLI start-up: `mup --version` and `mup cluster list` (empty home) against `node -e 0`,
// run alternately in the same loop; ratio of medians. Target ≤ 3×.
// `--imports` (or a ratio above target) adds where start-up goes: each module of the CLI's eager import
// graph imported alone in a fresh node, median cost above `node -e 0`.
//   npx tsx bench/startup.ts [--runs 15] [--imports]
import { parseArgs } from 'node:util';
import { mupBin, repoRoot } from '../test/helpers/cli.js';
import {
  benchEnv,
  exec,
  isMain,
  median,
  progress,
  type Row,
  renderRows,
  runsText,
  secs,
  timed,
} from './lib.js';

const TARGET = 3;

/** Modules `mup cluster list` loads before its action runs, heaviest suspects first. */
const EAGER_MODULES = [
  '@commander-js/extra-typings',
  'picocolors',
  'cli-table3',
  'yaml',
  'write-file-atomic',
  './dist/src/ui/output.js',
  './dist/src/ui/table.js',
  './dist/src/ui/progress.js',
  './dist/src/ui/prompt.js',
  './dist/src/ui/download-progress.js',
  './dist/src/cli/commands/cluster.js',
  './dist/src/cli/commands/playground.js',
  './dist/src/cli/commands/mongo.js',
  './dist/src/cli/commands/topology.js',
  './dist/src/cli/commands/template.js',
  './dist/src/ops/list.js',
  './dist/src/meta/store.js',
];

export interface StartupResult {
  rows: Row[];
  ratioList: number;
}

export async function benchStartup(runs: number, withImports: boolean): Promise<StartupResult> {
  const env = await benchEnv('startup');
  try {
    const childEnv = { ...process.env, NO_COLOR: '1', MUP_HOME: env.home, HOME: env.userHome };
    const node = () => exec(process.execPath, ['-e', '0'], { env: childEnv });
    const version = () => exec(process.execPath, [mupBin, '--version'], { env: childEnv });
    const list = () => exec(process.execPath, [mupBin, 'cluster', 'list'], { env: childEnv });
    // Warm the page cache for all three.
    await node();
    await version();
    await list();
    const t = { node: [] as number[], version: [] as number[], list: [] as number[] };
    for (let i = 0; i < runs; i++) {
      t.node.push(await timed(node));
      t.version.push(await timed(version));
      t.list.push(await timed(list));
    }
    const base = median(t.node);
    const ratioVersion = median(t.version) / base;
    const ratioList = median(t.list) / base;
    const rows: Row[] = [
      {
        bench: '1 startup',
        metric: 'mup --version',
        value: secs(median(t.version)),
        baseline: `node -e 0 ${secs(base)}`,
        ratio: ratioVersion,
        target: `≤ ${TARGET}×`,
        note: `${runs} runs; mup: ${runsText(t.version)}; node: ${runsText(t.node)}`,
      },
      {
        bench: '1 startup',
        metric: 'mup cluster list',
        value: secs(median(t.list)),
        baseline: `node -e 0 ${secs(base)}`,
        ratio: ratioList,
        target: `≤ ${TARGET}×`,
        note: `${runs} runs; ${runsText(t.list)}`,
      },
    ];
    if (withImports || ratioList > TARGET || ratioVersion > TARGET) rows.push(...(await importCosts(runs)));
    return { rows, ratioList };
  } finally {
    await env.cleanup();
  }
}

/** Each eager module imported alone in a fresh node; cost = median above `node -e 0` of the same loop. */
async function importCosts(runs: number): Promise<Row[]> {
  progress('start-up: timing eager imports one by one');
  const rounds = Math.max(5, Math.ceil(runs / 2));
  const bare: number[] = [];
  const per = new Map<string, number[]>(EAGER_MODULES.map((m) => [m, []]));
  const run = (code: string) =>
    exec(process.execPath, ['--input-type=module', '-e', code], { cwd: repoRoot, timeoutMs: 60_000 });
  for (let i = 0; i < rounds; i++) {
    bare.push(await timed(() => run('')));
    for (const m of EAGER_MODULES)
      per.get(m)?.push(await timed(() => run(`await import(${JSON.stringify(m)});`)));
  }
  const base = median(bare);
  return [...per]
    .map(([m, xs]) => ({ m, cost: median(xs) - base }))
    .sort((a, b) => b.cost - a.cost)
    .map(({ m, cost }) => ({
      bench: '1 startup',
      metric: `import ${m.replace('./dist/', '')}`,
      value: `+${(cost * 1000).toFixed(0)} ms`,
      baseline: `node -e '' ${secs(base)}`,
      note: `alone, incl. its own imports; ${rounds} runs`,
    }));
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '15' }, imports: { type: 'boolean', default: false } },
  });
  const result = await benchStartup(Number(values.runs), values.imports === true);
  process.stdout.write(`${renderRows(result.rows)}\n`);
}
