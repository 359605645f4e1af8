// A replica set deployed over SSH onto three fleet hosts (network namespaces with their own sshd), operated
// through the built CLI exactly as on real machines: binaries shipped, one supervisord per host reached
// through an SSH tunnel, members reached at the hosts' addresses. Then: `cluster check` of the deployed
// cluster, a rolling restart under a majority writer, display with one host cut off, host keys refused,
// destroy leaving nothing on any host, and a deploy with one host cut off midway, resumed once it is back.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CheckResult } from '../../src/ops/check.js';
import type { DisplayResult } from '../../src/ops/display.js';
import { type MupRun, runMup, tempDir } from '../helpers/cli.js';
import type { DisplayJson } from '../helpers/e2e.js';
import { type PausedRun, runMupPausing } from '../helpers/interrupt.js';
import { simBinaryDir } from '../helpers/sim.js';
import { describeFailures, lostWrites, startWriter } from '../helpers/writer.js';
import {
  createFleet,
  cutLink,
  destroyFleet,
  type Fleet,
  type FleetHost,
  fleetSupported,
  restoreLink,
  rotateHostKey,
  runOnHost,
} from './fleet.js';

const supported = fleetSupported();
const VERSION = '7.0.14';
const NAME = 'fleet-rs';
const CUT = 'fleet-cut';
const STEP = { timeout: 300_000 };

interface Control {
  home: string;
  userHome: string;
  binDir: string;
  identityFile: string;
  mup(args: readonly string[], options?: { timeoutMs?: number }): Promise<MupRun>;
}

