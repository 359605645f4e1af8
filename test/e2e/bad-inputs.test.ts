// The bad-input corpus (test/fixtures/bad-inputs/cases.ts) through the built CLI: every case exits 2, names
// its position (file:line:col and key path) or flag, and leaves MUP_HOME and the deploy root (HOME) exactly
// as they were. Topologies go through `topology validate`; every fourth also through `cluster deploy
// --dry-run`, which must print the same line; three through a real `cluster deploy`.
import assert from 'node:assert/strict';
import { lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import pLimit from 'p-limit';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import {
  BAD_COMMAND_LINES,
  type KeyPath,
  KINDS,
  type Kind,
  RAW_TOPOLOGIES,
  TOPOLOGY_MUTATIONS,
} from '../fixtures/bad-inputs/cases.js';
import { type MupRun, runMup, tempDir } from '../helpers/cli.js';
import { ALLOW_ROOT } from '../helpers/e2e.js';
import { simBinaryDir } from '../helpers/sim.js';

let home: string;
let userHome: string;
let files: string;
let emptyMirror: string;
let validReplset: string;
let initial: string;
const templates = new Map<Kind, string>();
const limit = pLimit(4);

/** path, size, mode and mtime of everything under `root`: any created or touched file shows. */
async function listing(root: string, dirMtimes = true): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const stat = await lstat(path);
      const mtime = stat.isDirectory() && !dirMtimes ? '' : ` ${stat.mtimeMs}`;
      out.push(`${path} ${stat.size} ${stat.mode}${mtime}`);
      if (stat.isDirectory()) await walk(path);
    }
  };
  await walk(root);
  return out;
}

async function snapshot(dirMtimes = true): Promise<string> {
  return JSON.stringify([await listing(home, dirMtimes), await listing(userHome, dirMtimes)]);
}

function mup(args: readonly string[]): Promise<MupRun> {
  return runMup(args, { home, env: { HOME: userHome, MUP_MIRROR: '' } });
}

async function assertRefused(run: MupRun, what: string): Promise<void> {
  assert.equal(run.code, 2, `${what}: expected exit 2, got ${run.code}\n${run.stderr}`);
  assert.equal(await snapshot(), initial, `${what}: MUP_HOME or HOME changed`);
}

/** Line and column of the key and of the value at `path` in `text` (1-based). */
function positionsOf(text: string, path: KeyPath): string[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const parent = doc.getIn(path.slice(0, -1), true);
  assert.ok(isMap(parent), `no mapping at ${path.slice(0, -1).join('.')}`);
  const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === path[path.length - 1]);
  assert.ok(pair, `no key ${path.join('.')}`);
  const at = (node: unknown): string[] => {
    const range = (node as { range?: [number] } | null)?.range;
    if (!range) return [];
    const { line, col } = lineCounter.linePos(range[0]);
    return [`${line}:${col}`];
  };
  return [...at(pair.key), ...at(pair.value)];
}

function mutate(kind: Kind, set: readonly [KeyPath, unknown][]): string {
  const doc = parseDocument(templates.get(kind) as string);
  for (const [path, value] of set) {
    if (value === undefined) doc.deleteIn(path);
    else doc.setIn(path, value);
  }
  return doc.toString({ lineWidth: 0 });
}

/** The error line naming `file` at one of `positions` and `path`, if stderr has it. */
function errorLine(
  stderr: string,
  file: string,
  positions: readonly string[],
  path: string,
): string | undefined {
  return stderr.split('\n').find((line) => positions.some((p) => line.startsWith(`${file}:${p}  ${path}`)));
}

before(async () => {
  home = await tempDir('mup-corpus-home-');
  userHome = await tempDir('mup-corpus-user-');
  files = await tempDir('mup-corpus-files-');
  emptyMirror = join(files, 'empty-mirror');
  await mkdir(emptyMirror);
  // Something in both, so a change of either is a change of a listing.
  await mkdir(join(home, 'storage'), { recursive: true });
  await writeFile(join(userHome, '.profile'), '# user files stay as they are\n');
  for (const kind of KINDS) {
    const run = await runMup(['template', '--kind', kind], { home });
    assert.equal(run.code, 0, run.stderr);
    templates.set(kind, run.stdout);
  }
  validReplset = join(files, 'valid-replset.yaml');
  await writeFile(validReplset, templates.get('replset') as string);
  initial = await snapshot();
});

