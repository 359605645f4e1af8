// Users and SCRAM with the real driver: SCRAM-SHA-1 and SCRAM-SHA-256 (speculative and negotiated),
// wrong passwords, the user management commands, connectionStatus, logout, persistence across a
// restart, SCRAM-SHA-1 only on 3.6, and users replicated to a secondary through the oplog.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Document, MongoClient, MongoServerError } from 'mongodb';
import {
  killAll,
  removeDir,
  type SimProcess,
  simBin,
  startMongod,
  tempDir,
  waitFor,
} from '../helpers/sim.js';
import { ReplSetFixture } from '../repl/harness.js';

const clients: MongoClient[] = [];

async function connect(url: string, options: Record<string, unknown> = {}): Promise<MongoClient> {
  const c = new MongoClient(url, { serverSelectionTimeoutMS: 5000, connectTimeoutMS: 3000, ...options });
  clients.push(c);
  await c.connect();
  return c;
}

/** Connecting with credentials fails with this server error (the handshake runs the conversation). */
async function authError(url: string): Promise<MongoServerError> {
  const c = new MongoClient(url, { serverSelectionTimeoutMS: 3000 });
  try {
    await c.connect();
    await c.db('admin').command({ ping: 1 });
  } catch (err) {
    const cause = err instanceof MongoServerError ? err : (err as { cause?: unknown }).cause;
    if (cause instanceof MongoServerError) return cause;
    throw err;
  } finally {
    await c.close();
  }
  throw new Error(`connecting to ${url} succeeded`);
}

