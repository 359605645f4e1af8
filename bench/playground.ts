// Benchmark 2 — playground: from nothing to an acknowledged w:"majority" write on a 3-member replica set.
//   mup:      `mup playground start --binary-path <sim bin> --port <base>` (fresh MUP_HOME per run), then a
//             replica-set client writes { w: "majority" } through the printed URI.
//   baseline: the same by hand with the same simulated binaries: write a mongod.conf per member and a
//             supervisor.ini (loopback HTTP API with a password, 3 programs, autostart=false), start
//             supervisord, startProcess ×3 over XML-RPC, poll hello until each answers, replSetInitiate,
//             poll until all three are SECONDARY, replSetStepUp to member 0 (retried at most every 2 s while
//             none is primary), poll for a primary, then the same write through the same kind of URI.
// Neither side waits for the election timeout (10 s after initiate): mup, too, waits until every member is
// SECONDARY and then asks the highest-priority electable member to step up, so both elect the first primary
// about one heartbeat round after initiate. Differences that remain, by design: mup's node start-up and
// module loading, `mongod --version` to learn the version of --binary-path, its plan/lock/journal, and its
// wait until every member is healthy once there is a primary (the baseline stops at the first primary). The
// baseline runs inside the benchmark process, so it pays no node start-up (benchmark 1 measures that
// separately). Runs alternate; medians; ratio mup/baseline.
//   npx tsx bench/playground.ts [--runs 3]
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { stringify } from 'yaml';
import {
  ALLOW_ROOT,
  type BenchEnv,
  benchEnv,
  exec,
  freePortRange,
  helloOnce,
  isMain,
  median,
  pidAlive,
  pollUntil,
  progress,
  type Row,
  renderRows,
  runsText,
  secs,
  timed,
} from './lib.js';

const TARGET = 1.3;
const MEMBERS = 3;
/** A refused or failed replSetStepUp is sent again no sooner than this (as mup does). */
const STEP_UP_RETRY_MS = 2000;
/**
 * The baseline's members stop (cleanup, untimed) with this signaled-shutdown timeout instead of the 15 s a
 * 5.0+ secondary otherwise spends in quiesce mode after SIGTERM; MongoDB's own test harness shortens it
 * the same way. It changes nothing in what is timed.
 */
const BASELINE_SHUTDOWN_TIMEOUT_MS = 100;

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

async function mupRun(env: BenchEnv, port: number): Promise<void> {
  env.track('playground');
  const { stdout } = await env.mup([
    'playground',
    'start',
    '--binary-path',
    env.binDir,
    ...ALLOW_ROOT,
    '--port',
    String(port),
  ]);
  await majorityWrite(stdout.trim());
}

async function mupCleanup(env: BenchEnv): Promise<void> {
  await env.mup(['playground', 'destroy', '--yes']);
  env.untrack('playground');
}

/** The hand-written baseline's supervisord API: a bare XML-RPC POST. */
async function rpc(port: number, auth: string, method: string, params: string[] = []): Promise<string> {
  const body = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params
    .map((p) => `<param><value>${p}</value></param>`)
    .join('')}</params></methodCall>`;
  const response = await fetch(`http://127.0.0.1:${port}/RPC2`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml', authorization: `Basic ${auth}` },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok || text.includes('<fault>')) throw new Error(`${method}: ${response.status} ${text}`);
  return text;
}

interface BaselineRun {
  dir: string;
  rpcPort: number;
  auth: string;
  pidFile: string;
}

