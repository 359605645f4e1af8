// featureCompatibilityVersion: stored in admin.system.version, checked at startup against the binary,
// read with getParameter and moved with setFeatureCompatibilityVersion.
// Source: reference/mongod-behavior.md §6 (accepted FCVs, messages, codes 7369100 / 40415 / 20573).
import type { Document } from 'bson';
import type { Storage, StorageOp } from './storage/store.js';
import { acceptedFcvs, atLeast, lastLtsSeries, type VersionInfo } from './version.js';

export const FCV_DB = 'admin';
export const FCV_COLL = 'system.version';
export const FCV_ID = 'featureCompatibilityVersion';

export interface FcvDocument {
  readonly version: string;
  readonly targetVersion?: string;
  readonly previousVersion?: string;
}

export function readFcv(storage: Storage): FcvDocument | undefined {
  const doc = storage.getCollection(FCV_DB, FCV_COLL)?.findById(FCV_ID);
  if (!doc || typeof doc.version !== 'string') return undefined;
  return {
    version: doc.version,
    ...(typeof doc.targetVersion === 'string' ? { targetVersion: doc.targetVersion } : {}),
    ...(typeof doc.previousVersion === 'string' ? { previousVersion: doc.previousVersion } : {}),
  };
}

/** The ops that store `fcv` (creating admin.system.version when needed). */
export function fcvWriteOps(storage: Storage, fcv: FcvDocument): StorageOp[] {
  const ops: StorageOp[] = [];
  const coll = storage.getCollection(FCV_DB, FCV_COLL);
  if (!coll) ops.push({ op: 'createCollection', db: FCV_DB, coll: FCV_COLL });
  const doc: Document = { _id: FCV_ID, version: fcv.version };
  if (fcv.targetVersion) doc.targetVersion = fcv.targetVersion;
  if (fcv.previousVersion) doc.previousVersion = fcv.previousVersion;
  ops.push({ op: coll?.findById(FCV_ID) ? 'replace' : 'insert', db: FCV_DB, coll: FCV_COLL, doc });
  return ops;
}

/** The document shown by getParameter (transitional fields only while upgrading/downgrading). */
export function fcvParameter(fcv: FcvDocument): Document {
  const out: Document = { version: fcv.version };
  if (fcv.targetVersion) out.targetVersion = fcv.targetVersion;
  if (fcv.previousVersion) out.previousVersion = fcv.previousVersion;
  return out;
}

/**
 * The startup check: undefined when this binary may open the data, else the fatal message
 * (logged as 20573 "Wrong mongod version" on 4.4+, then exit 62).
 */
export function startupFcvProblem(fcv: FcvDocument | undefined, version: VersionInfo): string | undefined {
  if (!fcv) return undefined;
  const accepted = acceptedFcvs(version);
  if (accepted.includes(fcv.version)) return undefined;
  const lts = lastLtsSeries(version);
  if (!atLeast(version, 4, 4)) {
    return `** IMPORTANT: UPGRADE PROBLEM: Found an invalid featureCompatibilityVersion document (ERROR: BadValue: Invalid value for version, found ${fcv.version}, expected '${version.series}' or '${lts}'. Contents of featureCompatibilityVersion document in admin.system.version: { _id: "featureCompatibilityVersion", version: "${fcv.version}" }. See http://dochub.mongodb.org/core/${version.series}-feature-compatibility.). If the current featureCompatibilityVersion is below ${lts}, see the documentation on upgrading at http://dochub.mongodb.org/core/${version.series}-upgrade-fcv.`;
  }
  const expected = [lts, ...accepted.filter((v) => v !== lts && v !== version.series), version.series]
    .map((v) => `'${v}'`)
    .join(' or ');
  return `UPGRADE PROBLEM: Found an invalid featureCompatibilityVersion document (ERROR: Location4926900: Invalid featureCompatibilityVersion document in admin.system.version: { _id: "featureCompatibilityVersion", version: "${fcv.version}" }. See https://docs.mongodb.com/master/release-notes/${version.series}-compatibility/#feature-compatibility. :: caused by :: Invalid feature compatibility version value '${fcv.version}'; expected ${expected}. See https://docs.mongodb.com/master/release-notes/${version.series}-compatibility/#feature-compatibility.). If the current featureCompatibilityVersion is below ${lts}, see the documentation on upgrading at https://docs.mongodb.com/master/release-notes/${version.series}/#upgrade-procedures.`;
}
