// Restart counting. After a crash supervisord respawns at once and resets exitstatus to 0, so the only
// records of crashes are the daemon log ("exited: NAME (...; not expected)") and a changed pid/start time
// between two observations.
import type { ProcessInfo } from './process-info.js';

/**
 * supervisord respawns a crashed program at once, or after a backoff of 1 s per failed start so far (up to
 * startretries, 3); a spawn later than this after an exit is a new start, not a respawn.
 */
const RESPAWN_WINDOW_MS = 10_000;

/** Milliseconds of a daemon log line's "YYYY-MM-DD HH:MM:SS,mmm" stamp, for differences only. */
function stampOf(line: string): number | undefined {
  const match = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),(\d{3}) /.exec(line);
  if (!match) return undefined;
  const ms = Date.parse(`${match[1]}T${match[2]}.${match[3]}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Crashes of `program` in supervisord's current run of it, from the daemon log: every exit it did not expect
 * ("exited: NAME (...; not expected)") that it respawned — also the ones before startsecs passed, since mup
 * counts a process as up once it answers, well before supervisord calls it RUNNING. The run ends, and the
 * count starts again, at a deliberate stop ("stopped: NAME ("), when supervisord gives up ("gave up: NAME
 * entered FATAL"), at an exit it expected, and at a spawn too long after the last exit to be a respawn (a new
 * start after mup stopped a program that kept failing: supervisord logs no "stopped:" for a stop in BACKOFF).
 */
export function countUnexpectedExits(log: string, program: string): number {
  const exited = `exited: ${program} (`;
  const spawned = `spawned: '${program}' `;
  const ended = [`stopped: ${program} (`, `gave up: ${program} entered`];
  let count = 0;
  /** When the last unexpected exit was logged (undefined: none since the last spawn or end). */
  let pendingExit: number | 'unknown' | undefined;
  for (const line of log.split('\n')) {
    if (ended.some((marker) => line.includes(marker))) {
      count = 0;
      pendingExit = undefined;
    } else if (line.includes(exited)) {
      if (line.includes('not expected)')) {
        count++;
        pendingExit = stampOf(line) ?? 'unknown';
      } else {
        count = 0;
        pendingExit = undefined;
      }
    } else if (line.includes(spawned)) {
      const at = stampOf(line);
      if (typeof pendingExit === 'number' && at !== undefined && at - pendingExit > RESPAWN_WINDOW_MS)
        count = 0;
      pendingExit = undefined;
    }
  }
  return count;
}

/** Programs that were respawned between two observations: same program, new start time or new pid. */
export function respawnedBetween(before: readonly ProcessInfo[], after: readonly ProcessInfo[]): string[] {
  const previous = new Map(before.map((info) => [info.fullName, info]));
  const respawned: string[] = [];
  for (const info of after) {
    const old = previous.get(info.fullName);
    if (old === undefined || old.pid === 0 || info.pid === 0) continue;
    if (old.pid !== info.pid || old.start !== info.start) respawned.push(info.fullName);
  }
  return respawned;
}

/** Whether the daemon log (as read) records anything about `program` (spawn, exit, stop, success). */
export function logMentions(log: string, program: string): boolean {
  return [`'${program}'`, ` ${program} (`, ` ${program} entered`].some((marker) => log.includes(marker));
}

/**
 * Restart count of one program. The daemon log is authoritative when it records the program; when it does
 * not (rotated away, unreadable), respawns seen between two observations (new pid or start time) are counted
 * on top of the previous count.
 */
export function restartCount(
  logCount: number | undefined,
  previous: { pid: number; start: number; restarts: number } | undefined,
  current: ProcessInfo,
): number {
  if (logCount !== undefined) return logCount;
  if (previous === undefined) return 0;
  if (previous.pid === 0 || current.pid === 0) return previous.restarts;
  const respawned = previous.pid !== current.pid || previous.start !== current.start;
  return previous.restarts + (respawned ? 1 : 0);
}
