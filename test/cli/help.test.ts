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

/** Every leaf verb; each group's help is checked to list them, so a renamed verb cannot drop out unnoticed. */
const VERBS: Record<string, string[]> = {
  playground: ['start', 'status', 'connect', 'stop', 'destroy'],
  cluster: [
    'deploy',
    'start',
    'stop',
    'restart',
    'display',
    'list',
    'destroy',
    'connect',
    'resume',
    'audit',
    'show-config',
    'edit-config',
    'reload',
    'upgrade',
    'logs',
    'scale-out',
    'scale-in',
    'exec',
  ],
  'cluster supervisor': ['status', 'reload', 'logs', 'start', 'stop', 'restart'],
  topology: ['validate'],
  mongo: ['list', 'install', 'remove'],
  '': ['template', 'mirror', 'completion'],
};

/** `--flag <arg>` → its help text, from the "Options:" section (commander wraps long texts over lines). */
function optionTexts(help: string): Map<string, string> {
  const section = help.split('\nOptions:\n')[1]?.split('\n\n')[0] ?? '';
  const texts = new Map<string, string>();
  let current: string | undefined;
  for (const line of section.split('\n')) {
    const entry = /^ {2}(-\S.*?)(?: {2,}(.*))?$/.exec(line);
    if (entry?.[1]) {
      current = entry[1].trim();
      texts.set(current, entry[2]?.trim() ?? '');
    } else if (current) texts.set(current, `${texts.get(current)} ${line.trim()}`.trim());
  }
  texts.delete('-h, --help');
  return texts;
}

async function helpOf(words: string[]): Promise<string> {
  const run = await runMup([...words, '--help']);
  assert.equal(run.code, 0, `${words.join(' ')} --help: ${run.stderr}`);
  return run.stdout;
}

test('every verb: its group lists it, and no two of its options share a help text', async () => {
  for (const [group, verbs] of Object.entries(VERBS)) {
    const prefix = group === '' ? [] : group.split(' ');
    const listed = (await helpOf(prefix)).split('\nCommands:\n')[1] ?? '';
    const names = [...listed.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]);
    for (const verb of verbs) assert.ok(names.includes(verb), `${group} lists ${verb}`);
    for (const verb of verbs) {
      const texts = optionTexts(await helpOf([...prefix, verb]));
      const seen = new Map<string, string>();
      for (const [flag, text] of texts) {
        assert.notEqual(text, '', `${group} ${verb} ${flag} has a help text`);
        assert.equal(
          seen.get(text),
          undefined,
          `${group} ${verb}: ${flag} and ${seen.get(text)} say "${text}"`,
        );
        seen.set(text, flag);
      }
    }
  }
});

test('help texts that were copied where they do not fit are gone', async () => {
  // exec runs once per host: -R/-N pick hosts, not processes.
  const exec = optionTexts(await helpOf(['cluster', 'exec']));
  assert.match(exec.get('-R, --role <roles...>') ?? '', /^only the hosts running processes of these roles/);
  assert.match(exec.get('-N, --node <nodes...>') ?? '', /^only the hosts of these processes/);
  const stop = optionTexts(await helpOf(['cluster', 'stop']));
  assert.match(stop.get('-N, --node <nodes...>') ?? '', /^only these processes/);
  // `mup mirror --mirror` is where to copy from, not "an offline mirror" to use.
  const mirror = optionTexts(await helpOf(['mirror']));
  assert.match(mirror.get('--mirror <url-or-dir>') ?? '', /^copy from this mirror/);
  // Everywhere binaries are downloaded, --mirror says the same thing.
  for (const words of [
    ['cluster', 'deploy'],
    ['playground', 'start'],
    ['cluster', 'upgrade'],
    ['mongo', 'install'],
  ]) {
    const text = optionTexts(await helpOf(words)).get('--mirror <url-or-dir>') ?? '';
    assert.match(
      text,
      /^offline mirror: base URL or directory with full\.json and archives/,
      words.join(' '),
    );
    assert.match(text, /MUP_MIRROR/, words.join(' '));
  }
  const supervisorLogs = optionTexts(await helpOf(['cluster', 'supervisor', 'logs']));
  assert.match(supervisorLogs.get('--lines <n>') ?? '', /^how many lines of the end/);
});