export async function baselineRun(
  env: BenchEnv,
  dir: string,
  port: number,
  rpcPort: number,
): Promise<BaselineRun> {
  const password = 'bench-secret';
  const auth = Buffer.from(`bench:${password}`).toString('base64');
  const members = Array.from({ length: MEMBERS }, (_, i) => port + i);
  await mkdir(dir, { recursive: true });
  const programs: string[] = [];
  for (const p of members) {
    const memberDir = join(dir, `mongod-${p}`);
    await mkdir(join(memberDir, 'data'), { recursive: true });
    const conf = join(memberDir, 'mongod.conf');
    await writeFile(
      conf,
      stringify({
        systemLog: { destination: 'file', path: join(memberDir, 'mongod.log'), logAppend: true },
        net: { port: p, bindIp: '127.0.0.1' },
        storage: { dbPath: join(memberDir, 'data') },
        replication: { replSetName: 'rs0' },
        setParameter: { shutdownTimeoutMillisForSignaledShutdown: BASELINE_SHUTDOWN_TIMEOUT_MS },
      }),
    );
    programs.push(
      [
        `[program:mongod-${p}]`,
        `command=${join(env.binDir, 'mongod')} --config ${conf}`,
        `directory=${memberDir}`,
        'autostart=false',
        'autorestart=unexpected',
        'startsecs=5',
        'stopsignal=TERM',
        'stopasgroup=true',
        'killasgroup=true',
        'redirect_stderr=true',
        `stdout_logfile=${join(memberDir, 'mongod.out')}`,
        '',
      ].join('\n'),
    );
  }
  const ini = join(dir, 'supervisor.ini');
  const pidFile = join(dir, 'supervisord.pid');
  await writeFile(
    ini,
    [
      '[supervisord]',
      `logfile=${join(dir, 'supervisord.log')}`,
      `pidfile=${pidFile}`,
      'nodaemon=false',
      '[inet_http_server]',
      `port=127.0.0.1:${rpcPort}`,
      'username=bench',
      `password=${password}`,
      '[rpcinterface:supervisor]',
      'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
      '',
      ...programs,
    ].join('\n'),
    { mode: 0o600 },
  );
  // supervisord daemonizes: its first process exits once the daemon is forked.
  await exec('supervisord', ['-c', ini], { timeoutMs: 30_000 });
  const run = { dir, rpcPort, auth, pidFile };
  const daemonPid = await pollUntil(async () => Number((await readFile(pidFile, 'utf8')).trim()), 10_000, 50);
  if (daemonPid) env.trackPid(daemonPid);
  const up = await pollUntil(
    async () => ((await rpc(rpcPort, auth, 'supervisor.getState')).includes('RUNNING') ? true : undefined),
    20_000,
    100,
  );
  if (!up) throw new Error('baseline: supervisord API never answered');
  await Promise.all(
    members.map((p) =>
      rpc(rpcPort, auth, 'supervisor.startProcess', [`mongod-${p}`, '<boolean>0</boolean>']),
    ),
  );
  const directClient = (p: number) =>
    new MongoClient(`mongodb://127.0.0.1:${p}/?directConnection=true`, {
      serverSelectionTimeoutMS: 2000,
      connectTimeoutMS: 2000,
    });
  // Readiness as mup judges it: a hello on a fresh connection, every 150 ms.
  const direct = members.map(directClient);
  try {
    const helloed = await Promise.all(members.map((p) => pollUntil(() => helloOnce(p), 60_000, 150)));
    if (helloed.some((h) => h === undefined)) {
      const tail = async (path: string) =>
        (await readFile(path, 'utf8').catch(() => '(missing)')).slice(-600);
      const logs = await Promise.all([
        tail(join(dir, 'supervisord.log')),
        ...members.map((p) => tail(join(dir, `mongod-${p}`, 'mongod.log'))),
      ]);
      throw new Error(`baseline: a member never answered hello\n${logs.join('\n---\n')}`);
    }
    const first = direct[0] as MongoClient;
    await first.db('admin').command({
      replSetInitiate: {
        _id: 'rs0',
        version: 1,
        members: members.map((p, i) => ({ _id: i, host: `localhost:${p}` })),
      },
    });
    // What mup does after initiate, in the fewest lines: once all are SECONDARY, ask member 0 to stand
    // for election instead of waiting for an election timer; an error (not electable yet, lost) is ignored.
    let lastStepUp = 0;
    const primary = await pollUntil(
      async () => {
        const hellos = await Promise.all(direct.map((c) => c.db('admin').command({ hello: 1 })));
        if (hellos.some((h) => h.isWritablePrimary === true)) return true;
        if (hellos.every((h) => h.secondary === true) && Date.now() - lastStepUp >= STEP_UP_RETRY_MS) {
          lastStepUp = Date.now();
          await first
            .db('admin')
            .command({ replSetStepUp: 1 })
            .catch(() => undefined);
        }
        return undefined;
      },
      120_000,
      200,
    );
    if (!primary) throw new Error('baseline: no primary within 120 s');
  } finally {
    await Promise.all(direct.map((c) => c.close()));
  }
  await majorityWrite(`mongodb://${members.map((p) => `localhost:${p}`).join(',')}/?replicaSet=rs0`);
  return run;
}

async function baselineCleanup(run: BaselineRun): Promise<void> {
  const pid = Number((await readFile(run.pidFile, 'utf8').catch(() => '')).trim());
  // shutdown stops every program (TERM, then waits) before the daemon exits; the members' short
  // signaled-shutdown timeout (BASELINE_SHUTDOWN_TIMEOUT_MS) keeps that wait out of quiesce mode.
  await rpc(run.rpcPort, run.auth, 'supervisor.shutdown').catch(() => undefined);
  if (pid > 0) await pollUntil(async () => (pidAlive(pid) ? undefined : true), 60_000, 100);
  await rm(run.dir, { recursive: true, force: true });
}

export async function benchPlayground(runs: number): Promise<Row[]> {
  const env = await benchEnv('playground');
  try {
    const mupPort = await freePortRange(21000, MEMBERS);
    const basePort = await freePortRange(21100, MEMBERS);
    const mupTimes: number[] = [];
    const baseTimes: number[] = [];
    for (let i = 0; i < runs; i++) {
      progress(`playground: run ${i + 1}/${runs} mup`);
      mupTimes.push(await timed(() => mupRun(env, mupPort)));
      await mupCleanup(env);
      progress(`playground: run ${i + 1}/${runs} baseline`);
      let run: BaselineRun | undefined;
      // Chosen just before use: ports on this shared machine come and go.
      const rpcPort = await freePortRange(21190, 1);
      baseTimes.push(
        await timed(async () => {
          run = await baselineRun(env, join(env.root, `baseline-${i}`), basePort, rpcPort);
        }),
      );
      if (run) await baselineCleanup(run);
    }
    const m = median(mupTimes);
    const b = median(baseTimes);
    return [
      {
        bench: '2 playground',
        metric: 'start → w:majority write',
        value: secs(m),
        baseline: `by hand ${secs(b)}`,
        ratio: m / b,
        target: `≤ ${TARGET}×`,
        note: `mup overhead ${secs(m - b)}; ${runs} runs; mup: ${runsText(mupTimes)}; baseline: ${runsText(baseTimes)}`,
      },
    ];
  } finally {
    await env.cleanup();
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
  process.stdout.write(`${renderRows(await benchPlayground(Number(values.runs)))}\n`);
}
