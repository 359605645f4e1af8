// The one apply path with operations whose steps only record what ran: lock, journal, dry run, confirmation,
// interrupts, and resume (which checks the journaled arguments and the rebuilt plan).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ClusterStore } from '../../src/meta/store.js';
import {
  applyOperation,
  defineOperation,
  type Operation,
  type OperationOptions,
  resumeOperation,
} from '../../src/ops/operation.js';
import { SUPERVISOR_PASSWORD_SECRET } from '../../src/ops/runtime.js';
import { listOperations } from '../../src/plan/journal.js';
import type { Plan } from '../../src/plan/types.js';
import { tempDir } from '../helpers/cli.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'meta', 'v1-replset.yaml');

async function home(): Promise<string> {
  const dir = await tempDir();
  const store = new ClusterStore(dir);
  await mkdir(store.clusterDir('prod'), { recursive: true });
  await writeFile(store.metaPath('prod'), await readFile(FIXTURE, 'utf8'));
  await store.writeSecret('prod', SUPERVISOR_PASSWORD_SECRET, 'pw');
  return dir;
}

/** An operation of `steps` named steps; `failAt` makes one throw, `hang` one never end. */
function recorder(
  ran: string[],
  options: { failAt?: string; hang?: string; steps?: string[] } = {},
): Operation {
  return defineOperation({
    name: 'record',
    args: z.object({ count: z.number().int() }),
    plan: (rt, args): Plan => ({
      operation: 'record',
      cluster: rt.meta.name,
      phases: [
        {
          name: 'all',
          title: 'All steps',
          parallel: false,
          steps: (options.steps ?? Array.from({ length: args.count }, (_, i) => `s${i}`)).map((id) => ({
            id,
            title: `step ${id}`,
            run: async () => {
              if (id === options.hang) {
                ran.push(`${id} started`);
                await new Promise(() => undefined);
              }
              if (id === options.failAt) throw new Error(`${id} broke`);
              ran.push(id);
              return undefined;
            },
          })),
        },
      ],
    }),
  });
}

const base = (dir: string): OperationOptions => ({ home: dir, yes: true, concurrency: 2 });

