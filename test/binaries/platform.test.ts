import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NoTargetError } from '../../src/binaries/errors.js';
import { detectLocalPlatform, type HostPlatform, parseOsRelease } from '../../src/binaries/platform.js';
import type { ReleaseVersion } from '../../src/binaries/release-list.js';
import { chooseDownload, perconaTargetOrder, rankCandidates } from '../../src/binaries/targets.js';

const osRelease = {
  ubuntu2204:
    'NAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=jammy\nUBUNTU_CODENAME=jammy\nPRETTY_NAME="Ubuntu 22.04.4 LTS"\n',
  ubuntu2404: 'ID=ubuntu\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\nUBUNTU_CODENAME=noble\n',
  ubuntu2310: 'ID=ubuntu\nVERSION_ID="23.10"\nVERSION_CODENAME=mantic\n',
  mint21:
    'NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\nVERSION_ID="21.3"\nUBUNTU_CODENAME=jammy\n',
  debian12:
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
  debian11: 'ID=debian\nVERSION_ID="11"\nVERSION_CODENAME=bullseye\n',
  debianTesting: 'ID=debian\nVERSION_CODENAME=trixie\n',
  rocky94: 'ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n',
  rhel89: 'ID="rhel"\nID_LIKE="fedora"\nVERSION_ID="8.9"\n',
  centosStream9: 'ID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="9"\n',
  amazon2023: 'NAME="Amazon Linux"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n',
  amazon2: 'NAME="Amazon Linux"\nID="amzn"\nID_LIKE="centos rhel fedora"\nVERSION_ID="2"\n',
  arch: 'NAME="Arch Linux"\nID=arch\nBUILD_ID=rolling\n',
};

async function linux(name: keyof typeof osRelease, arch = 'x64'): Promise<HostPlatform> {
  return detectLocalPlatform({ platform: 'linux', arch, reader: async () => osRelease[name] });
}

// The targets of a real 7.0/8.0 community release, per architecture.
const x86Targets = [
  'ubuntu2004',
  'ubuntu2204',
  'ubuntu2404',
  'debian11',
  'debian12',
  'rhel80',
  'rhel90',
  'rhel93',
  'amazon2',
  'amazon2023',
  'suse15',
];
const release: ReleaseVersion = {
  version: '8.0.4',
  production_release: true,
  downloads: [
    ...x86Targets.map((target) => ({
      target,
      arch: 'x86_64',
      edition: 'targeted',
      archive: {
        url: `https://fastdl.mongodb.org/linux/mongodb-linux-x86_64-${target}-8.0.4.tgz`,
        sha256: 'a',
      },
    })),
    ...['ubuntu2204', 'rhel82', 'amazon2023'].map((target) => ({
      target,
      arch: 'aarch64',
      edition: 'targeted',
      archive: {
        url: `https://fastdl.mongodb.org/linux/mongodb-linux-aarch64-${target}-8.0.4.tgz`,
        sha256: 'b',
      },
    })),
    {
      target: 'ubuntu2204',
      arch: 'x86_64',
      edition: 'enterprise',
      archive: {
        url: 'https://downloads.mongodb.com/linux/mongodb-linux-x86_64-enterprise-ubuntu2204-8.0.4.tgz',
      },
    },
    {
      target: 'macos',
      arch: 'arm64',
      edition: 'base',
      archive: { url: 'https://fastdl.mongodb.org/osx/mongodb-macos-arm64-8.0.4.tgz', sha256: 'c' },
    },
    {
      target: 'macos',
      arch: 'x86_64',
      edition: 'base',
      archive: { url: 'https://fastdl.mongodb.org/osx/mongodb-macos-x86_64-8.0.4.tgz', sha256: 'd' },
    },
  ],
};

test('os-release is parsed with quotes, comments and ID_LIKE', () => {
  const distro = parseOsRelease(`# comment\n${osRelease.rocky94}PRETTY_NAME='Rocky Linux 9.4'\n`);
  assert.equal(distro.id, 'rocky');
  assert.deepEqual(distro.idLike, ['rhel', 'centos', 'fedora']);
  assert.equal(distro.versionId, '9.4');
  assert.equal(distro.prettyName, 'Rocky Linux 9.4');
});

test('each distribution gets its own build', async () => {
  const expect: [keyof typeof osRelease, string][] = [
    ['ubuntu2204', 'ubuntu2204'],
    ['ubuntu2404', 'ubuntu2404'],
    ['debian12', 'debian12'],
    ['debian11', 'debian11'],
    ['rocky94', 'rhel93'],
    ['rhel89', 'rhel80'],
    ['centosStream9', 'rhel93'],
    ['amazon2023', 'amazon2023'],
    ['amazon2', 'amazon2'],
    ['mint21', 'ubuntu2204'],
    ['debianTesting', 'debian12'],
  ];
  for (const [host, target] of expect)
    assert.equal(chooseDownload(release, await linux(host)).target, target, `${host} → ${target}`);
});

