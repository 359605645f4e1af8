import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VersionNotFoundError } from '../../src/binaries/errors.js';
import type { ReleaseList } from '../../src/binaries/release-list.js';
import { parseReleaseList } from '../../src/binaries/release-list.js';
import { compareVersions, parseVersionSpec, resolveVersion } from '../../src/binaries/versions.js';
import { UsageError } from '../../src/errors.js';

function list(...versions: [string, boolean][]): ReleaseList {
  return {
    versions: versions.map(([version, production]) => ({
      version,
      production_release: production,
      downloads: [],
    })),
  };
}

const releases = list(
  ['8.1.0-rc0', false],
  ['8.0.4', true],
  ['8.0.3', true],
  ['8.0.10', true],
  ['8.0.11-rc1', false],
  ['7.0.14', true],
  ['7.0.12', true],
  ['7.0.2', true],
  ['6.0.16', true],
);

test('a series resolves to its newest production release, by number not by text', () => {
  assert.equal(resolveVersion(releases, '8.0').version, '8.0.10');
  assert.equal(resolveVersion(releases, '7.0').version, '7.0.14');
  assert.equal(resolveVersion(releases, '8').version, '8.0.10');
  assert.equal(resolveVersion(releases, 'latest').version, '8.0.10');
});

test('release candidates count only when development releases are allowed', () => {
  assert.equal(resolveVersion(releases, '8.0', { includeDevelopment: true }).version, '8.0.11-rc1');
  assert.throws(() => resolveVersion(releases, '8.1'), VersionNotFoundError);
  assert.equal(resolveVersion(releases, '8.1', { includeDevelopment: true }).version, '8.1.0-rc0');
});

test('an exact version is honoured, a leading v is accepted', () => {
  assert.equal(resolveVersion(releases, '7.0.12').version, '7.0.12');
  assert.equal(resolveVersion(releases, 'v7.0.2').version, '7.0.2');
  assert.equal(resolveVersion(releases, '8.0.11-rc1').version, '8.0.11-rc1');
});

test('an unknown version names the nearest valid versions of its series', () => {
  try {
    resolveVersion(releases, '7.0.13');
    assert.fail('7.0.13 should not resolve');
  } catch (e) {
    assert.ok(e instanceof VersionNotFoundError);
    const err = e;
    assert.match(err.message, /MongoDB 7\.0\.13 is not in the release list/);
    assert.deepEqual(err.nearest, ['7.0.14', '7.0.12', '7.0.2']);
    assert.match(err.hint ?? '', /nearest valid versions: 7\.0\.14, 7\.0\.12, 7\.0\.2/);
    assert.equal(err.exitCode, 2);
  }
  try {
    resolveVersion(releases, '5.0');
    assert.fail('5.0 should not resolve');
  } catch (e) {
    assert.ok(e instanceof VersionNotFoundError);
    assert.ok(e.nearest.length > 0, 'a missing series still suggests versions');
  }
});

test('text that is not a version is a usage error', () => {
  assert.throws(() => parseVersionSpec('seven'), UsageError);
  assert.throws(() => parseVersionSpec('7.0.x'), UsageError);
  assert.throws(() => parseVersionSpec('7.0.14', 'percona'), UsageError, 'Percona needs the release suffix');
  assert.deepEqual(parseVersionSpec('7.0.14-8', 'percona'), { kind: 'exact', text: '7.0.14-8' });
});

test('Percona releases sort by their release number', () => {
  const percona = list(['7.0.14-8', true], ['7.0.14-10', true], ['7.0.12-7', true]);
  assert.equal(resolveVersion(percona, '7.0', { variant: 'percona' }).version, '7.0.14-10');
  assert.ok(compareVersions('7.0.14-10', '7.0.14-8', 'percona') > 0);
  assert.ok(compareVersions('8.0.0-rc1', '8.0.0') < 0);
});

test('the release list parser keeps unknown fields and rejects other shapes', () => {
  const parsed = parseReleaseList(
    JSON.stringify({
      versions: [{ version: '7.0.14', githash: 'abc', downloads: [{ target: 'x', archive: { url: 'u' } }] }],
    }),
    'test',
  );
  assert.equal((parsed.versions[0] as Record<string, unknown>).githash, 'abc');
  assert.throws(() => parseReleaseList('{"releases": []}', 'test'), /not in the full\.json format/);
  assert.throws(() => parseReleaseList('<html>', 'test'), /not valid JSON/);
});
