// The one operation path, seen from the CLI: every mutating verb has --dry-run (and changes nothing with
// it), node selection that names nothing is refused before anything is touched, SIGINT journals the step
// in flight and exits 130 for resume to finish, two deploys of one name never both proceed, and this
// cluster's supervisord refusing mup's password is an error, never "daemon down".
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { mupBin, repoRoot } from '../helpers/cli.js';
import {
  type DisplayJson,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
  simPidsMatching,
  topologyPath,
} from '../helpers/e2e.js';
import { runMupPausing } from '../helpers/interrupt.js';

const PORT_BASE = e2ePortBase(3);
const NAME = 'pipe';
let env: E2eEnv;
/** A replica set whose members shut down quickly: these tests are about mup, not MongoDB's quiesce. */
let topology: string;

before(async () => {
  env = await e2eEnv();
  topology = join(env.userHome, 'rs.yaml');
  await writeFile(
    topology,
    `${await readFile(topologyPath('replica-set'), 'utf8')}
server_configs:
  mongod:
    setParameter: { shutdownTimeoutMillisForSignaledShutdown: 200 }
`.replace(/^ {2}deploy_dir: mongodb$/m, `  deploy_dir: ${join(env.userHome, 'pipe')}`),
  );
  const run = await env.mup(env.deployArgs(NAME, topology, PORT_BASE), { timeoutMs: 120_000 });
  assert.equal(run.code, 0, run.stderr);
});

after(async () => {
  const run = await env.mup(['cluster', 'destroy', NAME, '--yes'], { timeoutMs: 120_000 });
  assert.equal(run.code, 0, `destroy failed: ${run.stderr}`);
  assert.deepEqual(simPidsMatching(env.userHome), []);
});

async function journals(name = NAME): Promise<string[]> {
  return readdir(join(env.home, 'storage', 'clusters', name, 'ops')).catch(() => []);
}

async function pids(): Promise<(number | undefined)[]> {
  return (await env.mupJson<DisplayJson>(['cluster', 'display', NAME])).processes.map((p) => p.pid);
}

test('every mutating verb prints its plan with --dry-run and changes nothing', async () => {
  const before = { journals: await journals(), pids: await pids() };
  const verbs = [
    ['cluster', 'stop', NAME, '--yes'],
    ['cluster', 'start', NAME],
    ['cluster', 'restart', NAME, '--yes'],
    ['cluster', 'restart', NAME, '--parallel', '--yes'],
    ['cluster', 'destroy', NAME],
    ['cluster', 'supervisor', 'restart', NAME, `mongod-${PORT_BASE}`],
    ['cluster', 'supervisor', 'reload', NAME],
  ];
  for (const args of verbs) {
    const text = await env.mup([...args, '--dry-run']);
    assert.equal(text.code, 0, `${args.join(' ')}: ${text.stderr}`);
    assert.match(text.stdout, /^Plan: \S+ pipe\n/, args.join(' '));
    assert.match(text.stdout, /\n {2}1\. /, args.join(' '));
    // The cluster as the plan leaves it; destroy leaves none.
    const uri = `URI: mongodb://localhost:${PORT_BASE},localhost:${PORT_BASE + 1},localhost:${PORT_BASE + 2}/?replicaSet=rs0`;
    if (args[1] === 'destroy') assert.doesNotMatch(text.stdout, /URI:/);
    else {
      assert.ok(text.stdout.split('\n').includes(`  ${uri}`), `${args.join(' ')}:\n${text.stdout}`);
      assert.match(text.stdout, /\n {2}Cluster: replset, MongoDB 7\.0\.14, 3 processes\n/);
      assert.match(
        text.stdout,
        new RegExp(`replica set rs0: localhost:${PORT_BASE}, ${PORT_BASE + 1}, ${PORT_BASE + 2}\n`),
      );
    }
    const json = await env.mupJson<{ dryRun: boolean; plan: { phases: { steps: { id: string }[] }[] } }>([
      ...args,
      '--dry-run',
    ]);
    assert.equal(json.dryRun, true);
    assert.ok(json.plan.phases.flatMap((p) => p.steps).length > 0, `${args.join(' ')} plans some step`);
  }
  assert.deepEqual(await journals(), before.journals, 'no operation journaled');
  assert.deepEqual(await pids(), before.pids, 'no process touched');
  assert.equal(existsSync(join(env.home, 'storage', 'clusters', NAME, 'lock')), false);
});

