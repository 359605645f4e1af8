// The certificates mup makes for a cluster (meta/tls.ts), used by simulated mongod members with
// net.tls.mode requireTLS and reached with the real driver: a TLS client trusting the cluster CA connects,
// a plain one and one trusting another cluster's CA do not, a member presenting its host certificate as a
// client certificate is accepted, and a 3-member replica set elects and replicates over TLS.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Document, MongoClient, type MongoClientOptions } from 'mongodb';
import { stringify } from 'yaml';
import {
  freePort,
  killAll,
  removeDir,
  type SimProcess,
  simBin,
  startSim,
  tempDir,
  waitFor,
} from '../../sim/test/helpers/sim.js';
import { clusterTlsPaths, ensureClusterTls, hostSubjectNames } from '../../src/meta/tls.js';
import { validateTopology } from '../../src/topology/load.js';
import { resolveTopology } from '../../src/topology/resolve.js';

const VERSION = '7.0.14';
const clients: MongoClient[] = [];

function client(uri: string, options: MongoClientOptions): MongoClient {
  const c = new MongoClient(uri, { serverSelectionTimeoutMS: 5000, connectTimeoutMS: 3000, ...options });
  clients.push(c);
  return c;
}

async function ping(port: number, options: MongoClientOptions): Promise<Document> {
  const c = client(`mongodb://127.0.0.1:${port}/?directConnection=true`, {
    serverSelectionTimeoutMS: 2500,
    ...options,
  });
  try {
    return await c.db('admin').command({ ping: 1 });
  } finally {
    await c.close();
  }
}

describe('cluster certificates on TLS-only members', { timeout: 300_000 }, () => {
  let root: string;
  let bin: string;
  let ports: number[];
  let caFile: string;
  let hostFile: string;
  let foreignCaFile: string;
  let foreignHostFile: string;

  before(async () => {
    root = await tempDir('mup-tls-e2e-');
    bin = await simBin(VERSION, root);
    ports = [await freePort(), await freePort(), await freePort(), await freePort()];
    // The names come from the same topology resolution a deploy uses: three members on this machine.
    const spec = validateTopology(
      stringify({
        mongod_servers: ports.slice(0, 3).map((port) => ({ host: '127.0.0.1', port, replica_set: 'rs0' })),
      }),
      'topology.yaml',
    );
    const topology = await resolveTopology(spec, { isPortFree: async () => true, homeOf: () => root });
    const made = await ensureClusterTls(join(root, 'secrets'), 'tlsproof', hostSubjectNames(topology));
    caFile = made.caFile;
    hostFile = clusterTlsPaths(join(root, 'secrets')).hostFile('127.0.0.1');
    // Another cluster's material: its own CA, certificates for the very same names.
    const foreign = await ensureClusterTls(join(root, 'foreign'), 'other', hostSubjectNames(topology));
    foreignCaFile = foreign.caFile;
    foreignHostFile = clusterTlsPaths(join(root, 'foreign')).hostFile('127.0.0.1');
  });
  after(async () => {
    for (const c of clients) await c.close(true).catch(() => undefined);
    await killAll();
    await removeDir(root);
  });

  async function startMember(
    name: string,
    port: number,
    tls: Record<string, unknown>,
    replSetName?: string,
  ): Promise<SimProcess> {
    const dbPath = join(root, name);
    await mkdir(dbPath, { recursive: true });
    const conf = join(root, `${name}.conf`);
    await writeFile(
      conf,
      stringify({
        net: { port, bindIp: '127.0.0.1', tls: { mode: 'requireTLS', ...tls } },
        storage: { dbPath },
        ...(replSetName ? { replication: { replSetName } } : {}),
      }),
    );
    return startSim(join(bin, 'mongod'), ['-f', conf], { port });
  }

  it('requires a client certificate from the cluster CA when certificates are not optional', async () => {
    const port = ports[3] as number;
    await startMember('strict', port, { certificateKeyFile: hostFile, CAFile: caFile });
    // The host certificate carries clientAuth: a member presenting it to another is accepted.
    const ok = await ping(port, { tls: true, tlsCAFile: caFile, tlsCertificateKeyFile: hostFile });
    assert.equal(ok.ok, 1);
    await assert.rejects(ping(port, { tls: true, tlsCAFile: caFile }), 'no client certificate');
    await assert.rejects(
      ping(port, { tls: true, tlsCAFile: caFile, tlsCertificateKeyFile: foreignHostFile }),
      "another cluster's certificate",
    );
  });

  it('a 3-member replica set with requireTLS: TLS clients trusting the CA only, replication over TLS', async () => {
    const tls = { certificateKeyFile: hostFile, CAFile: caFile, allowConnectionsWithoutCertificates: true };
    const members = await Promise.all(
      ports.slice(0, 3).map((port, i) => startMember(`m${i}`, port, tls, 'rs0')),
    );
    for (const member of members) assert.match(member.output(), /"id":23016.*"ssl":"on"/);
    const viaTls = { tls: true, tlsCAFile: caFile };

    assert.equal((await ping(ports[0] as number, viaTls)).ok, 1);
    await assert.rejects(ping(ports[0] as number, {}), 'a plain connection is refused');
    assert.match(members[0]?.output() ?? '', /The server is configured to only allow SSL connections/);
    await assert.rejects(
      ping(ports[0] as number, { tls: true, tlsCAFile: foreignCaFile }),
      "a client trusting another cluster's CA refuses the server",
    );

    const first = client(`mongodb://127.0.0.1:${ports[0]}/?directConnection=true`, viaTls);
    await first.db('admin').command({
      replSetInitiate: {
        _id: 'rs0',
        members: ports.slice(0, 3).map((port, i) => ({
          _id: i,
          host: `127.0.0.1:${port}`,
          priority: i === 0 ? 2 : 1,
        })),
        settings: { electionTimeoutMillis: 1500, heartbeatIntervalMillis: 200 },
      },
    });
    const seeds = ports
      .slice(0, 3)
      .map((port) => `127.0.0.1:${port}`)
      .join(',');
    const set = client(`mongodb://${seeds}/?replicaSet=rs0`, { ...viaTls, serverSelectionTimeoutMS: 30_000 });
    // w: 3 returns only once both secondaries have the write: they fetched it from the primary over TLS.
    await set
      .db('app')
      .collection('t')
      .insertOne({ _id: 1, over: 'tls' } as Document, { writeConcern: { w: 3, wtimeout: 30_000 } });
    for (const port of ports.slice(1, 3)) {
      const direct = client(`mongodb://127.0.0.1:${port}/?directConnection=true`, viaTls);
      await waitFor(
        async () =>
          (await direct
            .db('app')
            .collection('t')
            .countDocuments({ over: 'tls' }, { readPreference: 'secondaryPreferred' })) === 1,
        20_000,
        `the document on 127.0.0.1:${port}`,
      );
      const status = await direct.db('admin').command({ replSetGetStatus: 1 });
      const me = (status.members as Document[]).find((m) => m.self === true);
      assert.equal(me?.stateStr, 'SECONDARY');
    }
  });
});
