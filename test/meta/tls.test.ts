// The cluster CA and host certificates, read back with node:crypto and the openssl command (not with the
// library that made them), used in a real TLS handshake, and re-run to check what is kept and what replaced.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { chmod, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connect, createServer, type TLSSocket } from 'node:tls';
import {
  CA_VALIDITY_DAYS,
  clusterTlsPaths,
  ensureClusterTls,
  HOST_VALIDITY_DAYS,
  hostSubjectNames,
  TlsMaterialError,
} from '../../src/meta/tls.js';
import { validateTopology } from '../../src/topology/load.js';
import { resolveTopology } from '../../src/topology/resolve.js';
import { tempDir } from '../helpers/cli.js';

const DAY_MS = 86_400_000;
const LOCAL = ['localhost', '127.0.0.1', '::1'];

function hosts(entries: Record<string, string[]>): Map<string, string[]> {
  return new Map(Object.entries(entries));
}

async function certOf(file: string): Promise<X509Certificate> {
  return new X509Certificate(await readFile(file));
}

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

/** The extensions as OpenSSL prints them: a second, independent reading of what was written. */
function opensslText(file: string): string {
  return execFileSync('openssl', ['x509', '-in', file, '-noout', '-text'], { encoding: 'utf8' });
}

describe('cluster TLS material', () => {
  it('a fresh store gets a CA and one certificate+key file per host, each with the right names and modes', async () => {
    const secrets = await tempDir();
    const now = new Date();
    const result = await ensureClusterTls(
      secrets,
      'prod',
      hosts({ '127.0.0.1': LOCAL, 'db2.example.net': ['db2.example.net', '10.0.0.12', 'fd00::0:12'] }),
      { now },
    );
    const paths = clusterTlsPaths(secrets);
    assert.equal(result.caFile, paths.caFile);
    assert.deepEqual(result.ca, { outcome: 'created' });
    assert.deepEqual(
      result.hosts.map((h) => [h.host, h.outcome]),
      [
        ['127.0.0.1', 'created'],
        ['db2.example.net', 'created'],
      ],
    );

    const ca = await certOf(paths.caFile);
    assert.equal(ca.ca, true);
    assert.match(ca.subject, /CN=mup cluster prod CA/);
    assert.equal(ca.issuer, ca.subject);
    assert.ok(ca.verify(ca.publicKey), 'self-signed');
    assert.ok(ca.checkPrivateKey(createPrivateKey(await readFile(paths.caKeyFile))));
    const caText = opensslText(paths.caFile);
    assert.match(caText, /Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    assert.match(caText, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
    assert.match(caText, /ASN1 OID: prime256v1/);
    const caDays = (Date.parse(ca.validTo) - now.getTime()) / DAY_MS;
    assert.ok(Math.abs(caDays - CA_VALIDITY_DAYS) < 1, `CA valid for ${caDays} days`);
    assert.ok(Date.parse(ca.validFrom) <= now.getTime());

    const local = await certOf(paths.hostFile('127.0.0.1'));
    assert.equal(local.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    const remote = await certOf(paths.hostFile('db2.example.net'));
    assert.equal(
      remote.subjectAltName,
      'DNS:db2.example.net, IP Address:10.0.0.12, IP Address:FD00:0:0:0:0:0:0:12',
    );
    for (const h of result.hosts) {
      const cert = await certOf(h.file);
      assert.equal(cert.issuer, ca.subject);
      assert.ok(cert.verify(ca.publicKey), `${h.host} is signed by the cluster CA`);
      assert.equal(cert.ca, false);
      assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'], 'serverAuth + clientAuth');
      assert.match(cert.subject, /O=mup/);
      assert.match(cert.subject, /OU=prod/);
      const days = (Date.parse(cert.validTo) - now.getTime()) / DAY_MS;
      assert.ok(Math.abs(days - HOST_VALIDITY_DAYS) < 1, `${h.host} valid for ${days} days`);
      // One file: the certificate, then its key (mongod's certificateKeyFile).
      const pem = await readFile(h.file, 'utf8');
      assert.match(pem, /^-----BEGIN CERTIFICATE-----[\s\S]+-----BEGIN PRIVATE KEY-----/);
      assert.ok(cert.checkPrivateKey(createPrivateKey(pem)));
      assert.equal(await mode(h.file), 0o600);
    }
    assert.equal(await mode(paths.caFile), 0o600);
    assert.equal(await mode(paths.caKeyFile), 0o600);
    assert.equal(await mode(paths.dir), 0o700);
    assert.equal(await mode(join(paths.dir, 'hosts')), 0o700);
    assert.equal(await mode(secrets), 0o700);
  });

  it('directories made looser by hand are closed again (0700)', async () => {
    const secrets = await tempDir();
    await ensureClusterTls(secrets, 'prod', hosts({ h1: ['h1'] }));
    const paths = clusterTlsPaths(secrets);
    for (const dir of [secrets, paths.dir]) await chmod(dir, 0o755);
    await ensureClusterTls(secrets, 'prod', hosts({ h1: ['h1'] }));
    assert.equal(await mode(secrets), 0o700);
    assert.equal(await mode(paths.dir), 0o700);
  });

  it('the certificates work in a real TLS handshake both ways (server name check, client certificate)', async () => {
    const secrets = await tempDir();
    const result = await ensureClusterTls(secrets, 'prod', hosts({ '127.0.0.1': LOCAL }));
    const pem = await readFile(clusterTlsPaths(secrets).hostFile('127.0.0.1'));
    const ca = await readFile(result.caFile);
    const server = createServer(
      { cert: pem, key: pem, ca, requestCert: true, rejectUnauthorized: true },
      (s) => s.end('hello'),
    );
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const port = (server.address() as AddressInfo).port;
    const talk = (servername: string, withCert: boolean): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket: TLSSocket = connect({
          host: '127.0.0.1',
          port,
          ca,
          servername,
          ...(withCert ? { cert: pem, key: pem } : {}),
        });
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          text += chunk;
        });
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
        socket.setTimeout(5000, () => socket.destroy(new Error('timed out')));
      });
    try {
      // The member's own certificate as the client certificate: what a member presents to another.
      assert.equal(await talk('localhost', true), 'hello');
      // No client certificate: the server (requestCert + rejectUnauthorized) refuses.
      await assert.rejects(talk('localhost', false));
      // A name that is not in the certificate fails the client's identity check.
      await assert.rejects(talk('elsewhere.example', true), /altnames|Hostname\/IP does not match/);
    } finally {
      server.close();
    }
  });

  it('a second run reuses everything, byte for byte', async () => {
    const secrets = await tempDir();
    const wanted = hosts({ '127.0.0.1': LOCAL, h2: ['h2'] });
    await ensureClusterTls(secrets, 'prod', wanted);
    const paths = clusterTlsPaths(secrets);
    const files = [paths.caFile, paths.caKeyFile, paths.hostFile('127.0.0.1'), paths.hostFile('h2')];
    const before = await Promise.all(files.map((f) => readFile(f, 'utf8')));
    const again = await ensureClusterTls(secrets, 'prod', wanted);
    assert.deepEqual(again.ca, { outcome: 'reused' });
    assert.deepEqual(
      again.hosts.map((h) => h.outcome),
      ['reused', 'reused'],
    );
    assert.deepEqual(await Promise.all(files.map((f) => readFile(f, 'utf8'))), before);
  });

  it('a host whose names changed gets a new certificate from the same CA; the others are kept', async () => {
    const secrets = await tempDir();
    await ensureClusterTls(secrets, 'prod', hosts({ h1: ['h1'], h2: ['h2'] }));
    const paths = clusterTlsPaths(secrets);
    const caBefore = await readFile(paths.caFile, 'utf8');
    const h2Before = await readFile(paths.hostFile('h2'), 'utf8');
    const result = await ensureClusterTls(secrets, 'prod', hosts({ h1: ['h1', '10.1.1.1'], h2: ['H2'] }));
    assert.deepEqual(result.ca, { outcome: 'reused' });
    const [h1, h2] = result.hosts;
    assert.equal(h1?.outcome, 'reissued');
    assert.equal(h1?.reason, 'names changed (h1 → h1, 10.1.1.1)');
    assert.equal(h2?.outcome, 'reused', 'names compare case-insensitively');
    assert.equal(await readFile(paths.caFile, 'utf8'), caBefore);
    assert.equal(await readFile(paths.hostFile('h2'), 'utf8'), h2Before);
    const cert = await certOf(paths.hostFile('h1'));
    assert.equal(cert.subjectAltName, 'DNS:h1, IP Address:10.1.1.1');
    assert.ok(cert.verify((await certOf(paths.caFile)).publicKey));
  });

  it('renews close to expiry: a host certificate alone, or the CA and with it every host', async () => {
    const secrets = await tempDir();
    const start = new Date();
    await ensureClusterTls(secrets, 'prod', hosts({ h1: ['h1'] }), { now: start });
    const paths = clusterTlsPaths(secrets);
    const caBefore = await readFile(paths.caFile, 'utf8');

    const hostLate = new Date(start.getTime() + (HOST_VALIDITY_DAYS - 10) * DAY_MS);
    const renewed = await ensureClusterTls(secrets, 'prod', hosts({ h1: ['h1'] }), { now: hostLate });
    assert.deepEqual(renewed.ca, { outcome: 'reused' });
    assert.equal(renewed.hosts[0]?.outcome, 'reissued');
    assert.match(renewed.hosts[0]?.reason ?? '', /^expires /);
    const cert = await certOf(paths.hostFile('h1'));
    assert.ok(Date.parse(cert.validFrom) <= hostLate.getTime(), 'the new one is valid at the moved clock');
    assert.equal(await readFile(paths.caFile, 'utf8'), caBefore);

    const caLate = new Date(start.getTime() + (CA_VALIDITY_DAYS - 10) * DAY_MS);
    const fresh = await ensureClusterTls(secrets, 'prod', hosts({ h1: ['h1'] }), { now: caLate });
    assert.equal(fresh.ca.outcome, 'reissued');
    assert.match(fresh.ca.reason ?? '', /^expires /);
    assert.deepEqual(fresh.hosts[0]?.outcome, 'reissued');
    assert.equal(fresh.hosts[0]?.reason, 'not signed by the cluster CA');
    const newCa = await certOf(paths.caFile);
    assert.ok((await certOf(paths.hostFile('h1'))).verify(newCa.publicKey));
  });

  it('a host certificate never outlives its CA', async () => {
    const secrets = await tempDir();
    const start = new Date();
    await ensureClusterTls(secrets, 'prod', hosts({ h1: ['h1'] }), { now: start });
    const paths = clusterTlsPaths(secrets);
    // Late in the CA's life, but before its renewal window: the host certificate is cut at the CA's end.
    const late = new Date(start.getTime() + (CA_VALIDITY_DAYS - 100) * DAY_MS);
    const result = await ensureClusterTls(secrets, 'prod', hosts({ h1: ['h1'] }), { now: late });
    assert.equal(result.ca.outcome, 'reused');
    assert.equal(result.hosts[0]?.outcome, 'reissued');
    const ca = await certOf(paths.caFile);
    assert.equal((await certOf(paths.hostFile('h1'))).validTo, ca.validTo);
  });

  it('damaged files are replaced: an unreadable host file, a CA key that does not match its certificate', async () => {
    const secrets = await tempDir();
    await ensureClusterTls(secrets, 'prod', hosts({ h1: ['h1'], h2: ['h2'] }));
    const paths = clusterTlsPaths(secrets);
    await writeFile(paths.hostFile('h1'), 'not a certificate');
    const repaired = await ensureClusterTls(secrets, 'prod', hosts({ h1: ['h1'], h2: ['h2'] }));
    assert.deepEqual(repaired.ca, { outcome: 'reused' });
    assert.equal(repaired.hosts[0]?.outcome, 'reissued');
    assert.match(repaired.hosts[0]?.reason ?? '', /^unreadable/);
    assert.equal(repaired.hosts[1]?.outcome, 'reused');

    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    await writeFile(paths.caKeyFile, other.export({ type: 'pkcs8', format: 'pem' }));
    const rekeyed = await ensureClusterTls(secrets, 'prod', hosts({ h1: ['h1'], h2: ['h2'] }));
    assert.deepEqual(rekeyed.ca, { outcome: 'reissued', reason: 'key does not match the certificate' });
    const ca = await certOf(paths.caFile);
    assert.ok(ca.checkPrivateKey(createPrivateKey(await readFile(paths.caKeyFile))));
    for (const h of rekeyed.hosts) assert.ok((await certOf(h.file)).verify(ca.publicKey));
    assert.equal(await mode(paths.caKeyFile), 0o600, 'a replaced file gets the secret mode again');

    await writeFile(paths.caFile, '');
    const missing = await ensureClusterTls(secrets, 'prod', hosts({ h1: ['h1'] }));
    assert.equal(missing.ca.outcome, 'reissued');
    assert.match(missing.ca.reason ?? '', /^unreadable/);
  });

  it('a CA certificate without its key is replaced, not used', async () => {
    const secrets = await tempDir();
    await ensureClusterTls(secrets, 'prod', hosts({ h1: ['h1'] }));
    const paths = clusterTlsPaths(secrets);
    await rm(paths.caKeyFile);
    const result = await ensureClusterTls(secrets, 'prod', hosts({ h1: ['h1'] }));
    assert.deepEqual(result.ca, { outcome: 'reissued', reason: 'key missing' });
    assert.equal(result.hosts[0]?.outcome, 'reissued');
  });

  it('refuses a host with no name to certify', async () => {
    const secrets = await tempDir();
    await assert.rejects(ensureClusterTls(secrets, 'prod', hosts({ h1: [] })), (error: unknown) => {
      assert.ok(error instanceof TlsMaterialError);
      assert.match(error.message, /no name to put in the certificate of h1/);
      return true;
    });
  });
});

