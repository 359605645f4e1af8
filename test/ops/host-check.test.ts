// `mup cluster check`'s verdicts from a host's facts: every warn and fail a check can give, and the facts
// script itself run on this machine (the same text runs over SSH on remote hosts).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import {
  DISK_FAIL_KIB,
  DISK_WARN_KIB,
  FACTS_SCRIPT,
  type HostFacts,
  judgeClock,
  judgeDirs,
  judgeGlibc,
  judgeNofile,
  judgeNproc,
  judgeOs,
  judgePython,
  judgeSwappiness,
  judgeThp,
  parseFacts,
  parseHostTime,
  selectedChoice,
  wantedThp,
} from '../../src/ops/host-check.js';
import { tempDir } from '../helpers/cli.js';

const DEBIAN =
  'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n';

function facts(overrides: Partial<HostFacts> = {}): HostFacts {
  return {
    os: 'Linux',
    arch: 'x86_64',
    osRelease: DEBIAN,
    glibc: 'glibc 2.36',
    python3: '/usr/bin/python3',
    uid: 1000,
    sudo: false,
    nofile: { soft: 64000, hard: 64000 },
    nproc: { soft: 64000, hard: 64000 },
    thp: 'always madvise [never]',
    swappiness: 1,
    dirs: [],
    ...overrides,
  };
}

test('the facts script reads this machine: OS, arch, limits, dirs and their nearest existing parent', async () => {
  const dir = await tempDir('mup-check-facts-');
  await mkdir(join(dir, 'exists'));
  await writeFile(join(dir, 'file'), 'x');
  const { stdout } = await promisify(execFile)(
    '/bin/sh',
    ['-c', FACTS_SCRIPT, 'sh', join(dir, 'exists'), join(dir, 'new', 'deeper'), join(dir, 'file', 'under')],
    { timeout: 60_000 },
  );
  const read = parseFacts(stdout);
  assert.equal(read.os, 'Linux');
  assert.match(read.arch, /^(x86_64|aarch64)$/);
  assert.equal(read.uid, process.getuid?.());
  assert.ok(read.nofile !== undefined && read.nproc !== undefined, stdout);
  assert.match(read.osRelease ?? '', /^ID=/m);
  assert.deepEqual(
    read.dirs.map((d) => [d.path, d.nearest, d.nearestIsDir]),
    [
      [join(dir, 'exists'), join(dir, 'exists'), true],
      [join(dir, 'new', 'deeper'), dir, true],
      [join(dir, 'file', 'under'), join(dir, 'file'), false],
    ],
  );
  assert.ok((read.dirs[0]?.availKiB ?? 0) > 0, stdout);
});

test('parseFacts: limits (unlimited too), THP, swappiness, and what is missing', () => {
  const read = parseFacts(
    [
      'os=Linux',
      'arch=aarch64',
      'uid=0',
      'glibc=',
      'python3=',
      'sudo=yes',
      'nofile=1024 unlimited',
      'nproc=unlimited unlimited',
      'thp=[always] madvise never',
      'swappiness=60',
      'dir=/srv/a\t/srv\t1\t0\t12345',
      'osr:ID=ubuntu',
      'osr:VERSION_ID="22.04"',
    ].join('\n'),
  );
  assert.deepEqual(read.nofile, { soft: 1024, hard: 'unlimited' });
  assert.deepEqual(read.nproc, { soft: 'unlimited', hard: 'unlimited' });
  assert.equal(read.thp, '[always] madvise never');
  assert.equal(read.swappiness, 60);
  assert.equal(read.sudo, true);
  assert.equal(read.uid, 0);
  assert.deepEqual(read.dirs, [
    { path: '/srv/a', nearest: '/srv', nearestIsDir: true, writable: false, availKiB: 12345 },
  ]);
  assert.equal(read.osRelease, 'ID=ubuntu\nVERSION_ID="22.04"\n');
  const bare = parseFacts('os=Darwin\narch=arm64\nuid=501\n');
  assert.equal(bare.thp, undefined);
  assert.equal(bare.swappiness, undefined);
  assert.equal(bare.nproc, undefined);
});

