// Authorization with the real driver: the localhost exception and what it allows, commands allowed
// before authentication, 13 Unauthorized with mongod's two messages, and each built-in role against
// commands it allows and refuses. Authorization comes from the config file
// (security.authorization: enabled) here; --auth is covered by users.test.ts.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Document, MongoClient, type MongoServerError } from 'mongodb';
import { freePort, killAll, removeDir, type SimProcess, simBin, startSim, tempDir } from '../helpers/sim.js';

const clients: MongoClient[] = [];

async function connect(url: string): Promise<MongoClient> {
  const c = new MongoClient(url, { serverSelectionTimeoutMS: 5000, maxPoolSize: 2 });
  clients.push(c);
  await c.connect();
  return c;
}

const unauthorized =
  (message: string | RegExp) =>
  (e: MongoServerError): boolean => {
    assert.equal(e.code, 13, e.message);
    assert.equal(e.codeName, 'Unauthorized');
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  };

async function startWithConfig(root: string, name: string, extra: string): Promise<SimProcess> {
  const bin = await simBin('7.0.14', root);
  const port = await freePort();
  const config = join(root, `${name}.conf`);
  const dbPath = join(root, name);
  await import('node:fs/promises').then((fs) => fs.mkdir(dbPath, { recursive: true }));
  await writeFile(
    config,
    `net:\n  port: ${port}\n  bindIp: 127.0.0.1\nstorage:\n  dbPath: ${dbPath}\nsecurity:\n  authorization: enabled\n${extra}`,
  );
  return startSim(join(bin, 'mongod'), ['--config', config], { port });
}

