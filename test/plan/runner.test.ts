import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ExitCode } from '../../src/errors.js';
import { Journal, listOperations, newOperationId, readOperation } from '../../src/plan/journal.js';
import { runPlan, StepFailedError } from '../../src/plan/runner.js';
import { outlinePlan, type Plan, type PlanEvent, type Step } from '../../src/plan/types.js';
import { tempDir } from '../helpers/cli.js';

function recordingStep(
  id: string,
  log: string[],
  options: { fail?: boolean; done?: boolean; delayMs?: number } = {},
): Step {
  return {
    id,
    title: `step ${id}`,
    host: 'localhost',
    isDone: async () => options.done ?? false,
    run: async () => {
      log.push(`start ${id}`);
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      log.push(`end ${id}`);
      if (options.fail) throw new Error(`${id} broke`);
      return `${id} ok`;
    },
  };
}

test('phases run in order; sequential steps one after another; done steps are skipped', async () => {
  const log: string[] = [];
  const plan: Plan = {
    operation: 'test',
    cluster: 'c1',
    phases: [
      {
        name: 'one',
        title: 'one',
        parallel: false,
        steps: [recordingStep('a', log), recordingStep('b', log, { done: true })],
      },
      { name: 'two', title: 'two', parallel: false, steps: [recordingStep('c', log)] },
    ],
  };
  const events: PlanEvent[] = [];
  await runPlan(plan, { concurrency: 2, onEvent: (e) => events.push(e) });
  assert.deepEqual(log, ['start a', 'end a', 'start c', 'end c']);
  const states = events.filter((e) => e.type === 'step').map((e) => `${e.step}:${e.state}`);
  assert.deepEqual(states, ['a:running', 'a:done', 'b:running', 'b:skipped', 'c:running', 'c:done']);
});

test('parallel steps overlap but never exceed the concurrency bound', async () => {
  let running = 0;
  let peak = 0;
  const step = (id: string): Step => ({
    id,
    title: id,
    run: async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 20));
      running--;
      return undefined;
    },
  });
  const plan: Plan = {
    operation: 'test',
    cluster: 'c1',
    phases: [{ name: 'p', title: 'p', parallel: true, steps: ['a', 'b', 'c', 'd', 'e'].map(step) }],
  };
  await runPlan(plan, { concurrency: 2 });
  assert.equal(peak, 2);
});

test('the bound is per host: hosts go side by side, host-less steps share one bound', async () => {
  const running = new Map<string, number>();
  const peaks = new Map<string, number>();
  let peakAll = 0;
  const step = (id: string, host: string | undefined, bucket: string): Step => ({
    id,
    title: id,
    ...(host === undefined ? {} : { host }),
    run: async () => {
      running.set(bucket, (running.get(bucket) ?? 0) + 1);
      peaks.set(bucket, Math.max(peaks.get(bucket) ?? 0, running.get(bucket) ?? 0));
      peakAll = Math.max(
        peakAll,
        [...running.values()].reduce((a, b) => a + b, 0),
      );
      await new Promise((r) => setTimeout(r, 20));
      running.set(bucket, (running.get(bucket) ?? 0) - 1);
      return undefined;
    },
  });
  const steps = [
    ...['db1.example.net', 'db2.example.net', 'DB3.example.net'].flatMap((host) =>
      [1, 2, 3].map((n) => step(`${host}-${n}`, host, host.toLowerCase())),
    ),
    step('db3-again', 'db3.example.net', 'db3.example.net'),
    step('local-1', 'localhost', 'localhost'),
    step('local-2', 'LocalHost', 'localhost'),
    step('local-3', 'localhost', 'localhost'),
    step('control-1', undefined, 'control'),
    step('control-2', undefined, 'control'),
    step('control-3', undefined, 'control'),
  ];
  const plan: Plan = {
    operation: 'test',
    cluster: 'c1',
    phases: [{ name: 'p', title: 'p', parallel: true, steps }],
  };
  await runPlan(plan, { concurrency: 2 });
  assert.deepEqual(Object.fromEntries(peaks), {
    'db1.example.net': 2,
    'db2.example.net': 2,
    'db3.example.net': 2,
    localhost: 2,
    control: 2,
  });
  assert.equal(peakAll, 10);
});

