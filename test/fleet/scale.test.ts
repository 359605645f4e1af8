// Scale-out onto a host the cluster does not run on yet, over SSH: a replica set on two fleet hosts gains a
// member on a third, under a majority writer. The third host gets what deploy gives a host (supervisord
// started over SSH, the binaries shipped, the keyFile, its dirs, its boot entry); the run is killed once that
// host's supervisord is up, and `cluster resume` finishes it. Then scale-in of that member leaves the third
// host as it was before, while the two others keep running; destroy leaves nothing anywhere.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Document, MongoClient } from 'mongodb';
import { runMupAndKill } from '../helpers/interrupt.js';
import { describeFailures, lostWrites, startWriter, type Writer } from '../helpers/writer.js';
import { type Control, prepareControl, settledDisplay } from './control.js';
import { createFleet, destroyFleet, type Fleet, type FleetHost, fleetSupported, runOnHost } from './fleet.js';

const supported = fleetSupported();
const VERSION = '7.0.14';
const NAME = 'fleet-grow';
const DIR = `/srv/mongodb/${NAME}`;
const STEP = { timeout: 400_000 };

describe('scale-out onto a new host over SSH', { skip: supported.ok ? false : supported.reason }, () => {
  let fleet: Fleet;
  let control: Control;
  let uri: string;
  let writer: Writer | undefined;
  let third: FleetHost;

  before(async () => {
    fleet = await createFleet({ hosts: 3, namePrefix: 'grow' });
    third = fleet.hosts[2] as FleetHost;
    control = await prepareControl(fleet, VERSION);
  }, STEP);

  after(async () => {
    try {
      await writer?.stop();
      if (control !== undefined) {
        const gone = await control.mup(['cluster', 'destroy', NAME, '--yes']);
        if (gone.code !== 0 && !/not found|no cluster/i.test(gone.stderr)) console.error(gone.stderr);
      }
    } finally {
      if (fleet !== undefined) await destroyFleet(fleet);
    }
  }, STEP);

  const metaText = () => readFileSync(join(control.home, 'storage', 'clusters', NAME, 'meta.yaml'), 'utf8');

  async function members(): Promise<Document[]> {
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 20_000 });
    try {
      const reply = await client.db('admin').command({ replSetGetConfig: 1 });
      return (reply.config as Document).members as Document[];
    } finally {
      await client.close();
    }
  }

  it('deploys a replica set on two of the three hosts; the third has nothing', STEP, async () => {
    const [one, two] = fleet.hosts as [FleetHost, FleetHost];
    const file = join(control.home, 'grow.yaml');
    await writeFile(
      file,
      [
        'global:',
        '  user: deploy',
        `  deploy_dir: ${DIR}`,
        'mongod_servers:',
        ...[one, two].flatMap((h) => [`  - host: ${h.address}`, '    port: 27017', '    replica_set: rs0']),
        '',
      ].join('\n'),
    );
    const deployed = await control.mup(
      ['cluster', 'deploy', NAME, file, '--version', VERSION, '--binary-path', control.binDir, '--yes'],
      { timeoutMs: 300_000 },
    );
    assert.equal(deployed.code, 0, deployed.stderr);
    const view = await settledDisplay(control, NAME);
    assert.deepEqual(view.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S'], JSON.stringify(view));
    assert.equal((await runOnHost(third, 'ls -A /srv/mongodb')).stdout, '');
    const credentials = await control.mup(['cluster', 'credentials', NAME, '--uri']);
    assert.equal(credentials.code, 0, credentials.stderr);
    uri = credentials.stdout.trim();
  });

  it('an unreachable new host is refused before anything changes', STEP, async () => {
    const part = join(control.home, 'nowhere.yaml');
    // An address of the fleet's bridge no host answers on: nothing listens on its SSH port.
    const nowhere = third.address.replace(/\.\d+$/, '.250');
    await writeFile(part, `mongod_servers:\n  - { host: ${nowhere}, port: 27017, replica_set: rs0 }\n`);
    const before = metaText();
    const refused = await control.mup(['cluster', 'scale-out', NAME, part, '--yes']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, new RegExp(nowhere.replaceAll('.', '\\.')));
    assert.equal(metaText(), before);
  });

  it(
    'scale-out to the third host, killed once its supervisord runs, is finished by resume; the majority writer loses nothing',
    STEP,
    async () => {
      writer = await startWriter(uri, { maxDurationMs: 360_000 });
      await writer.waitForWrites(20, 60_000);
      const part = join(control.home, 'third.yaml');
      await writeFile(
        part,
        `mongod_servers:\n  - { host: ${third.address}, port: 27017, replica_set: rs0 }\n`,
      );
      const killed = await runMupAndKill(
        ['-i', fleet.identityFile, 'cluster', 'scale-out', NAME, part, '--yes'],
        {
          home: control.home,
          env: { ...control.env, MUP_FAILPOINT: `supervisord:${third.address}:after-run` },
          killAfter: () => false,
          timeoutMs: 300_000,
        },
      );
      assert.equal(killed.signal, 'SIGKILL', `scale-out was not killed at the failpoint\n${killed.stderr}`);
      const done = killed.steps.filter((s) => s.state === 'done').map((s) => s.step);
      // The host was recorded first; the binaries, keyFile and supervisor.ini were on it before its daemon.
      for (const step of [
        `record-host:${third.address}`,
        `prepare:${third.address}:27017`,
        `keyfile:${third.address}`,
        `supervisor-config:${third.address}`,
      ])
        assert.ok(done.includes(step), `${step} was done before the kill: ${done.join(', ')}`);
      assert.ok(metaText().includes(third.address), 'the new host is in meta from the start');
      const daemons = await runOnHost(third, 'pgrep -c -x supervisord');
      assert.equal(daemons.stdout.trim(), '1', 'its supervisord was started over SSH before the kill');

      const resumed = await control.mup(['cluster', 'resume', NAME, '--yes'], { timeoutMs: 300_000 });
      assert.equal(resumed.code, 0, resumed.stderr);
      await writer.waitForWrites(writer.acknowledgedCount() + 20, 60_000);
      const report = await writer.stop();
      writer = undefined;
      assert.deepEqual(await lostWrites(uri, report), [], describeFailures(report));
      assert.equal(report.failures, 0, describeFailures(report));

      const view = await settledDisplay(control, NAME);
      assert.deepEqual(
        view.processes.map((p) => [p.host, p.status.startsWith('Up')]).sort(),
        fleet.hosts.map((h) => [h.address, true]).sort(),
        JSON.stringify(view.processes),
      );
      const supervisors = new Map(view.supervisors.map((s) => [s.host, s]));
      assert.equal(supervisors.get(third.address)?.state, 'running');
      // Its boot entry, as deploy installed one on the first two hosts.
      assert.match(supervisors.get(third.address)?.boot ?? '', /^(crontab|systemd) /);
      assert.equal(
        supervisors.get(third.address)?.boot.split(' ')[0],
        supervisors.get(fleet.hosts[0]?.address ?? '')?.boot.split(' ')[0],
      );
      // Joined and promoted: every member votes.
      assert.deepEqual(
        (await members()).map((m) => [m.host, m.votes, m.priority]),
        fleet.hosts.map((h) => [`${h.address}:27017`, 1, 1]),
      );
      // What deploy leaves on a host: the binaries shipped, the keyFile 0400 and the login user's, dirs the
      // login user's, and the new program marked to start with supervisord.
      const seen = await runOnHost(
        third,
        [
          `readlink ${DIR}/mongod-27017/bin`,
          `test -x ${DIR}/mongod-27017/bin/mongod && echo shipped`,
          `stat -c '%a %u' ${DIR}/supervisor/keyfile`,
          `stat -c '%u' ${DIR}/mongod-27017 ${DIR}/mongod-27017/data`,
          `grep -A12 'program:mongod-27017' ${DIR}/supervisor/supervisor.ini | grep '^autostart'`,
        ].join('; '),
      );
      const [link, shipped, keyFile, dirOwner, dataOwner, autostart] = seen.stdout.split('\n');
      assert.match(link ?? '', new RegExp(`^${DIR}/packages/[0-9a-f]{16}$`), seen.stdout + seen.stderr);
      assert.equal(shipped, 'shipped', seen.stdout + seen.stderr);
      assert.equal(keyFile, `400 ${fleet.uid}`);
      assert.deepEqual([dirOwner, dataOwner], [String(fleet.uid), String(fleet.uid)]);
      assert.equal(autostart?.replace(/\s/g, ''), 'autostart=true');
    },
  );

  it('scale-in of the third host’s only member clears that host; the others keep running', STEP, async () => {
    const out = await control.mup(['cluster', 'scale-in', NAME, '-N', `${third.address}:27017`, '--yes'], {
      timeoutMs: 300_000,
    });
    assert.equal(out.code, 0, out.stderr);
    const files = await runOnHost(third, 'find /srv/mongodb -mindepth 1');
    assert.equal(files.stdout, '', `left on ${third.name}: ${files.stdout}`);
    const processes = await runOnHost(
      third,
      'ps -e -o comm= | grep -v -x -e sshd -e ps -e sh -e grep || true',
    );
    assert.equal(processes.stdout, '', `running on ${third.name}: ${processes.stdout}`);
    const crontab = await runOnHost(third, `su ${fleet.user} -s /bin/sh -c 'crontab -l' 2>/dev/null || true`);
    assert.ok(!crontab.stdout.includes(DIR), crontab.stdout);
    assert.ok(!metaText().includes(third.address), 'meta forgot the host');
    const view = await settledDisplay(control, NAME);
    assert.deepEqual(
      view.supervisors.map((s) => [s.host, s.state]),
      fleet.hosts.slice(0, 2).map((h) => [h.address, 'running']),
    );
    assert.deepEqual(view.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S']);
    // The other hosts keep their boot entry (each host has its own crontab).
    assert.match(view.supervisors[0]?.boot ?? '', /^(crontab|systemd) /);
  });

  it('destroy leaves no file and no process on any host', STEP, async () => {
    const destroyed = await control.mup(['cluster', 'destroy', NAME, '--yes']);
    assert.equal(destroyed.code, 0, destroyed.stderr);
    for (const host of fleet.hosts) {
      const files = await runOnHost(host, 'find /srv/mongodb -mindepth 1');
      assert.equal(files.stdout, '', `left on ${host.name}: ${files.stdout}`);
      const processes = await runOnHost(
        host,
        'ps -e -o comm= | grep -v -x -e sshd -e ps -e sh -e grep || true',
      );
      assert.equal(processes.stdout, '', `running on ${host.name}: ${processes.stdout}`);
    }
  });
});
