// A cluster's TLS material: its own certificate authority and one server certificate per host, kept in the
// cluster store under secrets/tls/. Made once and reused: a run re-issues only what is missing, no longer
// valid, close to expiry, or issued for other names than the host is now reached by.
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API loaded first.
import 'reflect-metadata';
import { createPrivateKey, X509Certificate as NodeCertificate, randomBytes, webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import writeFileAtomic from 'write-file-atomic';
import { MupError } from '../errors.js';
import { isLocalHost } from '../topology/hosts.js';
import type { ResolvedTopology } from '../topology/types.js';
import { type ClusterTlsPaths, clusterTlsPaths } from './tls-paths.js';

export { type ClusterTlsPaths, clusterTlsPaths } from './tls-paths.js';

/** ECDSA P-256 / SHA-256: accepted by the OpenSSL of every supported mongod (Ed25519 needs OpenSSL 1.1.1). */
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

const DAY_MS = 86_400_000;
export const CA_VALIDITY_DAYS = 3650;
export const HOST_VALIDITY_DAYS = 825;
/** A certificate with less than this left is replaced on the next run, long before anything refuses it. */
export const RENEW_BEFORE_DAYS = 30;
/** notBefore is set this far back, so that a host whose clock lags a little still accepts the certificate. */
const BACKDATE_MS = 3_600_000;

/** Files in the store: the directory is 0700 (inside secrets/), every file 0600. */
export const TLS_FILE_MODE = 0o600;

/**
 * The names each host's members are reached by, for its certificate's subjectAltName: the topology's host
 * name, every concrete address in a member's `net.bindIp`, and for a local host the loopback names a
 * local client uses (mongod's own connections to itself, mup's, a shell's).
 */
export function hostSubjectNames(topology: ResolvedTopology): Map<string, string[]> {
  const names = new Map<string, Set<string>>();
  for (const { host, local } of topology.hosts) {
    const set = new Set([canonicalName(host)]);
    if (local || isLocalHost(host)) for (const loop of ['localhost', '127.0.0.1', '::1']) set.add(loop);
    names.set(host, set);
  }
  for (const instance of topology.instances) {
    const set = names.get(instance.host);
    if (!set) continue;
    for (const address of bindAddresses(instance.serverConfig)) set.add(canonicalName(address));
  }
  return new Map([...names].map(([host, set]) => [host, sortNames(set)]));
}

/** Host names, then IPv4, then IPv6 addresses, each in code-point order: the order certificates list them in. */
function sortNames(names: Iterable<string>): string[] {
  const key = (name: string) => `${isIP(name)}${name}`;
  return [...names].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function bindAddresses(serverConfig: Record<string, unknown>): string[] {
  const net = serverConfig.net;
  if (typeof net !== 'object' || net === null) return [];
  const bindIp = (net as Record<string, unknown>).bindIp;
  if (typeof bindIp !== 'string') return [];
  // Wildcards listen everywhere but name nothing a client can put in a certificate check.
  return bindIp
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '' && part !== '0.0.0.0' && part !== '::' && !part.startsWith('/'));
}

/** One spelling per name: lower-case host names, IPv6 in its compressed form, so comparisons are exact. */
function canonicalName(name: string): string {
  if (isIP(name) === 6) return new URL(`http://[${name}]/`).hostname.slice(1, -1);
  return name.toLowerCase();
}

export class TlsMaterialError extends MupError {
  constructor(message: string, hint: string) {
    super(message, { hint });
  }
}

export type IssueOutcome = 'created' | 'reused' | 'reissued';

export interface HostCertificateResult {
  host: string;
  file: string;
  names: string[];
  outcome: IssueOutcome;
  /** Why an existing certificate was replaced. */
  reason?: string;
}

export interface ClusterTlsResult {
  caFile: string;
  ca: { outcome: IssueOutcome; reason?: string };
  hosts: HostCertificateResult[];
}

export interface EnsureTlsOptions {
  /** The clock, for validity windows (tests move it). */
  now?: Date;
}

interface CertificateAuthority {
  certificate: x509.X509Certificate;
  privateKey: webcrypto.CryptoKey;
  publicKey: NodeCertificate['publicKey'];
}

/**
 * Makes sure the store holds a valid CA for the cluster and a valid certificate for every host in `hosts`
 * (host → its subjectAltName entries). An existing CA is reused while it is valid, so certificates already
 * on hosts keep verifying; a new CA re-issues every host certificate.
 */
export async function ensureClusterTls(
  secretsDir: string,
  clusterName: string,
  hosts: ReadonlyMap<string, readonly string[]>,
  options: EnsureTlsOptions = {},
): Promise<ClusterTlsResult> {
  const now = options.now ?? new Date();
  const paths = clusterTlsPaths(secretsDir);
  await mkdir(join(paths.dir, 'hosts'), { recursive: true, mode: 0o700 });
  // mkdir leaves existing directories as they are: a secrets dir made looser by hand is closed again.
  for (const dir of [secretsDir, paths.dir, join(paths.dir, 'hosts')]) await chmod(dir, 0o700);

  const existing = await loadAuthority(paths, now);
  let authority: CertificateAuthority;
  let caOutcome: ClusterTlsResult['ca'];
  if (existing.kind === 'valid') {
    authority = existing.authority;
    caOutcome = { outcome: 'reused' };
  } else {
    authority = await createAuthority(paths, clusterName, now);
    caOutcome =
      existing.kind === 'missing' ? { outcome: 'created' } : { outcome: 'reissued', reason: existing.reason };
  }

  const results: HostCertificateResult[] = [];
  for (const [host, wanted] of hosts) {
    const names = sortNames(new Set(wanted.map(canonicalName)));
    if (names.length === 0) {
      throw new TlsMaterialError(
        `no name to put in the certificate of ${host}`,
        'every host needs at least its topology host name',
      );
    }
    const file = paths.hostFile(host);
    const check = await checkHostFile(file, authority, names, now);
    if (check.kind === 'valid') {
      results.push({ host, file, names, outcome: 'reused' });
      continue;
    }
    await issueHostFile(file, authority, clusterName, host, names, now);
    results.push({
      host,
      file,
      names,
      ...(check.kind === 'missing' ? { outcome: 'created' } : { outcome: 'reissued', reason: check.reason }),
    });
  }
  return { caFile: paths.caFile, ca: caOutcome, hosts: results };
}

type Check<T> = { kind: 'valid'; authority: T } | { kind: 'missing' } | { kind: 'invalid'; reason: string };

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The stored CA when it is usable: a CA certificate, signed by its own key, matching the stored key, not near expiry. */
async function loadAuthority(paths: ClusterTlsPaths, now: Date): Promise<Check<CertificateAuthority>> {
  const [certPem, keyPem] = await Promise.all([readIfPresent(paths.caFile), readIfPresent(paths.caKeyFile)]);
  if (certPem === undefined && keyPem === undefined) return { kind: 'missing' };
  if (certPem === undefined || keyPem === undefined) {
    return { kind: 'invalid', reason: `${certPem === undefined ? 'certificate' : 'key'} missing` };
  }
  try {
    const node = new NodeCertificate(certPem);
    const key = createPrivateKey(keyPem);
    if (!node.ca) return { kind: 'invalid', reason: 'not a CA certificate' };
    if (!node.checkPrivateKey(key)) return { kind: 'invalid', reason: 'key does not match the certificate' };
    if (!node.verify(node.publicKey)) return { kind: 'invalid', reason: 'not self-signed' };
    const certificate = new x509.X509Certificate(certPem);
    const expiry = expiryProblem(certificate, now);
    if (expiry) return { kind: 'invalid', reason: expiry };
    const privateKey = await webcrypto.subtle.importKey(
      'pkcs8',
      key.export({ type: 'pkcs8', format: 'der' }),
      KEY_ALGORITHM,
      false,
      ['sign'],
    );
    return { kind: 'valid', authority: { certificate, privateKey, publicKey: node.publicKey } };
  } catch (error) {
    return { kind: 'invalid', reason: `unreadable (${(error as Error).message})` };
  }
}

function expiryProblem(certificate: x509.X509Certificate, now: Date): string | undefined {
  if (certificate.notBefore.getTime() > now.getTime()) return 'not valid yet';
  if (certificate.notAfter.getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY_MS) {
    return `expires ${certificate.notAfter.toISOString()}`;
  }
  return undefined;
}

async function checkHostFile(
  file: string,
  authority: CertificateAuthority,
  names: readonly string[],
  now: Date,
): Promise<Check<true>> {
  const pem = await readIfPresent(file);
  if (pem === undefined) return { kind: 'missing' };
  try {
    const node = new NodeCertificate(pem);
    if (!node.verify(authority.publicKey)) return { kind: 'invalid', reason: 'not signed by the cluster CA' };
    if (!node.checkPrivateKey(createPrivateKey(pem))) {
      return { kind: 'invalid', reason: 'key does not match the certificate' };
    }
    const certificate = new x509.X509Certificate(pem);
    const expiry = expiryProblem(certificate, now);
    if (expiry) return { kind: 'invalid', reason: expiry };
    const present = subjectNames(certificate);
    if (present.join(',') !== names.join(',')) {
      return { kind: 'invalid', reason: `names changed (${present.join(', ')} → ${names.join(', ')})` };
    }
    return { kind: 'valid', authority: true };
  } catch (error) {
    return { kind: 'invalid', reason: `unreadable (${(error as Error).message})` };
  }
}

/** The certificate's DNS and IP subjectAltName entries, canonical and sorted. */
function subjectNames(certificate: x509.X509Certificate): string[] {
  const san = certificate.getExtension(x509.SubjectAlternativeNameExtension);
  if (!san) return [];
  const names = san.names.items
    .filter((name) => name.type === 'dns' || name.type === 'ip')
    .map((name) => canonicalName(name.value));
  return sortNames(names);
}

/** A positive serial of 16 random bytes (RFC 5280 allows up to 20 octets). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

/** A name's value for a distinguished name, with the characters RFC 4514 reserves escaped. */
function dnValue(value: string): string {
  return value.replace(/[\\,+"<>;=#]/g, (c) => `\\${c}`);
}

async function newKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

async function createAuthority(
  paths: ClusterTlsPaths,
  clusterName: string,
  now: Date,
): Promise<CertificateAuthority> {
  const keys = await newKeyPair();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${dnValue(`mup cluster ${clusterName} CA`)}, O=mup`,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: KEY_ALGORITHM,
    keys,
    extensions: [
      // pathLen 0: this CA signs host certificates only, never another CA.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  // The key first: a run stopped between the two writes leaves a pair that does not match, which the next
  // run treats as no CA rather than signing with a key the certificate does not carry.
  await writeFileAtomic(paths.caKeyFile, await privateKeyPem(keys.privateKey), { mode: TLS_FILE_MODE });
  await writeFileAtomic(paths.caFile, certificate.toString('pem'), { mode: TLS_FILE_MODE });
  return {
    certificate,
    privateKey: keys.privateKey,
    publicKey: new NodeCertificate(certificate.toString('pem')).publicKey,
  };
}

async function issueHostFile(
  file: string,
  authority: CertificateAuthority,
  clusterName: string,
  host: string,
  names: readonly string[],
  now: Date,
): Promise<void> {
  const keys = await newKeyPair();
  const notAfter = Math.min(
    now.getTime() + HOST_VALIDITY_DAYS * DAY_MS,
    authority.certificate.notAfter.getTime(),
  );
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    // O and OU are the same on every host of the cluster: MongoDB recognises member certificates (x.509
    // membership) by identical O/OU/DC attributes.
    subject: `CN=${dnValue(host)}, OU=${dnValue(clusterName)}, O=mup`,
    issuer: authority.certificate.subject,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(notAfter),
    signingAlgorithm: KEY_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: authority.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      // clientAuth too: a member presents this certificate when it connects to the other members.
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.SubjectAlternativeNameExtension(
        names.map((name) => ({ type: isIP(name) ? ('ip' as const) : ('dns' as const), value: name })),
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(authority.certificate),
    ],
  });
  // Certificate then key in one file, as mongod's certificateKeyFile expects.
  const pem = `${certificate.toString('pem')}\n${await privateKeyPem(keys.privateKey)}\n`;
  await writeFileAtomic(file, pem, { mode: TLS_FILE_MODE });
}
