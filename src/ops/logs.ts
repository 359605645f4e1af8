// `mup cluster logs NAME`: MongoDB's own log of one process (its systemLog.path, `instance.logFile`), or the
// host's supervisord log. Both are read as files through the host's executor, never through supervisord's
// API, so they can be read while the daemon is down — which is when an operator needs them most.
import { setTimeout as delay } from 'node:timers/promises';
import { UsageError } from '../errors.js';
import { type Executor, fileSizeOn } from '../hosts/executor.js';
import type { ResolvedInstance } from '../topology/types.js';
import { ClusterRuntime } from './runtime.js';
import { selectInstances } from './selection.js';

export interface LogsRequest {
  /** `host:port` or program name; may be omitted when the cluster has one process (or one host, for --supervisor). */
  node?: string | undefined;
  /** supervisord's log instead of MongoDB's. */
  supervisor: boolean;
  lines: number;
  follow: boolean;
  /** Ends a follow (Ctrl-C). */
  signal: AbortSignal;
  /** Poll interval of a follow. */
  intervalMs?: number;
}

export interface LogSource {
  host: string;
  path: string;
  /** The process whose log this is; absent for supervisord's log. */
  process?: string;
  /** `json` for MongoDB 4.4+ structured logs, `text` otherwise. */
  format: 'json' | 'text';
}

/** A piece of the log: whole lines, each ending with a newline. */
export interface LogChunk {
  text: string;
}

/** Which file `request` asks for, checked against the stored cluster (refusals exit 2 before reading). */
export function chooseLogSource(
  rt: Pick<ClusterRuntime, 'meta' | 'instances'> & { supervisorLogPath(host: string): string },
  request: Pick<LogsRequest, 'node' | 'supervisor'>,
): LogSource {
  const instances = rt.instances;
  const hosts = [...new Set(instances.map((i) => i.host))];
  if (request.supervisor) {
    let host: string | undefined;
    if (request.node !== undefined) {
      host = hosts.includes(request.node) ? request.node : pickInstance(instances, request.node).host;
    } else if (hosts.length === 1) {
      host = hosts[0];
    }
    if (host === undefined)
      throw new UsageError(
        `cluster '${rt.meta.name}' runs on ${hosts.length} hosts: say whose supervisord log to show`,
        `pass -N with a host or a process: ${hosts.join(', ')}`,
      );
    return { host, path: rt.supervisorLogPath(host), format: 'text' };
  }
  if (request.node === undefined && instances.length !== 1)
    throw new UsageError(
      `cluster '${rt.meta.name}' has ${instances.length} processes: say whose log to show`,
      `pass -N with one of: ${instances.map((i) => i.id).join(', ')}`,
    );
  const instance =
    request.node === undefined ? (instances[0] as ResolvedInstance) : pickInstance(instances, request.node);
  return {
    host: instance.host,
    path: instance.logFile,
    process: instance.id,
    format: jsonLogs(rt.meta.version) ? 'json' : 'text',
  };
}

function pickInstance(instances: readonly ResolvedInstance[], node: string): ResolvedInstance {
  const chosen = selectInstances(instances, { nodes: [node] });
  return chosen[0] as ResolvedInstance;
}

/** MongoDB writes structured (JSON) logs from 4.4 on. */
function jsonLogs(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 4 || (major === 4 && minor >= 4);
}

/** Opens the cluster, names the log file, then yields its last lines (and, with `follow`, what comes after). */
export async function clusterLogs(
  home: string,
  name: string,
  request: LogsRequest,
): Promise<{ source: LogSource; chunks: AsyncGenerator<LogChunk> }> {
  const rt = await ClusterRuntime.load(home, name);
  let source: LogSource;
  try {
    source = chooseLogSource(
      {
        meta: rt.meta,
        instances: rt.instances,
        supervisorLogPath: (host) => rt.daemon(host).logPath,
      },
      request,
    );
  } catch (error) {
    await rt.close();
    throw error;
  }
  const executor = rt.executor(source.host);
  async function* chunks(): AsyncGenerator<LogChunk> {
    try {
      yield* readLog(executor, source.path, request);
    } finally {
      await executor.close().catch(() => undefined);
      await rt.close();
    }
  }
  return { source, chunks: chunks() };
}

const MAX_INITIAL_BYTES = 16 * 1024 * 1024;

/**
 * The last `lines` lines of a file on a host, then (with `follow`) every complete line appended to it, polled
 * until the signal aborts. A missing file yields nothing (a process that never started has no log yet); a
 * follow waits for it. A file that shrinks (rotated with `logRotate: rename`, or truncated) is read again from
 * its start.
 */
export async function* readLog(
  executor: Executor,
  path: string,
  request: Pick<LogsRequest, 'lines' | 'follow' | 'signal' | 'intervalMs'>,
): AsyncGenerator<LogChunk> {
  let offset = 0;
  const size = await fileSizeOn(executor, path);
  if (size !== undefined) {
    // Read back from the end until enough lines are in hand: MongoDB's JSON lines vary from 200 B to many KiB.
    let bytes = Math.max(1, request.lines) * 512;
    for (;;) {
      const start = Math.max(0, size - bytes);
      const { text, consumed } = await readFrom(executor, path, start);
      let lines = text.split('\n').slice(0, -1);
      // Starting inside the file, the first line read is probably a piece of one: drop it.
      if (start > 0) lines = lines.slice(1);
      if (lines.length >= request.lines || start === 0 || bytes >= MAX_INITIAL_BYTES) {
        const last = lines.slice(-request.lines);
        if (last.length > 0) yield { text: `${last.join('\n')}\n` };
        offset = start + consumed;
        break;
      }
      bytes *= 4;
    }
  }
  if (!request.follow) return;
  const interval = request.intervalMs ?? 500;
  while (!request.signal.aborted) {
    await pause(interval, request.signal);
    if (request.signal.aborted) break;
    const now = await fileSizeOn(executor, path);
    if (now === undefined) continue;
    if (now < offset) offset = 0;
    if (now === offset) continue;
    const { text, consumed } = await readFrom(executor, path, offset);
    offset += consumed;
    if (text !== '') yield { text };
  }
}

/** The whole lines from byte `start` to the end of the file, and how many bytes they take. */
async function readFrom(
  executor: Executor,
  path: string,
  start: number,
): Promise<{ text: string; consumed: number }> {
  // `tail -c +K` reads from byte K (1-based) on any host mup reaches, local or over SSH.
  const result = await executor.run('tail', ['-c', `+${start + 1}`, path], { timeoutMs: 30_000 });
  if (result.exitCode !== 0) return { text: '', consumed: 0 };
  // A line still being written stays for the next read: a newline is never inside a UTF-8 sequence.
  const end = result.stdout.lastIndexOf('\n');
  const text = end < 0 ? '' : result.stdout.slice(0, end + 1);
  return { text, consumed: Buffer.byteLength(text, 'utf8') };
}

/** Waits between polls; an abort ends the wait at once (the caller's loop then sees the signal). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => undefined);
}