describe('bad topologies', () => {
  const cases = TOPOLOGY_MUTATIONS.flatMap((m) => m.kinds.map((kind) => ({ ...m, kind })));

  test(`the corpus has at least 200 cases (${cases.length + RAW_TOPOLOGIES.length + BAD_COMMAND_LINES.length})`, () => {
    assert.ok(cases.length + RAW_TOPOLOGIES.length + BAD_COMMAND_LINES.length >= 200);
  });

  // One test per kind: each stays well inside the per-test timeout on a loaded machine.
  for (const kind of KINDS) {
    test(`mutations of the ${kind} template: exit 2 at the mutated key, same line from deploy --dry-run`, async () => {
      const failures: string[] = [];
      await Promise.all(
        cases.map((c, index) =>
          c.kind !== kind
            ? undefined
            : limit(async () => {
                const name = `${c.kind}: ${c.name}`;
                const text = mutate(c.kind, c.set);
                const file = join(files, `case-${index}.yaml`);
                await writeFile(file, text);
                try {
                  const run = await mup(['topology', 'validate', file]);
                  await assertRefused(run, name);
                  const line = errorLine(run.stderr, file, positionsOf(text, c.at), c.at.join('.'));
                  assert.ok(line, `${name}: no error line at ${c.at.join('.')}\n${run.stderr}`);
                  assert.match(line, c.expect, name);
                  if (index % 4 === 0) {
                    const dry = await mup([
                      'cluster',
                      'deploy',
                      `c${index}`,
                      file,
                      '--version',
                      '8.0',
                      '--dry-run',
                      '--yes',
                      '--mirror',
                      emptyMirror,
                    ]);
                    await assertRefused(dry, `${name} (dry run)`);
                    assert.ok(
                      dry.stderr.includes(line),
                      `${name}: deploy --dry-run says otherwise:\n${dry.stderr}`,
                    );
                  }
                } catch (error) {
                  failures.push((error as Error).message);
                }
              }),
        ),
      );
      assert.deepEqual(failures, []);
    });
  }

  test('YAML-level input: exit 2 at its line and column', async () => {
    const failures: string[] = [];
    await Promise.all(
      RAW_TOPOLOGIES.map((c, index) =>
        limit(async () => {
          const file = join(files, `raw-${index}.yaml`);
          await writeFile(file, c.text);
          try {
            const run = await mup(['topology', 'validate', file]);
            await assertRefused(run, c.name);
            const line = run.stderr.split('\n').find((l) => l.startsWith(`${file}:${c.at}`));
            assert.ok(line, `${c.name}: no error at ${c.at}\n${run.stderr}`);
            assert.match(line, c.expect, c.name);
            assert.doesNotMatch(run.stderr, /--debug/, `${c.name}: took the internal-error path`);
          } catch (error) {
            failures.push((error as Error).message);
          }
        }),
      ),
    );
    assert.deepEqual(failures, []);
  });

  test('a real deploy refuses before creating anything', async () => {
    const binDir = await simBinaryDir('8.0.4');
    const picked = [
      TOPOLOGY_MUTATIONS.find((m) => m.name === 'global deploy_dir /etc'),
      TOPOLOGY_MUTATIONS.find((m) => m.name.startsWith('server_configs notASection.foo')),
      TOPOLOGY_MUTATIONS.find((m) => m.name === 'build_indexes false with priority 1'),
    ];
    for (const [index, c] of picked.entries()) {
      assert.ok(c);
      const file = join(files, `deploy-${index}.yaml`);
      await writeFile(file, mutate('replset', c.set));
      const before = await snapshot(false);
      const run = await mup([
        'cluster',
        'deploy',
        `real${index}`,
        file,
        '--binary-path',
        binDir,
        '--yes',
        ...ALLOW_ROOT,
      ]);
      assert.equal(run.code, 2, `${c.name}: expected exit 2, got ${run.code}\n${run.stderr}`);
      // A real deploy takes the cluster lock (storage/clusters/<name>/lock) before it checks anything and
      // removes it when it refuses: no file is left or changed, only the parent dirs' mtimes move.
      assert.equal(await snapshot(false), before, `${c.name}: a file was created or changed`);
      assert.match(run.stderr, c.expect);
      assert.match(run.stderr, new RegExp(`${file}:\\d+:\\d+  ${c.at.join('\\.')}`));
    }
    initial = await snapshot();
  });
});

describe('bad command lines', () => {
  test('each is refused with exit 2 naming the flag or value', async () => {
    const failures: string[] = [];
    await Promise.all(
      BAD_COMMAND_LINES.map((c) =>
        limit(async () => {
          const args = c.args.map((a) => (a === '{topology}' ? validReplset : a));
          try {
            const run = await mup(args);
            await assertRefused(run, args.join(' '));
            assert.match(run.stderr, c.expect, args.join(' '));
          } catch (error) {
            failures.push((error as Error).message);
          }
        }),
      ),
    );
    assert.deepEqual(failures, []);
  });
});
