// TLS with the real driver and certificates made by openssl in a temp dir (a CA, a server certificate
// for 127.0.0.1/localhost, a client certificate, and one for another host name): startup refusals,
// requireTLS / allowTLS, client certificates, the net.ssl.* spelling on 4.0, and members connecting to
// each other over TLS (preferTLS) with hostname checks and allowInvalidHostnames.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Document, MongoClient, type MongoClientOptions } from 'mongodb';
import {
  freePort,
  killAll,
  removeDir,
  runToExit,
  type SimProcess,
  simBin,
  startSim,
  tempDir,
  waitFor,
} from './helpers/sim.js';
import { ReplSetFixture } from './repl/harness.js';

interface Certs {
  ca: string;
  server: string;
  client: string;
  other: string;
}

async function makeCerts(dir: string): Promise<Certs> {
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=Sim Test CA',
  );
  const issue = async (name: string, cn: string, ext: string): Promise<string> => {
    await writeFile(join(dir, `${name}.ext`), ext);
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    );
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
    const pem = join(dir, `${name}.pem`);
    await writeFile(
      pem,
      (await readFile(join(dir, `${name}.crt`), 'utf8')) + (await readFile(join(dir, `${name}.key`), 'utf8')),
    );
    return pem;
  };
  const both = 'extendedKeyUsage=serverAuth,clientAuth\n';
  return {
    ca: join(dir, 'ca.pem'),
    server: await issue('server', 'localhost', `subjectAltName=IP:127.0.0.1,DNS:localhost\n${both}`),
    client: await issue('client', 'app-client', 'extendedKeyUsage=clientAuth\n'),
    other: await issue('other', 'other.example', `subjectAltName=DNS:other.example\n${both}`),
  };
}

const clients: MongoClient[] = [];

async function ping(port: number, options: MongoClientOptions): Promise<Document> {
  const c = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, {
    serverSelectionTimeoutMS: 2500,
    connectTimeoutMS: 2000,
    ...options,
  });
  clients.push(c);
  try {
    return await c.db('admin').command({ ping: 1 });
  } finally {
    await c.close();
  }
}

