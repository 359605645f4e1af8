// Help and unknown verbs: bare groups print help on stdout (exit 0), every subcommand's help lists the global
// flags, and a planned verb that is not registered says so (exit 2) — checked against the registered tree.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from '@commander-js/extra-typings';
import { PLANNED_CLUSTER_VERBS, plannedVerbMessage, walkCommandPath } from '../../src/cli/commands-info.js';
import { ExitCode } from '../../src/errors.js';
import { runMup } from '../helpers/cli.js';

test('bare mup and bare command groups print their help on stdout and exit 0', async () => {
  for (const args of [[], ['cluster'], ['playground'], ['cluster', 'supervisor']]) {
    const run = await runMup(args);
    assert.equal(run.code, 0, args.join(' '));
    assert.match(run.stdout, /^Usage: mup/, args.join(' '));
    assert.equal(run.stderr, '');
  }
});

test("every subcommand's help lists the global flags", async () => {
  for (const args of [
    ['cluster', 'stop'],
    ['cluster', 'logs'],
    ['playground', 'start'],
    ['cluster', 'supervisor', 'logs'],
    ['mongo', 'install'],
    ['completion'],
  ]) {
    const run = await runMup([...args, '--help']);
    assert.equal(run.code, 0);
    const global = run.stdout.split('Global Options:')[1] ?? '';
    for (const flag of ['--json', '--yes', '--home', '--concurrency', '--debug'])
      assert.ok(global.includes(flag), `${args.join(' ')} --help: ${flag}`);
  }
});

test('--tag help says what it does on each playground verb', async () => {
  const start = await runMup(['playground', 'start', '--help']);
  assert.match(start.stdout, /--tag <name>\s+name it playground-<name>/);
  for (const verb of ['status', 'connect', 'stop', 'destroy']) {
    const run = await runMup(['playground', verb, '--help']);
    assert.match(run.stdout, /--tag <name>\s+which playground/, verb);
  }
});

test('a planned verb says it is planned (exit 2, also as a JSON error); an unknown one stays unknown', async () => {
  // Verbs land over time: take planned verbs that this build does not register.
  const registered = (await runMup(['__complete', 'cluster', ''])).stdout.split('\n');
  const missing = PLANNED_CLUSTER_VERBS.filter((v) => !registered.includes(v));
  assert.ok(missing.length > 0, 'some planned verb is not registered yet');
  const verb = missing[0] as string;
  const planned = await runMup(['cluster', verb, 'prod']);
  assert.equal(planned.code, 2);
  assert.match(
    planned.stderr,
    new RegExp(`\`mup cluster ${verb}\` is planned but not in this version of mup yet`),
  );
  const json = await runMup(['cluster', verb, 'prod', '--json']);
  assert.equal(json.code, 2);
  assert.deepEqual(JSON.parse(json.stdout), {
    error: {
      code: 'usage',
      message: `\`mup cluster ${verb}\` is planned but not in this version of mup yet`,
      hint: 'see README.md (Status) for what works today',
      exitCode: 2,
    },
  });
  const unknown = await runMup(['cluster', 'frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  // A registered verb is run, not called planned.
  for (const verb of PLANNED_CLUSTER_VERBS.filter((v) => registered.includes(v))) {
    const help = await runMup(['cluster', verb, '--help']);
    assert.equal(help.code, 0, verb);
  }
});

test('a planned verb that is registered is no longer "planned"', () => {
  const program = new Command('mup');
  program.option('--home <dir>');
  const cluster = program.command('cluster');
  cluster.command('upgrade');
  const tree = program as never;
  assert.equal(plannedVerbMessage(['cluster'], 'upgrade', tree), undefined);
  assert.equal(plannedVerbMessage(['cluster'], 'scale-out', tree)?.exitCode, ExitCode.usage);
  assert.match(plannedVerbMessage([], 'upgrade', tree)?.hint ?? '', /mup cluster upgrade/);
  assert.deepEqual(walkCommandPath(tree, ['--home', 'cluster', 'cluster', 'upgrade']), { kind: 'other' });
  assert.equal(walkCommandPath(tree, ['--home', 'x', 'cluster']).kind, 'group');
  assert.deepEqual(walkCommandPath(tree, ['cluster', 'reload']), {
    kind: 'unknown',
    path: ['cluster'],
    word: 'reload',
  });
});
