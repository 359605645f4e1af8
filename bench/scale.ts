// Benchmark 3 — scale: `cluster deploy`, `display` and `stop` of clusters of 3, 14, 30 and 60 simulated
// processes on this one host (ports `0`, a distinct --port-base per size, default --concurrency 5).
//   3  = replica set of 3
//   14 = sharded: config RS of 3, 3 shards × 3, 2 mongos
//   30 = sharded: config RS of 3, 8 shards × 3, 3 mongos
//   60 = sharded: config RS of 3, 18 shards × 3, 3 mongos
// Growth is read against the 3-process cluster of the same run (total_N / total_3 next to N / 3: below
// means sub-linear). A second reference is the machine itself: N bare simulated mongods spawned at once
// (no supervisord, no replica set) until every one answers hello. RSS of every process + supervisord.
// Benchmark 4 runs on the 14-process cluster: `display` with all up, then with one shard member's process
// stopped (`mup cluster supervisor stop`): medians both ways; a dead member must not make display slow.
//   npx tsx bench/scale.ts [--sizes 3,14,30,60] [--runs 3] [--display-runs 5]
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import {
  ALLOW_ROOT,
  type BenchEnv,
  benchEnv,
  freePortRange,
  helloOnce,
  isMain,
  median,
  pidAlive,
  pollUntil,
  progress,
  type Row,
  renderRows,
  rssMb,
  runsText,
  SIM_VERSION,
  secs,
  timed,
} from './lib.js';

interface Shape {
  configServers: number;
  shards: number;
  membersPerSet: number;
  mongos: number;
}

function shapeFor(size: number): Shape {
  if (size === 3) return { configServers: 0, shards: 1, membersPerSet: 3, mongos: 0 };
  // Sharded: a config RS of 3, shards of 3, and the routers left over (2 or 3).
  const mongos = (size - 3) % 3 === 2 ? 2 : 3;
  const shards = (size - 3 - mongos) / 3;
  if (!Number.isInteger(shards) || shards < 1) throw new Error(`no sharded shape of ${size} processes`);
  return { configServers: 3, shards, membersPerSet: 3, mongos };
}

function describe(shape: Shape): string {
  return shape.configServers === 0
    ? `RS of ${shape.membersPerSet}`
    : `cfg ${shape.configServers} + ${shape.shards}×${shape.membersPerSet} + ${shape.mongos} mongos`;
}

function topologyYaml(shape: Shape): string {
  const local = (extra: Record<string, unknown> = {}) => ({ host: 'localhost', port: 0, ...extra });
  const spec: Record<string, unknown> = { global: { deploy_dir: 'deploy' } };
  if (shape.configServers === 0) {
    spec.mongod_servers = Array.from({ length: shape.membersPerSet }, () => local({ replica_set: 'rs0' }));
  } else {
    spec.config_servers = Array.from({ length: shape.configServers }, () => local({ replica_set: 'cfg' }));
    spec.mongod_servers = Array.from({ length: shape.shards }, (_, s) =>
      Array.from({ length: shape.membersPerSet }, () => local({ replica_set: `shard${s + 1}` })),
    ).flat();
    spec.mongos_servers = Array.from({ length: shape.mongos }, () => local());
  }
  return stringify(spec);
}

interface DisplayJson {
  supervisors: { pid?: number }[];
  processes: { program: string; role: string; status: string; pid?: number }[];
}

/**
 * Reference: `count` bare simulated mongods started at once, until each answers hello; then SIGTERM. They are
 * standalones (no --replSet), which have no quiesce mode, so their untimed stop takes no 15 s.
 */
async function bareStart(env: BenchEnv, count: number, portBase: number, run: number): Promise<number> {
  const dir = join(env.root, `bare-${count}-${run}`);
  const children: { pid: number; exited: Promise<void> }[] = [];
  try {
    return await timed(async () => {
      for (let i = 0; i < count; i++) {
        const dbPath = join(dir, String(i));
        await mkdir(dbPath, { recursive: true });
        const child = spawn(
          join(env.binDir, 'mongod'),
          ['--port', String(portBase + i), '--bind_ip', '127.0.0.1', '--dbpath', dbPath],
          { stdio: 'ignore' },
        );
        if (child.pid === undefined) throw new Error('bare start: spawn failed');
        env.trackPid(child.pid);
        children.push({ pid: child.pid, exited: new Promise((r) => child.once('exit', () => r())) });
      }
      const answered = await Promise.all(
        Array.from({ length: count }, (_, i) => pollUntil(() => helloOnce(portBase + i), 120_000, 150)),
      );
      if (answered.some((a) => a === undefined))
        throw new Error(`bare start: not all ${count} answered hello`);
    });
  } finally {
    for (const c of children) if (pidAlive(c.pid)) process.kill(c.pid, 'SIGTERM');
    await Promise.race([
      Promise.all(children.map((c) => c.exited)),
      // Unref'd: a pending timer would otherwise hold the process open for 30 s after the last run.
      new Promise((r) => setTimeout(r, 30_000).unref()),
    ]);
  }
}