describe('TLS', { timeout: 180_000 }, () => {
  let root: string;
  let certs: Certs;
  let bin70: string;
  let bin40: string;

  before(async () => {
    root = await tempDir('mup-sim-tls-');
    certs = await makeCerts(root);
    bin70 = await simBin('7.0.14', root);
    bin40 = await simBin('4.0.28', root);
  });
  after(async () => {
    for (const c of clients) await c.close(true).catch(() => undefined);
    await killAll();
    await removeDir(root);
  });

  async function start(bin: string, name: string, net: string): Promise<SimProcess> {
    const port = await freePort();
    const dbPath = join(root, name);
    await mkdir(dbPath, { recursive: true });
    const conf = join(root, `${name}.conf`);
    await writeFile(
      conf,
      `net:\n  port: ${port}\n  bindIp: 127.0.0.1\n${net}storage:\n  dbPath: ${dbPath}\n`,
    );
    return startSim(join(bin, 'mongod'), ['-f', conf], { port });
  }

  it('refuses to start when TLS is asked without a certificate, as mongod does (exit 2)', async () => {
    const dbPath = join(root, 'nocert');
    await mkdir(dbPath, { recursive: true });
    const r70 = await runToExit(join(bin70, 'mongod'), [
      '--dbpath',
      dbPath,
      '--port',
      String(await freePort()),
      '--tlsMode',
      'requireTLS',
    ]);
    assert.equal(r70.code, 2);
    assert.match(
      r70.stderr,
      /^BadValue: need tlsCertificateKeyFile or certificateSelector when TLS is enabled$/m,
    );
    const conf = join(root, 'ssl40.conf');
    await writeFile(
      conf,
      `net:\n  ssl:\n    mode: requireSSL\n    CAFile: ${certs.ca}\nstorage:\n  dbPath: ${dbPath}\n`,
    );
    const r40 = await runToExit(join(bin40, 'mongod'), ['-f', conf]);
    assert.equal(r40.code, 2);
    assert.match(r40.stderr, /^BadValue: need sslPEMKeyFile to enable SSL$/m);
    const tls40 = await runToExit(join(bin40, 'mongod'), ['--dbpath', dbPath, '--tlsMode', 'requireTLS']);
    assert.equal(tls40.code, 2, 'net.tls arrived with 4.2');
    assert.match(tls40.stderr, /unrecognised option '--tlsMode'/);
    const missing = await runToExit(join(bin70, 'mongod'), [
      '--dbpath',
      dbPath,
      '--port',
      String(await freePort()),
      '--tlsMode',
      'requireTLS',
      '--tlsCertificateKeyFile',
      join(root, 'none.pem'),
    ]);
    assert.equal(missing.code, 1, 'an unreadable certificate fails global initialisation');
  });

  it('requireTLS: TLS clients that trust the CA connect, plain ones and untrusting ones do not', async () => {
    const p = await start(
      bin70,
      'require',
      `  tls:\n    mode: requireTLS\n    certificateKeyFile: ${certs.server}\n    CAFile: ${certs.ca}\n    allowConnectionsWithoutCertificates: true\n`,
    );
    assert.equal((await ping(p.port, { tls: true, tlsCAFile: certs.ca })).ok, 1);
    assert.match(p.output(), /"id":23016.*"ssl":"on"/);
    await assert.rejects(ping(p.port, {}), /Server selection timed out|connection .* closed|ECONNRESET/i);
    assert.match(p.output(), /The server is configured to only allow SSL connections/);
    await assert.rejects(ping(p.port, { tls: true }), /certificate|self.signed|Server selection timed out/i);
    // A certificate signed by another CA is refused even though certificates are optional.
    const foreign = join(root, 'foreign');
    await mkdir(foreign, { recursive: true });
    const other = await makeCerts(foreign);
    await assert.rejects(
      ping(p.port, { tls: true, tlsCAFile: certs.ca, tlsCertificateKeyFile: other.client }),
    );
  });

  it('requireTLS with a CA and no allowConnectionsWithoutCertificates wants a client certificate', async () => {
    const p = await start(
      bin70,
      'clientcert',
      `  tls:\n    mode: requireTLS\n    certificateKeyFile: ${certs.server}\n    CAFile: ${certs.ca}\n`,
    );
    await assert.rejects(ping(p.port, { tls: true, tlsCAFile: certs.ca }));
    const ok = await ping(p.port, { tls: true, tlsCAFile: certs.ca, tlsCertificateKeyFile: certs.client });
    assert.equal(ok.ok, 1);
  });

  it('allowTLS accepts plain and TLS connections', async () => {
    const p = await start(
      bin70,
      'allow',
      `  tls:\n    mode: allowTLS\n    certificateKeyFile: ${certs.server}\n`,
    );
    assert.equal((await ping(p.port, {})).ok, 1);
    assert.equal((await ping(p.port, { tls: true, tlsCAFile: certs.ca })).ok, 1);
  });

  it('4.0 takes the net.ssl spelling (requireSSL, PEMKeyFile, CAFile)', async () => {
    const p = await start(
      bin40,
      'ssl40',
      `  ssl:\n    mode: requireSSL\n    PEMKeyFile: ${certs.server}\n    CAFile: ${certs.ca}\n    allowConnectionsWithoutCertificates: true\n`,
    );
    assert.equal((await ping(p.port, { tls: true, tlsCAFile: certs.ca })).ok, 1);
    await assert.rejects(ping(p.port, {}));
  });

  it('members connect to each other over TLS: a certificate for another host name needs allowInvalidHostnames', async () => {
    const SETTINGS = { electionTimeoutMillis: 1500, heartbeatIntervalMillis: 200 };
    const tlsArgs = (pem: string, extra: string[] = []) => [
      '--tlsMode',
      'preferTLS',
      '--tlsCertificateKeyFile',
      pem,
      '--tlsCAFile',
      certs.ca,
      '--tlsAllowConnectionsWithoutCertificates',
      ...extra,
    ];
    const strict = new ReplSetFixture('7.0.14', 'strict');
    const relaxed = new ReplSetFixture('7.0.14', 'relaxed');
    try {
      await strict.start(2, tlsArgs(certs.other));
      await assert.rejects(
        strict.admin(0, { replSetInitiate: strict.config([{}, {}], SETTINGS) }),
        (e: Document) => {
          assert.equal(e.code, 74);
          assert.match(String(e.message), new RegExp(`${strict.host(1)} failed with`));
          return true;
        },
      );
      await relaxed.start(2, tlsArgs(certs.other, ['--tlsAllowInvalidHostnames']));
      await relaxed.admin(0, { replSetInitiate: relaxed.config([{ priority: 2 }, {}], SETTINGS) });
      assert.equal(await relaxed.waitForPrimary(), 0);
      await relaxed.waitForState(1, 'SECONDARY');
      const c = await relaxed.direct(0);
      await c
        .db('app')
        .collection('t')
        .insertOne({ _id: 1 } as Document, { writeConcern: { w: 2, wtimeout: 20_000 } });
      const s = await relaxed.direct(1);
      await waitFor(
        async () =>
          (await s.db('app').collection('t').countDocuments({}, { readPreference: 'secondaryPreferred' })) ===
          1,
        10_000,
        'replication over TLS',
      );
    } finally {
      await strict.close();
      await relaxed.close();
    }
  });
});
