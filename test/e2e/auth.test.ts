// Secure by default: `cluster deploy` turns on auth (keyFile + admin user), the credentials are printed by
// `cluster credentials` only, and every operation keeps working on the cluster as it authenticates. Also: a
// cluster without auth from an older meta keeps working, and the playground is open unless `--auth`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MongoClient, MongoServerError } from 'mongodb';
import { parse, stringify } from 'yaml';
import { runMup } from '../helpers/cli.js';
import {
  ALLOW_ROOT,
  type DisplayJson,
  destroyAllClusters,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
} from '../helpers/e2e.js';
import { runMupAndKill } from '../helpers/interrupt.js';

const NAME = 'auth-rs';
const PORT_BASE = e2ePortBase();

let env: E2eEnv;
let topology: string;

interface CredentialsJson {
  credentials: { user: string; password: string; authSource: string; uri: string };
}

before(async () => {
  env = await e2eEnv();
  topology = join(env.userHome, 'auth-rs.yaml');
  // A short quiesce keeps the rolling restart below quick; it changes nothing about auth.
  await writeFile(
    topology,
    stringify({
      global: { deploy_dir: 'auth-rs' },
      server_configs: { mongod: { setParameter: { shutdownTimeoutMillisForSignaledShutdown: 300 } } },
      mongod_servers: [0, 1, 2].map(() => ({ host: 'localhost', port: 0, replica_set: 'rs0' })),
    }),
  );
});

after(async () => {
  await destroyAllClusters(env);
});

/** Inserts one document; resolves to the server error code, or 0 when the write is acknowledged. */
async function writeCode(uri: string): Promise<number> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    await client.db('app').collection('items').insertOne({ at: Date.now() });
    return 0;
  } catch (error) {
    if (error instanceof MongoServerError) return Number(error.code);
    throw error;
  } finally {
    await client.close();
  }
}

/** Every file under `root` (recursively) whose content contains `secret`, but those in `except`. */
function filesContaining(root: string, secret: string, except: (path: string) => boolean): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    const path = join(root, entry);
    if (except(path)) continue;
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(path);
    } catch {
      continue;
    }
    if (!stat.isFile()) continue;
    if (readFileSync(path).includes(secret)) found.push(path);
  }
  return found;
}

test('deploy turns auth on: unauthenticated writes are refused (13), the credentials from `cluster credentials --uri` write', async () => {
  const deploy = await env.mup(['--json', ...env.authDeployArgs(NAME, topology, PORT_BASE)], {
    timeoutMs: 240_000,
  });
  assert.equal(deploy.code, 0, deploy.stderr);
  const result = JSON.parse(deploy.stdout) as { uri: string; plan: { phases: { name: string }[] } };
  assert.ok(result.plan.phases.some((p) => p.name === 'admin-user'));
  assert.doesNotMatch(result.uri, /@/);

  assert.equal(await writeCode(result.uri), 13, 'a write without credentials is refused with Unauthorized');

  const creds = await env.mupJson<CredentialsJson>(['cluster', 'credentials', NAME]);
  assert.equal(creds.credentials.user, 'mup-admin');
  assert.equal(creds.credentials.authSource, 'admin');
  const uriRun = await env.mup(['cluster', 'credentials', NAME, '--uri']);
  assert.equal(uriRun.code, 0, uriRun.stderr);
  const uri = uriRun.stdout.trim();
  assert.equal(uri, creds.credentials.uri);
  assert.ok(uri.includes(encodeURIComponent(creds.credentials.password)));
  assert.equal(await writeCode(uri), 0);
  // A wrong password is refused (18), so the URI's password is what authenticates.
  assert.equal(await writeCode(uri.replace(creds.credentials.password, 'wrong-password')), 18);

  // The readings are in the audit log, without the password.
  const audit = await env.mup(['cluster', 'audit', NAME]);
  assert.equal(audit.code, 0, audit.stderr);
  // Each reading is one operation, listed with the command line that made it.
  assert.match(audit.stdout, /succeeded .* mup cluster credentials auth-rs --uri\n/);
  assert.ok(!audit.stdout.includes(creds.credentials.password), 'no password in the audit list');
});

