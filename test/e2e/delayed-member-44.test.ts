// A 4.4 replica set with a delayed hidden member: mup speaks MongoDB 4.4's `slaveDelay` (not 5.0's
// `secondaryDelaySecs`) in the config it initiates, and again in the replSetReconfig of a `cluster reload`
// that changes the delay. The server refuses the 5.0 name, as 4.4 refuses it
// ("BSON field 'MemberConfig.secondaryDelaySecs' is an unknown field.").
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Document, MongoClient, MongoServerError } from 'mongodb';
import { runMup } from '../helpers/cli.js';
import {
  type DisplayJson,
  destroyCluster,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
  waitFor,
} from '../helpers/e2e.js';

const NAME = 'delayed44';
const PORT_BASE = e2ePortBase();
let env: E2eEnv;

before(async () => {
  env = await e2eEnv('4.4.29');
  const topology = join(env.home, 'delayed.yaml');
  await writeFile(
    topology,
    [
      'global:',
      '  deploy_dir: delayed44',
      'mongod_servers:',
      '  - { host: localhost, port: 0, replica_set: rs }',
      '  - { host: localhost, port: 0, replica_set: rs }',
      '  - host: localhost',
      '    port: 0',
      '    replica_set: rs',
      '    hidden: true',
      '    secondary_delay_secs: 60',
      '',
    ].join('\n'),
  );
  await env.mupJson(env.deployArgs(NAME, topology, PORT_BASE), { timeoutMs: 180_000 });
});

after(async () => {
  await destroyCluster(env, NAME);
});

async function onMember<T>(port: number, fn: (admin: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, {
    serverSelectionTimeoutMS: 10_000,
  });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

async function primaryPort(): Promise<number> {
  return waitFor(
    'a primary',
    async () => {
      const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
      return view.processes.find((p) => p.status === 'Up|P')?.port;
    },
    60_000,
  );
}

async function liveConfig(): Promise<Document> {
  const port = await primaryPort();
  return onMember(
    port,
    async (c) => (await c.db('admin').command({ replSetGetConfig: 1 })).config as Document,
  );
}

function delayedMember(config: Document): Document {
  const members = config.members as Document[];
  const delayed = members.filter((m) => m.hidden === true);
  assert.equal(delayed.length, 1, JSON.stringify(members));
  return delayed[0] as Document;
}

test('the initiated 4.4 config carries slaveDelay on the hidden member, never secondaryDelaySecs', async () => {
  const config = await liveConfig();
  const m = delayedMember(config);
  assert.equal(Number(m.slaveDelay), 60);
  assert.equal(Number(m.priority), 0);
  assert.equal('secondaryDelaySecs' in m, false);
  for (const other of config.members as Document[]) {
    assert.equal('secondaryDelaySecs' in other, false, 'no member uses the 5.0 name');
  }
  // The 5.0 name is refused by a 4.4 server, so sending it would have failed the deploy.
  const port = await primaryPort();
  const refused = await onMember(port, async (c) => {
    const next = structuredClone(config);
    next.version = Number(config.version) + 1;
    const target = delayedMember(next);
    delete target.slaveDelay;
    target.secondaryDelaySecs = 60;
    try {
      await c.db('admin').command({ replSetReconfig: next });
    } catch (err) {
      return err;
    }
    return undefined;
  });
  assert.ok(refused instanceof MongoServerError, 'replSetReconfig with secondaryDelaySecs is refused');
  assert.match(refused.message, /BSON field 'MemberConfig\.secondaryDelaySecs' is an unknown field/);
  assert.equal(Number(delayedMember(await liveConfig()).slaveDelay), 60, 'nothing changed');
});

test('reload of a changed delay reconfigures with slaveDelay, without restarting anyone', async () => {
  const before = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  const versionBefore = Number((await liveConfig()).version);
  const edit = await runMup(['cluster', 'edit-config', NAME, '--yes'], {
    home: env.home,
    env: {
      HOME: env.userHome,
      EDITOR: `sed -i -e 's/secondary_delay_secs: 60/secondary_delay_secs: 120/'`,
      VISUAL: '',
    },
  });
  assert.equal(edit.code, 0, edit.stderr);
  const dry = await env.mupJson<{ reconfigs: { step: string; changes: string }[] }>([
    'cluster',
    'reload',
    NAME,
    '--dry-run',
  ]);
  assert.equal(dry.reconfigs.length, 1, JSON.stringify(dry.reconfigs));
  assert.match(dry.reconfigs[0]?.changes ?? '', /secondaryDelaySecs 60→120/);
  const reload = await env.mup(['cluster', 'reload', NAME, '--yes'], { timeoutMs: 180_000 });
  assert.equal(reload.code, 0, reload.stderr);

  const config = await liveConfig();
  const m = delayedMember(config);
  assert.equal(Number(m.slaveDelay), 120);
  assert.equal('secondaryDelaySecs' in m, false);
  assert.equal(Number(config.version), versionBefore + 1, 'one reconfig');
  const after = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  assert.deepEqual(
    after.processes.map((p) => p.pid),
    before.processes.map((p) => p.pid),
    'a delay change restarts no member',
  );
});
