// `mup completion`: the scripts for each shell, and bash's own completion machinery run against the bash
// script with the built CLI on PATH: commands, options, option choices, cluster names and -N processes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { mupBin, runMup, tempDir } from '../helpers/cli.js';

let home: string;
let bin: string;
let script: string;

before(async () => {
  home = await tempDir('mup-completion-home-');
  // A stored cluster (the v1 fixture migrates on read) and a tagged playground's directory.
  await mkdir(join(home, 'storage', 'clusters', 'prod'), { recursive: true });
  await copyFile(
    join(import.meta.dirname, '..', 'fixtures', 'meta', 'v1-replset.yaml'),
    join(home, 'storage', 'clusters', 'prod', 'meta.yaml'),
  );
  await mkdir(join(home, 'storage', 'clusters', 'playground-scratch'), { recursive: true });
  await writeFile(
    join(home, 'storage', 'clusters', 'playground-scratch', 'meta.yaml'),
    'name: playground-scratch\n',
  );
  bin = await tempDir('mup-completion-bin-');
  await writeFile(join(bin, 'mup'), `#!/bin/sh\nexec "${process.execPath}" "${mupBin}" "$@"\n`, {
    mode: 0o755,
  });
  const run = await runMup(['completion', 'bash'], { home });
  assert.equal(run.code, 0, run.stderr);
  script = join(bin, 'mup.bash');
  await writeFile(script, run.stdout);
});

/** What bash offers for `line` (the cursor at its end), through the function `complete` registered. */
function bashComplete(line: string): string[] {
  const program = [
    `source ${JSON.stringify(script)}`,
    // The function the script registered for mup, as bash would call it.
    `fn=$(complete -p mup | sed -n 's/.*-F \\([^ ]*\\) mup$/\\1/p')`,
    `COMP_LINE=${shellQuote(line)}; COMP_POINT=\${#COMP_LINE}`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's own ${...}
    'read -ra COMP_WORDS <<< "$COMP_LINE"; COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))',
    '"$fn" mup',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's own ${...}
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const result = spawnSync('bash', ['--norc', '--noprofile', '-c', program], {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, MUP_HOME: home },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.split('\n').filter((l) => l !== '');
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

test('bash: commands, subcommands and options (the command and the global ones)', () => {
  assert.deepEqual(bashComplete('mup clu'), ['cluster']);
  assert.deepEqual(bashComplete('mup pl'), ['playground']);
  const verbs = bashComplete('mup cluster ');
  for (const verb of ['deploy', 'display', 'logs', 'restart', 'stop', 'supervisor'])
    assert.ok(verbs.includes(verb), verb);
  assert.deepEqual(bashComplete('mup cluster di'), ['display']);
  const options = bashComplete('mup cluster stop prod --');
  for (const option of ['--role', '--node', '--dry-run', '--json', '--yes', '--home', '--help'])
    assert.ok(options.includes(option), option);
  assert.deepEqual(bashComplete('mup playground start --topology s'), ['sharded', 'standalone']);
  assert.deepEqual(bashComplete('mup completion '), ['bash', 'fish', 'zsh']);
});

test('bash: cluster names, playground tags and -N processes come from MUP_HOME', () => {
  assert.deepEqual(bashComplete('mup cluster display '), ['playground-scratch', 'prod']);
  assert.deepEqual(bashComplete('mup cluster display p'), ['playground-scratch', 'prod']);
  assert.deepEqual(bashComplete('mup playground status --tag '), ['scratch']);
  assert.deepEqual(bashComplete('mup cluster restart prod -N mongod-2710'), [
    'mongod-27101',
    'mongod-27102',
    'mongod-27103',
  ]);
  // bash splits at ':', so a host:port is completed after the colon.
  assert.deepEqual(bashComplete('mup cluster logs prod -N localhost:2710'), ['27101', '27102', '27103']);
  assert.deepEqual(bashComplete('mup cluster logs nosuch -N '), []);
});

test('zsh and fish scripts ask the same candidates; an unknown shell is refused', async () => {
  const zsh = await runMup(['completion', 'zsh'], { home });
  assert.equal(zsh.code, 0);
  assert.match(zsh.stdout, /^#compdef mup/);
  assert.match(zsh.stdout, /mup __complete/);
  assert.match(zsh.stdout, /compdef _mup mup/);
  const fish = await runMup(['completion', 'fish'], { home });
  assert.equal(fish.code, 0);
  assert.match(fish.stdout, /complete -c mup .*__mup_complete/);
  assert.match(fish.stdout, /mup __complete \$tokens\[2\.\.-1\]/);
  const bad = await runMup(['completion', 'tcsh'], { home });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Allowed choices are bash, zsh, fish/);
  const complete = await runMup(['__complete', 'cluster', 'display', ''], { home });
  assert.deepEqual(complete.stdout.trim().split('\n'), ['playground-scratch', 'prod']);
});
