// keyFile internal authentication: members of a replica set authenticate to each other as __system
// with the shared key; a member holding another key cannot join (heartbeats fail with "Authentication
// failed.", it shows as not reachable/healthy and never becomes SECONDARY); clients need credentials;
// mongos, config servers and shards with one key form a cluster whose users live on the config servers.
import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Document, MongoClient, type MongoServerError } from 'mongodb';
import { freePort, quickShutdownArgs, startSim, tempDir, waitFor } from '../helpers/sim.js';
import { ReplSetFixture } from '../repl/harness.js';
import { ShardedClusterFixture } from '../sharding/cluster.js';

async function keyFile(dir: string, name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${content}\n`);
  await chmod(path, 0o400);
  return path;
}

const SETTINGS = { electionTimeoutMillis: 1500, heartbeatIntervalMillis: 200, heartbeatTimeoutSecs: 2 };

describe('keyFile replica set with a member holding another key', { timeout: 120_000 }, () => {
  const rs = new ReplSetFixture('7.0.14');
  const clients: MongoClient[] = [];
  let good: string;
  let foreign: string;

  before(async () => {
    const dir = await tempDir('mup-sim-keys-');
    good = await keyFile(dir, 'good.key', 'c2hhcmVkLXNlY3JldC1rZXktZm9yLXRoZS1zZXQ=');
    foreign = await keyFile(dir, 'foreign.key', 'YW5vdGhlci1rZXktZW50aXJlbHk=');
    // Members 0 and 1 share the key; member 2 was started with another one.
    await rs.start(0);
    rs.ports.push(await freePort(), await freePort(), await freePort());
    await Promise.all([
      rs.startMember(0, ['--keyFile', good]),
      rs.startMember(1, ['--keyFile', good]),
      rs.startMember(2, ['--keyFile', foreign]),
    ]);
  });
  after(async () => {
    for (const c of clients) await c.close(true).catch(() => undefined);
    await rs.close();
  });

  const connect = async (url: string): Promise<MongoClient> => {
    const c = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
    clients.push(c);
    await c.connect();
    return c;
  };

  it('refuses to initiate with the foreign member: its quorum check fails authentication', async () => {
    await assert.rejects(
      rs.admin(0, { replSetInitiate: rs.config([{}, {}, {}], SETTINGS) }),
      (e: MongoServerError) => {
        assert.equal(e.code, 74);
        assert.match(e.message, new RegExp(`${rs.host(2)} failed with Authentication failed\\.`));
        assert.doesNotMatch(e.message, new RegExp(`${rs.host(1)} failed`));
        return true;
      },
    );
  });

  it('members with the same key replicate; the foreign member stays unreachable and never SECONDARY', async () => {
    // Initiate and create the first user through the localhost exception, as a deployment does.
    await rs.admin(0, { replSetInitiate: rs.config([{ priority: 2 }, {}], SETTINGS) });
    const primary = await rs.waitForPrimary();
    assert.equal(primary, 0);
    const p = await rs.direct(0);
    await p
      .db('admin')
      .command({ createUser: 'admin', pwd: 'pw', roles: ['root'], writeConcern: { w: 2, wtimeout: 20_000 } });
    await assert.rejects(
      p
        .db('app')
        .collection('t')
        .insertOne({ _id: 0 } as Document),
      (e: MongoServerError) => e.code === 13 && e.message === 'command insert requires authentication',
    );

    const admin = await connect(`mongodb://admin:pw@${rs.host(0)},${rs.host(1)}/?replicaSet=rs0`);
    await admin
      .db('app')
      .collection('t')
      .insertOne({ _id: 1 } as Document, { writeConcern: { w: 2, wtimeout: 20_000 } });
    const config = (await admin.db('admin').command({ replSetGetConfig: 1 })).config as Document;
    config.version = Number(config.version) + 1;
    config.members.push({ _id: 2, host: rs.host(2), priority: 0, votes: 0 });
    await admin.db('admin').command({ replSetReconfig: config });

    let member: Document | undefined;
    await waitFor(
      async () => {
        const status = await admin.db('admin').command({ replSetGetStatus: 1 });
        member = (status.members as Document[]).find((m) => m.name === rs.host(2));
        return member?.lastHeartbeatMessage === 'Authentication failed.';
      },
      15_000,
      'the heartbeat to the foreign member to fail',
    );
    assert.equal(member?.health, 0);
    assert.equal(member?.stateStr, '(not reachable/healthy)');
    const secondary = (await admin.db('admin').command({ replSetGetStatus: 1 })).members.find(
      (m: Document) => m.name === rs.host(1),
    );
    assert.equal(secondary.stateStr, 'SECONDARY');
    assert.equal(secondary.health, 1);

    // Several heartbeat rounds later the foreign member still has no config and no data.
    await new Promise((r) => setTimeout(r, 2000));
    const f = await rs.direct(2);
    await assert.rejects(
      f.db('admin').command({ replSetGetStatus: 1 }),
      (e: MongoServerError) => e.code === 94,
    );
    const hello = await f.db('admin').command({ hello: 1 });
    assert.notEqual(hello.secondary, true);
    assert.equal(hello.setName, undefined);
    // The admin user was never replicated to it either: it still offers the localhost exception only.
    await assert.rejects(
      connect(`mongodb://admin:pw@${rs.host(2)}/?directConnection=true`),
      (e: MongoServerError) => e.code === 18 || (e as { cause?: { code?: number } }).cause?.code === 18,
    );
  });
});

