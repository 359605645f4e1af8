// Tail and follow a program's captured output and the daemon's own log, through the API (so it works the
// same for remote hosts through the tunnel). Following is polling: supervisord has no push channel.
import { setTimeout as delay } from 'node:timers/promises';
import { fileSizeOn } from '../hosts/executor.js';
import type { SupervisorClient } from './client.js';
import type { SupervisorDaemon } from './daemon.js';

export interface FollowOptions {
  /** Bytes of existing content to emit first. */
  initialBytes?: number;
  intervalMs?: number;
  /** Ends the iteration (the only way a follow stops). */
  signal: AbortSignal;
}

/** The last `bytes` of a program's captured stdout+stderr (current file; rotated backups are not read). */
export async function tailProgramOutput(
  client: SupervisorClient,
  processName: string,
  bytes: number,
): Promise<string> {
  return (await client.tailProcessStdoutLog(processName, 0, bytes)).bytes;
}

export async function* followProgramOutput(
  client: SupervisorClient,
  processName: string,
  options: FollowOptions,
): AsyncGenerator<string> {
  // tailProcessStdoutLog always returns the *last* `length` bytes and the file size as the next offset; the
  // bytes after a known offset come from readProcessStdoutLog(offset, 0).
  const first = await client.tailProcessStdoutLog(processName, 0, options.initialBytes ?? 0);
  if (first.bytes !== '') yield first.bytes;
  let offset = first.offset;
  while (!options.signal.aborted) {
    await pause(options.intervalMs ?? 500, options.signal);
    if (options.signal.aborted) break;
    const text = await client.readProcessStdoutLog(processName, offset, 0);
    if (text === '') {
      // A rotation makes the file smaller than our offset: continue from its beginning.
      const { offset: size } = await client.tailProcessStdoutLog(processName, 0, 0);
      if (size < offset) offset = 0;
      continue;
    }
    offset += Buffer.byteLength(text, 'utf8');
    yield text;
  }
}

/** The last `bytes` of supervisord's own log (state changes, crash exit codes). */
export async function tailDaemonLog(client: SupervisorClient, bytes: number): Promise<string> {
  return client.readLog(-Math.max(1, bytes), 0);
}

export async function* followDaemonLog(
  daemon: SupervisorDaemon,
  options: FollowOptions,
): AsyncGenerator<string> {
  const client = await daemon.client();
  let offset = await logSize(daemon);
  const initialBytes = options.initialBytes ?? 0;
  if (initialBytes > 0) {
    const initial = await client.readLog(-initialBytes, 0);
    if (initial !== '') yield initial;
  }
  while (!options.signal.aborted) {
    await pause(options.intervalMs ?? 500, options.signal);
    if (options.signal.aborted) break;
    const text = await client.readLog(offset, 0);
    if (text === '') {
      const size = await logSize(daemon);
      if (size < offset) offset = 0;
      continue;
    }
    offset += Buffer.byteLength(text, 'utf8');
    yield text;
  }
}

// readLog has no "current size" answer: the daemon's log file is measured on its host (0 while missing).
async function logSize(daemon: SupervisorDaemon): Promise<number> {
  return (await fileSizeOn(daemon.executor, daemon.logPath)) ?? 0;
}

/** Waits between polls; an abort ends the wait at once (the caller's loop then sees the signal). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => undefined);
}