test('a failing step stops the plan, is journaled, and the error names step and host (resumable exit 4)', async () => {
  const dir = await tempDir();
  const log: string[] = [];
  const plan: Plan = {
    operation: 'deploy',
    cluster: 'c1',
    phases: [
      {
        name: 'one',
        title: 'one',
        parallel: false,
        steps: [recordingStep('a', log), recordingStep('b', log, { fail: true })],
      },
      { name: 'two', title: 'two', parallel: false, steps: [recordingStep('c', log)] },
    ],
  };
  const opId = newOperationId();
  const journal = await Journal.create(dir, {
    opId,
    operation: 'deploy',
    cluster: 'c1',
    args: { topology: 'x.yaml' },
    startedAt: new Date().toISOString(),
    pid: process.pid,
    plan: outlinePlan(plan),
  });
  await assert.rejects(runPlan(plan, { concurrency: 1, journal }), (error: unknown) => {
    assert.ok(error instanceof StepFailedError);
    assert.equal(error.exitCode, ExitCode.resumable);
    assert.match(error.message, /step 'step b' on localhost failed: b broke/);
    assert.match(error.hint ?? '', /mup cluster resume c1/);
    return true;
  });
  await journal.close();
  assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b']);

  const record = await readOperation(join(dir, `${opId}.jsonl`));
  assert.equal(record.summary.status, 'failed');
  assert.deepEqual([...record.completedSteps], ['a']);
  assert.deepEqual(record.header.args, { topology: 'x.yaml' });

  // Resume: a second attempt skips what the journal says is done and runs the rest.
  const resumed: string[] = [];
  const again: Plan = {
    ...plan,
    phases: [
      {
        name: 'one',
        title: 'one',
        parallel: false,
        steps: [recordingStep('a', resumed), recordingStep('b', resumed)],
      },
      { name: 'two', title: 'two', parallel: false, steps: [recordingStep('c', resumed)] },
    ],
  };
  const reopened = await Journal.reopen(join(dir, `${opId}.jsonl`));
  await runPlan(again, { concurrency: 1, journal: reopened, completedSteps: record.completedSteps });
  await reopened.close();
  assert.deepEqual(resumed, ['start b', 'end b', 'start c', 'end c']);
  const [only] = await listOperations(dir);
  assert.equal(only?.summary.status, 'succeeded');
  assert.deepEqual([...(only?.completedSteps ?? [])].sort(), ['a', 'b', 'c']);
});

test('a journal torn mid-line by a crash still reads, as interrupted', async () => {
  const dir = await tempDir();
  const opId = newOperationId();
  const journal = await Journal.create(dir, {
    opId,
    operation: 'deploy',
    cluster: 'c1',
    args: {},
    startedAt: new Date().toISOString(),
    pid: 999_999_999, // no such process: the operation is not running any more
    plan: { operation: 'deploy', cluster: 'c1', phases: [] },
  });
  await journal.append({ kind: 'step', at: new Date().toISOString(), phase: 'p', step: 'a', state: 'done' });
  await journal.close();
  const { appendFile } = await import('node:fs/promises');
  await appendFile(join(dir, `${opId}.jsonl`), '{"kind":"step","at":"2026');
  const record = await readOperation(join(dir, `${opId}.jsonl`));
  assert.equal(record.summary.status, 'interrupted');
  assert.deepEqual([...record.completedSteps], ['a']);
});

test('lanes: a lane runs in order, lanes run side by side; a failure starts nothing new in any lane', async () => {
  const log: string[] = [];
  // Each step waits until it may go on, so the test decides the interleaving rather than timers.
  const gates = new Map<string, () => void>();
  const gated = (id: string, lane: string, fail = false): Step => ({
    id,
    title: id,
    lane,
    run: async () => {
      log.push(`start ${id}`);
      await new Promise<void>((resolve) => gates.set(id, resolve));
      log.push(`end ${id}`);
      if (fail) throw new Error(`${id} broke`);
      return undefined;
    },
  });
  const plan: Plan = {
    operation: 'test',
    cluster: 'c1',
    phases: [
      {
        name: 'rolling',
        title: 'rolling',
        parallel: 'lanes',
        steps: [gated('a1', 'a'), gated('a2', 'a'), gated('b1', 'b', true), gated('b2', 'b')],
      },
    ],
  };
  const running = runPlan(plan, { concurrency: 4 }).catch((error: Error) => error);
  const release = async (id: string) => {
    while (!gates.has(id)) await new Promise((r) => setTimeout(r, 1));
    gates.get(id)?.();
  };
  await release('a1');
  await release('a2');
  await release('b1');
  assert.match(String(await running), /b1 broke/);
  // Both lanes started at once; a2 only after a1 ended; b2 never, since b1 failed before it.
  assert.deepEqual(log.slice(0, 2).sort(), ['start a1', 'start b1']);
  assert.ok(log.indexOf('start a2') > log.indexOf('end a1'));
  assert.equal(log.includes('start b2'), false);
});