describe('users and SCRAM on a standalone (7.0, --auth)', { timeout: 120_000 }, () => {
  let root: string;
  let dbPath: string;
  let bin: string;
  let proc: SimProcess;
  let base: string;
  const logText = (): string => proc.output();

  before(async () => {
    root = await tempDir();
    bin = await simBin('7.0.14', root);
    dbPath = join(root, 'db');
    proc = await startMongod(bin, dbPath, ['--auth', '--bind_ip', '127.0.0.1']);
    base = `127.0.0.1:${proc.port}`;
  });
  after(async () => {
    for (const c of clients) await c.close(true).catch(() => undefined);
    await killAll();
    await removeDir(root);
  });

  it('creates the first user through the localhost exception', async () => {
    const anon = await connect(`mongodb://${base}/`);
    await anon
      .db('admin')
      .command({ createUser: 'admin', pwd: 'secret-pw', roles: [{ role: 'root', db: 'admin' }] });
    // The exception closed: the same unauthenticated client may no longer create users.
    await assert.rejects(
      anon.db('admin').command({ createUser: 'other', pwd: 'x', roles: [] }),
      (e: MongoServerError) => e.code === 13 && e.message === 'command createUser requires authentication',
    );
  });

  it('authenticates with SCRAM-SHA-256 speculatively and with SCRAM-SHA-1 on request', async () => {
    const c256 = await connect(`mongodb://admin:secret-pw@${base}/?authSource=admin`);
    const status = await c256.db('admin').command({ connectionStatus: 1 });
    assert.deepEqual(status.authInfo.authenticatedUsers, [{ user: 'admin', db: 'admin' }]);
    assert.deepEqual(status.authInfo.authenticatedUserRoles, [{ role: 'root', db: 'admin' }]);
    assert.match(logText(), /"mechanism":"SCRAM-SHA-256","speculative":true,"principalName":"admin"/);

    const c1 = await connect(`mongodb://admin:secret-pw@${base}/?authSource=admin&authMechanism=SCRAM-SHA-1`);
    await c1
      .db('app')
      .collection<{ _id: number | string; via?: string }>('t')
      .insertOne({ _id: 1, via: 'sha1' });
    assert.match(logText(), /"mechanism":"SCRAM-SHA-1","speculative":true/);
    assert.deepEqual(
      await c256.db('app').collection<{ _id: number | string; via?: string }>('t').findOne({ _id: 1 }),
      { _id: 1, via: 'sha1' },
    );
  });

  it('answers 18 AuthenticationFailed for a wrong password or an unknown user', async () => {
    for (const url of [
      `mongodb://admin:wrong@${base}/?authSource=admin`,
      `mongodb://admin:wrong@${base}/?authSource=admin&authMechanism=SCRAM-SHA-1`,
      `mongodb://nobody:secret-pw@${base}/?authSource=admin`,
      `mongodb://admin:secret-pw@${base}/?authSource=app`,
    ]) {
      const err = await authError(url);
      assert.equal(err.code, 18, url);
      assert.equal(err.codeName, 'AuthenticationFailed');
      assert.equal(err.message, 'Authentication failed.');
    }
    assert.match(logText(), /"Authentication failed"/);
  });

  it('negotiates the mechanism with saslSupportedMechs and refuses unknown mechanisms', async () => {
    const admin = await connect(`mongodb://admin:secret-pw@${base}/?authSource=admin`);
    await admin
      .db('app')
      .command({ createUser: 'legacy', pwd: 'pw1', roles: ['readWrite'], mechanisms: ['SCRAM-SHA-1'] });
    const hello = await admin.db('admin').command({ hello: 1, saslSupportedMechs: 'app.legacy' });
    assert.deepEqual(hello.saslSupportedMechs, ['SCRAM-SHA-1']);
    const none = await admin.db('admin').command({ hello: 1, saslSupportedMechs: 'app.ghost' });
    assert.equal('saslSupportedMechs' in none, false);
    // The driver picks SCRAM-SHA-1 from the negotiation; asking for SHA-256 fails.
    const legacy = await connect(`mongodb://legacy:pw1@${base}/?authSource=app`);
    await legacy.db('app').collection<{ _id: number | string; via?: string }>('t').insertOne({ _id: 2 });
    assert.equal(
      (await authError(`mongodb://legacy:pw1@${base}/?authSource=app&authMechanism=SCRAM-SHA-256`)).code,
      18,
    );
    await assert.rejects(
      admin.db('admin').command({ saslStart: 1, mechanism: 'PLAIN', payload: Buffer.from('x') }),
      (e: MongoServerError) => e.code === 334 && e.codeName === 'MechanismUnavailable',
    );
  });

  it('manages users: usersInfo, duplicates, updateUser, grant/revoke, dropUser', async () => {
    const admin = await connect(`mongodb://admin:secret-pw@${base}/?authSource=admin`);
    const app = admin.db('app');
    await app.command({
      createUser: 'ann',
      pwd: 'pw-a',
      roles: [{ role: 'read', db: 'app' }],
      customData: { team: 'x' },
    });
    await assert.rejects(
      app.command({ createUser: 'ann', pwd: 'pw-a', roles: [] }),
      (e: MongoServerError) => e.code === 51003 && e.message === 'User "ann@app" already exists',
    );
    await assert.rejects(
      app.command({ createUser: 'bob', pwd: 'pw', roles: ['noSuchRole'] }),
      (e: MongoServerError) => e.code === 31 && e.message === 'Could not find role: noSuchRole@app',
    );
    await assert.rejects(
      app.command({ createUser: 'bob', roles: [] }),
      (e: MongoServerError) => e.code === 2 && /Must provide a 'pwd' field/.test(e.message),
    );
    await assert.rejects(
      app.command({ createUser: 'bob', pwd: 'pw' }),
      (e: MongoServerError) =>
        e.code === 40414 && e.message === "BSON field 'createUser.roles' is missing but a required field",
    );
    await assert.rejects(
      admin.db('local').command({ createUser: 'bob', pwd: 'pw', roles: [] }),
      (e: MongoServerError) => e.code === 2 && e.message === 'Cannot create users in the local database',
    );

    const info = await app.command({ usersInfo: 'ann' });
    assert.equal(info.users.length, 1);
    const ann = info.users[0] as Document;
    assert.equal(ann._id, 'app.ann');
    assert.equal(ann.user, 'ann');
    assert.deepEqual(ann.roles, [{ role: 'read', db: 'app' }]);
    assert.deepEqual(ann.mechanisms, ['SCRAM-SHA-1', 'SCRAM-SHA-256']);
    assert.deepEqual(ann.customData, { team: 'x' });
    assert.equal('credentials' in ann, false, 'credentials only with showCredentials');
    const withCreds = await app.command({ usersInfo: { user: 'ann', db: 'app' }, showCredentials: true });
    assert.equal(typeof withCreds.users[0].credentials['SCRAM-SHA-256'].storedKey, 'string');
    const everyone = await admin.db('admin').command({ usersInfo: { forAllDBs: true } });
    assert.deepEqual(
      everyone.users.map((u: Document) => u._id),
      ['admin.admin', 'app.ann', 'app.legacy'],
    );

    await app.command({ updateUser: 'ann', pwd: 'pw-b' });
    assert.equal((await authError(`mongodb://ann:pw-a@${base}/?authSource=app`)).code, 18);
    const annClient = await connect(`mongodb://ann:pw-b@${base}/?authSource=app`, { maxPoolSize: 1 });
    await app.command({ grantRolesToUser: 'ann', roles: [{ role: 'readWrite', db: 'app' }, 'dbAdmin'] });
    let roles = (await app.command({ usersInfo: 'ann' })).users[0].roles;
    assert.deepEqual(roles, [
      { role: 'read', db: 'app' },
      { role: 'readWrite', db: 'app' },
      { role: 'dbAdmin', db: 'app' },
    ]);
    // The new role applies to the already authenticated connection at once.
    await annClient
      .db('app')
      .collection<{ _id: number | string; via?: string }>('t')
      .insertOne({ _id: 'ann' });
    await app.command({ revokeRolesFromUser: 'ann', roles: ['readWrite', 'dbAdmin'] });
    roles = (await app.command({ usersInfo: 'ann' })).users[0].roles;
    assert.deepEqual(roles, [{ role: 'read', db: 'app' }]);
    await assert.rejects(
      annClient.db('app').collection<{ _id: number | string; via?: string }>('t').insertOne({ _id: 'ann2' }),
      (e: MongoServerError) => e.code === 13,
    );

    await app.command({ dropUser: 'ann' });
    assert.deepEqual((await app.command({ usersInfo: 'ann' })).users, []);
    await assert.rejects(
      app.command({ dropUser: 'ann' }),
      (e: MongoServerError) =>
        e.code === 11 && e.codeName === 'UserNotFound' && e.message === "User 'ann@app' not found",
    );
    await assert.rejects(
      app.command({ updateUser: 'ann', pwd: 'x' }),
      (e: MongoServerError) => e.code === 11 && e.message === 'User ann@app not found',
    );
    // The dropped user's open connection is no longer authenticated.
    await assert.rejects(
      annClient.db('app').collection<{ _id: number | string; via?: string }>('t').findOne({}),
      (e: MongoServerError) => e.code === 13 && e.message === 'command find requires authentication',
    );
    assert.equal((await authError(`mongodb://ann:pw-b@${base}/?authSource=app`)).code, 18);
  });

  it('logout ends the authentication of the connection', async () => {
    const c = await connect(`mongodb://admin:secret-pw@${base}/?authSource=admin`, { maxPoolSize: 1 });
    await c.db('admin').command({ logout: 1 });
    const status = await c.db('admin').command({ connectionStatus: 1 });
    assert.deepEqual(status.authInfo.authenticatedUsers, []);
    await assert.rejects(c.db('admin').command({ listDatabases: 1 }), (e: MongoServerError) => e.code === 13);
  });

  it('keeps users across a restart (admin.system.users in dbPath)', async () => {
    await proc.stop('SIGTERM');
    proc = await startMongod(bin, dbPath, ['--auth', '--bind_ip', '127.0.0.1']);
    base = `127.0.0.1:${proc.port}`;
    const c = await connect(`mongodb://admin:secret-pw@${base}/?authSource=admin`);
    assert.equal(
      (await c.db('app').collection<{ _id: number | string; via?: string }>('t').countDocuments({})) >= 2,
      true,
    );
  });
});

