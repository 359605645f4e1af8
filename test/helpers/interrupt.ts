// Runs the built mup CLI with --json and follows its progress events (JSON lines on stderr), so a test can
// SIGKILL mup right after a chosen step, as a crash or an operator's kill -9 would.
import { spawn } from 'node:child_process';
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
  const timeoutMs = options.timeoutMs ?? 180_000;
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`mup ${args.join(' ')} did not reach the kill point within ${timeoutMs} ms\n${stderr}`),
      );
    }, timeoutMs);
    child.on('close', (exitCode, exitSignal) => {
      clearTimeout(timer);
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