describe('applyOperation', () => {
  it('runs the plan under the lock, journals it, and releases the lock', async () => {
    const dir = await home();
    const ran: string[] = [];
    const outcome = await applyOperation(recorder(ran), 'prod', { count: 3 }, base(dir));
    assert.deepEqual(ran, ['s0', 's1', 's2']);
    assert.equal(outcome.dryRun, false);
    const store = new ClusterStore(dir);
    const [op] = await listOperations(store.opsDir('prod'));
    assert.equal(op?.summary.status, 'succeeded');
    assert.deepEqual(op?.header.args, { count: 3 });
    assert.equal(existsSync(store.lockPath('prod')), false);
  });

  it('a dry run returns the plan and runs, journals and locks nothing', async () => {
    const dir = await home();
    const ran: string[] = [];
    const outcome = await applyOperation(recorder(ran), 'prod', { count: 2 }, { ...base(dir), dryRun: true });
    assert.equal(outcome.dryRun, true);
    assert.deepEqual(
      outcome.plan.phases[0]?.steps.map((s) => s.id),
      ['s0', 's1'],
    );
    assert.deepEqual(ran, []);
    assert.equal(existsSync(new ClusterStore(dir).opsDir('prod')), false);
  });

  it('bad arguments are refused before anything runs', async () => {
    const dir = await home();
    await assert.rejects(applyOperation(recorder([]), 'prod', { count: 'x' }, base(dir)), /count/);
    assert.equal(existsSync(new ClusterStore(dir).opsDir('prod')), false);
  });

  it('a refused confirmation changes nothing', async () => {
    const dir = await home();
    const ran: string[] = [];
    const op = defineOperation({
      name: 'asks',
      args: z.object({}),
      confirm: 'plan',
      plan: (rt): Plan => ({ operation: 'asks', cluster: rt.meta.name, phases: [] }),
    });
    await assert.rejects(
      applyOperation(op, 'prod', {}, { ...base(dir), yes: false, confirm: async () => false }),
      /asks cancelled/,
    );
    assert.deepEqual(ran, []);
    assert.equal(existsSync(new ClusterStore(dir).opsDir('prod')), false);
  });

  it('a confirmation chosen from the arguments asks only for them', async () => {
    const dir = await home();
    const asked: boolean[] = [];
    const op = defineOperation({
      name: 'halts',
      args: z.object({ whole: z.boolean() }),
      confirm: (args) => (args.whole ? 'plan' : 'none'),
      plan: (rt): Plan => ({ operation: 'halts', cluster: rt.meta.name, phases: [] }),
    });
    const options = {
      ...base(dir),
      yes: false,
      confirm: async () => {
        asked.push(true);
        return false;
      },
    };
    await assert.rejects(applyOperation(op, 'prod', { whole: true }, options), /halts cancelled/);
    assert.equal(existsSync(new ClusterStore(dir).opsDir('prod')), false);
    await applyOperation(op, 'prod', { whole: false }, options);
    assert.equal(asked.length, 1, 'asked for the whole cluster only');
  });

  it('a missing cluster is refused without creating anything', async () => {
    const dir = await tempDir();
    await assert.rejects(
      applyOperation(recorder([]), 'nope', { count: 1 }, base(dir)),
      /cluster 'nope' not found/,
    );
    assert.deepEqual(await readdir(dir), []);
  });

  it('an abort journals the step in flight as interrupted and ends with exit 130; resume finishes', async () => {
    const dir = await home();
    const ran: string[] = [];
    const controller = new AbortController();
    const op = recorder(ran, { hang: 's1' });
    const running = applyOperation(op, 'prod', { count: 3 }, { ...base(dir), signal: controller.signal });
    while (!ran.includes('s1 started')) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await assert.rejects(running, (error: Error & { exitCode?: number }) => {
      assert.equal(error.exitCode, 130);
      assert.match(error.message, /interrupted — run `mup cluster resume prod`/);
      return true;
    });
    const store = new ClusterStore(dir);
    const [op1] = await listOperations(store.opsDir('prod'));
    assert.equal(op1?.summary.status, 'interrupted');
    assert.deepEqual(
      op1?.steps.filter((s) => s.step === 's1').map((s) => [s.state, s.error]),
      [
        ['running', undefined],
        ['failed', 'interrupted'],
      ],
    );
    const again: string[] = [];
    await resumeOperation('prod', new Map([['record', recorder(again)]]), base(dir));
    assert.deepEqual(again, ['s1', 's2'], 'the interrupted step runs again, the done one does not');
    assert.equal((await listOperations(store.opsDir('prod')))[0]?.summary.status, 'succeeded');
  });
});

describe('resumeOperation', () => {
  async function failedRun(dir: string): Promise<void> {
    await assert.rejects(
      applyOperation(recorder([], { failAt: 's1' }), 'prod', { count: 3 }, base(dir)),
      /s1 broke/,
    );
  }

  it('refuses when the rebuilt plan has other steps than the journal', async () => {
    const dir = await home();
    await failedRun(dir);
    const other = recorder([], { steps: ['s0', 's1', 'x9'] });
    await assert.rejects(
      resumeOperation('prod', new Map([['record', other]]), base(dir)),
      /no longer matches its plan \(new step x9, step s2 gone\)/,
    );
  });

  it('refuses journaled arguments its schema does not accept', async () => {
    const dir = await home();
    await failedRun(dir);
    const strict = defineOperation({
      name: 'record',
      args: z.object({ count: z.string() }),
      plan: (rt): Plan => ({ operation: 'record', cluster: rt.meta.name, phases: [] }),
    });
    await assert.rejects(
      resumeOperation('prod', new Map([['record', strict]]), base(dir)),
      /arguments of record do not fit this mup: count/,
    );
  });

  it('refuses a cluster whose last operation succeeded, and an unknown operation', async () => {
    const dir = await home();
    await applyOperation(recorder([]), 'prod', { count: 1 }, base(dir));
    await assert.rejects(resumeOperation('prod', new Map(), base(dir)), /no interrupted operation/);
    await failedRun(dir);
    await assert.rejects(resumeOperation('prod', new Map(), base(dir)), /cannot be resumed/);
  });
});
