// `mup cluster edit-config` with $EDITOR set to sed scripts: an edit of server configs is stored with a diff
// of every rendered file it changes (the files on the hosts stay as they are until `reload`); an invalid edit
// is refused with file:line:column; changes that cannot happen in place (a port, a replica-set name, a new
// or removed process, member options) are refused naming scale-out/scale-in; every refusal changes nothing.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { type MupRun, runMup } from '../helpers/cli.js';
import { type DisplayJson, destroyCluster, type E2eEnv, e2eEnv, e2ePortBase } from '../helpers/e2e.js';

const NAME = 'editme';
const PORT_BASE = e2ePortBase();
let env: E2eEnv;
let ports: number[] = [];
let metaPath: string;

before(async () => {
  env = await e2eEnv();
  const topology = join(env.home, 'edit.yaml');
  await writeFile(
    topology,
    [
      'global:',
      '  deploy_dir: edit',
      'server_configs:',
      '  mongod:',
      '    setParameter: { shutdownTimeoutMillisForSignaledShutdown: 1000 }',
      'mongod_servers:',
      '  - { host: localhost, port: 0, replica_set: rs }',
      '  - { host: localhost, port: 0, replica_set: rs }',
      '  - { host: localhost, port: 0, replica_set: rs }',
      '',
    ].join('\n'),
  );
  await env.mupJson(env.deployArgs(NAME, topology, PORT_BASE), { timeoutMs: 120_000 });
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  ports = view.processes.map((p) => p.port);
  metaPath = join(env.home, 'storage', 'clusters', NAME, 'meta.yaml');
});

after(async () => {
  await destroyCluster(env, NAME);
});

/** Runs mup with $EDITOR set to `editor` (a shell command given the file as its last argument). */
function withEditor(editor: string, args: readonly string[]): Promise<MupRun> {
  return runMup(args, { home: env.home, env: { HOME: env.userHome, EDITOR: editor, VISUAL: '' } });
}

interface StoreSnapshot {
  meta: string;
  ops: string[];
  lock: boolean;
}

function snapshot(): StoreSnapshot {
  const dir = join(env.home, 'storage', 'clusters', NAME);
  return {
    meta: readFileSync(metaPath, 'utf8'),
    ops: readdirSync(join(dir, 'ops')).sort(),
    lock: readdirSync(dir).includes('lock'),
  };
}

function configFiles(): string[] {
  return readdirSync(env.userHome, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('mongod.conf'))
    .map((f) => readFileSync(join(env.userHome, f), 'utf8'));
}

/** Runs an edit that must be refused; checks exit 2, the message, and that nothing changed. */
async function refused(editor: string, expected: RegExp): Promise<string> {
  const before = snapshot();
  const run = await withEditor(editor, ['cluster', 'edit-config', NAME, '--yes']);
  assert.equal(run.code, 2, `exit code\n${run.stderr}`);
  assert.match(run.stderr, expected);
  assert.deepEqual(snapshot(), before, 'a refused edit changes nothing in the store');
  return run.stderr;
}

