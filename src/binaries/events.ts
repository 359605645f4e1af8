// Progress of binary operations, emitted as plain data so the caller (src/ui) decides how to render it.

export type BinaryEvent =
  | {
      type: 'release-list';
      source: string;
      from: 'network' | 'cache' | 'stale-cache' | 'file';
      reason?: string;
    }
  | { type: 'resolved'; variant: string; requested: string; version: string; target: string; arch: string }
  | { type: 'cached'; package: string; dir: string }
  | { type: 'waiting-for-lock'; package: string }
  | { type: 'download-start'; url: string; name: string; totalBytes: number | undefined }
  | {
      type: 'download-progress';
      name: string;
      receivedBytes: number;
      totalBytes: number | undefined;
      bytesPerSecond: number;
      etaSeconds: number | undefined;
    }
  | { type: 'download-done'; name: string; receivedBytes: number; seconds: number }
  | { type: 'verified'; name: string; sha256: string }
  | { type: 'installed'; package: string; dir: string };

export type BinaryEventListener = (event: BinaryEvent) => void;

export const ignoreEvents: BinaryEventListener = () => {};
