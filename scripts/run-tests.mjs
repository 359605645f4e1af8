#!/usr/bin/env node
// Runs every *.test.ts under test/ and sim/test/ with node:test through tsx, one process per file, in two
// pools: end-to-end and simulator files (they mostly wait on child processes) and CPU-bound unit files.
// Optional arguments filter by path substring:  node scripts/run-tests.mjs topology render
//
// Every file has a time limit (the whole process group is killed when it is exceeded) and every test a
// --test-timeout, so no run can hang. At the end: the slowest files, counts per kind, and any process a test
// left running (found by the run id every test process and its children inherit), which fails the run.
//
// Environment: MUP_TEST_IO_CONCURRENCY (4), MUP_TEST_CPU_CONCURRENCY (2), MUP_TEST_FILE_TIMEOUT_MS (per
// file; default 20 min for e2e files, 10 min otherwise), MUP_TEST_TIMEOUT_MS (per test; default the file's limit less a minute, at least 10 min).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
process.chdir(root);

function findTests(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/** 'e2e' | 'simulator' | 'unit' */
function kindOf(file) {
  // The fleet's files drive the built CLI over SSH too: they wait on processes, and the 30-host one is long.
  if (file.startsWith(join('test', 'e2e')) || file.startsWith(join('test', 'fleet'))) return 'e2e';
  if (file.startsWith(join('sim', 'test'))) return 'simulator';
  return 'unit';
}

const filters = process.argv.slice(2);
const files = [...findTests('test'), ...findTests(join('sim', 'test'))]
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const intEnv = (name, fallback) => {
  const raw = process.env[name];
  const n = raw === undefined ? fallback : Number.parseInt(raw, 10);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${name} must be a positive integer, got ${raw}`);
    process.exit(2);
  }
  return n;
};
const ioConcurrency = intEnv('MUP_TEST_IO_CONCURRENCY', 4);
const cpuConcurrency = intEnv('MUP_TEST_CPU_CONCURRENCY', 2);
const fileTimeoutMs = (file) =>
  intEnv('MUP_TEST_FILE_TIMEOUT_MS', kindOf(file) === 'e2e' ? 20 * 60_000 : 10 * 60_000);
// `node --test` counts the file itself as a test, so --test-timeout bounds the whole file too: it is the
// file's limit less a minute (at least 10 min), so that node's own timeout names the hung test first and the
// runner's kill of the process group stays the last resort.
const testTimeoutMs = (file) =>
  intEnv('MUP_TEST_TIMEOUT_MS', Math.max(10 * 60_000, fileTimeoutMs(file) - 60_000));

// Durations of the previous run, to start the longest files first (a shorter critical path).
const timesFile = join(root, 'node_modules', '.cache', 'mup-tests', 'times.json');
let previous = {};
try {
  previous = JSON.parse(readFileSync(timesFile, 'utf8'));
} catch {
  // first run: alphabetical order
}
const byPreviousTime = (a, b) => (previous[b] ?? 0) - (previous[a] ?? 0) || a.localeCompare(b);

const runId = `${process.pid}-${randomBytes(6).toString('hex')}`;
const preload = join(root, 'test', 'helpers', 'network-guard.mjs');
const nodeOptions = [process.env.NODE_OPTIONS, `--import=${preload}`].filter(Boolean).join(' ');

// Files that deploy the example topologies into /opt, /etc, /var/log and /data run, when this runner is
// root and has unshare, in a private mount namespace where those dirs are overlays on a tmpfs (and any
// mongodb dir of theirs is hidden): the machine's dirs are never written, everything vanishes with the
// namespace, and such files may run at the same time as each other and as anyone else's.
const SYSTEM_DIRS = ['/opt', '/etc', '/var/log', '/data'];
const isolationScript = [
  'set -e',
  'mount -t tmpfs mup-test-root /mnt',
  // set -e stops at the first failing line: nothing below a mount that failed runs.
  ...SYSTEM_DIRS.flatMap((d) => [
    `mkdir -p /mnt${d}/upper /mnt${d}/work`,
    `mount -t overlay mup-test-root -o lowerdir=${d},upperdir=/mnt${d}/upper,workdir=/mnt${d}/work ${d}`,
    // Removes only within the overlay (whiteouts in the tmpfs): the machine's own dir is untouched.
    `rm -rf ${d}/mongodb`,
  ]),
  'exec "$@"',
].join('\n');
const canIsolate =
  process.getuid?.() === 0 && spawnSync('unshare', ['-m', '--propagation', 'private', 'true']).status === 0;
let createdDataDir = false;

function needsSystemDirs(file) {
  return readFileSync(file, 'utf8').includes('system-dirs.js');
}

/** Counts from the spec reporter's summary ("ℹ tests 5" ...). */
function summaryCounts(output) {
  const count = (label) => {
    const m = output.match(new RegExp(`^ℹ ${label} (\\d+)$`, 'm'));
    return m ? Number.parseInt(m[1], 10) : 0;
  };
  return { tests: count('tests'), pass: count('pass'), fail: count('fail'), skipped: count('skipped') };
}

/** The reporter's "failing tests" block (or the output's last lines when there is none), at most 120 lines. */
function failureDetails(output) {
  const at = output.lastIndexOf('✖ failing tests:');
  const lines = (at >= 0 ? output.slice(at) : output).trimEnd().split('\n');
  return (at >= 0 ? lines.slice(0, 120) : lines.slice(-120)).join('\n');
}

/** Process groups of the files running now, killed if this runner is interrupted. */
const running = new Set();
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => {
    for (const pid of running) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.exit(130);
  });

function runFile(file) {
  const started = Date.now();
  return new Promise((resolveRun) => {
    const nodeArgs = [
      '--import',
      'tsx',
      '--test',
      '--test-reporter=spec',
      `--test-timeout=${testTimeoutMs(file)}`,
      file,
    ];
    const isolate = canIsolate && needsSystemDirs(file);
    if (isolate && !existsSync('/data')) {
      // The overlay needs a mount point; removed at the end (it stays empty: writes go to the overlay).
      mkdirSync('/data', { mode: 0o755 });
      createdDataDir = true;
    }
    const [command, args] = isolate
      ? [
          'unshare',
          [
            '-m',
            '--propagation',
            'private',
            'sh',
            '-c',
            isolationScript,
            'sh',
            process.execPath,
            ...nodeArgs,
          ],
        ]
      : [process.execPath, nodeArgs];
    const child = spawn(command, args, {
      cwd: root,
      // Its own process group, so that a timeout kills what the file started as well.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        MUP_TEST_RUN: runId,
        NODE_OPTIONS: nodeOptions,
        ...(isolate ? { MUP_TEST_ISOLATED_ROOT: '1' } : {}),
      },
    });
    running.add(child.pid);
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      output += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d) => {
      output += d;
    });
    let timedOut = false;
    const limit = fileTimeoutMs(file);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, limit);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child.pid);
      const ms = Date.now() - started;
      const counts = summaryCounts(output);
      const ok = code === 0 && !timedOut;
      const status = timedOut ? `TIMED OUT after ${limit} ms` : ok ? 'ok' : `FAILED (exit ${code ?? signal})`;
      const where = isolate ? ' (private system dirs)' : '';
      process.stdout.write(`\n━━ ${file}${where} ━━ ${status}, ${(ms / 1000).toFixed(1)} s\n${output}`);
      resolveRun({ file, kind: kindOf(file), ms, ok, timedOut, output, ...counts });
    });
  });
}

async function pool(list, concurrency) {
  const queue = [...list].sort(byPreviousTime);
  const results = [];
  const worker = async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift())
      results.push(await runFile(file));
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
  return results;
}

/** pids of processes that inherited this run's id (supervisord, simulated mongod, mup...), other than us. */
function leftoverProcesses() {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let environ;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (!environ.split('\0').includes(`MUP_TEST_RUN=${runId}`)) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'latin1').split('\0').join(' ').trim();
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue;
    } catch {
      continue;
    }
    found.push({ pid: Number(entry), cmdline });
  }
  return found;
}

const startedAt = Date.now();
const ioFiles = files.filter((f) => kindOf(f) !== 'unit');
const cpuFiles = files.filter((f) => kindOf(f) === 'unit');
const results = (await Promise.all([pool(ioFiles, ioConcurrency), pool(cpuFiles, cpuConcurrency)])).flat();
const wallMs = Date.now() - startedAt;

try {
  mkdirSync(join(timesFile, '..'), { recursive: true });
  writeFileSync(
    timesFile,
    JSON.stringify({ ...previous, ...Object.fromEntries(results.map((r) => [r.file, r.ms])) }),
  );
} catch {
  // only an ordering hint
}

const pad = (s, n) => String(s).padEnd(n);
const padl = (s, n) => String(s).padStart(n);
const slowest = [...results].sort((a, b) => b.ms - a.ms).slice(0, 15);
const width = Math.max(...slowest.map((r) => r.file.length), 4);
console.log('\nslowest files (reported, never a gate):');
console.log(`  ${pad('file', width)}  ${padl('s', 7)}  ${padl('tests', 5)}  status`);
for (const r of slowest)
  console.log(
    `  ${pad(r.file, width)}  ${padl((r.ms / 1000).toFixed(1), 7)}  ${padl(r.tests, 5)}  ${r.timedOut ? 'timed out' : r.ok ? 'ok' : 'FAILED'}`,
  );
console.log('\nper kind:');
for (const kind of ['unit', 'e2e', 'simulator']) {
  const of = results.filter((r) => r.kind === kind);
  if (of.length === 0) continue;
  const sum = (k) => of.reduce((n, r) => n + r[k], 0);
  console.log(
    `  ${pad(kind, 10)} ${padl(of.length, 3)} files  ${padl(sum('tests'), 4)} tests  ${padl(sum('pass'), 4)} pass  ${padl(sum('fail'), 3)} fail  ${padl(sum('skipped'), 3)} skipped  ${padl((sum('ms') / 1000).toFixed(0), 5)} s summed`,
  );
}
console.log(
  `  wall time ${(wallMs / 1000).toFixed(1)} s (io pool ${ioConcurrency}, cpu pool ${cpuConcurrency})`,
);

if (createdDataDir) {
  try {
    rmdirSync('/data');
  } catch (error) {
    console.log(`\n/data, created as a mount point, is not empty: ${error.message}`);
  }
}
const failed = results.filter((r) => !r.ok);
const leaks = leftoverProcesses();
if (leaks.length > 0) {
  console.log(`\n${leaks.length} process(es) left running by the tests (a cleanup bug); killing them:`);
  for (const leak of leaks) {
    console.log(`  pid ${leak.pid}: ${leak.cmdline}`);
    try {
      process.kill(leak.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
// A long run's log is often read from its tail only: each failure's details are repeated last.
for (const r of failed) console.log(`\n━━ why ${r.file} failed ━━\n${failureDetails(r.output)}`);
if (failed.length > 0) console.log(`\nfailed files:\n${failed.map((r) => `  ${r.file}`).join('\n')}`);
process.exit(failed.length > 0 || leaks.length > 0 ? 1 : 0);