describe('edit-config refusals', () => {
  test('an editor that changes nothing stores nothing', async () => {
    const before = snapshot();
    const run = await withEditor('true', ['cluster', 'edit-config', NAME, '--yes']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /No changes to editme/);
    assert.deepEqual(snapshot(), before);
  });

  test('an editor that fails stores nothing (exit 2)', async () => {
    await refused('false', /the editor \(false\) exited 1; nothing was changed/);
  });

  test('a value of the wrong type is refused at its line and column', async () => {
    const stderr = await refused(
      `sed -i -e '0,/replica_set: rs$/s//replica_set: rs\\n    votes: 5/'`,
      /editme-topology\.yaml:\d+:\d+ +mongod_servers\.0\.votes: must be 0 or 1/,
    );
    assert.match(stderr, /is not a valid topology \(1 error\)/);
  });

  test('an option the cluster version does not have is refused where it was written', async () => {
    // storage.journal.enabled went away in MongoDB 6.1; the cluster runs 7.0.
    await refused(
      `sed -i -e 's/^  mongod:$/  mongod:\\n    storage.journal.enabled: true/'`,
      /editme-topology\.yaml:\d+:\d+ +server_configs\.mongod\.storage\.journal\.enabled: .*MongoDB 7\.0\.14/,
    );
  });

  test('an unknown key is refused', async () => {
    await refused(`sed -i -e 's/^global:$/global:\\n  colour: blue/'`, /global\.colour/);
  });

  test('a port change is refused naming scale-out/scale-in', async () => {
    const stderr = await refused(
      `sed -i -e 's/port: ${ports[1]}$/port: ${(ports[1] ?? 0) + 50}/'`,
      /mongod_servers\.1\.port: cannot change in place \(was \d+; use `mup cluster scale-out`/,
    );
    assert.match(stderr, /editme-topology\.yaml:\d+:\d+/);
  });

  test('a replica-set name change is refused', async () => {
    await refused(
      `sed -i -e '0,/replica_set: rs$/s//replica_set: other/'`,
      /mongod_servers\.0\.replica_set: cannot change in place \(was rs; use `mup cluster scale-out`/,
    );
  });

  test('a new process is refused naming scale-out', async () => {
    await refused(
      `sed -i -e '$a\\  - { host: localhost, port: ${PORT_BASE + 90}, replica_set: rs }'`,
      /mongod_servers\.3: a new mongod process cannot be added by edit-config \(use `mup cluster scale-out`/,
    );
  });

  test('a removed process is refused naming scale-in', async () => {
    // The last member's three lines (host, port, replica_set) go.
    await refused(
      `sh -c 'head -n -3 "$0" > "$0.new" && mv "$0.new" "$0"'`,
      new RegExp(
        `localhost:${ports[2]} cannot be removed by edit-config \\(use \`mup cluster scale-out\` / \`scale-in\``,
      ),
    );
  });

  test('arbiter_only and build_indexes changes are refused: MongoDB needs the member re-added', async () => {
    await refused(
      `sed -i -e '0,/replica_set: rs$/s//replica_set: rs\\n    priority: 0\\n    build_indexes: false/'`,
      /mongod_servers\.0\.build_indexes: build_indexes cannot change in place \(was true\).*scale-in, then scale-out/,
    );
    await refused(
      `sed -i -e '0,/replica_set: rs$/s//replica_set: rs\\n    arbiter_only: true/'`,
      /mongod_servers\.0\.arbiter_only: arbiter_only cannot change in place/,
    );
  });
});

describe('edit-config of a server parameter', () => {
  test('--dry-run shows the diff and the plan and stores nothing', async () => {
    const before = snapshot();
    const run = await withEditor(`sed -i -e 's/SignaledShutdown: 1000/SignaledShutdown: 2000/'`, [
      'cluster',
      'edit-config',
      NAME,
      '--dry-run',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^-\s+shutdownTimeoutMillisForSignaledShutdown: 1000$/m);
    assert.match(run.stdout, /^\+\s+shutdownTimeoutMillisForSignaledShutdown: 2000$/m);
    assert.match(run.stdout, /3 files change/);
    assert.match(run.stdout, /store the edited topology of editme/);
    assert.deepEqual(snapshot(), before);
  });

  test('is stored with a diff of each mongod.conf; the files on disk wait for reload', async () => {
    const onDisk = configFiles();
    assert.equal(onDisk.length, 3);
    const run = await withEditor(`sed -i -e 's/SignaledShutdown: 1000/SignaledShutdown: 2000/'`, [
      'cluster',
      'edit-config',
      NAME,
      '--yes',
      '--json',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as {
      changed: boolean;
      pendingReload: boolean;
      files: { host: string; path: string; kind: string; diff: string }[];
    };
    assert.equal(result.changed, true);
    assert.equal(result.pendingReload, true);
    assert.deepEqual(
      result.files.map((f) => f.kind),
      ['process', 'process', 'process'],
    );
    for (const file of result.files) {
      assert.match(file.path, /mongod\.conf$/);
      assert.match(file.diff, /^\+\s+shutdownTimeoutMillisForSignaledShutdown: 2000$/m);
    }
    const meta = parse(readFileSync(metaPath, 'utf8')) as {
      spec: { server_configs: { mongod: { setParameter: Record<string, number> } } };
      pending?: { applied: unknown };
    };
    assert.equal(meta.spec.server_configs.mongod.setParameter.shutdownTimeoutMillisForSignaledShutdown, 2000);
    assert.ok(meta.pending, 'the cluster is marked as having changes to reload');
    assert.deepEqual(configFiles(), onDisk, 'edit-config writes nothing on the hosts');
    const shown = await env.mup(['cluster', 'show-config', NAME]);
    assert.match(shown.stdout, /shutdownTimeoutMillisForSignaledShutdown: 2000/);
  });

  test('editing back to what runs clears the pending mark', async () => {
    const run = await withEditor(`sed -i -e 's/SignaledShutdown: 2000/SignaledShutdown: 1000/'`, [
      'cluster',
      'edit-config',
      NAME,
      '--yes',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const meta = parse(readFileSync(metaPath, 'utf8')) as { pending?: unknown };
    assert.equal(meta.pending, undefined);
  });
});
