// `cluster deploy --tls`: a cluster CA and a host certificate made by mup, TLS required on every port, and
// every connection mup makes (initiate, admin user, health waits, display's raw hello, step-down, reconfig)
// speaks TLS trusting the CA. `cluster credentials --uri` gives a URI that works as printed; a plain client is
// refused. A rolling restart under a majority writer over TLS loses nothing; scale-out adds a member; destroy
// removes the files. Refusals: --tls against global.tls: false, the user's own TLS options.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MongoClient } from 'mongodb';
import { parse, stringify } from 'yaml';
import {
  type DisplayJson,
  destroyAllClusters,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
  waitFor,
} from '../helpers/e2e.js';
import { assertWriterAvailability, lostWrites, startWriter } from '../helpers/writer.js';

const NAME = 'tls-rs';
const PORT_BASE = e2ePortBase();

let env: E2eEnv;
let topology: string;
let uri: string;

interface CredentialsJson {
  credentials: { user: string; password: string; authSource: string; uri: string };
}

before(async () => {
  env = await e2eEnv();
  topology = join(env.userHome, 'tls-rs.yaml');
  // A short quiesce keeps the rolling restart quick; it changes nothing about TLS.
  await writeFile(
    topology,
    stringify({
      global: { deploy_dir: 'tls-rs' },
      server_configs: { mongod: { setParameter: { shutdownTimeoutMillisForSignaledShutdown: 300 } } },
      mongod_servers: [0, 1, 2].map(() => ({ host: 'localhost', port: 0, replica_set: 'rs0' })),
    }),
  );
});

after(async () => {
  await destroyAllClusters(env);
});

async function ping(target: string, options: ConstructorParameters<typeof MongoClient>[1] = {}) {
  const client = new MongoClient(target, {
    serverSelectionTimeoutMS: 4000,
    connectTimeoutMS: 3000,
    ...options,
  });
  try {
    return await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close(true);
  }
}

const secretsDir = () => join(env.home, 'storage', 'clusters', NAME, 'secrets');
const supervisorDir = () => join(env.userHome, 'tls-rs', 'supervisor');

test('deploy --tls: members require TLS, the printed URIs carry the CA, credentials --uri writes', async () => {
  const deploy = await env.mup(['--json', ...env.authDeployArgs(NAME, topology, PORT_BASE), '--tls'], {
    timeoutMs: 300_000,
  });
  assert.equal(deploy.code, 0, deploy.stderr);
  const result = JSON.parse(deploy.stdout) as { uri: string; plan: { phases: { name: string }[] } };
  assert.equal(result.plan.phases[0]?.name, 'certificates');
  const caFile = join(secretsDir(), 'tls', 'ca.pem');
  assert.match(result.uri, new RegExp(`tls=true&tlsCAFile=${encodeURIComponent(caFile)}`));

  const creds = await env.mupJson<CredentialsJson>(['cluster', 'credentials', NAME]);
  uri = creds.credentials.uri;
  assert.match(uri, /authSource=admin&tls=true&tlsCAFile=/);
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    await client
      .db('app')
      .collection('items')
      .insertOne({ over: 'tls' }, { writeConcern: { w: 3 } });
  } finally {
    await client.close();
  }

  const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  assert.equal(view.status, 'running');
  assert.deepEqual(view.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
  const port = view.processes[0]?.port;
  await assert.rejects(
    ping(`mongodb://localhost:${port}/?directConnection=true`),
    'a plain client is refused',
  );
  assert.equal(
    (await ping(`mongodb://localhost:${port}/?directConnection=true`, { tls: true, tlsCAFile: caFile })).ok,
    1,
    'a TLS client trusting the CA connects without a certificate of its own',
  );
  await assert.rejects(
    ping(`mongodb://localhost:${port}/?directConnection=true`, { tls: true }),
    'a TLS client that does not trust the cluster CA refuses the server',
  );
});

