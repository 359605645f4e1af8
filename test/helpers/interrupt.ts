// Runs the built mup CLI with --json and follows its progress events (JSON lines on stderr), so a test can
// SIGKILL mup right after a chosen step, as a crash or an operator's kill -9 would.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mupBin, repoRoot } from './cli.js';

export interface StepEvent {
  event: 'step';
  phase: string;
  step: string;
  state: 'running' | 'done' | 'skipped' | 'failed';
  output?: string;
  error?: string;
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
  /**
   * An observed state at which mup is SIGKILLed, polled every 25 ms from the first step event on (a state
   * inside a step: a process spawned but not answering yet...). It sees the step events so far.
   */
  killWhen?: (steps: readonly StepEvent[]) => boolean;
  timeoutMs?: number;
}

function parseStepEvent(line: string): StepEvent | undefined {
  try {
    const parsed = JSON.parse(line) as { event?: unknown };
    return parsed.event === 'step' ? (parsed as StepEvent) : undefined;
  } catch {
    return undefined;
  }
}

export async function runMupAndKill(
  args: readonly string[],
  options: InterruptOptions,
): Promise<InterruptedRun> {
  const child = spawn(process.execPath, [mupBin, '--json', ...args], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', MUP_HOME: options.home, ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const steps: StepEvent[] = [];
  let stderr = '';
  let pending = '';
  let killed = false;
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const event = parseStepEvent(line);
      if (!event || killed) continue;
      steps.push(event);
      if (options.killAfter(event)) {
        killed = child.kill('SIGKILL');
      }
    }
  });
  const { killWhen } = options;
  const poller =
    killWhen &&
    setInterval(() => {
      if (!killed && steps.length > 0 && killWhen(steps)) killed = child.kill('SIGKILL');
    }, 25);
  const timeoutMs = options.timeoutMs ?? 180_000;
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    const timer = setTimeout(() => {
      if (poller) clearInterval(poller);
      child.kill('SIGKILL');
      reject(
        new Error(`mup ${args.join(' ')} did not reach the kill point within ${timeoutMs} ms\n${stderr}`),
      );
    }, timeoutMs);
    child.on('close', (exitCode, exitSignal) => {
      clearTimeout(timer);
      if (poller) clearInterval(poller);
      resolve([exitCode, exitSignal]);
    });
  });
  return { killed, code, signal, steps, stderr };
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
  const child = spawn(process.execPath, [mupBin, '--json', ...args], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', MUP_HOME: options.home, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const steps: StepEvent[] = [];
  let stdout = '';
  let stderr = '';
  let pending = '';
  let paused: Promise<void> | undefined;
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
      if (!event) continue;
      steps.push(event);
      if (paused === undefined && options.pauseAfter(event)) {
        child.kill('SIGSTOP');
        paused = options.whilePaused().finally(() => child.kill('SIGCONT'));
        // Rethrown after mup exits; handled here so it is never an unhandled rejection meanwhile.
        paused.catch(() => undefined);
      }
    }
  });
  const timeoutMs = options.timeoutMs ?? 180_000;
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mup ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  if (paused === undefined) throw new Error(`mup ${args.join(' ')} never reached the pause point\n${stderr}`);
  await paused;
  return { code, steps, stdout, stderr };
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
  const child = spawn(process.execPath, [mupBin, '--json', ...args], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', MUP_HOME: options.home, ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const steps: StepEvent[] = [];
  let stderr = '';
  let pending = '';
  let killed = false;
  let exited = false;
  let armed: StepEvent | undefined;
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const event = parseStepEvent(line);
      if (!event || killed) continue;
      steps.push(event);
      if (armed === undefined && options.armAfter(event)) armed = event;
    }
  });
  const timeoutMs = options.timeoutMs ?? 180_000;
  const deadline = Date.now() + timeoutMs;
  const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.on('close', (exitCode, exitSignal) => {
      exited = true;
      resolve([exitCode, exitSignal]);
    });
  });
  // Bounded by the deadline and by mup's own exit.
  while (!exited && !killed && Date.now() < deadline) {
    if (armed !== undefined && (await options.condition(armed).catch(() => false)) && !exited) {
      killed = child.kill('SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!exited && !killed) {
    child.kill('SIGKILL');
    await closed;
    throw new Error(`mup ${args.join(' ')} did not reach the kill state within ${timeoutMs} ms\n${stderr}`);
  }
  const [code, signal] = await closed;
  return { killed, code, signal, steps, stderr };
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