test('the text plan of a deploy shows the version, the ports and the URI of the cluster to be', async () => {
  const dryTopology = join(env.userHome, 'rs-dry.yaml');
  await writeFile(
    dryTopology,
    (await readFile(topology, 'utf8')).replace(
      /^ {2}deploy_dir: .*$/m,
      `  deploy_dir: ${join(env.userHome, 'pipe-dry')}`,
    ),
  );
  const args = [...env.deployArgs('pipe-dry', dryTopology, PORT_BASE + 50), '--dry-run'];
  const text = await env.mup(args);
  assert.equal(text.code, 0, text.stderr);
  const json = await env.mupJson<{ uri: string; version: string; instances: { port: number }[] }>(args);
  const ports = json.instances.map((i) => i.port);
  assert.equal(ports.length, 3);
  assert.match(text.stdout, /^Plan: deploy pipe-dry\n {2}Cluster: replset, MongoDB 7\.0\.14, 3 processes\n/);
  assert.ok(text.stdout.includes(`replica set rs0: localhost:${ports.join(', ')}\n`), text.stdout);
  assert.ok(text.stdout.includes(`\n  URI: ${json.uri}\n`), text.stdout);
  assert.equal(
    existsSync(join(env.home, 'storage', 'clusters', 'pipe-dry')),
    false,
    'a dry run stores nothing',
  );
});

test('audit shows the command line that started each operation', async () => {
  const run = await env.mup(['cluster', 'start', NAME, '--concurrency', '2', '-N', `localhost:${PORT_BASE}`]);
  assert.equal(run.code, 0, run.stderr);
  const audit = await env.mupJson<{ operations: { opId: string; commandLine?: string }[] }>([
    'cluster',
    'audit',
    NAME,
  ]);
  const last = audit.operations.at(-1);
  const typed = `mup cluster start pipe --concurrency 2 -N localhost:${PORT_BASE}`;
  assert.equal(last?.commandLine, typed);
  const list = await env.mup(['cluster', 'audit', NAME]);
  assert.match(list.stdout, /Command\n/);
  assert.ok(list.stdout.includes(typed), list.stdout);
  const one = await env.mup(['cluster', 'audit', NAME, last?.opId ?? '']);
  assert.ok(one.stdout.split('\n').includes(`command: ${typed}`), one.stdout);
});

test('a node selection that names nothing is refused with exit 2 before anything is touched', async () => {
  const before = { journals: await journals(), pids: await pids() };
  const cases: [string[], RegExp][] = [
    [['-N', ''], /-N\/--node has an empty value/],
    [['-R', ''], /-R\/--role has an empty value/],
    [['-N', `localhost:${PORT_BASE},`], /empty value/],
    [['-N', 'localhost:1'], /no process 'localhost:1'/],
    [['-R', 'mongos'], /this cluster has no mongos processes/],
    [['-R', 'nonsense'], /unknown role 'nonsense'/],
  ];
  for (const verb of ['stop', 'start', 'restart']) {
    for (const [flags, message] of cases) {
      const run = await env.mup(['cluster', verb, NAME, ...flags]);
      assert.equal(run.code, 2, `${verb} ${flags.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
  }
  assert.deepEqual(await journals(), before.journals);
  assert.deepEqual(await pids(), before.pids);
});

test('stop and restart of the whole cluster ask; without a terminal and without --yes they refuse with exit 2', async () => {
  const before = { journals: await journals(), pids: await pids() };
  for (const args of [
    ['cluster', 'stop', NAME],
    ['cluster', 'restart', NAME],
    ['cluster', 'restart', NAME, '--parallel'],
    ['--json', 'cluster', 'stop', NAME],
  ]) {
    const run = await env.mup(args);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr + run.stdout, /confirmation needed but stdin is not a terminal/);
    assert.match(run.stderr + run.stdout, /pass --yes/);
    assert.doesNotMatch(run.stderr, /Plan:/, 'no plan printed that nobody can approve');
  }
  assert.deepEqual(await journals(), before.journals, 'no operation journaled');
  assert.deepEqual(await pids(), before.pids, 'no process touched');
});

test('on a terminal the confirmation defaults to No: Enter alone cancels a stop', async () => {
  const before = { journals: await journals(), pids: await pids() };
  // script(1) gives mup a pseudo-terminal (given a size: a 0-column one wraps every character); a lone
  // carriage return is Enter.
  const command = `stty cols 120 rows 40; exec ${[process.execPath, mupBin, 'cluster', 'stop', NAME]
    .map((a) => `'${a}'`)
    .join(' ')}`;
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', MUP_HOME: env.home, HOME: env.userHome },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const code = await new Promise<number>((resolveCode, reject) => {
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no answer to the prompt within 60 s:\n${output}`));
    }, 60_000);
    const poll = setInterval(() => {
      if (/\[y\/N\]/.test(output)) {
        clearInterval(poll);
        child.stdin.write('\r');
      }
    }, 100);
    child.on('close', (exitCode) => {
      clearTimeout(deadline);
      clearInterval(poll);
      resolveCode(exitCode ?? -1);
    });
  });
  assert.match(output, /Apply this plan\? \[y\/N\]/);
  assert.match(output, /stop cancelled/);
  assert.equal(code, 2, output);
  assert.deepEqual(await journals(), before.journals, 'no operation journaled');
  assert.deepEqual(await pids(), before.pids, 'no process touched');
});