interface SizeResult {
  size: number;
  shape: Shape;
  deploy: number[];
  display: number[];
  stop: number[];
  bare: number[];
  rssTotalMb: number;
  deadDisplay?: { up: number[]; dead: number[]; stoppedProgram: string };
}

function pidsOf(view: DisplayJson): number[] {
  return [...view.supervisors.map((s) => s.pid), ...view.processes.map((p) => p.pid)].filter(
    (p): p is number => typeof p === 'number',
  );
}

async function sumRss(view: DisplayJson): Promise<number> {
  let total = 0;
  for (const pid of pidsOf(view)) total += await rssMb(pid);
  return total;
}

/** Removes a cluster that `cluster stop` left stopped (untimed), then checks none of its processes is left. */
async function removeStopped(env: BenchEnv, name: string, pids: readonly number[]): Promise<void> {
  await env.mup(['cluster', 'destroy', name, '--yes']);
  env.untrack(name);
  const gone = await pollUntil(async () => (pids.some(pidAlive) ? undefined : true), 60_000, 200);
  if (!gone)
    throw new Error(`${name}: processes still alive after destroy: ${pids.filter(pidAlive).join(' ')}`);
}

async function benchSize(
  env: BenchEnv,
  size: number,
  portBase: number,
  runs: number,
  displayRuns: number,
): Promise<SizeResult> {
  const shape = shapeFor(size);
  const topo = join(env.root, `topology-${size}.yaml`);
  await writeFile(topo, topologyYaml(shape));
  const name = `bench-${size}`;
  const result: SizeResult = { size, shape, deploy: [], display: [], stop: [], bare: [], rssTotalMb: 0 };
  for (let run = 0; run < runs; run++) {
    progress(`scale ${size}: run ${run + 1}/${runs} bare start of ${size} simulated mongods`);
    const bareBase = await freePortRange(portBase + 500, size);
    result.bare.push(await bareStart(env, size, bareBase, run));
    progress(`scale ${size}: run ${run + 1}/${runs} deploy (${describe(shape)})`);
    env.track(name);
    result.deploy.push(
      await timed(() =>
        env.mup([
          'cluster',
          'deploy',
          name,
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
        ]),
      ),
    );
    const view = await env.mupJson<DisplayJson>(['cluster', 'display', name]);
    const up = view.processes.filter((p) => p.status.startsWith('Up')).length;
    if (up !== size) throw new Error(`${name}: ${up} of ${size} processes up after deploy`);
    let pids = pidsOf(view);
    for (const pid of pids) env.trackPid(pid);
    if (run === 0) result.rssTotalMb = await sumRss(view);
    // display: one untimed call, then `displayRuns` timed (run 0 only: display does not change between runs).
    if (run === 0) {
      await env.mup(['cluster', 'display', name, '--json']);
      for (let i = 0; i < displayRuns; i++)
        result.display.push(await timed(() => env.mup(['cluster', 'display', name, '--json'])));
      if (size === 14) {
        result.deadDisplay = await displayWithDeadMember(env, name, result.display, displayRuns);
        pids = pidsOf(await env.mupJson<DisplayJson>(['cluster', 'display', name]));
        for (const pid of pids) env.trackPid(pid);
      }
    }
    progress(`scale ${size}: run ${run + 1}/${runs} stop`);
    result.stop.push(await timed(() => env.mup(['cluster', 'stop', name, '--yes', '--json'])));
    await removeStopped(env, name, pids);
  }
  return result;
}

/** Benchmark 4: the same display with one shard member's process stopped through supervisord. */
async function displayWithDeadMember(
  env: BenchEnv,
  name: string,
  up: number[],
  displayRuns: number,
): Promise<{ up: number[]; dead: number[]; stoppedProgram: string }> {
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', name]);
  const victim = view.processes.find((p) => p.role === 'mongod' && p.status === 'Up|S');
  if (!victim) throw new Error(`${name}: no shard secondary to stop`);
  progress(`display: stopping ${victim.program}`);
  await env.mup(['cluster', 'supervisor', 'stop', name, victim.program, '--yes']);
  const dead: number[] = [];
  try {
    const after = await env.mupJson<DisplayJson>(['cluster', 'display', name]);
    const status = after.processes.find((p) => p.program === victim.program)?.status;
    if (status === undefined || status.startsWith('Up'))
      throw new Error(`${victim.program} still shown as ${status} after its stop`);
    for (let i = 0; i < displayRuns; i++)
      dead.push(await timed(() => env.mup(['cluster', 'display', name, '--json'])));
  } finally {
    await env.mup(['cluster', 'supervisor', 'start', name, victim.program, '--yes']);
  }
  return { up, dead, stoppedProgram: victim.program };
}