test('os: a supported platform names its build family; an unknown distro warns; another OS or CPU fails', () => {
  assert.deepEqual(judgeOs(facts()), {
    check: 'os',
    status: 'pass',
    detail: 'Debian GNU/Linux 12 (bookworm) (x86_64) → debian 12 builds',
  });
  const arch = judgeOs(facts({ arch: 'ppc64le' }));
  assert.equal(arch.status, 'fail');
  assert.match(arch.detail, /unsupported CPU architecture "ppc64le"/);
  const os = judgeOs(facts({ os: 'FreeBSD', arch: 'amd64' }));
  assert.equal(os.status, 'fail');
  assert.match(os.detail, /unsupported operating system "FreeBSD"/);
  const distro = judgeOs(
    facts({ osRelease: 'ID=alpine\nVERSION_ID=3.19\nPRETTY_NAME="Alpine Linux v3.19"\n' }),
  );
  assert.equal(distro.status, 'warn');
  assert.match(
    distro.detail,
    /Alpine Linux v3\.19 \(x86_64\): not a distribution MongoDB publishes builds for/,
  );
  assert.match(distro.hint ?? '', /--target/);
  assert.equal(judgeOs(facts({ os: 'Darwin', arch: 'arm64' })).status, 'pass');
});

test('glibc and python3: missing fails', () => {
  assert.equal(judgeGlibc(facts()).status, 'pass');
  const musl = judgeGlibc(facts({ glibc: '' }));
  assert.equal(musl.status, 'fail');
  assert.match(musl.hint ?? '', /glibc/);
  assert.equal(judgeGlibc(facts({ os: 'Darwin', glibc: '' })).status, 'pass');
  assert.equal(judgePython(facts()).detail, '/usr/bin/python3');
  const none = judgePython(facts({ python3: '' }));
  assert.equal(none.status, 'fail');
  assert.match(none.hint ?? '', /install python3/);
});

test('nofile warns on a hard limit under 64000; nproc on a soft one', () => {
  assert.equal(judgeNofile(facts()).status, 'pass');
  assert.equal(judgeNofile(facts({ nofile: { soft: 1024, hard: 'unlimited' } })).status, 'pass');
  const low = judgeNofile(facts({ nofile: { soft: 1024, hard: 4096 } }));
  assert.equal(low.status, 'warn');
  assert.match(low.detail, /soft 1024, hard 4096 \(mongod gets at most 4096; 64000 recommended\)/);
  assert.equal(judgeNofile(facts({ nofile: undefined })).status, 'warn');
  assert.equal(judgeNproc(facts({ nproc: { soft: 'unlimited', hard: 'unlimited' } })).status, 'pass');
  const procs = judgeNproc(facts({ nproc: { soft: 4096, hard: 'unlimited' } }));
  assert.equal(procs.status, 'warn');
  assert.match(procs.hint ?? '', /limits\.conf/);
});

test('THP: never before 8.0, always from 8.0; anything else warns; absent passes', () => {
  assert.equal(selectedChoice('always [madvise] never'), 'madvise');
  assert.equal(wantedThp('7.0.14'), 'never');
  assert.equal(wantedThp('8.0'), 'always');
  assert.equal(wantedThp('8.0.4-1'), 'always');
  assert.equal(judgeThp(facts({ thp: 'always madvise [never]' }), '7.0.14').status, 'pass');
  const old = judgeThp(facts({ thp: '[always] madvise never' }), '6.0.16');
  assert.equal(old.status, 'warn');
  assert.match(old.detail, /always; MongoDB 6\.0\.16 wants never/);
  assert.equal(judgeThp(facts({ thp: '[always] madvise never' }), '8.0.4').status, 'pass');
  const madvise = judgeThp(facts({ thp: 'always [madvise] never' }), '8.0.4');
  assert.equal(madvise.status, 'warn');
  assert.match(madvise.hint ?? '', /echo always > \/sys\/kernel\/mm\/transparent_hugepage\/enabled/);
  assert.equal(judgeThp(facts({ thp: undefined }), '8.0.4').status, 'pass');
});

