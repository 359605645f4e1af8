// Typed failures of the binaries layer. Each carries a hint the CLI prints; none leaves a partial install.
import { ExitCode, MupError } from '../errors.js';

/** The requested version (or series) is not in the release list. Exit 2: the input was wrong. */
export class VersionNotFoundError extends MupError {
  readonly requested: string;
  readonly nearest: readonly string[];
  constructor(message: string, requested: string, nearest: readonly string[], hint?: string) {
    super(message, {
      exitCode: ExitCode.usage,
      hint:
        hint ??
        (nearest.length > 0
          ? `nearest valid versions: ${nearest.join(', ')}`
          : 'run `mup mongo list --remote` to see the available versions'),
    });
    this.requested = requested;
    this.nearest = nearest;
  }
}

/** No archive in the release list fits the platform being deployed to (or the explicit --target). */
export class NoTargetError extends MupError {
  readonly available: readonly string[];
  constructor(message: string, available: readonly string[]) {
    super(message, {
      exitCode: ExitCode.usage,
      hint:
        available.length > 0
          ? `archives exist for: ${available.join(', ')}; choose one with --target (mup mongo install, cluster deploy and playground start take it)`
          : 'no archive exists for this architecture; choose another version',
    });
    this.available = available;
  }
}

/** A network or file transfer failed: HTTP status, timeout, connection reset, truncated body. */
export class DownloadError extends MupError {
  readonly url: string;
  constructor(message: string, url: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, {
      hint:
        options.hint ??
        'check the network or the mirror (--mirror / MUP_MIRROR) and retry; to try mup offline, pass --simulator',
      cause: options.cause,
    });
    this.url = url;
  }
}

/** The downloaded bytes do not hash to the sha256 the release list promises. */
export class ChecksumError extends MupError {
  constructor(name: string, expected: string, actual: string) {
    super(`checksum mismatch for ${name}: expected sha256 ${expected}, got ${actual}`, {
      hint: 'the download was corrupted or the release list does not match the archive; nothing was installed',
    });
  }
}

/** The archive extracted but does not look like a MongoDB server release (e.g. no bin/mongod). */
export class ArchiveLayoutError extends MupError {
  constructor(message: string) {
    super(message, { hint: 'the archive is not a MongoDB server release; nothing was installed' });
  }
}

/** A --binary-path directory that cannot be used as is. */
export class BinaryPathError extends MupError {
  constructor(message: string, hint?: string) {
    super(message, {
      exitCode: ExitCode.usage,
      hint: hint ?? 'point --binary-path at a directory holding mongod and mongos of the requested version',
    });
  }
}

/** The release list is missing, unreadable or not in the expected shape. */
export class ReleaseListError extends MupError {
  constructor(message: string, hint?: string, cause?: unknown) {
    super(message, {
      hint:
        hint ??
        'check the network or point --mirror / MUP_MIRROR at an offline mirror; to try mup offline, pass --simulator',
      cause,
    });
  }
}