test('the CA and host certificate: 0400 on the host beside the keyFile, named in every config; CA key only in secrets/', async () => {
  const secrets = join(secretsDir(), 'tls');
  assert.equal(statSync(secrets).mode & 0o777, 0o700);
  for (const file of ['ca.pem', 'ca-key.pem', join('hosts', 'localhost.pem')])
    assert.equal(statSync(join(secrets, file)).mode & 0o777, 0o600, file);
  const caOnHost = join(supervisorDir(), 'tls-ca.pem');
  const pemOnHost = join(supervisorDir(), 'tls-server.pem');
  for (const file of [caOnHost, pemOnHost]) assert.equal(statSync(file).mode & 0o777, 0o400, file);
  assert.equal(readFileSync(caOnHost, 'utf8'), readFileSync(join(secrets, 'ca.pem'), 'utf8'));
  const pem = readFileSync(pemOnHost, 'utf8');
  assert.match(pem, /BEGIN PRIVATE KEY/);
  const certificate = new X509Certificate(pem);
  assert.ok(certificate.verify(new X509Certificate(readFileSync(caOnHost)).publicKey));
  assert.match(certificate.subjectAltName ?? '', /DNS:localhost/);
  assert.match(certificate.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  const caKey = readFileSync(join(secrets, 'ca-key.pem'), 'utf8');
  assert.ok(!pem.includes(caKey.split('\n')[1] ?? 'x'), 'the CA key is not shipped');

  const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  for (const p of view.processes) {
    const conf = parse(
      readFileSync(join(env.userHome, 'tls-rs', `mongod-${p.port}`, 'conf', 'mongod.conf'), 'utf8'),
    ) as { net: { tls?: Record<string, unknown> } };
    assert.deepEqual(conf.net.tls, {
      mode: 'requireTLS',
      certificateKeyFile: pemOnHost,
      CAFile: caOnHost,
      allowConnectionsWithoutCertificates: true,
    });
  }
});

test('rolling restart under a majority writer over TLS: nothing lost; scale-out adds a member over TLS', async () => {
  const writer = await startWriter(uri);
  let report: Awaited<ReturnType<typeof writer.stop>>;
  try {
    await writer.waitForWrites(30);
    const restart = await env.mup(['cluster', 'restart', NAME, '--yes'], { timeoutMs: 300_000 });
    assert.equal(restart.code, 0, restart.stderr);
    assert.match(restart.stdout + restart.stderr, /stepped down; localhost:\d+ is primary/);
    await writer.waitForWrites(writer.acknowledgedCount() + 30);
  } finally {
    report = await writer.stop();
  }
  assertWriterAvailability(report, Math.max(0, report.primaries.length - 1));
  assert.deepEqual(await lostWrites(uri, report), []);

  const part = join(env.userHome, 'tls-part.yaml');
  await writeFile(part, stringify({ mongod_servers: [{ host: 'localhost', port: 0, replica_set: 'rs0' }] }));
  const scale = await env.mup(
    ['cluster', 'scale-out', NAME, part, '--yes', '--port-base', String(PORT_BASE)],
    {
      timeoutMs: 300_000,
    },
  );
  assert.equal(scale.code, 0, scale.stderr);
  const view = await waitFor('four members up', async () => {
    const v = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
    return v.processes.length === 4 && v.processes.every((p) => /^Up\|[PS]$/.test(p.status)) ? v : undefined;
  });
  assert.equal(view.processes.filter((p) => p.status === 'Up|P').length, 1);
});

test('destroy --keep-data keeps the CA with the data: the redeploy serves certificates the old CA verifies', async () => {
  const name = 'tls-kept';
  const file = join(env.userHome, 'tls-kept.yaml');
  await writeFile(
    file,
    stringify({
      global: { deploy_dir: 'tls-kept' },
      mongod_servers: [{ host: 'localhost', port: 0, replica_set: 'kept0' }],
    }),
  );
  const deploy = () =>
    env.mup([...env.authDeployArgs(name, file, PORT_BASE + 60), '--tls'], { timeoutMs: 300_000 });
  const first = await deploy();
  assert.equal(first.code, 0, first.stderr);
  const secrets = join(env.home, 'storage', 'clusters', name, 'secrets', 'tls');
  const caBefore = readFileSync(join(secrets, 'ca.pem'), 'utf8');
  const before = await env.mupJson<CredentialsJson>(['cluster', 'credentials', name]);
  const writer = new MongoClient(before.credentials.uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    await writer.db('app').collection('kept').insertOne({ kept: 'tls' });
  } finally {
    await writer.close();
  }

  const kept = await env.mup(['cluster', 'destroy', name, '--keep-data', '--yes'], { timeoutMs: 180_000 });
  assert.equal(kept.code, 0, kept.stderr);
  const keptSecrets = join(env.home, 'storage', 'kept-data', `${name}.secrets`);
  for (const entry of ['tls-ca.pem', 'tls-ca-key.pem'])
    assert.equal(statSync(join(keptSecrets, entry)).mode & 0o777, 0o600, entry);

  const again = await deploy();
  assert.equal(again.code, 0, again.stderr);
  assert.equal(readFileSync(join(secrets, 'ca.pem'), 'utf8'), caBefore, 'the same CA');
  assert.equal(statSync(join(secrets, 'ca-key.pem')).mode & 0o777, 0o600);
  assert.equal(existsSync(keptSecrets), false, 'the kept secrets are forgotten once the cluster runs again');
  // A client holding a copy of the CA from before the destroy reads the data written before it.
  const oldCa = join(env.userHome, 'tls-kept-ca-before.pem');
  await writeFile(oldCa, caBefore);
  const after = await env.mupJson<CredentialsJson>(['cluster', 'credentials', name]);
  const reader = new MongoClient(
    after.credentials.uri.replace(/tlsCAFile=[^&]*/, `tlsCAFile=${encodeURIComponent(oldCa)}`),
    { serverSelectionTimeoutMS: 20_000 },
  );
  try {
    assert.ok(await reader.db('app').collection('kept').findOne({ kept: 'tls' }));
  } finally {
    await reader.close();
  }
  const gone = await env.mup(['cluster', 'destroy', name, '--yes'], { timeoutMs: 180_000 });
  assert.equal(gone.code, 0, gone.stderr);
});

test('destroy removes the host copies of the certificates', async () => {
  const destroy = await env.mup(['cluster', 'destroy', NAME, '--yes'], { timeoutMs: 180_000 });
  assert.equal(destroy.code, 0, destroy.stderr);
  assert.equal(existsSync(join(supervisorDir(), 'tls-server.pem')), false);
  assert.equal(existsSync(join(supervisorDir(), 'tls-ca.pem')), false);
});

test('refused: --tls against global.tls: false, TLS options of the user on a TLS cluster (with positions)', async () => {
  const file = async (name: string, spec: Record<string, unknown>) => {
    const path = join(env.userHome, name);
    await writeFile(path, stringify(spec));
    return path;
  };
  const members = [{ host: 'localhost', port: 0, replica_set: 'rs0' }];

  const off = await file('tls-off.yaml', { global: { tls: false }, mongod_servers: members });
  const offRun = await env.mup([...env.authDeployArgs('tls-off', off, PORT_BASE), '--tls']);
  assert.equal(offRun.code, 2, offRun.stderr);
  assert.match(offRun.stderr, /tls-off\.yaml:2:\d+.*global\.tls.*is false, but --tls asks for TLS/s);

  const mode = await file('tls-mode.yaml', {
    mongod_servers: [{ ...members[0], config: { net: { tls: { mode: 'disabled' } } } }],
  });
  const modeRun = await env.mup([...env.authDeployArgs('tls-mode', mode, PORT_BASE), '--tls']);
  assert.equal(modeRun.code, 2, modeRun.stderr);
  assert.match(modeRun.stderr, /tls-mode\.yaml:\d+:\d+/);
  assert.match(modeRun.stderr, /managed by mup on a cluster with TLS \(--tls or global\.tls: true\)/);
  assert.match(modeRun.stderr, /"requireTLS"/);

  // global.tls: true does the same as --tls: the other spelling of a TLS option is refused too.
  const ssl = await file('tls-ssl.yaml', {
    global: { tls: true },
    server_configs: { mongod: { 'net.ssl.mode': 'requireSSL' } },
    mongod_servers: members,
  });
  const sslRun = await env.mup(['topology', 'validate', ssl]);
  assert.equal(sslRun.code, 2, sslRun.stderr);
  assert.match(sslRun.stderr + sslRun.stdout, /tls-ssl\.yaml:\d+:\d+.*net\.ssl\.mode/s);
  assert.match(sslRun.stderr + sslRun.stdout, /managed by mup on a cluster with TLS/);
  // Without TLS from mup the same file is the user's own business (no TLS conflict).
  const plain = await file('tls-plain.yaml', {
    server_configs: { mongod: { 'net.tls.allowInvalidHostnames': true } },
    mongod_servers: members,
  });
  const plainRun = await env.mup(['topology', 'validate', plain]);
  assert.equal(plainRun.code, 0, plainRun.stderr);
  // A dry run of global.tls: true plans the certificates.
  const on = await file('tls-on.yaml', { global: { tls: true }, mongod_servers: members });
  const dry = await env.mupJson<{ plan: { phases: { name: string }[] } }>([
    ...env.authDeployArgs('tls-on', on, PORT_BASE),
    '--dry-run',
  ]);
  assert.equal(dry.plan.phases[0]?.name, 'certificates');
  for (const name of ['tls-off', 'tls-mode', 'tls-on'])
    assert.equal(existsSync(join(env.home, 'storage', 'clusters', name, 'meta.yaml')), false, name);
});