test('keyFile 0400 on the host, named in every config; secrets 0600 in a 0700 dir', async () => {
  const secrets = join(env.home, 'storage', 'clusters', NAME, 'secrets');
  assert.equal(statSync(secrets).mode & 0o777, 0o700);
  for (const file of ['keyfile', 'admin-password', 'supervisor-password'])
    assert.equal(statSync(join(secrets, file)).mode & 0o777, 0o600, file);
  const keyFile = join(env.userHome, 'auth-rs', 'supervisor', 'keyfile');
  assert.equal(statSync(keyFile).mode & 0o777, 0o400);
  const key = readFileSync(keyFile, 'utf8');
  assert.equal(key, readFileSync(join(secrets, 'keyfile'), 'utf8'));
  assert.match(key, /^[A-Za-z0-9+/]{756}$/);
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  for (const p of view.processes) {
    const conf = readFileSync(
      join(env.userHome, 'auth-rs', `mongod-${p.port}`, 'conf', 'mongod.conf'),
      'utf8',
    );
    assert.equal((parse(conf) as { security?: { keyFile?: string } }).security?.keyFile, keyFile);
  }
});

test('rolling restart, stop, start and display work on the auth cluster, authenticating', async () => {
  const restart = await env.mup(['cluster', 'restart', NAME, '--yes'], { timeoutMs: 300_000 });
  assert.equal(restart.code, 0, restart.stderr);
  assert.match(restart.stdout + restart.stderr, /stepped down; localhost:\d+ is primary/);
  const stop = await env.mup(['cluster', 'stop', NAME, '--yes'], { timeoutMs: 180_000 });
  assert.equal(stop.code, 0, stop.stderr);
  const start = await env.mup(['cluster', 'start', NAME], { timeoutMs: 180_000 });
  assert.equal(start.code, 0, start.stderr);
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  assert.equal(view.status, 'running');
  assert.deepEqual(view.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
  assert.doesNotMatch(view.uri, /@/);
  const creds = await env.mupJson<CredentialsJson>(['cluster', 'credentials', NAME]);
  assert.equal(await writeCode(creds.credentials.uri), 0);
});

test('connect hands the credentials to the shell in a 0600 script, never on its command line', async () => {
  const fakeBin = join(env.userHome, 'fake-shell');
  await mkdir(fakeBin, { recursive: true });
  const record = join(fakeBin, 'record.txt');
  // A stand-in for mongosh: records its arguments, the mode and content of the script it was given.
  await writeFile(
    join(fakeBin, 'mongosh'),
    `#!/bin/sh\n{ echo "ARGS $*"; for a in "$@"; do case "$a" in *.js) stat -c 'MODE %a' "$a"; cat "$a";; esac; done; } > ${record}\n`,
  );
  await chmod(join(fakeBin, 'mongosh'), 0o755);
  const connect = await runMup(['cluster', 'connect', NAME], {
    home: env.home,
    env: { HOME: env.userHome, PATH: `${fakeBin}:${process.env.PATH ?? ''}` },
  });
  assert.equal(connect.code, 0, connect.stderr);
  const recorded = await readFile(record, 'utf8');
  const password = readFileSync(
    join(env.home, 'storage', 'clusters', NAME, 'secrets', 'admin-password'),
    'utf8',
  );
  const args = recorded.split('\n')[0] ?? '';
  assert.match(args, /^ARGS --nodb --shell \S+\.js$/);
  assert.ok(!args.includes(password), 'the password is not on the command line');
  assert.match(recorded, /^MODE 600$/m);
  assert.ok(recorded.includes(`mup-admin:${password}@`), 'the script connects with the credentials');
  const script = args.split(' ').at(-1) ?? '';
  assert.throws(() => statSync(script), /ENOENT/, 'the script is removed when the shell exits');
});

test('the password and the key appear nowhere but in secrets/: ps, logs, journals, audit, --json, --debug', async () => {
  const secrets = join(env.home, 'storage', 'clusters', NAME, 'secrets');
  const password = readFileSync(join(secrets, 'admin-password'), 'utf8');
  const key = readFileSync(join(secrets, 'keyfile'), 'utf8');
  const ps = spawnSync('ps', ['-eo', 'args='], { encoding: 'utf8' }).stdout;
  assert.ok(!ps.includes(password) && !ps.includes(key), 'ps output');
  const keyFileOnHost = join(env.userHome, 'auth-rs', 'supervisor', 'keyfile');
  const outside = (root: string) =>
    filesContaining(root, password, (p) => p.startsWith(secrets)).concat(
      filesContaining(root, key, (p) => p.startsWith(secrets) || p === keyFileOnHost),
    );
  // Deploy dir: mongod logs, captured output, supervisord log, configs, data; MUP_HOME: meta, journals.
  assert.deepEqual(outside(join(env.userHome, 'auth-rs')), []);
  assert.deepEqual(outside(env.home), []);
  for (const args of [
    ['cluster', 'audit', NAME],
    ['--json', 'cluster', 'audit', NAME],
    ['--json', 'cluster', 'display', NAME],
    ['--debug', 'cluster', 'display', NAME],
    ['--json', 'cluster', 'show-config', NAME],
    ['--json', '--debug', 'cluster', 'start', NAME],
    ['--json', 'cluster', 'credentials', NAME, '--dry-run'],
    ['--debug', 'cluster', 'credentials', 'no-such-cluster'],
  ]) {
    const run = await env.mup(args, { timeoutMs: 120_000 });
    assert.ok(!(run.stdout + run.stderr).includes(password), `mup ${args.join(' ')}`);
    assert.ok(!(run.stdout + run.stderr).includes(key), `mup ${args.join(' ')}`);
  }
  const audit = await env.mup(['cluster', 'audit', NAME]);
  const ids = [...audit.stdout.matchAll(/^(\S+Z-[0-9a-f]+)\s/gm)].map((m) => m[1] as string);
  assert.ok(ids.length >= 5);
  for (const id of ids) {
    const one = await env.mup(['--json', 'cluster', 'audit', NAME, id]);
    assert.ok(!one.stdout.includes(password), `audit ${id}`);
  }
});

test('--no-auth: a warning on stderr, an open cluster, and `credentials` refuses (exit 2)', async () => {
  const open = join(env.userHome, 'open.yaml');
  await writeFile(
    open,
    stringify({ global: { deploy_dir: 'open' }, mongod_servers: [{ host: 'localhost', port: 0 }] }),
  );
  const run = await env.mup(env.deployArgs('open', open, PORT_BASE + 20), { timeoutMs: 180_000 });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /warning: --no-auth: cluster open will accept anyone/);
  assert.equal(await writeCode(run.stdout.trim()), 0);
  const creds = await env.mup(['cluster', 'credentials', 'open']);
  assert.equal(creds.code, 2);
  assert.match(creds.stderr, /cluster 'open' has no auth/);

  // The same cluster as a v1 meta (no spec, no auth fields) keeps working: stop, start, display.
  const metaPath = join(env.home, 'storage', 'clusters', 'open', 'meta.yaml');
  const meta = parse(await readFile(metaPath, 'utf8')) as Record<string, unknown>;
  delete meta.spec;
  delete meta.auth;
  meta.schemaVersion = 1;
  await writeFile(metaPath, stringify(meta));
  for (const verb of ['stop', 'start']) {
    const r = await env.mup(['cluster', verb, 'open', '--yes'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, `${verb}: ${r.stderr}`);
  }
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', 'open']);
  assert.deepEqual(
    view.processes.map((p) => p.status),
    ['Up'],
  );
});

test('the playground stays open by default; --auth closes it', async () => {
  const start = (tag: string, port: number, extra: string[] = []) =>
    env.mup(
      [
        'playground',
        'start',
        '--tag',
        tag,
        '--topology',
        'standalone',
        '--port',
        String(port),
        '--binary-path',
        env.binDir,
        ...ALLOW_ROOT,
        ...extra,
      ],
      { timeoutMs: 180_000 },
    );
  const open = await start('open', PORT_BASE + 40);
  assert.equal(open.code, 0, open.stderr);
  assert.equal(await writeCode(open.stdout.trim()), 0);
  const closed = await start('closed', PORT_BASE + 50, ['--auth']);
  assert.equal(closed.code, 0, closed.stderr);
  assert.equal(await writeCode(closed.stdout.trim()), 13);
  const creds = await env.mup(['cluster', 'credentials', 'playground-closed', '--uri']);
  assert.equal(creds.code, 0, creds.stderr);
  assert.equal(await writeCode(creds.stdout.trim()), 0);
});

test('a deploy killed right after createUser resumes to a working auth cluster', async () => {
  const file = join(env.userHome, 'killed.yaml');
  await writeFile(
    file,
    stringify({ global: { deploy_dir: 'killed' }, mongod_servers: [{ host: 'localhost', port: 0 }] }),
  );
  const args = env.authDeployArgs('killed', file, PORT_BASE + 60);
  const run = await runMupAndKill(args, {
    home: env.home,
    env: { HOME: env.userHome, MUP_FAILPOINT: 'admin-user:*:after-run' },
    killAfter: () => false,
  });
  assert.equal(run.signal, 'SIGKILL', `deploy was not killed after createUser\n${run.stderr}`);
  const resume = await env.mup(['cluster', 'resume', 'killed'], { timeoutMs: 180_000 });
  assert.equal(resume.code, 0, resume.stderr);
  const uri = await env.mup(['cluster', 'credentials', 'killed', '--uri']);
  assert.equal(uri.code, 0, uri.stderr);
  assert.equal(await writeCode(uri.stdout.trim()), 0);
  assert.equal(await writeCode(uri.stdout.trim().replace(/mup-admin:[^@]+@/, '')), 13);
});

test('destroy --keep-data, then a deploy with auth takes the data back with the same admin credentials', async () => {
  const file = join(env.userHome, 'kept.yaml');
  await writeFile(
    file,
    stringify({
      global: { deploy_dir: 'kept' },
      mongod_servers: [{ host: 'localhost', port: 0, replica_set: 'kept0' }],
    }),
  );
  const deploy = () => env.mup(env.authDeployArgs('kept', file, PORT_BASE + 70), { timeoutMs: 240_000 });
  const first = await deploy();
  assert.equal(first.code, 0, first.stderr);
  const before = await env.mupJson<CredentialsJson>(['cluster', 'credentials', 'kept']);
  const client = new MongoClient(before.credentials.uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    await client.db('app').collection('kept').insertOne({ kept: true });
  } finally {
    await client.close();
  }
  const destroyed = await env.mup(['cluster', 'destroy', 'kept', '--keep-data', '--yes'], {
    timeoutMs: 120_000,
  });
  assert.equal(destroyed.code, 0, destroyed.stderr);
  // The secrets are kept with the data, private as the cluster's own were.
  const keptSecrets = join(env.home, 'storage', 'kept-data', 'kept.secrets');
  assert.equal(statSync(keptSecrets).mode & 0o777, 0o700);
  for (const name of ['keyfile', 'admin-password'])
    assert.equal(statSync(join(keptSecrets, name)).mode & 0o777, 0o600, name);

  // The kept data holds mup-admin already (the localhost exception is closed): the redeploy reuses its password.
  const again = await deploy();
  assert.equal(again.code, 0, again.stderr);
  const after = await env.mupJson<CredentialsJson>(['cluster', 'credentials', 'kept']);
  assert.equal(after.credentials.password, before.credentials.password);
  const reader = new MongoClient(after.credentials.uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    assert.ok(await reader.db('app').collection('kept').findOne({ kept: true }));
  } finally {
    await reader.close();
  }
  assert.equal(existsSync(keptSecrets), false, 'the kept secrets are forgotten once the cluster runs again');
  const gone = await env.mup(['cluster', 'destroy', 'kept', '--yes'], { timeoutMs: 120_000 });
  assert.equal(gone.code, 0, gone.stderr);
});
