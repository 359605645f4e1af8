// A cluster without auth may not listen beyond loopback unless --no-auth said so; and the auth secrets' shape.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateAuthSecrets } from '../../src/meta/auth-secrets.js';
import { deployCluster } from '../../src/ops/deploy.js';
import { exposedBind } from '../../src/ops/exposure.js';
import { validateTopology } from '../../src/topology/load.js';
import { resolveTopology } from '../../src/topology/resolve.js';
import type { ResolvedInstance } from '../../src/topology/types.js';
import { tempDir } from '../helpers/cli.js';
import { simBinaryDir } from '../helpers/sim.js';

async function instancesOf(yaml: string) {
  const spec = validateTopology(yaml, 't.yaml');
  return (await resolveTopology(spec, { isPortFree: async () => true, homeOf: () => '/home/u' })).instances;
}

test('exposedBind names bindIpAll, a non-loopback bindIp entry or a remote host; loopback is not exposed', async () => {
  const [plain] = await instancesOf('mongod_servers:\n  - { host: localhost, port: 27017 }\n');
  const [all] = await instancesOf(
    'mongod_servers:\n  - { host: localhost, port: 27017, config: { net.bindIpAll: true } }\n',
  );
  const [open] = await instancesOf(
    'mongod_servers:\n  - { host: localhost, port: 27017, config: { net.bindIp: "127.0.0.1,0.0.0.0" } }\n',
  );
  const [loop] = await instancesOf(
    'mongod_servers:\n  - { host: 127.0.0.2, port: 27017, config: { net.bindIp: "localhost,::1,127.0.0.2" } }\n',
  );
  assert.equal(exposedBind(plain as ResolvedInstance), undefined);
  assert.equal(exposedBind(all as ResolvedInstance), 'net.bindIpAll: true');
  assert.equal(exposedBind(open as ResolvedInstance), 'bindIp 0.0.0.0');
  assert.equal(exposedBind(loop as ResolvedInstance), undefined);
});

test('deploy without auth and without --no-auth on bindIpAll exits 2 before any change', async () => {
  const home = await tempDir('mup-exposure-');
  const binDir = await simBinaryDir('7.0.14');
  const topologyText = `global: { deploy_dir: ${join(home, 'deploy')} }
mongod_servers:
  - { host: localhost, port: 0, config: { net.bindIpAll: true } }
`;
  const request = {
    name: 'open',
    topologyText,
    topologyFile: 'open.yaml',
    version: undefined,
    variant: 'mongodb' as const,
    binaryPath: binDir,
    // As root, the run-as check would refuse first: this test is about the exposure check after it.
    allowRoot: true,
  };
  await assert.rejects(
    deployCluster({ ...request, auth: false }, { home, yes: true, concurrency: 2 }),
    (error: Error & { exitCode?: number }) => {
      assert.equal(error.exitCode, 2);
      assert.match(
        error.message,
        /refusing to deploy without auth on addresses beyond loopback: localhost:\d+ \(net\.bindIpAll: true\)/,
      );
      return true;
    },
  );
  assert.equal(existsSync(join(home, 'storage', 'clusters', 'open')), false);
  assert.equal(existsSync(join(home, 'deploy')), false);
  // --no-auth accepts it (dry run: nothing started), and so does auth.
  const noAuth = await deployCluster(
    { ...request, auth: false, authOptOut: true },
    { home, yes: true, concurrency: 2, dryRun: true },
  );
  assert.equal(noAuth.dryRun, true);
  const withAuth = await deployCluster(request, { home, yes: true, concurrency: 2, dryRun: true });
  assert.ok(withAuth.plan.phases.some((p) => p.name === 'admin-user'));
});

test('auth secrets: a 756-character base64 keyFile (mongod takes 6 to 1024) and a URI-safe password', () => {
  const a = generateAuthSecrets();
  const b = generateAuthSecrets();
  assert.equal(a.keyFile.length, 756);
  assert.match(a.keyFile, /^[A-Za-z0-9+/]+$/);
  assert.match(a.adminPassword, /^[A-Za-z0-9_-]{32}$/);
  assert.notEqual(a.keyFile, b.keyFile);
  assert.notEqual(a.adminPassword, b.adminPassword);
});
