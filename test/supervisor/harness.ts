// A real supervisord per test, in a temp dir on a free loopback port, with cleanup by known pids only.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort as registryPort } from '../../sim/test/helpers/ports.js';
import { LocalExecutor } from '../../src/hosts/local.js';
import {
  renderSupervisorIni,
  type SupervisorGroup,
  type SupervisorProgram,
} from '../../src/render/supervisor-ini.js';
import { SupervisorDaemon } from '../../src/supervisor/daemon.js';
import type { ProgramControl, ProgramRef } from '../../src/supervisor/programs.js';
import { tempDir } from '../helpers/cli.js';

export const standIn = join(import.meta.dirname, 'fixtures', 'stand-in.mjs');

export interface TestHost {
  root: string;
  executor: LocalExecutor;
  daemon: SupervisorDaemon;
  password: string;
  httpPort: number;
  /** Renders supervisor.ini for these programs (startsecs=1 unless given) and writes it (0600). */
  writeIni(programs: readonly SupervisorProgram[], groups?: readonly SupervisorGroup[]): Promise<string>;
  /** Renders supervisor.ini and creates the programs' log dirs (supervisord refuses missing ones), without writing it. */
  renderIni(programs: readonly SupervisorProgram[], groups?: readonly SupervisorGroup[]): Promise<string>;
  control(): Promise<ProgramControl>;
  /** Pids a test created outside supervisord's knowledge (orphans) that cleanup must kill. */
  trackPid(pid: number): void;
}

/** A loopback port from the tests' port registry. */
export async function freePort(): Promise<number> {
  return registryPort();
}

/** A process's start time (field 22 of /proc/PID/stat), which tells it from a later process given the same pid. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

/** Where cleanup is registered: a TestContext, or a suite's own list run by its `after` hook. */
export interface Cleanup {
  after(fn: () => Promise<void> | void): void;
}

export async function makeTestHost(t: Cleanup, cluster = 'test'): Promise<TestHost> {
  const root = await tempDir('mup-sup-');
  const executor = new LocalExecutor();
  const httpPort = await freePort();
  const password = randomBytes(18).toString('base64url');
  const supervisorDir = join(root, 'supervisor');
  const daemon = new SupervisorDaemon(executor, {
    cluster,
    supervisorDir,
    httpPort,
    username: 'mup',
    password,
  });
  const extraPids = new Set<number>();
  const renderIni = async (
    programs: readonly SupervisorProgram[],
    groups: readonly SupervisorGroup[] = [],
  ) => {
    for (const program of programs) await mkdir(join(program.outputFile, '..'), { recursive: true });
    return renderSupervisorIni({
      cluster,
      supervisorDir,
      httpPort,
      username: 'mup',
      password,
      minfds: 1024,
      programs,
      groups,
    });
  };
  t.after(async () => {
    // Each pid with its start time: after the shutdown a pid may already belong to another test's process
    // (pids wrap at 32768 here), which must not be killed.
    const pids = new Map<number, string | undefined>();
    const remember = (pid: number) => pids.set(pid, processStartTime(pid));
    for (const pid of extraPids) remember(pid);
    try {
      const client = await daemon.client();
      remember(await client.getPID({ timeoutMs: 2000 }));
      for (const info of await client.getAllProcessInfo({ timeoutMs: 2000 }))
        if (info.pid > 0) remember(info.pid);
      await daemon.shutdown({ stopTimeoutMs: 15_000, exitTimeoutMs: 15_000 });
    } catch {
      // Fall through to killing what we know.
    }
    for (const [pid, started] of pids) {
      if (started !== undefined && processStartTime(pid) === started) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    await daemon.close();
  });
  return {
    root,
    executor,
    daemon,
    password,
    httpPort,
    renderIni,
    async writeIni(programs, groups = []) {
      const text = await renderIni(programs, groups);
      await daemon.writeConfig(text);
      return text;
    },
    control() {
      return daemon.programs();
    },
    trackPid(pid) {
      extraPids.add(pid);
    },
  };
}

/** A stand-in program listening on `port` (see fixtures/stand-in.mjs). */
export function standInProgram(
  root: string,
  name: string,
  port: number,
  extra: readonly string[] = [],
): SupervisorProgram {
  const dir = join(root, name);
  return {
    name,
    command: [process.execPath, standIn, '--port', String(port), '--dbpath', join(dir, 'data'), ...extra],
    directory: root,
    outputFile: join(dir, 'log', `${name}.out`),
    startsecs: 1,
  };
}

export function refOf(program: SupervisorProgram, group?: string): ProgramRef {
  return { name: program.name, group, outputFile: program.outputFile, startsecs: program.startsecs };
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
