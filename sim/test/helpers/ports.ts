// The one port registry of every test: ports 10000-19999 in blocks of 100, below Linux's ephemeral range
// (32768-60999) so that no outgoing connection takes a test port between its allocation and its bind, and
// clear of the well-known ports of common services, of MongoDB's defaults (27017-27019) and of the
// playground's (30000+). A process reserves whole blocks with a lock file per block in the system temp dir
// (created with O_EXCL, holding its pid; a dead holder's lock is taken over), so test files running at the
// same time, from any checkout on the machine, never get the same ports. Within its blocks a process hands
// out each port once, after checking that it can bind it (something outside the registry may hold it).
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REGISTRY_FIRST_PORT = 10_000;
export const REGISTRY_END_PORT = 20_000; // exclusive
export const BLOCK_SIZE = 100;

const lockDir = join(tmpdir(), 'mup-test-ports');
const held: string[] = [];
let exitHookSet = false;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryLock(base: number): boolean {
  const path = join(lockDir, `block-${base}`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      held.push(path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder = Number.NaN;
    try {
      holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
    } catch {
      // removed meanwhile: try again
    }
    if (Number.isInteger(holder) && holder > 0 && alive(holder)) return false;
    // A dead holder (or an empty file left by one killed mid-write): take the block over.
    try {
      unlinkSync(path);
    } catch {
      // someone else took it over first
    }
  }
  return false;
}

function setExitHook(): void {
  if (exitHookSet) return;
  exitHookSet = true;
  process.on('exit', () => {
    for (const path of held) unlockIfMine(path);
  });
}

function unlockIfMine(path: string): void {
  try {
    if (readFileSync(path, 'utf8') === String(process.pid)) unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * Reserves `blocks` consecutive blocks of BLOCK_SIZE ports for this process until it exits and returns the
 * first port. Candidates are tried from a pid-dependent start, so concurrent processes rarely contend.
 */
export function reservePortRange(blocks = 1): number {
  mkdirSync(lockDir, { recursive: true });
  setExitHook();
  const total = (REGISTRY_END_PORT - REGISTRY_FIRST_PORT) / BLOCK_SIZE;
  const start = process.pid % total;
  for (let i = 0; i < total; i++) {
    const first = (start + i) % total;
    if (first + blocks > total) continue;
    const taken: string[] = [];
    for (let b = first; b < first + blocks; b++) {
      const base = REGISTRY_FIRST_PORT + b * BLOCK_SIZE;
      const path = join(lockDir, `block-${base}`);
      if (held.includes(path) || !tryLock(base)) break;
      taken.push(path);
    }
    if (taken.length === blocks) return REGISTRY_FIRST_PORT + first * BLOCK_SIZE;
    for (const path of taken) {
      unlockIfMine(path);
      held.splice(held.indexOf(path), 1);
    }
  }
  throw new Error(
    `no ${blocks} free consecutive test port block(s) in ${REGISTRY_FIRST_PORT}-${REGISTRY_END_PORT - 1} (locks in ${lockDir})`,
  );
}

/** One block: see reservePortRange. */
export function reservePortBlock(): number {
  return reservePortRange(1);
}

/** Whether 127.0.0.1:`port` can be bound right now. */
export function canBind(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

let block: number | undefined;
let next = 0;

/**
 * A port of this process's blocks that no earlier call returned and that can be bound now (a new block is
 * reserved when the current one is used up).
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 10 * BLOCK_SIZE; tries++) {
    if (block === undefined || next >= BLOCK_SIZE) {
      block = reservePortBlock();
      next = 0;
    }
    const port = block + next++;
    if (await canBind(port)) return port;
  }
  throw new Error('no bindable port in ten test port blocks');
}
