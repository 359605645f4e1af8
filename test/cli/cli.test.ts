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

interface JsonError {
  error: { code: string; message: string; hint?: string; exitCode: number };
}

test('under --json an error is one JSON document on stdout with code, message, hint and exit code', async () => {
  for (const args of [
    ['--json', 'cluster', 'display', 'nope'],
    ['cluster', 'stop', 'nope', '--json'],
    ['--json', 'cluster', 'audit', 'nope'],
  ]) {
    const run = await runMup(args);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    const document = JSON.parse(run.stdout) as JsonError;
    assert.deepEqual(document, {
      error: {
        code: 'cluster-not-found',
        message: "cluster 'nope' not found",
        hint: 'run `mup cluster list` to see the clusters mup manages',
        exitCode: 2,
      },
    });
  }
});

test('under --json a command-line mistake is a JSON error too, exit 2', async () => {
  const run = await runMup(['--json', 'cluster', 'display']);
  assert.equal(run.code, 2);
  const document = JSON.parse(run.stdout) as JsonError;
  assert.equal(document.error.code, 'missing-argument');
  assert.match(document.error.message, /missing required argument 'name'/);
  assert.equal(document.error.exitCode, 2);
  const unknown = await runMup(['cluster', 'list', '--no-such-flag', '--json']);
  assert.equal(unknown.code, 2);
  assert.equal((JSON.parse(unknown.stdout) as JsonError).error.code, 'unknown-option');
});

test('"not found" exits 2 without --json as well', async () => {
  for (const args of [
    ['cluster', 'display', 'nope'],
    ['cluster', 'start', 'nope'],
    ['cluster', 'audit', 'nope'],
    ['playground', 'destroy', '--yes'],
  ]) {
    const run = await runMup(args);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, /^Error: cluster '\S+' not found/m);
    assert.equal(run.stdout, '');
  }
});