test('swappiness above 1 warns', () => {
  assert.equal(judgeSwappiness(facts({ swappiness: 0 })).status, 'pass');
  assert.equal(judgeSwappiness(facts({ swappiness: 1 })).status, 'pass');
  const high = judgeSwappiness(facts({ swappiness: 60 }));
  assert.equal(high.status, 'warn');
  assert.match(high.detail, /vm\.swappiness 60/);
  assert.equal(judgeSwappiness(facts({ swappiness: undefined })).status, 'pass');
});

test('dirs: not writable or under a file fails; missing under a writable parent is to be created', () => {
  const ok = judgeDirs(
    facts({
      dirs: [
        {
          path: '/srv/c/data',
          nearest: '/srv/c/data',
          nearestIsDir: true,
          writable: true,
          availKiB: 50 * 1024 * 1024,
        },
        {
          path: '/srv/c/log',
          nearest: '/srv',
          nearestIsDir: true,
          writable: true,
          availKiB: 50 * 1024 * 1024,
        },
      ],
    }),
    ['/srv/c/data'],
  );
  assert.equal(ok.dirs.status, 'pass');
  assert.deepEqual(ok.creatable, ['/srv/c/log']);
  assert.equal(ok.disk.status, 'pass');
  const bad = judgeDirs(
    facts({
      dirs: [
        { path: '/srv/c/data', nearest: '/srv', nearestIsDir: true, writable: false },
        { path: '/etc/passwd/x', nearest: '/etc/passwd', nearestIsDir: false, writable: false },
        { path: '/ro', nearest: '/ro', nearestIsDir: true, writable: false },
      ],
    }),
    [],
  );
  assert.equal(bad.dirs.status, 'fail');
  assert.equal(
    bad.dirs.detail,
    '/srv/c/data: /srv is not writable; /etc/passwd/x: /etc/passwd is not a directory; /ro is not writable',
  );
  assert.deepEqual(bad.creatable, []);
});

test('disk: the data dir with the least free space decides: under 1 GiB fails, under 10 GiB warns', () => {
  const at = (availKiB: number) =>
    judgeDirs(
      facts({
        dirs: [
          { path: '/a', nearest: '/a', nearestIsDir: true, writable: true, availKiB: 100 * 1024 * 1024 },
          { path: '/b', nearest: '/b', nearestIsDir: true, writable: true, availKiB },
          // not a data dir: its space does not count
          { path: '/log', nearest: '/log', nearestIsDir: true, writable: true, availKiB: 1 },
        ],
      }),
      ['/a', '/b'],
    ).disk;
  assert.equal(at(DISK_WARN_KIB).status, 'pass');
  const warn = at(DISK_WARN_KIB - 1);
  assert.equal(warn.status, 'warn');
  assert.match(warn.detail, /free at \/b/);
  const fail = at(DISK_FAIL_KIB - 1);
  assert.equal(fail.status, 'fail');
  assert.match(fail.detail, /at least 1\.0 GiB needed/);
});

test('clock: more than 1 s beyond half the round trip warns, either way', () => {
  assert.equal(judgeClock(10_000, 9_900, 10_100).status, 'pass');
  assert.equal(judgeClock(11_050, 9_900, 10_100).status, 'pass');
  const ahead = judgeClock(12_000, 9_950, 10_050);
  assert.equal(ahead.status, 'warn');
  assert.match(ahead.detail, /^\+2000 ms vs this machine \(±50 ms\)$/);
  assert.equal(judgeClock(7_000, 9_950, 10_050).status, 'warn');
  assert.equal(parseHostTime('1700000000.250000000\n'), 1_700_000_000_250);
  assert.equal(parseHostTime('1700000000.N\n'), 1_700_000_000_000);
  assert.equal(parseHostTime('garbage'), undefined);
});