describe('SCRAM on 3.6: SCRAM-SHA-1 only', { timeout: 60_000 }, () => {
  let root: string;
  after(async () => {
    for (const c of clients) await c.close(true).catch(() => undefined);
    await killAll();
    await removeDir(root);
  });

  it('stores SCRAM-SHA-1 credentials and authenticates with them', async () => {
    root = await tempDir();
    const proc = await startMongod(await simBin('3.6.23', root), join(root, 'db'), [
      '--auth',
      '--bind_ip',
      '127.0.0.1',
    ]);
    const base = `127.0.0.1:${proc.port}`;
    const anon = await connect(`mongodb://${base}/`);
    await assert.rejects(
      anon.db('admin').command({ createUser: 'u', pwd: 'p', roles: ['root'], mechanisms: ['SCRAM-SHA-256'] }),
      (e: MongoServerError) => e.code === 2 && e.message === "Unknown auth mechanism 'SCRAM-SHA-256'",
    );
    await anon.db('admin').command({ createUser: 'u', pwd: 'p', roles: ['root'] });
    const info = await (await connect(`mongodb://u:p@${base}/`)).db('admin').command({ usersInfo: 'u' });
    assert.deepEqual(info.users[0].mechanisms, ['SCRAM-SHA-1']);
    assert.equal('userId' in info.users[0], false, 'userId arrived with 4.0');
  });
});

describe('users replicate to secondaries through the oplog', { timeout: 90_000 }, () => {
  const rs = new ReplSetFixture('7.0.14');
  before(async () => {
    await rs.start(2);
  });
  after(async () => {
    for (const c of clients) await c.close(true).catch(() => undefined);
    await rs.close();
  });

  it('a user created on the primary authenticates on the secondary', async () => {
    await rs.admin(0, {
      replSetInitiate: rs.config([{ priority: 2 }, { priority: 1 }], {
        electionTimeoutMillis: 1500,
        heartbeatIntervalMillis: 200,
      }),
    });
    const primary = await rs.waitForPrimary();
    const secondary = 1 - primary;
    await rs.waitForState(secondary, 'SECONDARY');
    const p = await rs.direct(primary);
    await p
      .db('admin')
      .command({ createUser: 'rep', pwd: 'pw', roles: ['root'], writeConcern: { w: 2, wtimeout: 20_000 } });
    await assert.rejects(
      (await rs.direct(secondary)).db('admin').command({ createUser: 'x', pwd: 'pw', roles: [] }),
      (e: MongoServerError) => e.code === 10107,
    );
    await waitFor(
      async () => {
        try {
          const c = await connect(`mongodb://rep:pw@${rs.host(secondary)}/?directConnection=true`);
          return (
            (await c.db('admin').command({ connectionStatus: 1 })).authInfo.authenticatedUsers.length === 1
          );
        } catch {
          return false;
        }
      },
      15_000,
      'the user on the secondary',
    );
  });
});