test('a finished step leaves no abort listener on the signal (a long phase must not pile them up)', async () => {
  const log: string[] = [];
  const controller = new AbortController();
  // Counts the listeners the runner adds and removes on the signal.
  let listening = 0;
  const { signal } = controller;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<typeof add>) => {
    listening++;
    add(...args);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    listening--;
    remove(...args);
  }) as typeof signal.removeEventListener;
  const plan: Plan = {
    operation: 'test',
    cluster: 'c1',
    phases: [
      {
        name: 'many',
        title: 'many',
        parallel: false,
        steps: Array.from({ length: 15 }, (_, i) => recordingStep(`s${i}`, log)),
      },
    ],
  };
  await runPlan(plan, { concurrency: 2, signal });
  assert.equal(log.length, 30);
  assert.equal(listening, 0);
});

test('a step’s waits reach the progress view between its running and done events, and stay out of the journal', async () => {
  const dir = await tempDir('mup-runner-wait-');
  const plan: Plan = {
    operation: 'test',
    cluster: 'c1',
    phases: [
      {
        name: 'one',
        title: 'one',
        parallel: false,
        steps: [
          {
            id: 'a',
            title: 'step a',
            host: 'localhost',
            run: async (context) => {
              context.waiting('a primary of rs0');
              context.waiting('mongod-1 quiesce', Date.parse('2026-12-03T10:00:15.000Z'));
              return 'ok';
            },
          },
        ],
      },
    ],
  };
  const journal = await Journal.create(dir, {
    opId: newOperationId(),
    operation: 'test',
    cluster: 'c1',
    args: {},
    startedAt: new Date().toISOString(),
    pid: process.pid,
    plan: outlinePlan(plan),
  });
  const events: PlanEvent[] = [];
  await runPlan(plan, { concurrency: 1, journal, onEvent: (e) => events.push(e) });
  await journal.close();
  const seen = events.flatMap((e) =>
    e.type === 'step'
      ? [e.state]
      : e.type === 'step-wait'
        ? [`${e.type} ${e.step} ${e.what} ${e.until ?? '-'}`]
        : [],
  );
  assert.deepEqual(seen, [
    'running',
    'step-wait a a primary of rs0 -',
    'step-wait a mongod-1 quiesce 2026-12-03T10:00:15.000Z',
    'done',
  ]);
  const [op] = await listOperations(dir);
  assert.deepEqual(
    op?.steps.map((s) => s.state),
    ['running', 'done'],
  );
});

test('progress lines reach the view while the step runs, and stay out of the journal', async () => {
  const dir = await tempDir('mup-runner-progress-');
  const seenDuring: string[] = [];
  const events: PlanEvent[] = [];
  const plan: Plan = {
    operation: 'test',
    cluster: 'c1',
    phases: [
      {
        name: 'drain',
        title: 'drain',
        parallel: false,
        steps: [
          {
            id: 'remove-shard:s2',
            title: 'drain s2',
            run: async (context) => {
              context.progress('ongoing: 2 chunks left');
              context.progress('ongoing: 1 chunks left');
              // The view has them before the step ends.
              seenDuring.push(...events.flatMap((e) => (e.type === 'step-progress' ? [e.progress] : [])));
              context.log('drained');
              return 'removed';
            },
          },
        ],
      },
    ],
  };
  const opId = newOperationId();
  const journal = await Journal.create(dir, {
    opId,
    operation: 'test',
    cluster: 'c1',
    args: {},
    startedAt: new Date().toISOString(),
    pid: process.pid,
    plan: outlinePlan(plan),
  });
  await runPlan(plan, { concurrency: 1, journal, onEvent: (e) => events.push(e) });
  await journal.close();
  assert.deepEqual(seenDuring, ['ongoing: 2 chunks left', 'ongoing: 1 chunks left']);
  const record = await readOperation(join(dir, `${opId}.jsonl`));
  assert.deepEqual(
    record.steps.map((s) => `${s.state}:${s.output ?? ''}`),
    ['running:', 'done:drained\nremoved'],
    'only the logged lines are journaled',
  );
});
