// `mup cluster check` on this machine through the built CLI: a topology file whose port is taken and whose
// supervisord is missing fails (exit 2) with those rows (unwritable dirs are tested on the fleet, as a non-root
// login); --apply creates the missing dirs and leaves this machine's kernel settings alone; refused inputs
// exit 2.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../sim/test/helpers/ports.js';
import type { CheckResult } from '../../src/ops/check.js';
import { runMup, tempDir } from '../helpers/cli.js';

function topology(deployDir: string, ports: readonly number[]): string {
  return [
    'global:',
    `  deploy_dir: ${deployDir}`,
    'mongod_servers:',
    ...ports.flatMap((port) => [`  - host: localhost`, `    port: ${port}`, '    replica_set: rs0']),
    '',
  ].join('\n');
}

function rows(result: CheckResult, check: string) {
  return result.checks.filter((row) => row.check === check);
}

describe('cluster check on this machine', () => {
  let dir: string;
  let home: string;
  let busy: Server;
  let busyPort: number;
  let freePorts: number[];

  before(async () => {
    dir = await tempDir('mup-check-');
    home = join(dir, 'home');
    busyPort = await freePort();
    freePorts = [await freePort(), await freePort()];
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen({ port: busyPort, host: '0.0.0.0' }, resolve));
  });
  after(async () => {
    await new Promise<void>((resolve) => busy.close(() => resolve()));
  });

  it('passes what is fine, and --apply creates the dirs; kernel settings here are left alone', async () => {
    const file = join(dir, 'ok.yaml');
    const deployDir = join(dir, 'deploy');
    await writeFile(file, topology(deployDir, freePorts));
    const before = await runMup(['cluster', 'check', file, '--json', '--version', '7.0.14'], { home });
    assert.equal(before.code, 0, before.stderr);
    const first = JSON.parse(before.stdout) as CheckResult;
    assert.equal(first.topologyFile, file);
    assert.equal(first.version, '7.0.14');
    assert.deepEqual(
      first.checks.map((row) => row.check),
      [
        'ssh',
        'os',
        'glibc',
        'python3',
        'supervisord',
        'ports',
        'dirs',
        'disk',
        'nofile',
        'nproc',
        'thp',
        'swappiness',
        'clock',
      ],
    );
    assert.ok(first.checks.every((row) => row.host === 'localhost'));
    for (const check of ['ssh', 'os', 'glibc', 'python3', 'supervisord', 'ports', 'dirs', 'clock'])
      assert.equal(rows(first, check)[0]?.status, 'pass', JSON.stringify(rows(first, check)));
    assert.match(rows(first, 'dirs')[0]?.detail ?? '', /to be created/);
    assert.equal(first.summary.fail, 0);
    assert.equal(existsSync(deployDir), false, 'check without --apply creates nothing');

    const applied = await runMup(['cluster', 'check', file, '--json', '--apply', '--version', '7.0.14'], {
      home,
    });
    assert.equal(applied.code, 0, applied.stderr);
    const second = JSON.parse(applied.stdout) as CheckResult;
    assert.equal(second.apply, true);
    const dirs = rows(second, 'dirs')[0];
    assert.equal(dirs?.status, 'pass');
    assert.match(dirs?.applied ?? '', /^created /);
    assert.doesNotMatch(dirs?.detail ?? '', /to be created/);
    for (const sub of ['supervisor', `mongod-${freePorts[0]}`, `mongod-${freePorts[0]}/data`])
      assert.ok(existsSync(join(deployDir, sub)), `${sub} was not created`);
    // This machine's THP and swappiness are never changed: a warn row says so.
    for (const check of ['thp', 'swappiness']) {
      const row = rows(second, check)[0];
      if (row?.status === 'warn') assert.match(row.applied ?? '', /remote hosts only/);
    }
  });

  it('a taken port and a missing supervisord fail: exit 2, each named', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, topology(join(dir, 'deploy-bad'), [busyPort, freePorts[0] as number]));
    const env = { MUP_SUPERVISORD: join(dir, 'no-such-supervisord') };
    const json = await runMup(['cluster', 'check', file, '--json'], { home, env });
    assert.equal(json.code, 2, json.stderr);
    const result = JSON.parse(json.stdout) as CheckResult;
    assert.deepEqual(
      result.checks.filter((row) => row.status === 'fail').map((row) => row.check),
      ['supervisord', 'ports'],
    );
    assert.equal(rows(result, 'ports')[0]?.detail, `in use: ${busyPort}`);
    assert.match(rows(result, 'supervisord')[0]?.detail ?? '', /MUP_SUPERVISORD/);
    assert.equal(result.summary.fail, 2);

    const text = await runMup(['cluster', 'check', file], { home, env });
    assert.equal(text.code, 2, text.stderr);
    assert.match(text.stdout, /^Host\s+Check\s+Result\s+Detail$/m);
    assert.match(text.stdout, new RegExp(`^localhost\\s+ports\\s+Fail\\s+in use: ${busyPort}$`, 'm'));
    assert.match(text.stdout, /^To do:$/m);
    assert.match(text.stdout, /localhost ports: stop what listens there/);
    assert.match(text.stdout, /2 failed\n?$/);
  });

  it('refuses what it cannot check: exit 2, nothing created', async () => {
    const missing = await runMup(['cluster', 'check', join(dir, 'missing.yaml')], { home });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /topology file .*missing\.yaml not found/);
    const unknown = await runMup(['cluster', 'check', 'no-such-cluster'], { home });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /cluster 'no-such-cluster' not found/);
    const versioned = await runMup(['cluster', 'check', 'no-such-cluster', '--version', '7.0.14'], { home });
    assert.equal(versioned.code, 2);
    assert.match(versioned.stderr, /--version applies to a topology file/);
    const invalid = join(dir, 'invalid.yaml');
    await writeFile(invalid, 'mongod_servers:\n  - host: localhost\n    port: 99999\n');
    const bad = await runMup(['cluster', 'check', invalid], { home });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid\.yaml:3/);
    const badVersion = join(dir, 'ok2.yaml');
    await mkdir(join(dir, 'd2'));
    await writeFile(badVersion, topology(join(dir, 'd2'), freePorts));
    const oldVersion = await runMup(['cluster', 'check', badVersion, '--version', '2.6.0'], { home });
    assert.equal(oldVersion.code, 2);
    assert.match(oldVersion.stderr, /older than 3\.6/);
  });
});
