// known_hosts parsing and matching, checked against what OpenSSH's own tools write and print.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  checkHostKey,
  entryMatches,
  fingerprint,
  hostKeyName,
  keyTypeOf,
  knownKeyTypes,
  parseKnownHosts,
  readKnownHosts,
  recordHostKey,
  wildcardMatch,
} from '../../src/hosts/known-hosts.js';
import { hostKeyAlgorithms } from '../../src/hosts/ssh.js';
import { tempDir } from '../helpers/cli.js';

async function newKey(dir: string, name: string, type = 'ed25519'): Promise<{ line: string; blob: Buffer }> {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', path]);
  const line = (await readFile(`${path}.pub`, 'utf8')).trim();
  const [keyType, base64] = line.split(' ');
  return { line: `${keyType} ${base64}`, blob: Buffer.from(base64 ?? '', 'base64') };
}

describe('known_hosts', () => {
  it('fingerprints keys exactly as ssh-keygen -l prints them', async () => {
    const dir = await tempDir('mup-kh-');
    for (const type of ['ed25519', 'ecdsa', 'rsa']) {
      const key = await newKey(dir, `k-${type}`, type);
      const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, `k-${type}.pub`)], {
        encoding: 'utf8',
      });
      assert.equal(printed.split(' ')[1], fingerprint(key.blob));
      assert.equal(keyTypeOf(key.blob), key.line.split(' ')[0]);
    }
  });

  it('matches plain names, patterns, negations and [host]:port forms', () => {
    assert.equal(hostKeyName('Db1.Example.com', 22), 'db1.example.com');
    assert.equal(hostKeyName('10.0.0.5', 2222), '[10.0.0.5]:2222');
    assert.equal(entryMatches('db1.example.com,10.0.0.5', 'db1.example.com'), true);
    assert.equal(entryMatches('DB1.example.com', 'db1.example.com'), true);
    assert.equal(entryMatches('db1.example.com', 'db2.example.com'), false);
    assert.equal(entryMatches('*.example.com', 'db2.example.com'), true);
    assert.equal(entryMatches('*.example.com,!db3.example.com', 'db3.example.com'), false);
    assert.equal(entryMatches('db?.example.com', 'db7.example.com'), true);
    assert.equal(entryMatches('db?.example.com', 'db17.example.com'), false);
    assert.equal(entryMatches('[10.0.0.5]:2222', '[10.0.0.5]:2222'), true);
    // A port-22 entry is not a key for another port of the same address, nor the other way round.
    assert.equal(entryMatches('10.0.0.5', '[10.0.0.5]:2222'), false);
    assert.equal(entryMatches('[10.0.0.5]:2222', '10.0.0.5'), false);
    // Dots are literal, not regular-expression wildcards.
    assert.equal(wildcardMatch('10.0.0.5', '10a0b0c5'), false);
  });

  it('matches the hashed names ssh-keygen -H writes, for port 22 and other ports', async () => {
    const dir = await tempDir('mup-kh-');
    const key = await newKey(dir, 'host');
    const file = join(dir, 'known_hosts');
    await writeFile(file, `db1.example.com ${key.line}\n[10.0.0.5]:2222 ${key.line}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const entries = parseKnownHosts(await readFile(file, 'utf8'), file);
    assert.equal(entries.length, 2);
    for (const entry of entries) assert.match(entry.hosts, /^\|1\|/);
    assert.equal(checkHostKey(entries, 'db1.example.com', key.blob).status, 'known');
    assert.equal(checkHostKey(entries, '[10.0.0.5]:2222', key.blob).status, 'known');
    assert.equal(checkHostKey(entries, 'db2.example.com', key.blob).status, 'unknown');
    assert.equal(checkHostKey(entries, '10.0.0.5', key.blob).status, 'unknown');
  });

  it('tells a known key from an unknown host, a changed key and a revoked key', async () => {
    const dir = await tempDir('mup-kh-');
    const current = await newKey(dir, 'current');
    const other = await newKey(dir, 'other');
    const revoked = await newKey(dir, 'revoked');
    const text = [
      '# comment',
      '',
      `db1 ${current.line} comment words`,
      `db2 ${other.line}`,
      `@revoked * ${revoked.line}`,
      `@cert-authority *.example.com ${other.line}`,
      'db3 ssh-ed25519 not-base64!',
      `db4 ssh-rsa ${current.line.split(' ')[1]}`,
      'garbage',
    ].join('\n');
    const entries = parseKnownHosts(text, 'kh');
    // The malformed line, the line whose type disagrees with its key and the garbage line are skipped.
    assert.deepEqual(
      entries.map((entry) => [entry.marker, entry.hosts, entry.line]),
      [
        [undefined, 'db1', 3],
        [undefined, 'db2', 4],
        ['revoked', '*', 5],
        ['cert-authority', '*.example.com', 6],
      ],
    );
    assert.equal(checkHostKey(entries, 'db1', current.blob).status, 'known');
    const changed = checkHostKey(entries, 'db1', other.blob);
    assert.equal(changed.status, 'changed');
    assert.deepEqual(changed.status === 'changed' ? changed.known.map((entry) => entry.line) : [], [3]);
    assert.equal(checkHostKey(entries, 'new-host', current.blob).status, 'unknown');
    // A CA line is no host key: the host stays unknown.
    assert.equal(checkHostKey(entries, 'x.example.com', other.blob).status, 'unknown');
    assert.equal(checkHostKey(entries, 'db1', revoked.blob).status, 'revoked');
  });

  it('offers the known key types first', async () => {
    const dir = await tempDir('mup-kh-');
    const rsa = await newKey(dir, 'rsa', 'rsa');
    const entries = parseKnownHosts(`db1 ${rsa.line}\n`, 'kh');
    assert.deepEqual(knownKeyTypes(entries, 'db1'), ['ssh-rsa']);
    assert.deepEqual(hostKeyAlgorithms(knownKeyTypes(entries, 'db1')).slice(0, 4), [
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
      'ssh-ed25519',
    ]);
    assert.equal(hostKeyAlgorithms([]).includes('ssh-rsa'), false);
  });

  it('records an accepted key in a 0600 file that ssh-keygen -F finds', async () => {
    const dir = await tempDir('mup-kh-');
    const key = await newKey(dir, 'host');
    const file = join(dir, 'home', 'known_hosts');
    await recordHostKey(file, '[198.18.0.11]:2222', key.blob);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const found = execFileSync('ssh-keygen', ['-F', '[198.18.0.11]:2222', '-f', file], { encoding: 'utf8' });
    assert.match(found, new RegExp(key.line.split(' ')[1]?.replace(/[+/]/g, '.') ?? 'x'));
    const entries = await readKnownHosts([join(dir, 'missing'), file]);
    assert.equal(checkHostKey(entries, '[198.18.0.11]:2222', key.blob).status, 'known');
  });
});