test('fallback is ranked: the newest older release of the same distribution, never a newer one', async () => {
  const ranked = rankCandidates(release, await linux('ubuntu2310'), 'mongodb').map((c) => c.target);
  assert.deepEqual(ranked, ['ubuntu2204', 'ubuntu2004']);
  const rocky = rankCandidates(release, await linux('rocky94'), 'mongodb').map((c) => c.target);
  assert.deepEqual(rocky, ['rhel93', 'rhel90', 'rhel80']);
  const rhel8 = rankCandidates(release, await linux('rhel89'), 'mongodb').map((c) => c.target);
  assert.deepEqual(rhel8, ['rhel80'], 'a RHEL 8 host must not get RHEL 9 builds');
});

test('arm64 hosts get aarch64 builds; macOS gets the macos build for its architecture', async () => {
  assert.equal(chooseDownload(release, await linux('ubuntu2204', 'arm64')).download.archive?.sha256, 'b');
  assert.equal(chooseDownload(release, await linux('rocky94', 'arm64')).target, 'rhel82');
  const mac = await detectLocalPlatform({ platform: 'darwin', arch: 'arm64' });
  assert.equal(chooseDownload(release, mac).download.archive?.url.endsWith('macos-arm64-8.0.4.tgz'), true);
});

test('enterprise builds are never chosen', async () => {
  const ranked = rankCandidates(release, await linux('ubuntu2204'), 'mongodb');
  assert.ok(ranked.every((c) => c.download.edition !== 'enterprise'));
});

test('target names parse by family and release, rhel10 included', async () => {
  const { targetRelease } = await import('../../src/binaries/targets.js');
  assert.deepEqual(targetRelease('rhel10'), { family: 'rhel', version: [10, 0] });
  assert.deepEqual(targetRelease('rhel8'), { family: 'rhel', version: [8, 0] });
  assert.deepEqual(targetRelease('rhel93'), { family: 'rhel', version: [9, 3] });
  assert.deepEqual(targetRelease('debian92'), { family: 'debian', version: [9] });
  assert.deepEqual(targetRelease('debian12'), { family: 'debian', version: [12] });
  assert.deepEqual(targetRelease('amazon'), { family: 'amazon', version: [1] });
  assert.equal(targetRelease('windows'), undefined);
  const rhel10Only: ReleaseVersion = {
    version: '9.0.0',
    downloads: [
      { target: 'rhel10', arch: 'x86_64', edition: 'targeted', archive: { url: 'u', sha256: 'e' } },
    ],
  };
  const rhel8 = await linux('rhel89');
  assert.throws(() => chooseDownload(rhel10Only, rhel8), NoTargetError, 'no RHEL 10 build on RHEL 8');
});

test('an explicit --target wins; an unknown one is a clear error', async () => {
  const host = await linux('ubuntu2204');
  assert.equal(chooseDownload(release, host, { target: 'rhel90' }).target, 'rhel90');
  assert.throws(
    () => chooseDownload(release, host, { target: 'ubuntu1404' }),
    (e: unknown) =>
      e instanceof NoTargetError &&
      /no x86_64 archive for target "ubuntu1404"/.test(e.message) &&
      /ubuntu2204/.test(e.hint ?? ''),
  );
});

test('a distribution with no build fails with the available targets', async () => {
  assert.throws(
    () => chooseDownload(release, { os: 'linux', arch: 'x86_64', distro: parseOsRelease(osRelease.arch) }),
    (e: unknown) => e instanceof NoTargetError && /no 8\.0\.4 archive fits arch \(x86_64\)/.test(e.message),
  );
  assert.throws(
    () => chooseDownload(release, { os: 'linux', arch: 'x86_64', distro: undefined }),
    NoTargetError,
  );
});

test('unsupported platforms are refused up front', async () => {
  await assert.rejects(
    detectLocalPlatform({ platform: 'win32', arch: 'x64' }),
    /unsupported operating system/,
  );
  await assert.rejects(
    detectLocalPlatform({ platform: 'linux', arch: 's390x', reader: async () => '' }),
    /s390x/,
  );
});

test('old versions fall back to the generic Linux build', async () => {
  const old: ReleaseVersion = {
    version: '3.6.23',
    downloads: [
      {
        target: 'linux_x86_64',
        arch: 'x86_64',
        edition: 'base',
        archive: { url: 'https://fastdl.mongodb.org/linux/mongodb-linux-x86_64-3.6.23.tgz' },
      },
      {
        target: 'ubuntu1604',
        arch: 'x86_64',
        edition: 'targeted',
        archive: { url: 'https://fastdl.mongodb.org/linux/mongodb-linux-x86_64-ubuntu1604-3.6.23.tgz' },
      },
    ],
  };
  assert.deepEqual(
    rankCandidates(old, await linux('ubuntu2204'), 'mongodb').map((c) => c.target),
    ['ubuntu1604', 'linux_x86_64'],
  );
  assert.equal(chooseDownload(old, await linux('debian12')).target, 'linux_x86_64');
});

test('Percona tarballs are chosen by codename, then the generic glibc build', async () => {
  assert.deepEqual(perconaTargetOrder(await linux('ubuntu2204')), ['jammy', 'glibc2.35', 'glibc2.17']);
  assert.deepEqual(perconaTargetOrder(await linux('debian12')), ['bookworm', 'glibc2.17']);
  assert.deepEqual(perconaTargetOrder(await linux('rocky94')), ['ol9', 'glibc2.17']);
});
