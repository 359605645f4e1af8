// Failpoints for crash tests, as MongoDB's own tests use them: MUP_FAILPOINT=<step-id>:<point> makes mup
// SIGKILL itself at that point of that step, the state a crash or an operator's kill -9 leaves there:
//   before-run  the step's 'running' entry is journaled, nothing of the step is done yet;
//   after-run   the step's side effect is done, its 'done' entry is not journaled yet.
// Step ids hold colons (`start:localhost:27017`), so the point is what follows the last one; a step id
// ending in `*` names every step it prefixes (`stop-set:*`). Several failpoints may be given, separated by
// commas. Unset (always, outside tests) it costs one lookup per step.
import { MupError } from '../errors.js';

export const FAILPOINT_ENV = 'MUP_FAILPOINT';
export const FAILPOINTS = ['before-run', 'after-run'] as const;
export type FailpointName = (typeof FAILPOINTS)[number];

export interface Failpoint {
  step: string;
  point: FailpointName;
}

/** Parses the variable's value; refuses a malformed one rather than ignoring it (a test would pass vacuously). */
export function parseFailpoints(value: string | undefined): Failpoint[] {
  if (value === undefined || value.trim() === '') return [];
  return value.split(',').map((entry) => {
    const at = entry.lastIndexOf(':');
    const step = entry.slice(0, at).trim();
    const point = entry.slice(at + 1).trim();
    if (at <= 0 || step === '' || !(FAILPOINTS as readonly string[]).includes(point))
      throw new MupError(`${FAILPOINT_ENV}: '${entry}' is not <step-id>:<${FAILPOINTS.join('|')}>`, {
        hint: `unset ${FAILPOINT_ENV}; it is meant for crash tests only`,
      });
    return { step, point: point as FailpointName };
  });
}

let parsed: Failpoint[] | undefined;

/** Whether failpoint `f` names this step and point. */
export function failpointMatches(f: Failpoint, stepId: string, point: FailpointName): boolean {
  if (f.point !== point) return false;
  return f.step.endsWith('*') ? stepId.startsWith(f.step.slice(0, -1)) : f.step === stepId;
}

/** SIGKILLs this process when a failpoint names this step and point. */
export function failpoint(stepId: string, point: FailpointName): void {
  parsed ??= parseFailpoints(process.env[FAILPOINT_ENV]);
  if (parsed.some((f) => failpointMatches(f, stepId, point))) process.kill(process.pid, 'SIGKILL');
}