describe('a replica set over SSH on three hosts', { skip: supported.ok ? false : supported.reason }, () => {
  let fleet: Fleet;
  let control: Control;
  let topology: string;

  before(async () => {
    fleet = await createFleet({ hosts: 3 });
    // The parent of the deploy dirs, as an administrator prepares it for the deploy user.
    for (const host of fleet.hosts)
      await runOnHost(host, `mkdir -p /srv/mongodb && chown ${fleet.uid} /srv/mongodb`);
    const userHome = await tempDir('mup-fleet-user-');
    await mkdir(join(userHome, '.ssh'), { mode: 0o700 });
    await writeFile(join(userHome, '.ssh', 'known_hosts'), fleet.knownHosts);
    const home = await tempDir('mup-fleet-home-');
    const binDir = await simBinaryDir(VERSION);
    control = {
      home,
      userHome,
      binDir,
      identityFile: fleet.identityFile,
      mup: (args, options = {}) =>
        runMup(['-i', fleet.identityFile, ...args], {
          home,
          // No agent: the fleet's key is the one offered.
          env: { HOME: userHome, SSH_AUTH_SOCK: '' },
          timeoutMs: options.timeoutMs ?? 180_000,
        }),
    };
    topology = join(home, 'fleet-rs.yaml');
    await writeFile(topology, replicaSetTopology(fleet.hosts));
  }, STEP);

  after(async () => {
    try {
      if (control !== undefined) {
        for (const name of [NAME, CUT]) {
          const gone = await control.mup(['cluster', 'destroy', name, '--yes']);
          // Not found (the test destroyed it) is fine; anything else is reported by the teardown below too.
          if (gone.code !== 0 && !/not found|no cluster/i.test(gone.stderr)) console.error(gone.stderr);
        }
      }
    } finally {
      if (fleet !== undefined) await destroyFleet(fleet);
    }
  }, STEP);

  async function display(name = NAME): Promise<DisplayResult> {
    const run = await control.mup(['cluster', 'display', name, '--json']);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout);
  }

  async function settledDisplay(name = NAME): Promise<DisplayJson> {
    const deadline = Date.now() + 60_000;
    for (let i = 0; i < 120; i++) {
      const view = await display(name);
      const primaries = view.processes.filter((p) => p.status === 'Up|P').length;
      const up = view.processes.every((p) => p.status === 'Up|P' || p.status === 'Up|S');
      if ((up && primaries === 1) || Date.now() > deadline) return view;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return display(name);
  }

  it(
    'deploys over SSH: binaries shipped, one supervisord per host, a primary and two secondaries',
    STEP,
    async () => {
      const deployed = await control.mup([
        'cluster',
        'deploy',
        NAME,
        topology,
        '--version',
        VERSION,
        '--binary-path',
        control.binDir,
        '--yes',
        '--json',
      ]);
      assert.equal(deployed.code, 0, deployed.stderr);
      const result = JSON.parse(deployed.stdout) as { kind: string; uri: string };
      assert.equal(result.kind, 'replset');
      for (const host of fleet.hosts)
        assert.match(result.uri, new RegExp(host.address.replaceAll('.', '\\.')));

      const view = await settledDisplay();
      assert.deepEqual(
        view.processes.map((p) => p.status).sort(),
        ['Up|P', 'Up|S', 'Up|S'],
        JSON.stringify(view.processes),
      );
      assert.deepEqual(
        view.supervisors.map((s) => s.state),
        ['running', 'running', 'running'],
      );
      for (const host of fleet.hosts) {
        // Each host runs its own supervisord and its own member, from binaries copied onto it.
        const seen = await runOnHost(
          host,
          `pgrep -c -x supervisord; readlink /srv/mongodb/${NAME}/mongod-27017/bin; ls /srv/mongodb/${NAME}/packages`,
        );
        const [daemons, link, packages] = seen.stdout.split('\n');
        assert.equal(daemons, '1', seen.stdout + seen.stderr);
        assert.match(link ?? '', new RegExp(`^/srv/mongodb/${NAME}/packages/[0-9a-f]{16}$`));
        assert.match(packages ?? '', /^[0-9a-f]{16}$/);
        // Auth is on: the cluster's keyFile is on every host, 0400 and the login user's.
        const keyFile = await runOnHost(host, `stat -c '%a %u' /srv/mongodb/${NAME}/supervisor/keyfile`);
        assert.equal(keyFile.stdout.trim(), `400 ${fleet.uid}`, keyFile.stderr);
        // supervisord's API listens on the host's loopback only.
        const listening = await runOnHost(host, "ss -Htln | awk '{print $4}'");
        assert.ok(
          listening.stdout.split('\n').some((address) => /^127\.0\.0\.1:90\d\d$/.test(address)),
          listening.stdout,
        );
      }
    },
  );

  it('check of the deployed cluster: its own members hold its ports, nothing fails', STEP, async () => {
    const run = await control.mup(['cluster', 'check', NAME, '--json']);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const result = JSON.parse(run.stdout) as CheckResult;
    assert.equal(result.cluster, NAME);
    assert.equal(result.version, VERSION);
    assert.equal(result.summary.fail, 0, JSON.stringify(result.checks));
    for (const host of fleet.hosts) {
      const ports = result.checks.find((r) => r.host === host.address && r.check === 'ports');
      assert.deepEqual(
        [ports?.status, ports?.detail],
        ['pass', "27017 held by this cluster's running members"],
      );
    }
  });

  it('a rolling restart over SSH loses no acknowledged majority write', STEP, async () => {
    await settledDisplay();
    // Auth is on (the default): the writer uses the admin credentials, as an application would.
    const credentials = await control.mup(['cluster', 'credentials', NAME, '--uri']);
    assert.equal(credentials.code, 0, credentials.stderr);
    const uri = credentials.stdout.trim();
    const writer = await startWriter(uri, { maxDurationMs: 240_000 });
    await writer.waitForWrites(20, 60_000);
    const restarted = await control.mup(['cluster', 'restart', NAME, '--yes'], { timeoutMs: 240_000 });
    await writer.waitForWrites(writer.acknowledgedCount() + 20, 60_000);
    const report = await writer.stop();
    assert.equal(restarted.code, 0, restarted.stderr);
    assert.deepEqual(await lostWrites(uri, report), [], describeFailures(report));
    assert.ok(report.acknowledged.length >= 40);
    const after = await settledDisplay();
    assert.equal(after.processes.filter((p) => p.status === 'Up|P').length, 1);
  });

  it('display shows a cut-off host as unreachable, the others live', STEP, async () => {
    const cut = fleet.hosts[2] as FleetHost;
    await cutLink(cut);
    let view: Awaited<ReturnType<typeof display>>;
    try {
      view = await display();
    } finally {
      await restoreLink(cut);
    }
    const byHost = new Map(view.supervisors.map((s) => [s.host, s]));
    assert.equal(byHost.get(cut.address)?.state, 'unreachable');
    assert.equal(byHost.get(cut.address)?.boot, 'unknown');
    assert.equal(view.status, 'unreachable');
    const cutRows = view.processes.filter((row) => row.host === cut.address);
    assert.equal(cutRows.length, 1);
    for (const p of cutRows) {
      assert.ok(!p.status.startsWith('Up'), JSON.stringify(p));
      assert.equal(p.supervisorState, 'unknown');
    }
    // The other hosts' rows are live: their supervisord answered, their members answered hello.
    for (const host of fleet.hosts.slice(0, 2)) {
      assert.equal(byHost.get(host.address)?.state, 'running');
      const [row] = view.processes.filter((p) => p.host === host.address);
      assert.match(row?.status ?? '', /^Up\|[PS]$/, JSON.stringify(row));
      // Live from supervisord: RUNNING, or STARTING for its startsecs when the rolling restart just before
      // brought this member back (it answers hello before supervisord calls it RUNNING).
      assert.match(row?.supervisorState ?? '', /^(RUNNING|STARTING)$/, JSON.stringify(row));
      assert.ok((row?.pid ?? 0) > 0);
    }
    // How long the cut host costs (one bounded TCP probe, not a login timeout) is measured in
    // bench/fleet.ts, side by side with all hosts up: never a wall-clock gate here.
  });

  it('exec runs a command on every host (or the selected ones), output grouped per host', STEP, async () => {
    const all = await control.mup(['cluster', 'exec', NAME, '--json', '--', 'uname -n; id -un']);
    assert.equal(all.code, 0, all.stderr);
    const result = JSON.parse(all.stdout) as { hosts: { host: string; exitCode: number; stdout: string }[] };
    assert.deepEqual(
      result.hosts.map((h) => [h.host, h.exitCode, h.stdout]),
      fleet.hosts.map((host) => [host.address, 0, `${host.name}\n${fleet.user}\n`]),
    );
    const two = fleet.hosts[1] as FleetHost;
    const one = await control.mup(['cluster', 'exec', NAME, '-N', `${two.address}:27017`, '--', 'false']);
    assert.equal(one.code, 1, one.stderr);
    assert.equal(one.stdout, `── ${two.address} (exit 1)\n`);
    const nothing = await control.mup(['cluster', 'exec', NAME, '-N', 'nowhere:1', '--', 'true']);
    assert.equal(nothing.code, 2, nothing.stderr);
  });

  it(
    'refuses a host whose key is unknown, and one whose key changed, before changing anything',
    STEP,
    async () => {
      const other = join(control.home, 'other.yaml');
      await writeFile(other, replicaSetTopology(fleet.hosts, '/srv/mongodb/other', 27018));
      const deployOther = (extra: string[] = []) =>
        control.mup([
          'cluster',
          'deploy',
          'other',
          other,
          '--version',
          VERSION,
          '--binary-path',
          control.binDir,
          '--yes',
          '--dry-run',
          ...extra,
        ]);
      try {
        // Unknown: ~/.ssh/known_hosts without host 2.
        const [one, two, three] = fleet.hosts as [FleetHost, FleetHost, FleetHost];
        await writeFile(
          join(control.userHome, '.ssh', 'known_hosts'),
          `${one.address} ${one.hostKey}\n${three.address} ${three.hostKey}\n`,
        );
        const unknown = await deployOther();
        assert.equal(unknown.code, 2, unknown.stderr);
        assert.match(
          unknown.stderr,
          new RegExp(`host key of ${two.address.replaceAll('.', '\\.')} is not known`),
        );
        assert.match(unknown.stderr, /SHA256:/);
        assert.match(unknown.stderr, /--accept-new-host-keys/);
        // Accepted and recorded in $MUP_HOME/known_hosts: the dry run passes its preflight.
        const accepted = await deployOther(['--accept-new-host-keys']);
        assert.equal(accepted.code, 0, accepted.stderr);
        // Changed: host 1 gets a new key; refused even with --accept-new-host-keys, both fingerprints named.
        await rotateHostKey(fleet, one);
        const changed = await deployOther(['--accept-new-host-keys']);
        assert.equal(changed.code, 2, changed.stderr);
        assert.match(
          changed.stderr,
          new RegExp(`host key of ${one.address.replaceAll('.', '\\.')} has changed`),
        );
        assert.equal((changed.stderr.match(/SHA256:/g) ?? []).length >= 2, true, changed.stderr);
        // Nothing of the refused cluster anywhere.
        for (const host of fleet.hosts)
          assert.equal((await runOnHost(host, 'ls -A /srv/mongodb')).stdout, `${NAME}\n`);
      } finally {
        // Trust the hosts' current keys again for the rest of the file.
        await writeFile(join(control.userHome, '.ssh', 'known_hosts'), fleet.knownHosts);
        await writeFile(join(control.home, 'known_hosts'), '');
      }
    },
  );

  it('destroy leaves no file and no process on any host', STEP, async () => {
    const destroyed = await control.mup(['cluster', 'destroy', NAME, '--yes']);
    assert.equal(destroyed.code, 0, destroyed.stderr);
    for (const host of fleet.hosts) {
      const files = await runOnHost(host, 'find /srv/mongodb -mindepth 1');
      assert.equal(files.stdout, '', `left on ${host.name}: ${files.stdout}`);
      // Only the host's sshd (its PID 1) and the ps of this check.
      const processes = await runOnHost(
        host,
        'ps -e -o comm= | grep -v -x -e sshd -e ps -e sh -e grep || true',
      );
      assert.equal(processes.stdout, '', `running on ${host.name}: ${processes.stdout}`);
    }
  });
  it(
    'one host cut off mid-deploy: exit 4 naming it; with the link back, resume completes to a healthy set',
    STEP,
    async () => {
      const cut = fleet.hosts[1] as FleetHost;
      const file = join(control.home, 'cut.yaml');
      await writeFile(file, replicaSetTopology(fleet.hosts, `/srv/mongodb/${CUT}`));
      // mup is paused once the cut host's config file is written, and the link goes down meanwhile: the steps
      // after it on that host (supervisor.ini, supervisord, its member's start) meet a dead connection.
      const trigger = `config:${cut.address}:27017`;
      let deploy: PausedRun;
      try {
        deploy = await runMupPausing(
          [
            '-i',
            control.identityFile,
            'cluster',
            'deploy',
            CUT,
            file,
            '--version',
            VERSION,
            '--binary-path',
            control.binDir,
            '--yes',
          ],
          {
            home: control.home,
            env: { HOME: control.userHome, SSH_AUTH_SOCK: '' },
            pauseAfter: (event) => event.step === trigger && event.state === 'done',
            whilePaused: () => cutLink(cut),
            timeoutMs: 240_000,
          },
        );
        assert.equal(deploy.code, 4, deploy.stderr + deploy.stdout);
        assert.match(deploy.stdout + deploy.stderr, new RegExp(cut.address.replaceAll('.', '\\.')));
        assert.match(deploy.stdout + deploy.stderr, /mup cluster resume/);
        const failed = deploy.steps.filter((event) => event.state === 'failed').map((event) => event.step);
        assert.ok(failed.length > 0 && failed.every((step) => step.includes(cut.address)), failed.join(', '));
      } finally {
        await restoreLink(cut);
      }
      const resumed = await control.mup(['cluster', 'resume', CUT, '--yes'], { timeoutMs: 240_000 });
      assert.equal(resumed.code, 0, resumed.stderr);
      const view = await settledDisplay(CUT);
      assert.deepEqual(
        view.processes.map((p) => p.status).sort(),
        ['Up|P', 'Up|S', 'Up|S'],
        JSON.stringify(view),
      );
      assert.equal(view.status, 'running');
      const destroyed = await control.mup(['cluster', 'destroy', CUT, '--yes']);
      assert.equal(destroyed.code, 0, destroyed.stderr);
    },
  );
});

function replicaSetTopology(
  hosts: readonly FleetHost[],
  deployDir = `/srv/mongodb/${NAME}`,
  port = 27017,
): string {
  return [
    'global:',
    '  user: deploy',
    `  deploy_dir: ${deployDir}`,
    'mongod_servers:',
    ...hosts.flatMap((host) => [`  - host: ${host.address}`, `    port: ${port}`, '    replica_set: rs0']),
    '',
  ].join('\n');
}
