// A replica set does not wait for its members' election timers: once every member is SECONDARY, mup asks the
// highest-priority electable member to stand (replSetStepUp), after deploy and after every start. The set
// below has a 10-minute election timeout, so without that request no primary could appear within the test.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MongoClient } from 'mongodb';
import { parse } from 'yaml';
import { type DisplayJson, destroyCluster, type E2eEnv, e2eEnv, e2ePortBase } from '../helpers/e2e.js';

const NAME = 'elect';
const PORT_BASE = e2ePortBase();
let env: E2eEnv;
let topology: string;

before(async () => {
  env = await e2eEnv();
  topology = join(env.home, 'slow-timers.yaml');
  await writeFile(
    topology,
    [
      'global:',
      '  deploy_dir: elect',
      'replica_set_settings:',
      '  slow:',
      '    electionTimeoutMillis: 600000',
      'mongod_servers:',
      '  - { host: localhost, port: 0, replica_set: slow }',
      '  - { host: localhost, port: 0, replica_set: slow, priority: 5 }',
      '  - { host: localhost, port: 0, replica_set: slow }',
      '',
    ].join('\n'),
  );
});

after(async () => {
  await destroyCluster(env, NAME, 120_000);
});

async function primaryId(): Promise<string | undefined> {
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  const primaries = view.processes.filter((p) => p.status === 'Up|P');
  assert.ok(primaries.length <= 1, `one primary at most: ${primaries.map((p) => p.id).join(', ')}`);
  return primaries[0]?.id;
}

/** The priority-5 member as the deploy recorded it in meta (its port was allocated from PORT_BASE). */
async function preferredMember(): Promise<{ id: string; port: number }> {
  const meta = parse(await readFile(join(env.home, 'storage', 'clusters', NAME, 'meta.yaml'), 'utf8')) as {
    topology: { instances: { id: string; port: number; member?: { priority?: number } }[] };
  };
  const found = meta.topology.instances.filter((i) => i.member?.priority === 5);
  assert.equal(found.length, 1, `members of priority 5 in meta: ${found.length}`);
  const [one] = found;
  assert.ok(one && one.port >= PORT_BASE && one.port < PORT_BASE + 100, `port ${one?.port}`);
  return { id: one.id, port: one.port };
}

async function electionReason(port: number): Promise<unknown> {
  const client = new MongoClient(`mongodb://localhost:${port}/?directConnection=true`, {
    serverSelectionTimeoutMS: 10_000,
  });
  try {
    const status = await client.db('admin').command({ replSetGetStatus: 1 });
    return (status.electionCandidateMetrics as { lastElectionReason?: unknown } | undefined)
      ?.lastElectionReason;
  } finally {
    await client.close();
  }
}

test('deploy: the highest-priority member is stepped up long before any election timer fires', async () => {
  const run = await env.mup(env.deployArgs(NAME, topology, PORT_BASE), { timeoutMs: 100_000 });
  assert.equal(run.code, 0, run.stderr);
  const preferred = await preferredMember();
  assert.equal(await primaryId(), preferred.id);
  assert.equal(await electionReason(preferred.port), 'stepUpRequest');
});

test('start after stop: the same member is stepped up again', async () => {
  const stop = await env.mup(['cluster', 'stop', NAME, '--yes']);
  assert.equal(stop.code, 0, stop.stderr);
  const start = await env.mup(['cluster', 'start', NAME], { timeoutMs: 100_000 });
  assert.equal(start.code, 0, start.stderr);
  assert.equal(await primaryId(), (await preferredMember()).id);
});
