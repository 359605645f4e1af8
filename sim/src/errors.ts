// Server-side errors as clients see them: {ok:0, errmsg, code, codeName}. Codes and names come from
// mongod's error_codes.yml (reference/mongod-behavior.md §1.7, §3.10, [S5]).
import type { Document } from 'bson';
import { usesNewReplCodeNames, type VersionInfo } from './version.js';

export const ErrorCode = {
  InternalError: 1,
  BadValue: 2,
  InvalidLength: 16,
  NoSuchKey: 4,
  UserNotFound: 11,
  Unauthorized: 13,
  ProtocolError: 17,
  AuthenticationFailed: 18,
  RoleNotFound: 31,
  MechanismUnavailable: 334,
  TypeMismatch: 14,
  IllegalOperation: 20,
  AlreadyInitialized: 23,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  CursorNotFound: 43,
  NamespaceExists: 48,
  MaxTimeMSExpired: 50,
  CommandNotFound: 59,
  WriteConcernFailed: 64,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  NodeNotFound: 74,
  NoReplicationEnabled: 76,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  ShutdownInProgress: 91,
  InvalidReplicaSetConfig: 93,
  NotYetInitialized: 94,
  NotSecondary: 95,
  OperationFailed: 96,
  NewReplicaSetConfigurationIncompatible: 103,
  CommandFailed: 125,
  ConflictingUpdateOperators: 40,
  FailedToParse: 9,
  ImmutableField: 66,
  InvalidIdField: 53,
  DollarPrefixedFieldName: 52,
  EmptyFieldName: 56,
  DuplicateKey: 11000,
  NotWritablePrimary: 10107,
  NotPrimaryNoSecondaryOk: 13435,
  NotPrimaryOrSecondary: 13436,
  InterruptedAtShutdown: 11600,
  InterruptedDueToReplStateChange: 11602,
  PrimarySteppedDown: 189,
  ExceededTimeLimit: 262,
  IllegalOpMsgFlag: 223,
  ClientMetadataCannotBeMutated: 186,
  MustDowngrade: 229,
  PathNotViable: 28,
  InvalidPipelineOperator: 168,
  CannotDowngrade: 332,
  UnsupportedOpQueryCommand: 352,
  IDLUnknownField: 40415,
  IDLFailedToParse: 40414,
  Location7369100: 7369100,
  // Sessions, transactions and views (error_codes.yml).
  LockTimeout: 24,
  WriteConflict: 112,
  ConflictingOperationInProgress: 117,
  ViewDepthLimitExceeded: 165,
  CommandNotSupported: 115,
  CommandNotSupportedOnView: 166,
  TransactionTooOld: 225,
  NoSuchTransaction: 251,
  TransactionCommitted: 256,
  OperationNotSupportedInTransaction: 263,
} as const;

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(ErrorCode).map(([name, code]) => [code, name]),
);

/** ≤4.4 names of the codes 5.0 renamed (§3.10). */
const LEGACY_NAMES: Record<number, string> = {
  10107: 'NotMaster',
  13435: 'NotMasterNoSlaveOk',
  13436: 'NotMasterOrSecondary',
};

/** codeName for a code as the given server version names it; unnamed assertion codes are "Location<code>". */
export function codeNameFor(code: number, version?: VersionInfo): string {
  if (version && !usesNewReplCodeNames(version)) {
    const legacy = LEGACY_NAMES[code];
    if (legacy) return legacy;
  }
  return NAMES[code] ?? `Location${code}`;
}

/** Thrown by command handlers; the dispatcher turns it into an error reply. */
export class CommandError extends Error {
  readonly code: number;
  /** Extra reply fields (errInfo, errorLabels, info, topologyVersion, ...). */
  readonly extra: Document;
  /** Explicit codeName; otherwise derived from the code and the server version. */
  readonly codeName: string | undefined;

  constructor(code: number, errmsg: string, extra: Document = {}, codeName?: string) {
    super(errmsg);
    this.name = 'CommandError';
    this.code = code;
    this.extra = extra;
    this.codeName = codeName;
  }
}

/** Ends startup with the real exit code after the caller logged the real message (§5.3). */
export class StartupError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message: string) {
    super(message);
    this.name = 'StartupError';
    this.exitCode = exitCode;
  }
}

/** Exit codes from mongod's exit_code.h (§5.3). */
export const ExitCode = {
  clean: 0,
  fail: 1,
  badOptions: 2,
  abrupt: 14,
  listenerFailure: 48,
  needDowngrade: 62,
  uncaught: 100,
} as const;

/**
 * ErrorCodes::isRetriableError: HostUnreachable, HostNotFound, NetworkTimeout, ShutdownInProgress,
 * PrimarySteppedDown, ExceededTimeLimit, SocketException, NotWritablePrimary, InterruptedAtShutdown,
 * InterruptedDueToReplStateChange, NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary. What drivers retry, and
 * what error_labels.cpp labels RetryableWriteError (retryable writes) or TransientTransactionError.
 */
export const RETRIABLE_CODES: ReadonlySet<number> = new Set([
  6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436,
]);
