// Per-version facts of the emulated MongoDB release, in one place so every other module asks here
// instead of comparing version strings. Sources: reference/mongod-behavior.md §1.5 (wire versions),
// §2.5 (hello differences), §5.1 (options), §5.6 (log format), §6 (FCV).
import { createHash } from 'node:crypto';

export type Program = 'mongod' | 'mongos';

export interface VersionInfo {
  /** Full version as stamped in the wrapper, e.g. "7.0.14". */
  readonly full: string;
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** "7.0": the release series, also this binary's featureCompatibilityVersion. */
  readonly series: string;
}

export function parseVersion(text: string): VersionInfo {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-[\w.]+)?$/.exec(text.trim());
  if (!m) throw new Error(`invalid MONGOD_SIM_VERSION '${text}' (expected x.y.z)`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const patch = Number(m[3]);
  return { full: text.trim(), major, minor, patch, series: `${major}.${minor}` };
}

/** Numeric comparison key: at(v) >= at('4.4') style checks read better through atLeast(). */
export function atLeast(v: VersionInfo, major: number, minor = 0): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/**
 * maxWireVersion (§1.5): 3.6=6, 4.0=7, 4.2=8, 4.4=9, then from 5.0 one step per release
 * (5.0=13 … 6.0=17 … 7.0=21 … 8.0=25).
 */
export function maxWireVersion(v: VersionInfo): number {
  if (atLeast(v, 5, 0)) return 13 + (v.major - 5) * 4 + v.minor;
  if (atLeast(v, 4, 4)) return 9;
  if (atLeast(v, 4, 2)) return 8;
  if (atLeast(v, 4, 0)) return 7;
  return 6;
}

/** The last LTS (previous major) series: the FCV a binary can also open and downgrade to (§6). */
export function lastLtsSeries(v: VersionInfo): string {
  if (v.major === 3) return '3.4';
  // Rapid releases (5.1, 6.2, 7.3, ...) sit on top of their own major's x.0 LTS.
  if (v.major >= 5 && v.minor > 0) return `${v.major}.0`;
  if (v.major === 4) return v.minor === 0 ? '3.6' : `4.${v.minor - 2}`;
  if (v.major === 5) return '4.4';
  return `${v.major - 1}.0`;
}

/** On-disk FCVs this binary starts on (§6 table): itself, last LTS and, from 6.0, the preceding x.3. */
export function acceptedFcvs(v: VersionInfo): string[] {
  const out = [v.series, lastLtsSeries(v)];
  if (v.major >= 6 && v.minor === 0) out.push(`${v.major - 1}.3`);
  return out;
}

/**
 * The `hello` command (and helloOk) exists from 5.0 and was backported to 4.4.2, 4.2.10, 4.0.21 and
 * 3.6.21 (MongoDB manual, hello: "New in 5.0 (and 4.4.2, 4.2.10, 4.0.21, 3.6.21)"); older patches
 * only know isMaster.
 */
export function hasHelloCommand(v: VersionInfo): boolean {
  if (atLeast(v, 5, 0)) return true;
  const minPatch: Record<string, number> = { '4.4': 2, '4.2': 10, '4.0': 21, '3.6': 21 };
  const p = minPatch[v.series];
  return p !== undefined && v.patch >= p;
}

export const usesJsonLogs = (v: VersionInfo): boolean => atLeast(v, 4, 4);
/** Awaitable/streaming hello with topologyVersion exists from 4.4 (§2.4, §2.5). */
export const hasTopologyVersion = (v: VersionInfo): boolean => atLeast(v, 4, 4);
/** hello's connectionId arrived in 4.2 (SERVER-10637). */
export const helloHasConnectionId = (v: VersionInfo): boolean => atLeast(v, 4, 2);
/** 5.0 renamed NotMaster → NotWritablePrimary and friends (§3.10). */
export const usesNewReplCodeNames = (v: VersionInfo): boolean => atLeast(v, 5, 0);
/** storage.journal.* and --journal/--nojournal were removed in 6.1 (§5.1). */
export const hasJournalOptions = (v: VersionInfo): boolean => !atLeast(v, 6, 1);
/** setFeatureCompatibilityVersion needs confirm:true from 7.0 (§6). */
export const fcvNeedsConfirm = (v: VersionInfo): boolean => atLeast(v, 7, 0);
/** shutdown's timeoutSecs default: 10 before 5.0, 15 from 5.0 (§5.7). */
export const defaultShutdownTimeoutSecs = (v: VersionInfo): number => (atLeast(v, 5, 0) ? 15 : 10);
/** Since 5.1 OP_QUERY is accepted only for the hello/isMaster handshake (SERVER-57391). */
export const opQueryHandshakeOnly = (v: VersionInfo): boolean => atLeast(v, 5, 1);

/** A stable fake git hash per version (the real ones are not needed; stability is). */
export function gitVersion(v: VersionInfo): string {
  return createHash('sha1').update(`mongo r${v.full}`).digest('hex');
}

/** The OpenSSL the real Linux builds report; only the shape matters to clients. */
export function openSslVersion(v: VersionInfo): string {
  return atLeast(v, 6, 0) ? 'OpenSSL 3.0.2 15 Mar 2022' : 'OpenSSL 1.1.1f  31 Mar 2020';
}
