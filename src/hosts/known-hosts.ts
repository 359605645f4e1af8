// OpenSSH known_hosts files: parsing, host matching (patterns, negations, hashed `|1|salt|hash` names,
// `[host]:port` for non-22 ports), SHA256 fingerprints as `ssh` prints them, and the check of a presented
// host key. Format per sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT". Pure functions except `readKnownHosts` and
// `recordHostKey`.
import { createHash, createHmac } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface KnownHostEntry {
  /** `@revoked` lines list keys that must never be accepted; `@cert-authority` lines are CA keys (unused). */
  marker: 'revoked' | 'cert-authority' | undefined;
  /** The host field: comma-separated patterns, or one hashed name. */
  hosts: string;
  keyType: string;
  /** The public key blob (the base64 field, decoded). */
  key: Buffer;
  file: string;
  line: number;
}

/** Parses a known_hosts file's text; malformed lines are skipped, as ssh does. */
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const fields = (lines[index] ?? '').trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) continue;
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields[0] === '@revoked' ? 'revoked' : 'cert-authority';
      fields.shift();
    } else if (fields[0].startsWith('@')) continue;
    const [hosts, keyType, base64] = fields;
    if (hosts === undefined || keyType === undefined || base64 === undefined) continue;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) continue;
    const key = Buffer.from(base64, 'base64');
    // The blob starts with its own type name; a line whose two disagree is corrupt.
    if (keyTypeOf(key) !== keyType) continue;
    entries.push({ marker, hosts, keyType, key, file, line: index + 1 });
  }
  return entries;
}

/** How a host appears in known_hosts: `name` on port 22, `[name]:port` otherwise. */
export function hostKeyName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

/** True when an entry's host field names this host (lookup name from `hostKeyName`). */
export function entryMatches(hosts: string, lookup: string): boolean {
  if (hosts.startsWith('|1|')) return hashedNameMatches(hosts, lookup);
  let matched = false;
  for (const raw of hosts.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).toLowerCase();
    if (!wildcardMatch(pattern, lookup)) continue;
    // A matching negation excludes the host whatever the other patterns say.
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, as written by `HashKnownHosts yes`. */
function hashedNameMatches(field: string, lookup: string): boolean {
  const [, , salt, hash] = field.split('|');
  if (salt === undefined || hash === undefined) return false;
  const expected = createHmac('sha1', Buffer.from(salt, 'base64')).update(lookup).digest('base64');
  return expected === hash;
}

/** OpenSSH's pattern language: `*` any run of characters, `?` exactly one. */
export function wildcardMatch(pattern: string, text: string): boolean {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 's').test(text);
}

/** The key type name at the start of an SSH public key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, ...). */
export function keyTypeOf(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return undefined;
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** `SHA256:<base64 without padding>`, as `ssh` and `ssh-keygen -l` print it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** `ED25519`, `ECDSA`, `RSA`: the name OpenSSH uses in its prompts. */
export function keyKind(keyType: string): string {
  if (keyType === 'ssh-ed25519') return 'ED25519';
  if (keyType.startsWith('ecdsa-')) return 'ECDSA';
  if (keyType === 'ssh-rsa') return 'RSA';
  if (keyType === 'ssh-dss') return 'DSA';
  return keyType;
}

export type HostKeyVerdict =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'unknown' }
  | { status: 'changed'; known: KnownHostEntry[] }
  | { status: 'revoked'; entry: KnownHostEntry };

/**
 * Checks the key a host presented against the known entries. A key of a type the files do not list for a
 * host that has other keys counts as changed: the client asks for the known types first, so a server
 * that no longer offers them has been replaced or reconfigured, and accepting silently would defeat the
 * check (OpenSSH, too, refuses it under `StrictHostKeyChecking=accept-new`).
 */
export function checkHostKey(
  entries: readonly KnownHostEntry[],
  lookup: string,
  key: Buffer,
): HostKeyVerdict {
  const forHost = entries.filter(
    (entry) => entry.marker !== 'cert-authority' && entryMatches(entry.hosts, lookup),
  );
  const revoked = forHost.find((entry) => entry.marker === 'revoked' && entry.key.equals(key));
  if (revoked !== undefined) return { status: 'revoked', entry: revoked };
  const plain = forHost.filter((entry) => entry.marker === undefined);
  const same = plain.find((entry) => entry.key.equals(key));
  if (same !== undefined) return { status: 'known', entry: same };
  if (plain.length > 0) return { status: 'changed', known: plain };
  return { status: 'unknown' };
}

/** The key types known for a host, for ordering the host key algorithms offered to it. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], lookup: string): string[] {
  const types = entries
    .filter((entry) => entry.marker === undefined && entryMatches(entry.hosts, lookup))
    .map((entry) => entry.keyType);
  return [...new Set(types)];
}

/** Reads and parses every file that exists; a missing file is an empty one. */
export async function readKnownHosts(files: readonly string[]): Promise<KnownHostEntry[]> {
  const all: KnownHostEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    all.push(...parseKnownHosts(text, file));
  }
  return all;
}

/** Appends `<name> <type> <base64>` (readable, not hashed) to a known_hosts file, creating it 0600. */
export async function recordHostKey(file: string, lookup: string, key: Buffer): Promise<void> {
  const keyType = keyTypeOf(key);
  if (keyType === undefined) throw new Error('not an SSH public key blob');
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await appendFile(file, `${lookup} ${keyType} ${key.toString('base64')}\n`, { mode: 0o600 });
}
