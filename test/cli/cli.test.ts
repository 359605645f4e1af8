import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot, runMup } from '../helpers/cli.js';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

test('mup --version prints the package version', async () => {
  const run = await runMup(['--version']);
  assert.equal(run.code, 0);
  assert.equal(run.stdout.trim(), pkg.version);
});

test('mup --help lists the global flags', async () => {
  const run = await runMup(['--help']);
  assert.equal(run.code, 0);
  for (const flag of ['--json', '--debug', '--yes', '--home']) assert.match(run.stdout, new RegExp(flag));
});

test('an unknown option is a usage error: exit 2 with a hint', async () => {
  const run = await runMup(['--no-such-flag']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /unknown option '--no-such-flag'/);
  assert.match(run.stderr, /--help/);
});
