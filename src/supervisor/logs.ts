// Tail and follow a program's captured output and the daemon's own log, through the API (so it works the
// same for remote hosts through the tunnel). Following is polling: supervisord has no push channel.
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
    await sleep(options.intervalMs ?? 500, options.signal);
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
  // readLog has no "current size" answer, so the starting offset comes from the file itself.
  let offset = await fileSize(daemon);
  const initialBytes = options.initialBytes ?? 0;
  if (initialBytes > 0) {
    const initial = await client.readLog(-initialBytes, 0);
    if (initial !== '') yield initial;
  }
  while (!options.signal.aborted) {
    await sleep(options.intervalMs ?? 500, options.signal);
    if (options.signal.aborted) break;
    const text = await client.readLog(offset, 0);
    if (text === '') {
      const size = await fileSize(daemon);
      if (size < offset) offset = 0;
      continue;
    }
    offset += Buffer.byteLength(text, 'utf8');
    yield text;
  }
}

async function fileSize(daemon: SupervisorDaemon): Promise<number> {
  const result = await daemon.executor.run('wc', ['-c', daemon.logPath], { timeoutMs: 10_000 });
  const size = Number(result.stdout.trim().split(/\s+/)[0]);
  return result.exitCode === 0 && Number.isFinite(size) ? size : 0;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