describe('authorization (security.authorization: enabled)', { timeout: 120_000 }, () => {
  let root: string;
  let base: string;

  before(async () => {
    root = await tempDir();
    const proc = await startWithConfig(root, 'db', '');
    base = `127.0.0.1:${proc.port}`;
  });
  after(async () => {
    for (const c of clients) await c.close(true).catch(() => undefined);
    await killAll();
    await removeDir(root);
  });

  it('the localhost exception allows the first admin user and replica-set setup, nothing else', async () => {
    const anon = await connect(`mongodb://${base}/`);
    await assert.rejects(
      anon.db('app').collection<{ _id: number }>('t').insertOne({ _id: 1 }),
      unauthorized(
        /^not authorized on app to execute command \{ insert: "t", documents: \[ \{ _id: 1 \} \], ordered: true, lsid: \{ id: UUID\("[0-9a-f-]{36}"\) \}, \$db: "app" \}$/,
      ),
    );
    await assert.rejects(
      anon.db('admin').command({ listDatabases: 1 }),
      unauthorized(/^not authorized on admin/),
    );
    await assert.rejects(
      anon.db('admin').command({ serverStatus: 1 }),
      unauthorized(/^not authorized on admin/),
    );
    // Only users on admin, with admin roles (grantRole on admin alone).
    await assert.rejects(
      anon.db('app').command({ createUser: 'u', pwd: 'p', roles: ['readWrite'] }),
      unauthorized(/^not authorized on app to execute command \{ createUser: "u", pwd: "xxx"/),
    );
    await assert.rejects(
      anon.db('admin').command({ createUser: 'u', pwd: 'p', roles: [{ role: 'readWrite', db: 'app' }] }),
      unauthorized(/^not authorized on admin/),
    );
    // replSetGetStatus is allowed (and fails for its own reason on a standalone).
    await assert.rejects(
      anon.db('admin').command({ replSetGetStatus: 1 }),
      (e: MongoServerError) => e.code === 76,
    );
    await anon.db('admin').command({ createUser: 'root', pwd: 'rootpw', roles: ['root'] });
    await assert.rejects(
      anon.db('admin').command({ replSetGetStatus: 1 }),
      unauthorized('command replSetGetStatus requires authentication'),
    );
  });

  it('runs hello, ping, buildInfo, connectionStatus and the SASL commands without authentication', async () => {
    const anon = await connect(`mongodb://${base}/`);
    for (const cmd of [
      { hello: 1 },
      { isMaster: 1 },
      { ping: 1 },
      { buildInfo: 1 },
      { connectionStatus: 1 },
      { logout: 1 },
    ]) {
      const reply = await anon.db('admin').command(cmd);
      assert.equal(reply.ok, 1, JSON.stringify(cmd));
    }
    for (const [cmd, name] of [
      [{ find: 't' }, 'find'],
      [{ listCollections: 1 }, 'listCollections'],
      [{ getCmdLineOpts: 1 }, 'getCmdLineOpts'],
      [{ hostInfo: 1 }, 'hostInfo'],
      [{ usersInfo: 1 }, 'usersInfo'],
      [{ startSession: 1 }, 'startSession'],
    ] as const) {
      await assert.rejects(
        anon.db('admin').command(cmd),
        unauthorized(`command ${name} requires authentication`),
      );
    }
    // An unknown command is CommandNotFound before any authorization check, as in mongod.
    await assert.rejects(
      anon.db('admin').command({ noSuchCommand: 1 }),
      (e: MongoServerError) => e.code === 59,
    );
  });

  const ROLES: Record<string, Document[]> = {
    reader: [{ role: 'read', db: 'app' }],
    writer: [{ role: 'readWrite', db: 'app' }],
    dbadmin: [{ role: 'dbAdmin', db: 'app' }],
    useradmin: [{ role: 'userAdmin', db: 'app' }],
    monitor: [{ role: 'clusterMonitor', db: 'admin' }],
    manager: [{ role: 'clusterManager', db: 'admin' }],
    cadmin: [{ role: 'clusterAdmin', db: 'admin' }],
    rwany: [{ role: 'readWriteAnyDatabase', db: 'admin' }],
    uaany: [{ role: 'userAdminAnyDatabase', db: 'admin' }],
    backup: [{ role: 'backup', db: 'admin' }],
    restore: [{ role: 'restore', db: 'admin' }],
    superuser: [{ role: 'root', db: 'admin' }],
  };

  /** [db, command] pairs; each user below lists which of them it may run. */
  const COMMANDS: Record<string, [string, Document]> = {
    findApp: ['app', { find: 't' }],
    insertApp: ['app', { insert: 't', documents: [{ x: 1 }] }],
    insertOther: ['other', { insert: 't', documents: [{ x: 1 }] }],
    findOther: ['other', { find: 't' }],
    indexApp: ['app', { createIndexes: 't', indexes: [{ key: { x: 1 }, name: 'x_1' }] }],
    dbStatsApp: ['app', { dbStats: 1 }],
    createUserApp: ['app', { createUser: 'tmp', pwd: 'p', roles: [] }],
    listDatabases: ['admin', { listDatabases: 1 }],
    serverStatus: ['admin', { serverStatus: 1 }],
    getCmdLineOpts: ['admin', { getCmdLineOpts: 1 }],
    setParameter: ['admin', { setParameter: 1, logLevel: 0 }],
    fcv: ['admin', { setFeatureCompatibilityVersion: '7.0', confirm: true }],
    usersInfoAll: ['admin', { usersInfo: { forAllDBs: true } }],
  };

  const ALLOWED: Record<string, string[]> = {
    reader: ['findApp', 'dbStatsApp'],
    writer: ['findApp', 'insertApp', 'indexApp', 'dbStatsApp'],
    dbadmin: ['indexApp', 'dbStatsApp'],
    useradmin: ['createUserApp'],
    monitor: ['listDatabases', 'serverStatus', 'getCmdLineOpts', 'dbStatsApp'],
    manager: ['fcv'],
    cadmin: ['listDatabases', 'serverStatus', 'getCmdLineOpts', 'setParameter', 'fcv', 'dbStatsApp'],
    rwany: ['findApp', 'insertApp', 'insertOther', 'findOther', 'indexApp', 'dbStatsApp', 'listDatabases'],
    uaany: ['createUserApp', 'listDatabases', 'usersInfoAll'],
    backup: ['findApp', 'findOther', 'listDatabases', 'serverStatus'],
    restore: ['insertApp', 'insertOther', 'indexApp', 'createUserApp', 'usersInfoAll'],
    superuser: Object.keys(COMMANDS),
  };

  it('grants each built-in role its privileges and refuses the rest with 13', async () => {
    const root = await connect(`mongodb://root:rootpw@${base}/?authSource=admin`);
    for (const [user, roles] of Object.entries(ROLES)) {
      await root.db('admin').command({ createUser: user, pwd: `${user}-pw`, roles });
    }
    for (const [user, allowed] of Object.entries(ALLOWED)) {
      const c = await connect(`mongodb://${user}:${user}-pw@${base}/?authSource=admin`);
      for (const [name, [db, cmd]] of Object.entries(COMMANDS)) {
        const attempt = c.db(db).command(cmd);
        if (allowed.includes(name)) {
          const reply = await attempt.catch((e: MongoServerError) => {
            throw new Error(`${user} should run ${name}: ${e.message}`);
          });
          assert.equal(reply.ok, 1);
          if (name === 'createUserApp') await root.db('app').command({ dropUser: 'tmp' });
        } else {
          await assert.rejects(
            attempt,
            (e: MongoServerError) => {
              assert.equal(e.code, 13, `${user} must not run ${name} (${e.message})`);
              assert.match(
                e.message,
                new RegExp(`^not authorized on ${db} to execute command \\{ ${Object.keys(cmd)[0]}: `),
              );
              return true;
            },
            `${user} must not run ${name}`,
          );
        }
      }
      await c.close();
    }
  });

  it('lets a user see its own usersInfo and refuses other users', async () => {
    const c = await connect(`mongodb://reader:reader-pw@${base}/?authSource=admin`);
    const mine = await c.db('admin').command({ usersInfo: 'reader' });
    assert.equal(mine.users[0].user, 'reader');
    await assert.rejects(
      c.db('admin').command({ usersInfo: 'root' }),
      unauthorized(/^not authorized on admin/),
    );
  });
});

describe('enableLocalhostAuthBypass=false', { timeout: 60_000 }, () => {
  let root: string;
  after(async () => {
    for (const c of clients) await c.close(true).catch(() => undefined);
    await killAll();
    await removeDir(root);
  });

  it('closes the localhost exception', async () => {
    root = await tempDir();
    const proc = await startWithConfig(root, 'db', 'setParameter:\n  enableLocalhostAuthBypass: false\n');
    const anon = await connect(`mongodb://127.0.0.1:${proc.port}/`);
    await assert.rejects(
      anon.db('admin').command({ createUser: 'root', pwd: 'p', roles: ['root'] }),
      unauthorized('command createUser requires authentication'),
    );
  });
});
