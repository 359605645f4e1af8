import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { perconaArchivePath, perconaArchiveUrl } from '../../src/binaries/percona.js';
import { archiveUrlFor, mongodbListUrl, resolveSource } from '../../src/binaries/source.js';

test('without a mirror MongoDB archives come from the official host as listed', () => {
  const source = resolveSource('mongodb', undefined);
  assert.equal(source.listUrl, mongodbListUrl);
  const url = 'https://fastdl.mongodb.org/linux/mongodb-linux-x86_64-ubuntu2204-7.0.14.tgz';
  assert.equal(archiveUrlFor(source, url), url);
});

test('a mirror URL serves full.json; relative and official absolute archive URLs go to the mirror', () => {
  const source = resolveSource('mongodb', 'http://127.0.0.1:8080/mongo');
  assert.equal(source.listUrl, 'http://127.0.0.1:8080/mongo/full.json');
  assert.equal(
    archiveUrlFor(source, 'linux/mongodb-linux-x86_64-ubuntu2204-7.0.14.tgz'),
    'http://127.0.0.1:8080/mongo/linux/mongodb-linux-x86_64-ubuntu2204-7.0.14.tgz',
  );
  assert.equal(
    archiveUrlFor(source, 'https://fastdl.mongodb.org/linux/mongodb-linux-x86_64-ubuntu2204-7.0.14.tgz'),
    'http://127.0.0.1:8080/mongo/linux/mongodb-linux-x86_64-ubuntu2204-7.0.14.tgz',
  );
  assert.equal(
    archiveUrlFor(source, 'https://downloads.mongodb.org/osx/mongodb-macos-arm64-7.0.14.tgz'),
    'http://127.0.0.1:8080/mongo/osx/mongodb-macos-arm64-7.0.14.tgz',
  );
  // Other hosts are the mirror author's choice and are left alone.
  assert.equal(archiveUrlFor(source, 'https://example.test/a.tgz'), 'https://example.test/a.tgz');
});

test('a mirror directory becomes a file URL; Percona mirrors use percona.json and Percona paths', () => {
  const source = resolveSource('mongodb', 'relative/mirror', '/srv');
  assert.equal(source.base, `${pathToFileURL('/srv/relative/mirror').href}/`);
  assert.equal(source.listUrl, `${pathToFileURL('/srv/relative/mirror/full.json').href}`);
  const percona = resolveSource('percona', 'http://127.0.0.1:9/m/');
  assert.equal(percona.listUrl, 'http://127.0.0.1:9/m/percona.json');
  assert.equal(
    archiveUrlFor(percona, perconaArchiveUrl('7.0.14-8', 'x86_64', 'jammy')),
    `http://127.0.0.1:9/m/${perconaArchivePath('7.0.14-8', 'x86_64', 'jammy')}`,
  );
});

test('Percona tarball names follow the published pattern', () => {
  assert.equal(
    perconaArchiveUrl('7.0.14-8', 'x86_64', 'jammy'),
    'https://downloads.percona.com/downloads/percona-server-mongodb-7.0/percona-server-mongodb-7.0.14-8/binary/tarball/percona-server-mongodb-7.0.14-8-x86_64.jammy-minimal.tar.gz',
  );
  assert.match(
    perconaArchivePath('4.4.29-28', 'x86_64', 'glibc2.17'),
    /percona-server-mongodb-4\.4\.29-28-x86_64\.glibc2\.17\.tar\.gz$/,
  );
});
