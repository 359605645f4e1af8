// The install path end to end against a real HTTP server on 127.0.0.1 serving simulator release archives.
import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type FakeReleases, makeFakeReleases } from '../../sim/src/releases.js';
import {
  ArchiveLayoutError,
  type BinaryContext,
  type BinaryEvent,
  BinaryPathError,
  ChecksumError,
  checkBinaryPath,
  DownloadError,
  installRelease,
  listPackages,
  listRemoteVersions,
  packagesDir,
  removePackages,
  VersionNotFoundError,
} from '../../src/binaries/index.js';
import { buildMirror } from '../../src/binaries/mirror.js';
import { parseOsRelease } from '../../src/binaries/platform.js';
import { releaseCachePath } from '../../src/binaries/release-cache.js';
import { UsageError } from '../../src/errors.js';
import { tempDir } from '../helpers/cli.js';
import { type ReleaseServer, startReleaseServer } from './helpers/release-server.js';

const host = {
  os: 'linux' as const,
  arch: 'x86_64' as const,
  distro: parseOsRelease('ID=ubuntu\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\nUBUNTU_CODENAME=jammy\n'),
};
const archive7014 = 'linux/mongodb-linux-x86_64-ubuntu2204-7.0.14.tgz';

let root: string;
let releases: FakeReleases;
let server: ReleaseServer;

before(async () => {
  root = await tempDir('mup-releases-');
  releases = await makeFakeReleases({
    outDir: root,
    versions: [
      { version: '7.0.14' },
      { version: '7.0.12' },
      { version: '6.0.16' },
      { version: '5.0.28', targets: ['ubuntu2004'] },
      { version: '4.4.29', omit: ['mongod'] },
      { version: '8.0.0-rc1' },
    ],
    percona: [{ version: '7.0.14-8', targets: ['jammy'] }],
  });
  server = await startReleaseServer(root);
});

