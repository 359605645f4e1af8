// The tests' port registry (sim/test/helpers/ports.ts): ports below the ephemeral range, whole blocks per
// process that concurrent processes never share, dead holders' blocks taken over, bound ports skipped.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  BLOCK_SIZE,
  freePort,
  REGISTRY_END_PORT,
  REGISTRY_FIRST_PORT,
  reservePortRange,
} from '../sim/test/helpers/ports.js';

const registry = join(import.meta.dirname, '..', 'sim', 'test', 'helpers', 'ports.ts');

/** Starts `count` node processes at once; each reserves a block, prints it, and holds it for a moment. */
function concurrentReservations(count: number): Promise<number[]> {
  const script = `const { reservePortRange } = await import(${JSON.stringify(registry)});
    console.log(reservePortRange(1)); await new Promise((r) => setTimeout(r, 1500));`;
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<number>((resolve, reject) => {
          execFile(
            process.execPath,
            ['--import', 'tsx', '--input-type=module', '-e', script],
            { timeout: 60_000 },
            (error, stdout) => (error ? reject(error) : resolve(Number.parseInt(stdout, 10))),
          );
        }),
    ),
  );
}

test('concurrent processes get distinct blocks, all below the ephemeral range', async () => {
  const blocks = await concurrentReservations(6);
  assert.equal(new Set(blocks).size, 6, `blocks: ${blocks.join(', ')}`);
  for (const base of blocks) {
    assert.ok(base >= REGISTRY_FIRST_PORT && base + BLOCK_SIZE <= REGISTRY_END_PORT, `block ${base}`);
    assert.equal((base - REGISTRY_FIRST_PORT) % BLOCK_SIZE, 0);
  }
  assert.ok(REGISTRY_END_PORT <= 32768);
});

test('a block whose holder died is taken over; a live holder keeps it', () => {
  const lockDir = join(tmpdir(), 'mup-test-ports');
  const mine = reservePortRange(1);
  // A lock left by a process that no longer exists (pid 2^22 + 1 is above Linux's pid_max limit).
  const deadBase = mine + BLOCK_SIZE < REGISTRY_END_PORT ? mine + BLOCK_SIZE : REGISTRY_FIRST_PORT;
  writeFileSync(join(lockDir, `block-${deadBase}`), String(4_194_305));
  const second = reservePortRange(1);
  assert.notEqual(second, mine, 'the live holder (this process) keeps its block');
  // The scan goes on from this process's block to the next one: the dead holder's, now ours.
  assert.equal(second, deadBase);
  assert.equal(readFileSync(join(lockDir, `block-${deadBase}`), 'utf8'), String(process.pid));
  const two = reservePortRange(2);
  assert.ok(two !== mine && two + BLOCK_SIZE !== mine, 'a range never overlaps a held block');
});

test('freePort hands each port out once and skips one something else has bound', async () => {
  const first = await freePort();
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(first + 1, '127.0.0.1', resolve));
  try {
    const second = await freePort();
    assert.notEqual(second, first);
    assert.notEqual(second, first + 1, 'the bound port was skipped');
    const more = await Promise.all([freePort(), freePort(), freePort()]);
    assert.equal(new Set([first, second, ...more]).size, 5);
  } finally {
    await new Promise((resolve) => squatter.close(resolve));
  }
});
