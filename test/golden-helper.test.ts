// The golden-file helper cannot pass vacuously: an update run fails on every file it rewrites, and CI refuses
// the update mode.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { tempDir } from './helpers/cli.js';
import { assertGoldenFile } from './helpers/golden.js';

const saved = { UPDATE_GOLDEN: process.env.UPDATE_GOLDEN, CI: process.env.CI };
afterEach(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

test('compare mode: equal passes, different fails, nothing is written', async () => {
  delete process.env.UPDATE_GOLDEN;
  const path = join(await tempDir('mup-golden-'), 'a.golden');
  await writeFile(path, 'one\n');
  await assertGoldenFile(path, 'one\n');
  await assert.rejects(assertGoldenFile(path, 'two\n'));
  assert.equal(await readFile(path, 'utf8'), 'one\n');
});

test('update mode rewrites a differing file and fails naming it; an unchanged file passes', async () => {
  process.env.UPDATE_GOLDEN = '1';
  delete process.env.CI;
  const path = join(await tempDir('mup-golden-'), 'b.golden');
  await writeFile(path, 'old\n');
  await assert.rejects(assertGoldenFile(path, 'new\n'), /UPDATE_GOLDEN: rewrote .*b\.golden/);
  assert.equal(await readFile(path, 'utf8'), 'new\n');
  await assertGoldenFile(path, 'new\n');
});

test('update mode is refused in CI, and the file is left alone', async () => {
  process.env.UPDATE_GOLDEN = '1';
  process.env.CI = 'true';
  const path = join(await tempDir('mup-golden-'), 'c.golden');
  await writeFile(path, 'old\n');
  await assert.rejects(assertGoldenFile(path, 'new\n'), /refused when CI is set/);
  assert.equal(await readFile(path, 'utf8'), 'old\n');
});
