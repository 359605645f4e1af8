// The admin user step's idempotence against a simulated mongod with access control: created through the
// localhost exception once, accepted again when the stored password authenticates (the 51003 / closed
// exception path a killed deploy meets on resume), refused when it does not; and keyFile authentication.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { killAll, type SimProcess, simBin, startMongod, tempDir } from '../../sim/test/helpers/sim.js';
import { generateAuthSecrets } from '../../src/meta/auth-secrets.js';
import { adminCommand, type ServerAddress } from '../../src/mongo/connect.js';
import { keyFileCredentials, MongoCredentials } from '../../src/mongo/credentials.js';
import { createRootUser, credentialsWork } from '../../src/mongo/users.js';

let server: SimProcess;
let address: ServerAddress;
let key: string;

before(async () => {
  const dir = await tempDir('mup-users-');
  const bin = await simBin('7.0.14', dir);
  key = generateAuthSecrets().keyFile;
  const keyFile = join(dir, 'keyfile');
  await writeFile(keyFile, key, { mode: 0o400 });
  server = await startMongod(bin, join(dir, 'data'), ['--keyFile', keyFile, '--bind_ip', '127.0.0.1']);
  address = { host: '127.0.0.1', port: server.port };
});

after(async () => {
  await killAll();
});

test('createRootUser: created, then accepted again with the same password, refused with another', async () => {
  const admin = new MongoCredentials('mup-admin', 'first-password', 'admin');
  assert.equal(await credentialsWork(address, admin), false);
  assert.equal(await createRootUser(address, admin, { scramSha256: true }), 'created');
  assert.equal(await credentialsWork(address, admin), true);
  // The localhost exception is closed now: the same call (a resumed step) accepts the existing user.
  assert.equal(await createRootUser(address, admin, { scramSha256: true }), 'existed');
  const other = new MongoCredentials('mup-admin', 'another-password', 'admin');
  await assert.rejects(
    createRootUser(address, other, { scramSha256: true }),
    /cannot create user mup-admin@admin .*and the stored password does not authenticate/,
  );
  // The message never carries a password.
  await createRootUser(address, other, { scramSha256: true }).catch((error: Error) => {
    assert.doesNotMatch(`${error.message} ${String(error.cause)}`, /another-password|first-password/);
  });
});

test('connections authenticate: unauthenticated commands are refused (13), a wrong password fails (18), the keyFile identity works', async () => {
  await assert.rejects(adminCommand(address, { listDatabases: 1 }), (e: { code?: number }) => e.code === 13);
  const wrong = new MongoCredentials('mup-admin', 'nope', 'admin');
  await assert.rejects(
    adminCommand({ ...address, credentials: wrong }, { ping: 1 }),
    /authentication as mup-admin@admin failed/,
  );
  const system = { ...address, credentials: keyFileCredentials(key) };
  const status = await adminCommand(system, { connectionStatus: 1 });
  assert.deepEqual(status.authInfo.authenticatedUsers, [{ user: '__system', db: 'local' }]);
});