describe('keyFile sharded cluster: mongos, config servers and a shard', { timeout: 180_000 }, () => {
  const fx = new ShardedClusterFixture('7.0.14');
  const clients: MongoClient[] = [];
  after(async () => {
    for (const c of clients) await c.close(true).catch(() => undefined);
    await fx.close();
  });

  it('authenticates users on mongos against the config servers and routes as __system', async () => {
    await fx.init();
    const key = await keyFile(fx.root, 'cluster.key', 'Y2x1c3Rlci13aWRlLWtleS1maWxlLWNvbnRlbnQ=');
    const cfg = await fx.startSet('cfg', 1, ['--configsvr', '--keyFile', key]);
    const shard = await fx.startSet('sh1', 1, ['--shardsvr', '--keyFile', key]);
    const port = await freePort();
    fx.track(
      await startSim(
        join(fx.bin, 'mongos'),
        [
          '--port',
          String(port),
          '--bind_ip',
          '127.0.0.1',
          '--configdb',
          cfg.connectionString,
          '--keyFile',
          key,
          ...quickShutdownArgs(fx.version, 'mongos'),
        ],
        { port, timeoutMs: 30_000 },
      ),
    );
    const anon = new MongoClient(`mongodb://127.0.0.1:${port}/`, { serverSelectionTimeoutMS: 10_000 });
    clients.push(anon);
    await anon.db('admin').command({ createUser: 'admin', pwd: 'pw', roles: ['root'] });
    await assert.rejects(
      anon.db('admin').command({ listShards: 1 }),
      (e: MongoServerError) => e.code === 13 && e.message === 'command listShards requires authentication',
    );
    // The user lives on the config servers, not on the shard.
    const onConfig = await fx.command(cfg.ports[0] as number, { hello: 1 });
    assert.equal(onConfig.isWritablePrimary, true);

    const admin = new MongoClient(`mongodb://admin:pw@127.0.0.1:${port}/`, {
      serverSelectionTimeoutMS: 10_000,
    });
    clients.push(admin);
    await admin.db('admin').command({ addShard: shard.connectionString });
    await admin
      .db('app')
      .collection('t')
      .insertOne({ _id: 1, x: 'via mongos' } as Document);
    assert.deepEqual(await admin.db('app').collection('t').findOne({}), { _id: 1, x: 'via mongos' });
    const users = await admin.db('admin').command({ usersInfo: 'admin' });
    assert.equal(users.users[0].user, 'admin');
    // The shard itself still holds no user and refuses unauthenticated reads from non-bootstrap commands.
    const shardDirect = new MongoClient(`mongodb://127.0.0.1:${shard.ports[0]}/?directConnection=true`, {
      serverSelectionTimeoutMS: 10_000,
    });
    clients.push(shardDirect);
    await assert.rejects(
      shardDirect.db('app').collection('t').findOne({}),
      (e: MongoServerError) => e.code === 13,
    );
  });
});