async function resolved(lines: string[]) {
  const spec = validateTopology([...lines, ''].join('\n'), 'topology.yaml');
  return resolveTopology(spec, { isPortFree: async () => true, homeOf: () => '/home/m' });
}

describe('hostSubjectNames', () => {
  it('a local host is also reached by the loopback names', async () => {
    const topology = await resolved([
      'mongod_servers:',
      '  - { host: 127.0.0.1, port: 27017, replica_set: rs0 }',
      '  - { host: 127.0.0.1, port: 27018, replica_set: rs0 }',
    ]);
    assert.deepEqual(Object.fromEntries(hostSubjectNames(topology)), {
      '127.0.0.1': ['localhost', '127.0.0.1', '::1'],
    });
  });

  it('bindIp addresses are added (lower-case, IPv6 compressed), wildcards and sockets are not', async () => {
    const topology = await resolved([
      'mongod_servers:',
      '  - host: DB2.Example.Net',
      '    port: 27017',
      '    replica_set: rs0',
      '    config:',
      '      net.bindIp: "10.0.0.12, 0.0.0.0,/tmp/mongodb.sock,fd00:0::12,DB2-internal"',
      '  - { host: "fd00::13", port: 27017, replica_set: rs0 }',
    ]);
    assert.deepEqual(Object.fromEntries(hostSubjectNames(topology)), {
      'DB2.Example.Net': ['db2-internal', 'db2.example.net', '10.0.0.12', 'fd00::12'],
      'fd00::13': ['fd00::13'],
    });
  });
});
