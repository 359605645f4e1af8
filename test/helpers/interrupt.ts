// Runs the built mup CLI with --json and follows its progress events (JSON lines on stderr), so a test can
// SIGKILL mup right after a chosen step, as a crash or an operator's kill -9 would.
import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mupBin, repoRoot } from './cli.js';

export interface StepEvent {
  event: 'step';
  phase: string;
  step: string;
  /** `progress`: a live progress line of a running step (`step-progress` events). */
  state: 'running' | 'done' | 'skipped' | 'failed' | 'progress';
  output?: string;
  error?: string;
  progress?: string;
}

export interface InterruptedRun {
  /** True when mup was killed at the chosen event; false when it exited by itself first. */
  killed: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Every step event seen, in order, up to the kill. */
  steps: StepEvent[];
  stderr: string;
}

export interface InterruptOptions {
  home: string;
  env?: Record<string, string>;
  /** The event after which mup is SIGKILLed. */
  killAfter: (event: StepEvent) => boolean;
  timeoutMs?: number;
}

function parseStepEvent(line: string): StepEvent | undefined {
  try {
    const parsed = JSON.parse(line) as { event?: unknown };
    if (parsed.event === 'step-progress')
      return { ...(parsed as StepEvent), event: 'step', state: 'progress' };
    return parsed.event === 'step' ? (parsed as StepEvent) : undefined;
  } catch {
    return undefined;
  }
}

interface FollowedMup {
  readonly child: ChildProcess;
  readonly steps: StepEvent[];
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit once mup has ended and its pipes are closed. */
  readonly closed: Promise<[number | null, NodeJS.Signals | null]>;
  exited(): boolean;
}

/**
 * Starts `mup --json ARGS` and hands each step event (a JSON line on stderr) to `onStep` as it comes, after
 * recording it in `steps`; `onStep` returning false stops the recording (the events after a kill).
 */
function followMup(
  args: readonly string[],
  options: { home: string; env?: Record<string, string> },
  onStep: (event: StepEvent) => boolean,
): FollowedMup {
  const child = spawn(process.execPath, [mupBin, '--json', ...args], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', MUP_HOME: options.home, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const steps: StepEvent[] = [];
  let stdout = '';
  let stderr = '';
  let pending = '';
  let recording = true;
  let exited = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const event = parseStepEvent(line);
      if (!event || !recording) continue;
      steps.push(event);
      recording = onStep(event);
    }
  });
  const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.on('close', (code, signal) => {
      exited = true;
      resolve([code, signal]);
    });
  });
  return { child, steps, stdout: () => stdout, stderr: () => stderr, closed, exited: () => exited };
}

/** mup's exit, or — past `timeoutMs` — mup SIGKILLed and an error saying what it never reached. */
async function endOf(
  run: FollowedMup,
  args: readonly string[],
  timeoutMs: number,
  never: string,
): Promise<[number | null, NodeJS.Signals | null]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      run.child.kill('SIGKILL');
      reject(new Error(`mup ${args.join(' ')} ${never} within ${timeoutMs} ms\n${run.stderr()}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([run.closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function runMupAndKill(
  args: readonly string[],
  options: InterruptOptions,
): Promise<InterruptedRun> {
  let killed = false;
  const run = followMup(args, options, (event) => {
    if (options.killAfter(event)) killed = run.child.kill('SIGKILL');
    return !killed;
  });
  const [code, signal] = await endOf(run, args, options.timeoutMs ?? 180_000, 'did not reach the kill point');
  return { killed, code, signal, steps: run.steps, stderr: run.stderr() };
}

export interface PausedRun {
  code: number | null;
  steps: StepEvent[];
  stdout: string;
  stderr: string;
}

/**
 * Runs mup with --json, stops it (SIGSTOP) right after the chosen event, runs `whilePaused`, then lets it
 * continue (SIGCONT) to its end: a way to change the world between two steps of an operation.
 */
export async function runMupPausing(
  args: readonly string[],
  options: {
    home: string;
    env?: Record<string, string>;
    pauseAfter: (event: StepEvent) => boolean;
    whilePaused: () => Promise<void>;
    timeoutMs?: number;
  },
): Promise<PausedRun> {
  let paused: Promise<void> | undefined;
  const run = followMup(args, options, (event) => {
    if (paused === undefined && options.pauseAfter(event)) {
      run.child.kill('SIGSTOP');
      paused = options.whilePaused().finally(() => run.child.kill('SIGCONT'));
      // Rethrown after mup exits; handled here so it is never an unhandled rejection meanwhile.
      paused.catch(() => undefined);
    }
    return true;
  });
  const [code] = await endOf(run, args, options.timeoutMs ?? 180_000, 'did not finish');
  if (paused === undefined)
    throw new Error(`mup ${args.join(' ')} never reached the pause point\n${run.stderr()}`);
  await paused;
  return { code, steps: run.steps, stdout: run.stdout(), stderr: run.stderr() };
}

export interface KillWhenOptions {
  home: string;
  env?: Record<string, string>;
  /** The event after which `condition` is polled; the first event for which this returns true arms the kill. */
  armAfter: (event: StepEvent) => boolean;
  /** An external state (a port closed, a process spawned...) at which mup is SIGKILLed, polled every 20 ms. */
  condition: (armedBy: StepEvent) => Promise<boolean>;
  timeoutMs?: number;
}

/**
 * Runs mup with --json and SIGKILLs it once `condition` holds after the arming event: a kill at an observed
 * state inside a step rather than at an event boundary. `killed` is false when mup ended first.
 */
export async function runMupKilledWhen(
  args: readonly string[],
  options: KillWhenOptions,
): Promise<InterruptedRun> {
  let killed = false;
  let armed: StepEvent | undefined;
  const run = followMup(args, options, (event) => {
    if (armed === undefined && options.armAfter(event)) armed = event;
    return !killed;
  });
  const timeoutMs = options.timeoutMs ?? 180_000;
  const deadline = Date.now() + timeoutMs;
  // Bounded by the deadline and by mup's own exit.
  while (!run.exited() && Date.now() < deadline) {
    if (armed !== undefined && (await options.condition(armed).catch(() => false)) && !run.exited()) {
      killed = run.child.kill('SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!run.exited() && !killed) {
    run.child.kill('SIGKILL');
    await run.closed;
    throw new Error(
      `mup ${args.join(' ')} did not reach the kill state within ${timeoutMs} ms\n${run.stderr()}`,
    );
  }
  const [code, signal] = await run.closed;
  return { killed, code, signal, steps: run.steps, stderr: run.stderr() };
}

/** True when nothing accepts connections on 127.0.0.1:`port` (the connection is refused). */
export function portClosed(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}
