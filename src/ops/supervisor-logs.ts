// `mup cluster supervisor logs`: supervisord's own log, or one program's captured output; followed until aborted.
import { programRefFor } from '../supervisor/instance-refs.js';
import {
  followDaemonLog,
  followProgramOutput,
  tailDaemonLog,
  tailProgramOutput,
} from '../supervisor/logs.js';
import { processName } from '../supervisor/programs.js';
import { ClusterRuntime } from './runtime.js';
import { findProgram } from './selection.js';

export interface LogsRequest {
  program?: string | undefined;
  lines: number;
  follow: boolean;
  signal: AbortSignal;
}

/** Yields log text: the daemon's log (no program) or a program's captured output; follows until aborted. */
export async function* supervisorLogs(
  home: string,
  name: string,
  request: LogsRequest,
): AsyncGenerator<string> {
  const rt = await ClusterRuntime.load(home, name);
  try {
    // Roughly `lines` lines: the API reads bytes; 200 bytes a line covers MongoDB's JSON log lines.
    const bytes = Math.max(1, request.lines) * 200;
    const trim = (text: string) =>
      text
        .split('\n')
        .slice(-(request.lines + 1))
        .join('\n');
    if (request.program === undefined) {
      const host = rt.meta.supervisors[0]?.host;
      if (!host) return;
      const daemon = rt.daemon(host);
      if (request.follow) {
        yield* followDaemonLog(daemon, { initialBytes: bytes, signal: request.signal });
        return;
      }
      yield trim(await tailDaemonLog(await daemon.client(), bytes));
      return;
    }
    const instance = findProgram(rt.meta.name, rt.instances, request.program);
    const client = await rt.daemon(instance.host).client();
    const process = processName(programRefFor(instance));
    if (request.follow) {
      yield* followProgramOutput(client, process, { initialBytes: bytes, signal: request.signal });
      return;
    }
    yield trim(await tailProgramOutput(client, process, bytes));
  } finally {
    await rt.close();
  }
}