function rowsFor(results: readonly SizeResult[]): Row[] {
  const rows: Row[] = [];
  const ref = results.find((r) => r.size === 3) ?? results[0];
  if (!ref) return rows;
  for (const r of results) {
    const n = r.size;
    const linear = `linear would be ${(n / ref.size).toFixed(1)}×`;
    const growth = (xs: number[], refXs: number[]) => median(xs) / median(refXs);
    const deployMed = median(r.deploy);
    rows.push({
      bench: '3 scale',
      metric: `deploy ${n} (${describe(r.shape)})`,
      value: `${secs(deployMed)} (${secs(deployMed / n)}/proc)`,
      baseline: `deploy 3: ${secs(median(ref.deploy))}`,
      ratio: growth(r.deploy, ref.deploy),
      note: `${linear}; runs: ${runsText(r.deploy)}`,
    });
    rows.push({
      bench: '3 scale',
      metric: `bare start ${n} sims`,
      value: `${secs(median(r.bare))} (${secs(median(r.bare) / n)}/proc)`,
      baseline: `deploy ${n}: ${secs(deployMed)}`,
      ratio: deployMed / median(r.bare),
      note: `machine reference: ${n} simulated mongods spawned at once until hello; ratio = deploy / bare`,
    });
    rows.push({
      bench: '3 scale',
      metric: `display ${n}`,
      value: `${secs(median(r.display))} (${((median(r.display) / n) * 1000).toFixed(0)} ms/proc)`,
      baseline: `display 3: ${secs(median(ref.display))}`,
      ratio: growth(r.display, ref.display),
      note: `${linear}; runs: ${runsText(r.display)}`,
    });
    rows.push({
      bench: '3 scale',
      metric: `stop ${n}`,
      value: `${secs(median(r.stop))} (${secs(median(r.stop) / n)}/proc)`,
      baseline: `stop 3: ${secs(median(ref.stop))}`,
      ratio: growth(r.stop, ref.stop),
      note: `${linear}; runs: ${runsText(r.stop)}`,
    });
    rows.push({
      bench: '3 scale',
      metric: `RSS ${n}`,
      value: `${r.rssTotalMb.toFixed(0)} MiB (${(r.rssTotalMb / n).toFixed(0)} MiB/proc)`,
      baseline: `RSS 3: ${ref.rssTotalMb.toFixed(0)} MiB`,
      ratio: r.rssTotalMb / ref.rssTotalMb,
      note: 'every mongod/mongos + supervisord, right after deploy',
    });
  }
  for (const r of results) {
    if (!r.deadDisplay) continue;
    const up = median(r.deadDisplay.up);
    const dead = median(r.deadDisplay.dead);
    rows.push({
      bench: '4 display',
      metric: `display ${r.size}, ${r.deadDisplay.stoppedProgram} stopped`,
      value: secs(dead),
      baseline: `all up ${secs(up)}`,
      ratio: dead / up,
      target: '≈ 1×',
      note: `up: ${runsText(r.deadDisplay.up)}; one dead: ${runsText(r.deadDisplay.dead)}`,
    });
  }
  return rows;
}

export async function benchScale(
  sizes: readonly number[],
  runs: number,
  displayRuns: number,
): Promise<Row[]> {
  const env = await benchEnv('scale');
  const results: SizeResult[] = [];
  try {
    // Below the ephemeral range (32768+), where client sockets of other work on this host come and go.
    let portBase = 22000;
    for (const size of sizes) {
      const base = await freePortRange(portBase, size);
      try {
        results.push(await benchSize(env, size, base, runs, displayRuns));
      } catch (error) {
        progress(`scale ${size}: failed: ${String(error)}`);
        results.push({
          size,
          shape: shapeFor(size),
          deploy: [],
          display: [],
          stop: [],
          bare: [],
          rssTotalMb: Number.NaN,
        });
        // Destroy whatever the failed size left running before going on.
        await env.mup(['cluster', 'destroy', `bench-${size}`, '--yes']).catch(() => undefined);
        env.untrack(`bench-${size}`);
        break;
      }
      portBase += 1000;
    }
  } finally {
    await env.cleanup();
  }
  return rowsFor(results.filter((r) => r.deploy.length > 0)).concat(
    results
      .filter((r) => r.deploy.length === 0)
      .map((r) => ({
        bench: '3 scale',
        metric: `deploy ${r.size}`,
        value: 'failed',
        baseline: '',
        note: 'see the progress log on stderr; larger sizes skipped',
      })),
  );
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '3,14,30,60' },
      runs: { type: 'string', default: '3' },
      'display-runs': { type: 'string', default: '5' },
    },
  });
  const sizes = (values.sizes ?? '').split(',').map(Number);
  process.stdout.write(
    `${renderRows(await benchScale(sizes, Number(values.runs), Number(values['display-runs'])))}\n`,
  );
}
