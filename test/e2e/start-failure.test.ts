// A process that dies at startup: the error names the step and the host and shows the last lines of the
// program's output and of the MongoDB log; the journal keeps the failure and resume is offered (exit 4).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { destroyCluster, type E2eEnv, e2eEnv, e2ePortBase } from '../helpers/e2e.js';

const NAME = 'failing';
let env: E2eEnv;

before(async () => {
  env = await e2eEnv();
});

after(async () => {
  await destroyCluster(env, NAME, 120_000);
});

test('a mongod that exits during startup fails the deploy with the step, host and both log tails', async () => {
  const topology = join(env.userHome, 'failing.yaml');
  // mongod refuses unknown server parameters at startup (exit 1), after opening its log.
  await writeFile(
    topology,
    [
      'global:',
      `  deploy_dir: ${env.userHome}/failing`,
      'server_configs:',
      '  mongod:',
      '    setParameter:',
      '      noSuchParameter: 1',
      'mongod_servers:',
      '  - host: localhost',
      '    port: 0',
      '',
    ].join('\n'),
  );
  const run = await env.mup(env.deployArgs(NAME, topology, e2ePortBase()), {
    timeoutMs: 180_000,
  });
  assert.equal(run.code, 4, run.stderr);
  assert.match(run.stderr, /step 'start mongod-\d+ on localhost' on localhost failed/);
  assert.match(run.stderr, /--- last output of mongod-\d+ ---/);
  assert.match(run.stderr, /noSuchParameter/);
  assert.match(run.stderr, /mup cluster resume failing/);

  const audit = await env.mupJson<{ operations: { operation: string; status: string }[] }>([
    'cluster',
    'audit',
    NAME,
  ]);
  assert.deepEqual(
    audit.operations.map((o) => `${o.operation}:${o.status}`),
    ['deploy:failed'],
  );
  const view = await env.mupJson<{ processes: { status: string; supervisorState: string }[] }>([
    'cluster',
    'display',
    NAME,
  ]);
  // supervisord has given up on it (FATAL) or mup stopped its retries (STOPPED): either way not running.
  assert.ok(['Fatal', 'Down'].includes(view.processes[0]?.status ?? ''), view.processes[0]?.status);
});
