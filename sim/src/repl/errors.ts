// Replication error codes and names (reference §3 and §3.10, error_codes.yml). The command layer turns a
// ReplError into the standard `{ok:0, errmsg, code, codeName}` reply.
import type { ReplFeatures } from './features.js';

export const ReplCode = {
  BadValue: 2,
  TypeMismatch: 14,
  AlreadyInitialized: 23,
  NodeNotFound: 74,
  NoReplicationEnabled: 76,
  InvalidReplicaSetConfig: 93,
  NotYetInitialized: 94,
  NotSecondary: 95,
  OperationFailed: 96,
  NewReplicaSetConfigurationIncompatible: 103,
  ConfigurationInProgress: 109,
  CommandFailed: 125,
  CannotInitializeNodeWithData: 110,
  ExceededTimeLimit: 262,
  InconsistentReplicaSetNames: 185,
  PrimarySteppedDown: 189,
  WriteConcernFailed: 64,
  NotWritablePrimary: 10107,
  NotPrimaryNoSecondaryOk: 13435,
  NotPrimaryOrSecondary: 13436,
  InterruptedDueToReplStateChange: 11602,
  IDLUnknownField: 40415,
  ShutdownInProgress: 91,
  HostUnreachable: 6,
} as const;

const NAMES: Record<number, string> = {
  2: 'BadValue',
  6: 'HostUnreachable',
  14: 'TypeMismatch',
  23: 'AlreadyInitialized',
  64: 'WriteConcernFailed',
  74: 'NodeNotFound',
  76: 'NoReplicationEnabled',
  91: 'ShutdownInProgress',
  93: 'InvalidReplicaSetConfig',
  94: 'NotYetInitialized',
  95: 'NotSecondary',
  96: 'OperationFailed',
  103: 'NewReplicaSetConfigurationIncompatible',
  109: 'ConfigurationInProgress',
  110: 'CannotInitializeNodeWithData',
  125: 'CommandFailed',
  185: 'InconsistentReplicaSetNames',
  189: 'PrimarySteppedDown',
  262: 'ExceededTimeLimit',
  10107: 'NotWritablePrimary',
  11602: 'InterruptedDueToReplStateChange',
  13435: 'NotPrimaryNoSecondaryOk',
  13436: 'NotPrimaryOrSecondary',
  40415: 'IDLUnknownField',
};

/** §3.10: codeNames were renamed in 5.0 (NotMaster → NotWritablePrimary, ...). */
const LEGACY_NAMES: Record<number, string> = {
  10107: 'NotMaster',
  13435: 'NotMasterNoSlaveOk',
  13436: 'NotMasterOrSecondary',
};

export function codeName(code: number, features?: ReplFeatures): string {
  if (features && !features.primaryWording) {
    const legacy = LEGACY_NAMES[code];
    if (legacy) return legacy;
  }
  return NAMES[code] ?? `Location${code}`;
}

export class ReplError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly extra: Record<string, unknown>;
  constructor(
    code: number,
    message: string,
    options?: { features?: ReplFeatures; extra?: Record<string, unknown> },
  ) {
    super(message);
    this.name = 'ReplError';
    this.code = code;
    this.codeName = codeName(code, options?.features);
    this.extra = options?.extra ?? {};
  }
}

/** "not primary" / "not master" texts as the version phrases them (§3.10). */
export function notPrimaryText(features: ReplFeatures, kind: 'write' | 'noSecondaryOk' | 'stepDown'): string {
  const p = features.primaryWording;
  switch (kind) {
    case 'write':
      return p ? 'not primary' : 'not master';
    case 'noSecondaryOk':
      return p ? 'not primary and secondaryOk=false' : 'not master and slaveOk=false';
    case 'stepDown':
      return p ? "not primary so can't step down" : "not master so can't step down";
  }
}