after(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

async function context(
  extra: Partial<BinaryContext> = {},
): Promise<BinaryContext & { events: BinaryEvent[] }> {
  const events: BinaryEvent[] = [];
  return {
    home: await tempDir('mup-home-'),
    host,
    mirror: server.url,
    timeoutMs: 5_000,
    onEvent: (event) => events.push(event),
    events,
    ...extra,
  };
}

/** No package directory and no staging leftovers: nothing partial is visible. */
async function assertNothingInstalled(home: string): Promise<void> {
  const entries = await readdir(packagesDir(home)).catch(() => [] as string[]);
  assert.deepEqual(
    entries.filter((e) => !e.startsWith('.')),
    [],
    'no package directory after a failed install',
  );
  const staging = await readdir(join(packagesDir(home), '.tmp')).catch(() => [] as string[]);
  assert.deepEqual(staging, [], 'no staging leftovers');
  assert.deepEqual(await listPackages(home), []);
}

test('install resolves a series, verifies and unpacks into the cache with markers', async () => {
  const ctx = await context();
  const before = server.count(archive7014);
  const result = await installRelease(ctx, '7.0');
  assert.equal(result.version, '7.0.14');
  assert.equal(result.target, 'ubuntu2204');
  assert.equal(result.alreadyInstalled, false);
  assert.equal(result.dir, join(packagesDir(ctx.home), 'mongodb-7.0.14-ubuntu2204-x86_64'));
  const expected = releases.archives.find((a) => a.path === archive7014);
  assert.equal(result.sha256, expected?.sha256);
  assert.equal(result.downloadedBytes, expected?.bytes);
  assert.deepEqual((await readdir(result.binDir)).sort(), ['mongod', 'mongos']);
  assert.match(await readFile(join(result.binDir, 'mongod'), 'utf8'), /MONGOD_SIM_VERSION='7\.0\.14'/);
  assert.equal(
    await readFile(join(result.dir, '.sha256'), 'utf8'),
    `${expected?.sha256}  mongodb-linux-x86_64-ubuntu2204-7.0.14.tgz\n`,
  );
  assert.equal(server.count(archive7014), before + 1);
  assert.deepEqual(await readdir(join(packagesDir(ctx.home), '.tmp')), []);
  const types = ctx.events.map((e) => e.type);
  for (const type of [
    'resolved',
    'download-start',
    'download-progress',
    'download-done',
    'verified',
    'installed',
  ])
    assert.ok(types.includes(type as BinaryEvent['type']), `event ${type}`);

  // Second install: a no-op, nothing downloaded.
  const again = await installRelease(ctx, '7.0');
  assert.equal(again.alreadyInstalled, true);
  assert.equal(again.downloadedBytes, 0);
  assert.equal(server.count(archive7014), before + 1);
  // An exact cached version needs neither the network nor the release list.
  const offline = await installRelease({ ...ctx, mirror: 'http://127.0.0.1:9/' }, '7.0.14');
  assert.equal(offline.alreadyInstalled, true);
  assert.equal(offline.dir, result.dir);

  const listed = await listPackages(ctx.home);
  assert.deepEqual(
    listed.map((p) => [p.variant, p.version, p.target, p.arch]),
    [['mongodb', '7.0.14', 'ubuntu2204', 'x86_64']],
  );
  const removed = await removePackages(ctx.home, { version: '7.0.14' });
  assert.equal(removed.length, 1);
  await assertNothingInstalled(ctx.home);
  await assert.rejects(removePackages(ctx.home, { version: '7.0.14' }), UsageError);
});

test('versions before 6.0 ship the legacy mongo shell', async () => {
  const ctx = await context();
  const result = await installRelease(ctx, '5.0');
  assert.equal(result.target, 'ubuntu2004', 'an Ubuntu 22.04 host falls back to the 20.04 build');
  assert.deepEqual((await readdir(result.binDir)).sort(), ['mongo', 'mongod', 'mongos']);
});

test('the release list is cached for 24 h and used, stale, when the source is unreachable', async () => {
  const ctx = await context();
  const listPath = '/full.json';
  const before = server.count(listPath);
  await listRemoteVersions(ctx);
  await listRemoteVersions(ctx);
  assert.equal(server.count(listPath), before + 1, 'fetched once, then from the cache');
  const cachePath = releaseCachePath(ctx.home, `${server.url}full.json`);
  const cached = JSON.parse(await readFile(cachePath, 'utf8')) as { fetchedAt: string };
  cached.fetchedAt = new Date(Date.now() - 48 * 3600_000).toISOString();
  await writeFile(cachePath, JSON.stringify(cached));
  server.faults.set(listPath, 'not-found');
  try {
    const listing = await listRemoteVersions(ctx);
    assert.deepEqual(
      listing.versions.map((v) => v.version),
      ['7.0.14', '7.0.12', '6.0.16', '5.0.28', '4.4.29'],
    );
    assert.ok(ctx.events.some((e) => e.type === 'release-list' && e.from === 'stale-cache'));
  } finally {
    server.faults.delete(listPath);
  }
  const fresh = await context();
  server.faults.set(listPath, 'not-found');
  try {
    await assert.rejects(installRelease(fresh, '7.0'), /cannot fetch the release list .*HTTP 404/);
  } finally {
    server.faults.delete(listPath);
  }
});

test('a version newer than the cached release list is found by fetching the list again', async () => {
  const dir = join(root, 'grow');
  await mkdir(dir, { recursive: true });
  const relative = (version: string) => {
    const entry = structuredClone(releases.list.versions.find((v) => v.version === version));
    assert.ok(entry);
    for (const d of entry.downloads)
      d.archive.url = `../${d.archive.url.replace('https://fastdl.mongodb.org/', '')}`;
    return entry;
  };
  await writeFile(join(dir, 'full.json'), JSON.stringify({ versions: [relative('7.0.12')] }));
  const ctx = await context({ mirror: `${server.url}grow/` });
  assert.equal((await installRelease(ctx, '7.0')).version, '7.0.12');
  await writeFile(
    join(dir, 'full.json'),
    JSON.stringify({ versions: [relative('7.0.14'), relative('7.0.12')] }),
  );
  assert.equal((await installRelease(ctx, '7.0')).version, '7.0.12', 'a series uses the cached list (24 h)');
  assert.equal(
    (await installRelease(ctx, '7.0.14')).version,
    '7.0.14',
    'an exact newer version refetches it',
  );
});

test('a wrong checksum fails and installs nothing', async () => {
  const bad = join(root, 'bad-sum');
  await mkdir(bad, { recursive: true });
  const list = structuredClone(releases.list);
  // Archive URLs relative to this list (../linux/...) so the archives themselves are the good ones.
  for (const v of list.versions)
    for (const d of v.downloads) {
      d.archive.sha256 = '0'.repeat(64);
      d.archive.url = `../${d.archive.url.replace('https://fastdl.mongodb.org/', '')}`;
    }
  await writeFile(join(bad, 'full.json'), JSON.stringify(list));
  const ctx = await context({ mirror: `${server.url}bad-sum/` });
  await assert.rejects(installRelease(ctx, '7.0.12'), (e: unknown) => {
    assert.ok(e instanceof ChecksumError);
    assert.match(
      e.message,
      /checksum mismatch for mongodb-linux-x86_64-ubuntu2204-7\.0\.12\.tgz: expected sha256 0{64}, got [0-9a-f]{64}/,
    );
    return true;
  });
  await assertNothingInstalled(ctx.home);
});

test('a truncated body fails and installs nothing', async () => {
  const path = '/linux/mongodb-linux-x86_64-ubuntu2204-7.0.12.tgz';
  server.faults.set(path, 'truncate');
  try {
    const ctx = await context();
    await assert.rejects(installRelease(ctx, '7.0.12'), (e: unknown) => {
      assert.ok(e instanceof DownloadError, String(e));
      assert.match(e.message, /cut short|closed early/);
      return true;
    });
    await assertNothingInstalled(ctx.home);
  } finally {
    server.faults.delete(path);
  }
});

test('a 404 fails with the URL and installs nothing', async () => {
  const path = '/linux/mongodb-linux-x86_64-ubuntu2204-6.0.16.tgz';
  server.faults.set(path, 'not-found');
  try {
    const ctx = await context();
    await assert.rejects(
      installRelease(ctx, '6.0'),
      /not found \(HTTP 404\): http:\/\/127\.0\.0\.1:\d+\/linux\/mongodb-linux-x86_64-ubuntu2204-6\.0\.16\.tgz/,
    );
    await assertNothingInstalled(ctx.home);
  } finally {
    server.faults.delete(path);
  }
});

test('a server that hangs fails after the request timeout and installs nothing', async () => {
  const path = '/linux/mongodb-linux-x86_64-ubuntu2204-6.0.16.tgz';
  server.faults.set(path, 'hang');
  try {
    const ctx = await context({ timeoutMs: 300 });
    const started = Date.now();
    await assert.rejects(installRelease(ctx, '6.0.16'), /no data from 127\.0\.0\.1:\d+ for 300 ms/);
    assert.ok(Date.now() - started < 30_000, 'fails without waiting for the hung server');
    await assertNothingInstalled(ctx.home);
  } finally {
    server.faults.delete(path);
  }
});

test('a body that stalls half way fails after the request timeout and installs nothing', async () => {
  const path = '/linux/mongodb-linux-x86_64-ubuntu2204-6.0.16.tgz';
  server.faults.set(path, 'stall');
  try {
    const ctx = await context({ timeoutMs: 300 });
    await assert.rejects(installRelease(ctx, '6.0.16'), (e: unknown) => {
      assert.ok(e instanceof DownloadError, String(e));
      assert.match(e.message, /no data from 127\.0\.0\.1:\d+ for 300 ms/);
      return true;
    });
    await assertNothingInstalled(ctx.home);
  } finally {
    server.faults.delete(path);
  }
});

test('an unknown version fails naming the nearest versions', async () => {
  const ctx = await context();
  await assert.rejects(installRelease(ctx, '7.0.13'), (e: unknown) => {
    assert.ok(e instanceof VersionNotFoundError);
    assert.deepEqual(e.nearest, ['7.0.14', '7.0.12']);
    return true;
  });
  await assertNothingInstalled(ctx.home);
});

test('an archive without bin/mongod fails and installs nothing', async () => {
  const ctx = await context();
  await assert.rejects(installRelease(ctx, '4.4.29'), (e: unknown) => {
    assert.ok(e instanceof ArchiveLayoutError);
    assert.match(e.message, /mongodb-linux-x86_64-ubuntu2204-4\.4\.29\.tgz has no bin\/mongod/);
    return true;
  });
  await assertNothingInstalled(ctx.home);
});

test('an archive that is not a tarball fails as such, even with a matching checksum', async () => {
  const dir = join(root, 'garbage');
  await mkdir(join(dir, 'linux'), { recursive: true });
  const bytes = Buffer.from(
    'this is not gzip data at all, just text pretending to be an archive\n'.repeat(50),
  );
  await writeFile(join(dir, 'linux', 'junk.tgz'), bytes);
  const { createHash } = await import('node:crypto');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const list = {
    versions: [
      {
        version: '7.0.14',
        production_release: true,
        downloads: [
          {
            target: 'ubuntu2204',
            arch: 'x86_64',
            edition: 'targeted',
            archive: { url: 'linux/junk.tgz', sha256 },
          },
        ],
      },
    ],
  };
  await writeFile(join(dir, 'full.json'), JSON.stringify(list));
  const ctx = await context({ mirror: `${server.url}garbage/` });
  await assert.rejects(installRelease(ctx, '7.0.14'), (e: unknown) => {
    assert.ok(e instanceof ArchiveLayoutError, String(e));
    assert.match(e.message, /junk\.tgz/);
    return true;
  });
  await assertNothingInstalled(ctx.home);
});

test('leftovers of a killed install (staging dir, stale lock) are cleaned up by the next one', async () => {
  const ctx = await context();
  const name = 'mongodb-7.0.12-ubuntu2204-x86_64';
  const staging = join(packagesDir(ctx.home), '.tmp', `${name}.99999.deadbeef`);
  await mkdir(staging, { recursive: true });
  await writeFile(join(staging, 'mongodb-linux-x86_64-ubuntu2204-7.0.12.tgz'), 'half an archive');
  const lock = join(packagesDir(ctx.home), '.locks', `${name}.lock`);
  await mkdir(lock, { recursive: true });
  const old = new Date(Date.now() - 120_000);
  await utimes(lock, old, old);
  const result = await installRelease(ctx, '7.0.12');
  assert.equal(result.alreadyInstalled, false);
  assert.deepEqual(await readdir(join(packagesDir(ctx.home), '.tmp')), []);
});

test('two concurrent installs of one version both succeed and download once', async () => {
  const path = '/linux/mongodb-linux-x86_64-ubuntu2204-6.0.16.tgz';
  server.faults.set(path, { delayMs: 600 });
  try {
    const ctx = await context();
    const before = server.count(path);
    const [a, b] = await Promise.all([installRelease(ctx, '6.0.16'), installRelease(ctx, '6.0')]);
    assert.equal(a.dir, b.dir);
    assert.equal(server.count(path), before + 1);
    assert.deepEqual([a.alreadyInstalled, b.alreadyInstalled].sort(), [false, true]);
    assert.ok(ctx.events.some((e) => e.type === 'waiting-for-lock'));
  } finally {
    server.faults.delete(path);
  }
});

test('Percona installs from a mirror list, or by its tarball names when the mirror has no list', async () => {
  const ctx = await context({ variant: 'percona' });
  const result = await installRelease(ctx, '7.0');
  assert.equal(result.version, '7.0.14-8');
  assert.equal(result.target, 'jammy');
  assert.equal(result.name, 'percona-7.0.14-8-jammy-x86_64');
  assert.match(await readFile(join(result.binDir, 'mongod'), 'utf8'), /MONGOD_SIM_VERSION='7\.0\.14-8'/);

  server.faults.set('/percona.json', 'not-found');
  try {
    const bare = await context({ variant: 'percona' });
    const byName = await installRelease(bare, '7.0.14-8');
    assert.equal(byName.sha256, result.sha256, 'checked against the published .sha256sum');
    await assert.rejects(installRelease(bare, '7.0'), /Percona publishes no release list/);
  } finally {
    server.faults.delete('/percona.json');
  }
});

test('a mirror directory built from the source works without HTTP', async () => {
  const ctx = await context();
  const dir = join(await tempDir('mup-mirror-'), 'mirror');
  const mirror = await buildMirror(ctx, { dir, versions: ['7.0', '6.0.16'] });
  assert.deepEqual(mirror.versions, ['7.0.14', '6.0.16']);
  assert.deepEqual(
    mirror.archives.map((a) => a.path),
    ['linux/mongodb-linux-x86_64-ubuntu2204-7.0.14.tgz', 'linux/mongodb-linux-x86_64-ubuntu2204-6.0.16.tgz'],
  );
  const list = JSON.parse(await readFile(join(dir, 'full.json'), 'utf8')) as {
    versions: { version: string; downloads: { archive: { url: string } }[] }[];
  };
  assert.equal(
    list.versions[0]?.downloads[0]?.archive.url,
    'linux/mongodb-linux-x86_64-ubuntu2204-7.0.14.tgz',
  );
  const again = await buildMirror(ctx, { dir, versions: ['7.0.14'] });
  assert.equal(again.archives[0]?.reused, true, 'a second run keeps verified archives');

  const requestsBefore = [...server.requests.values()].reduce((a, b) => a + b, 0);
  const offline = await context({ mirror: dir });
  const installed = await installRelease(offline, '7.0');
  assert.equal(installed.version, '7.0.14');
  assert.ok(installed.url.startsWith('file://'));
  assert.equal(
    [...server.requests.values()].reduce((a, b) => a + b, 0),
    requestsBefore,
    'no HTTP request',
  );
  await assert.rejects(installRelease(offline, '7.0.12'), VersionNotFoundError);
});

test('--binary-path accepts binaries reporting the expected version and refuses others', async () => {
  const dir = await tempDir('mup-binpath-');
  const script = (line: string) => `#!/bin/sh\n[ "$1" = "--version" ] && echo '${line}' && exit 0\nexit 2\n`;
  await writeFile(join(dir, 'mongod'), script('db version v7.0.14'));
  await writeFile(join(dir, 'mongos'), script('mongos version v7.0.14'));
  await chmod(join(dir, 'mongod'), 0o755);
  await chmod(join(dir, 'mongos'), 0o755);
  const checked = await checkBinaryPath(dir, '7.0.14');
  assert.equal(checked.version, '7.0.14');
  assert.equal((await checkBinaryPath(dir, '7.0')).version, '7.0.14');
  await assert.rejects(checkBinaryPath(dir, '8.0.4'), (e: unknown) => {
    assert.ok(e instanceof BinaryPathError);
    assert.match(e.message, /mongod is version 7\.0\.14, expected 8\.0\.4/);
    return true;
  });
  // Without a requested version: what the binaries report, as long as mongos is the same release.
  assert.equal((await checkBinaryPath(dir, undefined)).version, '7.0.14');
  await writeFile(join(dir, 'mongos'), script('mongos version v6.0.19'));
  await assert.rejects(checkBinaryPath(dir, undefined), (e: unknown) => {
    assert.ok(e instanceof BinaryPathError);
    assert.match(e.message, /mongos is version 6\.0\.19, expected 7\.0\.14/);
    assert.match(e.hint ?? '', /must come from the same release/);
    return true;
  });
  await rm(join(dir, 'mongos'));
  await assert.rejects(checkBinaryPath(dir, '7.0.14'), /has no executable mongos/);
  await assert.rejects(checkBinaryPath(join(dir, 'nope'), '7.0.14'), /is not a directory/);
});

/** A mirror serving the 7.0.14 archive changed by `damage`, listed with the damaged bytes' own checksum. */
async function damagedMirror(name: string, damage: (bytes: Buffer) => Buffer): Promise<string> {
  const dir = join(root, name);
  await mkdir(join(dir, 'linux'), { recursive: true });
  const bytes = damage(await readFile(join(root, archive7014)));
  await writeFile(join(dir, archive7014), bytes);
  const { createHash } = await import('node:crypto');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const download = {
    target: 'ubuntu2204',
    arch: 'x86_64',
    edition: 'targeted',
    archive: { url: archive7014, sha256 },
  };
  const list = { versions: [{ version: '7.0.14', production_release: true, downloads: [download] }] };
  await writeFile(join(dir, 'full.json'), JSON.stringify(list));
  return `${server.url}${name}/`;
}

for (const [what, damage] of [
  [
    'a flipped byte inside the gzip stream',
    (bytes: Buffer) => {
      const copy = Buffer.from(bytes);
      const at = Math.floor(copy.length / 2);
      copy[at] = (copy[at] as number) ^ 0xff;
      return copy;
    },
  ],
  [
    'trailing garbage after the gzip stream',
    (bytes: Buffer) => Buffer.concat([bytes, Buffer.from('garbage')]),
  ],
] as const) {
  test(`${what} with a matching checksum fails clearly and leaves no staging dir`, async () => {
    const ctx = await context({ mirror: await damagedMirror(what.replaceAll(' ', '-'), damage) });
    await assert.rejects(installRelease(ctx, '7.0.14'), (e: unknown) => {
      assert.ok(e instanceof ArchiveLayoutError, String(e));
      assert.match(e.message, /cannot extract mongodb-linux-x86_64-ubuntu2204-7\.0\.14\.tgz/);
      return true;
    });
    await assertNothingInstalled(ctx.home);
  });
}

test('a mirror that cannot work is refused even when the version is cached', async () => {
  const ctx = await context();
  await installRelease(ctx, '7.0.14');
  const file = join(root, 'full.json');
  for (const [mirror, pattern] of [
    [join(root, 'no-such-dir'), /no such directory/],
    ['ftp://127.0.0.1/x', /ftp: URLs are not supported/],
    [file, /is a file, not a directory/],
  ] as const) {
    await assert.rejects(installRelease({ ...ctx, mirror }, '7.0.14'), (e: unknown) => {
      assert.ok(e instanceof UsageError, String(e));
      assert.match(e.message, pattern);
      return true;
    });
  }
});

test('remove refuses a version a cluster uses, naming it, unless forced', async () => {
  const ctx = await context();
  const installed = await installRelease(ctx, '7.0.14');
  const clustersUsing = (dir: string) => (dir === installed.dir ? ['prod', 'stage'] : []);
  await assert.rejects(removePackages(ctx.home, { version: '7.0.14', clustersUsing }), (e: unknown) => {
    assert.ok(e instanceof UsageError, String(e));
    assert.match(e.message, /7\.0\.14 is used by clusters prod, stage/);
    assert.match(e.hint ?? '', /--force/);
    return true;
  });
  assert.equal((await listPackages(ctx.home)).length, 1, 'still installed');
  const removed = await removePackages(ctx.home, { version: '7.0.14', clustersUsing, force: true });
  assert.deepEqual(
    removed.map((p) => p.dir),
    [installed.dir],
  );
  assert.deepEqual(await listPackages(ctx.home), []);
});

test('a cached series resolves with no release list reachable, to its newest cached version', async () => {
  const ctx = await context();
  await installRelease(ctx, '7.0.12');
  const newest = await installRelease(ctx, '7.0.14');
  await rm(releaseCachePath(ctx.home, `${server.url}full.json`), { force: true });
  const offline = { ...ctx, mirror: 'http://127.0.0.1:9/' };
  const result = await installRelease(offline, '7.0');
  assert.equal(result.version, '7.0.14');
  assert.equal(result.dir, newest.dir);
  assert.equal(result.alreadyInstalled, true);
  // A series with nothing cached still reports the unreachable source.
  await assert.rejects(installRelease(offline, '6.0'), (e: unknown) => !(e instanceof UsageError));
});