test('SIGINT during a rolling restart: exit 130 naming resume, the step journaled, resume finishes', async () => {
  const child = spawn(process.execPath, [mupBin, '--json', 'cluster', 'restart', NAME, '--yes'], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', MUP_HOME: env.home, HOME: env.userHome },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  let signalled = false;
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    // The first member's restart is under way: interrupt inside the step, not between steps.
    if (
      !signalled &&
      /"step":"restart:[^"]+","title":"[^"]*","host":"[^"]*","state":"running"/.test(stderr)
    ) {
      signalled = child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.ok(signalled, `never reached a restart step\n${stderr}`);
  assert.equal(code, 130, stderr);
  // Under --json the interruption is the error document on stdout.
  const error = JSON.parse(stdout) as { error: { message: string; hint?: string; exitCode: number } };
  assert.match(`${error.error.message} ${error.error.hint}`, /interrupted — run `mup cluster resume pipe`/);
  assert.equal(error.error.exitCode, 130);
  const audit = await env.mupJson<{ operations: { opId: string; operation: string; status: string }[] }>([
    'cluster',
    'audit',
    NAME,
  ]);
  const last = audit.operations.at(-1);
  assert.deepEqual([last?.operation, last?.status], ['restart', 'interrupted']);
  const detail = await env.mupJson<{ steps: { step: string; state: string; error?: string }[] }>([
    'cluster',
    'audit',
    NAME,
    last?.opId ?? '',
  ]);
  assert.ok(detail.steps.some((s) => s.state === 'failed' && s.error === 'interrupted'));

  const resume = await env.mup(['cluster', 'resume', NAME], { timeoutMs: 180_000 });
  assert.equal(resume.code, 0, resume.stderr);
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  assert.deepEqual(view.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
  assert.equal(view.status, 'running');
});

test("this cluster's supervisord refusing mup's password is an error: nothing is stopped as an orphan", async () => {
  const secret = join(env.home, 'storage', 'clusters', NAME, 'secrets', 'supervisor-password');
  const password = await readFile(secret, 'utf8');
  const before = await pids();
  await writeFile(secret, 'not-the-password');
  try {
    const stop = await env.mup(['cluster', 'stop', NAME, '--yes']);
    assert.notEqual(stop.code, 0);
    assert.match(stop.stderr, /refused mup's credentials/);
    const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
    assert.equal(view.supervisors[0]?.state, 'error');
    assert.equal(view.status, 'unreachable');
  } finally {
    await writeFile(secret, password);
  }
  assert.deepEqual(await pids(), before, 'every member still runs under the same pid');
  // The failed stop is an operation like any other: resume finishes it now that the password is right.
  const resume = await env.mup(['cluster', 'resume', NAME], { timeoutMs: 120_000 });
  assert.equal(resume.code, 0, resume.stderr);
  const start = await env.mup(['cluster', 'start', NAME], { timeoutMs: 120_000 });
  assert.equal(start.code, 0, start.stderr);
});

test('two deploys of one name: the second is refused (exit 3) naming the first, which completes', async () => {
  const name = 'race';
  const raceTopology = join(env.userHome, 'race.yaml');
  await writeFile(
    raceTopology,
    (await readFile(topology, 'utf8')).replace(join(env.userHome, 'pipe'), join(env.userHome, 'race')),
  );
  let second: { code: number; stderr: string } | undefined;
  const first = await runMupPausing(env.deployArgs(name, raceTopology, PORT_BASE + 100), {
    home: env.home,
    env: { HOME: env.userHome },
    pauseAfter: (e) => e.state === 'done' && e.step.startsWith('prepare:'),
    whilePaused: async () => {
      second = await env.mup(env.deployArgs(name, raceTopology, PORT_BASE + 200), { timeoutMs: 60_000 });
    },
    timeoutMs: 180_000,
  });
  assert.equal(first.code, 0, first.stderr);
  assert.equal(second?.code, 3, second?.stderr);
  assert.match(second?.stderr ?? '', /locked by 'mup cluster deploy race'.*lock file \S+\/race\/lock/);
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', name]);
  assert.deepEqual(view.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
  assert.equal(view.supervisors.length, 1);
  const destroy = await env.mup(['cluster', 'destroy', name, '--yes'], { timeoutMs: 120_000 });
  assert.equal(destroy.code, 0, destroy.stderr);
});
