// Benchmark: `mup mongo install` (download + streaming sha256 + extract + atomic install) of a large archive
// against the shell baseline `curl | tee | sha256sum` then `tar -xzf`, both from the same local HTTP server.
// Not a test: prints medians and the ratio. Needs `npm run build` (runs the built CLI).
//   npx tsx bench/download.ts [--size-mb 200] [--runs 5]
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeFakeReleases } from '../sim/src/releases.js';
import { startReleaseServer } from '../test/binaries/helpers/release-server.js';
import { mupBin, tempDir } from '../test/helpers/cli.js';

const { values } = parseArgs({
  options: { 'size-mb': { type: 'string', default: '200' }, runs: { type: 'string', default: '5' } },
});
const sizeMb = Number(values['size-mb']);
const runs = Number(values.runs);

function exec(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} exited ${code}: ${err.slice(-500)}`)),
    );
  });
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const root = await tempDir('mup-bench-releases-');
const work = await tempDir('mup-bench-work-');
process.stdout.write(`building a ${sizeMb} MiB archive...\n`);
const made = await makeFakeReleases({
  outDir: root,
  versions: [{ version: '7.0.14' }],
  padBytes: sizeMb * 1024 * 1024,
});
const built = made.archives[0];
if (!built) throw new Error('no archive built');
const archive = built;
const server = await startReleaseServer(root);
const url = `${server.url}${archive.path}`;

async function mupRun(i: number): Promise<void> {
  const home = join(work, `home-${i}`);
  await exec(process.execPath, [mupBin, '--json', 'mongo', 'install', '7.0.14', '--target', 'ubuntu2204'], {
    ...process.env,
    MUP_HOME: home,
    MUP_MIRROR: server.url,
  });
  await rm(home, { recursive: true, force: true });
}

async function baselineRun(i: number): Promise<void> {
  const dir = join(work, `baseline-${i}`);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'archive.tgz');
  const sum = await exec('bash', ['-o', 'pipefail', '-c', `curl -sf '${url}' | tee '${file}' | sha256sum`]);
  if (!sum.startsWith(archive.sha256)) throw new Error('baseline checksum mismatch');
  await exec('tar', ['-xzf', file, '-C', dir, '--strip-components=1']);
  await rm(dir, { recursive: true, force: true });
}

try {
  // One untimed round each warms the page cache and the server.
  await mupRun(-1);
  await baselineRun(-1);
  const mupTimes: number[] = [];
  const baseTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    mupTimes.push(await timed(() => mupRun(i)));
    baseTimes.push(await timed(() => baselineRun(i)));
  }
  const mupMedian = median(mupTimes);
  const baseMedian = median(baseTimes);
  const mib = archive.bytes / 1024 / 1024;
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  process.stdout.write(
    [
      `archive: ${mib.toFixed(1)} MiB, ${runs} runs each`,
      `mup mongo install        median ${mupMedian.toFixed(2)} s (${(mib / mupMedian).toFixed(0)} MiB/s)  runs: ${fmt(mupTimes)}`,
      `curl|sha256sum + tar     median ${baseMedian.toFixed(2)} s (${(mib / baseMedian).toFixed(0)} MiB/s)  runs: ${fmt(baseTimes)}`,
      `ratio mup / baseline: ${(mupMedian / baseMedian).toFixed(2)}`,
      '',
    ].join('\n'),
  );
} finally {
  await server.close();
  await rm(root, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
}
