// `mup cluster check` against real SSH hosts (the test fleet): a host prepared as an administrator would
// passes; a second one with each problem a check looks for — supervisord missing, a port taken, a dir the
// login user cannot write, a full file system, low open-files limit, THP and swappiness against the
// recommendation, a clock an hour ahead — fails or warns on exactly those rows. Then: unknown host key, refused
// login, a host cut off; --apply as a plain user (dirs created, kernel settings not) and as root (the host's
// THP and swappiness set). The kernel files are per-host bind mounts of plain files, so nothing of this
// machine's kernel is read or changed through them.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CheckResult, CheckRow } from '../../src/ops/check.js';
import { type MupRun, runMup, tempDir } from '../helpers/cli.js';
import { simBinaryDir } from '../helpers/sim.js';
import {
  createFleet,
  cutLink,
  destroyFleet,
  type Fleet,
  type FleetHost,
  fleetSupported,
  restoreLink,
  runOnHost,
} from './fleet.js';

const supported = fleetSupported();
const STEP = { timeout: 180_000 };
const THP = '/sys/kernel/mm/transparent_hugepage/enabled';
const SWAPPINESS = '/proc/sys/vm/swappiness';

describe('cluster check on SSH hosts', { skip: supported.ok ? false : supported.reason }, () => {
  let fleet: Fleet;
  let good: FleetHost;
  let bad: FleetHost;
  let home: string;
  let userHome: string;
  let topology: string;

  function mup(args: readonly string[], identityFile = fleet.identityFile): Promise<MupRun> {
    return runMup(['-i', identityFile, ...args], {
      home,
      env: { HOME: userHome, SSH_AUTH_SOCK: '' },
      timeoutMs: 120_000,
    });
  }

  async function check(
    args: readonly string[] = [],
    identityFile?: string,
  ): Promise<{ run: MupRun; result: CheckResult }> {
    const run = await mup(
      ['cluster', 'check', topology, '--version', '7.0.14', '--json', ...args],
      identityFile,
    );
    assert.ok(run.stdout.startsWith('{'), `${run.code}: ${run.stderr}`);
    return { run, result: JSON.parse(run.stdout) as CheckResult };
  }

  const row = (result: CheckResult, host: FleetHost, name: string): CheckRow | undefined =>
    result.checks.find((r) => r.host === host.address && r.check === name);

  /** Replaces a file inside the host only (a bind mount in its mount namespace). */
  async function fakeFile(host: FleetHost, path: string, content: string, mode = '644'): Promise<void> {
    const source = join(host.root, 'tmp', `fake-${path.replaceAll('/', '_')}`);
    await writeFile(source, content);
    const bound = await runOnHost(
      host,
      `chmod ${mode} /tmp/fake-${path.replaceAll('/', '_')} && mount --bind /tmp/fake-${path.replaceAll('/', '_')} ${path} && cat ${path}`,
    );
    assert.equal(bound.exitCode, 0, bound.stderr);
    assert.equal(bound.stdout, content, `${path} on ${host.name} is not the fake`);
  }

  /** The bad host's THP and swappiness were set by `--apply` (reported, and so on the host). */
  async function assertKernelSettingsApplied(result: CheckResult): Promise<void> {
    assert.equal(row(result, bad, 'thp')?.status, 'pass', JSON.stringify(row(result, bad, 'thp')));
    assert.match(
      row(result, bad, 'thp')?.applied ?? '',
      /set \/sys\/kernel\/mm\/transparent_hugepage\/enabled to never/,
    );
    assert.equal(row(result, bad, 'swappiness')?.status, 'pass');
    assert.equal((await runOnHost(bad, `cat ${THP} ${SWAPPINESS}`)).stdout, 'never\n1\n');
  }

  before(async () => {
    fleet = await createFleet({ hosts: 2, namePrefix: 'chk' });
    [good, bad] = fleet.hosts as [FleetHost, FleetHost];
    userHome = await tempDir('mup-check-user-');
    await mkdir(join(userHome, '.ssh'), { mode: 0o700 });
    await writeFile(join(userHome, '.ssh', 'known_hosts'), fleet.knownHosts);
    home = await tempDir('mup-check-home-');
    topology = join(home, 'check.yaml');
    await writeFile(
      topology,
      [
        'global:',
        '  user: deploy',
        '  deploy_dir: /srv/mongodb/c1',
        'mongod_servers:',
        `  - host: ${good.address}`,
        '    port: 27017',
        '    replica_set: rs0',
        `  - host: ${bad.address}`,
        '    port: 27017',
        '    replica_set: rs0',
        `  - host: ${bad.address}`,
        '    port: 27018',
        '    replica_set: rs0',
        '    data_dir: /srv/small/data',
        '',
      ].join('\n'),
    );
    // The good host: its deploy dir's parent given to the login user, kernel settings as MongoDB 7.0 wants.
    const prepared = await runOnHost(good, `mkdir -p /srv/mongodb && chown ${fleet.uid} /srv/mongodb`);
    assert.equal(prepared.exitCode, 0, prepared.stderr);
    await fakeFile(good, THP, 'always madvise [never]\n');
    await fakeFile(good, SWAPPINESS, '1\n');
    // The bad host: everything a check looks for, wrong.
    const broken = await runOnHost(
      bad,
      [
        'set -e',
        // /srv/mongodb belongs to root: the login user cannot create its deploy dir.
        'mkdir -p /srv/mongodb && chmod 755 /srv/mongodb',
        // A 1 MiB file system for the second member's data dir, writable by the login user.
        `mkdir -p /srv/small && mount -t tmpfs -o size=1m,mode=755,uid=${fleet.uid} small /srv/small`,
        // Something else listens on 27017.
        'nohup python3 -c \'import socket, time\ns = socket.socket()\ns.bind(("0.0.0.0", 27017))\ns.listen()\ntime.sleep(900)\' >/dev/null 2>&1 &',
      ].join('\n'),
    );
    assert.equal(broken.exitCode, 0, broken.stderr);
    // supervisord present but not executable: not found on PATH.
    await fakeFile(bad, '/usr/bin/supervisord', '#!/bin/sh\n', '644');
    await fakeFile(bad, THP, '[always] madvise never\n');
    await fakeFile(bad, SWAPPINESS, '60\n');
    // A clock an hour ahead: `date` on that host says so.
    await fakeFile(
      bad,
      '/usr/bin/date',
      '#!/bin/sh\nexec python3 -c \'import time; print("%.9f" % (time.time() + 3600))\'\n',
      '755',
    );
    // A low open-files limit for every new login (sshd's children inherit PID 1's limits).
    const limited = await runOnHost(bad, 'prlimit --pid 1 --nofile=1024:4096');
    assert.equal(limited.exitCode, 0, limited.stderr);
  }, STEP);

  after(async () => {
    if (fleet !== undefined) await destroyFleet(fleet);
  }, STEP);

  it('passes a prepared host and names every problem of a broken one (exit 2)', STEP, async () => {
    const { run, result } = await check();
    assert.equal(run.code, 2, run.stderr);
    const status = (host: FleetHost) =>
      Object.fromEntries(
        result.checks.filter((r) => r.host === host.address).map((r) => [r.check, r.status]),
      );
    const goodRows = status(good);
    for (const name of [
      'ssh',
      'host-key',
      'os',
      'glibc',
      'python3',
      'supervisord',
      'ports',
      'dirs',
      'thp',
      'swappiness',
      'clock',
    ])
      assert.equal(goodRows[name], 'pass', `${name}: ${JSON.stringify(row(result, good, name))}`);
    assert.match(
      row(result, good, 'ssh')?.detail ?? '',
      new RegExp(`deploy@${good.address.replaceAll('.', '\\.')}:22`),
    );
    assert.match(row(result, good, 'dirs')?.detail ?? '', /to be created/);
    assert.deepEqual(
      {
        supervisord: goodRows.supervisord,
        badSupervisord: status(bad).supervisord,
        ports: status(bad).ports,
        dirs: status(bad).dirs,
        disk: status(bad).disk,
        nofile: status(bad).nofile,
        thp: status(bad).thp,
        swappiness: status(bad).swappiness,
        clock: status(bad).clock,
      },
      {
        supervisord: 'pass',
        badSupervisord: 'fail',
        ports: 'fail',
        dirs: 'fail',
        disk: 'fail',
        nofile: 'warn',
        thp: 'warn',
        swappiness: 'warn',
        clock: 'warn',
      },
      JSON.stringify(
        result.checks.filter((r) => r.host === bad.address),
        null,
        1,
      ),
    );
    assert.equal(row(result, bad, 'ports')?.detail, 'in use: 27017');
    assert.match(row(result, bad, 'dirs')?.detail ?? '', /\/srv\/mongodb is not writable/);
    assert.match(row(result, bad, 'disk')?.detail ?? '', /free at \/srv\/small/);
    assert.match(row(result, bad, 'nofile')?.detail ?? '', /soft 1024, hard 4096/);
    assert.match(row(result, bad, 'thp')?.detail ?? '', /always; MongoDB 7\.0\.14 wants never/);
    assert.match(row(result, bad, 'clock')?.detail ?? '', /^\+3\d{6} ms/);
    assert.equal(result.summary.fail, 4);
    // The table: one line per row, the failures' hints below it.
    const text = await mup(['cluster', 'check', topology, '--version', '7.0.14']);
    assert.equal(text.code, 2);
    assert.match(
      text.stdout,
      new RegExp(`^${bad.address.replaceAll('.', '\\.')}\\s+supervisord\\s+Fail\\s`, 'm'),
    );
    assert.match(text.stdout, /4 failed\n?$/);
  });

  it(
    'an unknown host key, a refused login and a cut-off host fail their ssh rows; the other host is checked',
    STEP,
    async (t) => {
      await writeFile(join(userHome, '.ssh', 'known_hosts'), `${bad.address} ${bad.hostKey}\n`);
      try {
        const { run, result } = await check();
        assert.equal(run.code, 2);
        assert.equal(row(result, good, 'host-key')?.status, 'fail');
        assert.match(
          row(result, good, 'host-key')?.detail ?? '',
          /is not known: ED25519 key fingerprint is SHA256:/,
        );
        assert.equal(row(result, good, 'os'), undefined, 'nothing else is checked on a host not trusted');
        assert.equal(row(result, bad, 'os')?.status, 'pass');
      } finally {
        await writeFile(join(userHome, '.ssh', 'known_hosts'), fleet.knownHosts);
      }

      const stranger = join(home, 'stranger');
      const keygen = await runOnHost(
        good,
        `ssh-keygen -q -t ed25519 -N '' -f /tmp/stranger && cat /tmp/stranger`,
      );
      assert.equal(keygen.exitCode, 0, keygen.stderr);
      await writeFile(stranger, await readFile(join(good.root, 'tmp', 'stranger')), { mode: 0o600 });
      const refused = await check([], stranger);
      assert.equal(refused.run.code, 2);
      for (const host of [good, bad]) {
        assert.equal(row(refused.result, host, 'ssh')?.status, 'fail');
        assert.match(row(refused.result, host, 'ssh')?.detail ?? '', /SSH login as deploy@.* was refused/);
      }

      await cutLink(good);
      try {
        const started = Date.now();
        const { run, result } = await check();
        t.diagnostic(`check with one host cut off: ${Date.now() - started} ms (reported, never a gate)`);
        assert.equal(run.code, 2);
        assert.equal(row(result, good, 'ssh')?.status, 'fail');
        // Judged by a bounded TCP probe of the SSH port, not by the login's 10 s connect timeout.
        assert.equal(
          row(result, good, 'ssh')?.detail,
          `${good.address} is unreachable over SSH (port 22): no TCP connection within 3 s (host down, link cut or port filtered)`,
        );
        assert.match(
          row(result, good, 'ssh')?.hint ?? '',
          /check that .* is up and that its sshd answers on port 22/,
        );
        assert.equal(row(result, good, 'os'), undefined, 'nothing else is asked of a cut-off host');
        assert.equal(row(result, bad, 'ports')?.status, 'fail', 'the reachable host is checked in full');
      } finally {
        await restoreLink(good);
      }
      const started = Date.now();
      const { result } = await check();
      t.diagnostic(`the same check with both hosts up: ${Date.now() - started} ms`);
      assert.equal(row(result, good, 'ssh')?.status, 'pass', 'the host answers again once its link is back');
    },
  );

  it('--apply as a plain user creates the dirs and leaves kernel settings, saying why', STEP, async () => {
    const { result } = await check(['--apply']);
    assert.equal(row(result, good, 'dirs')?.status, 'pass');
    assert.match(row(result, good, 'dirs')?.applied ?? '', /^created \/srv\/mongodb\/c1\/supervisor/);
    const made = await runOnHost(good, 'stat -c %U /srv/mongodb/c1/mongod-27017/data');
    assert.equal(made.stdout, 'deploy\n');
    assert.equal(row(result, bad, 'thp')?.status, 'warn');
    assert.match(row(result, bad, 'thp')?.applied ?? '', /needs root or passwordless sudo/);
    assert.equal((await runOnHost(bad, `cat ${THP}`)).stdout, '[always] madvise never\n');
  });

  it(
    '--apply as a plain user with passwordless sudo sets THP and swappiness through sudo',
    STEP,
    async () => {
      // The host's /etc is its own (an overlay): the rule exists on the bad host only, for this test only.
      const rule = `/etc/sudoers.d/mup-fleet`;
      const granted = await runOnHost(
        bad,
        `printf '%s ALL=(root) NOPASSWD: ALL\\n' ${fleet.user} > ${rule} && chmod 440 ${rule}`,
      );
      assert.equal(granted.exitCode, 0, granted.stderr);
      try {
        const { result } = await check(['--apply']);
        await assertKernelSettingsApplied(result);
      } finally {
        await runOnHost(bad, `rm -f ${rule}`);
        // Wrong again, for the root test that follows.
        await fakeFile(bad, THP, '[always] madvise never\n');
        await fakeFile(bad, SWAPPINESS, '60\n');
      }
    },
  );

  it('--apply as root sets THP and swappiness on the host', STEP, async () => {
    // Root may log in with the fleet key on the bad host (a private /root inside it).
    const key = (await readFile(`${fleet.identityFile}.pub`, 'utf8')).trim();
    const root = await runOnHost(
      bad,
      `mount -t tmpfs -o mode=700 rootdir /root && mkdir -m 700 /root/.ssh && echo '${key}' > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys`,
    );
    assert.equal(root.exitCode, 0, root.stderr);
    const rootTopology = join(home, 'root.yaml');
    await writeFile(
      rootTopology,
      [
        'global:',
        '  user: root',
        '  deploy_dir: /srv/root-owned',
        'mongod_servers:',
        `  - host: ${bad.address}`,
        '    port: 27019',
        '',
      ].join('\n'),
    );
    const run = await mup(['cluster', 'check', rootTopology, '--version', '7.0.14', '--json', '--apply']);
    await assertKernelSettingsApplied(JSON.parse(run.stdout) as CheckResult);
  });

  it(
    'deploy logging in as root is refused without --allow-root, and changes nothing on the host',
    STEP,
    async () => {
      // Runs after the test above, which lets root log in on the bad host.
      const rootTopology = join(home, 'root.yaml');
      const run = await mup([
        'cluster',
        'deploy',
        'as-root',
        rootTopology,
        '--version',
        '7.0.14',
        '--binary-path',
        await simBinaryDir('7.0.14'),
        '--yes',
      ]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(
        run.stderr,
        new RegExp(`would run mongod and mongos as root on ${bad.address.replaceAll('.', '\\.')}`),
      );
      assert.match(run.stderr, /--allow-root/);
      assert.equal((await runOnHost(bad, 'test -e /srv/as-root')).exitCode, 1, 'the deploy dir was created');
      const listed = await mup(['cluster', 'list', '--json']);
      assert.doesNotMatch(listed.stdout, /as-root/);
    },
  );
});
