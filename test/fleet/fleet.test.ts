// The test fleet itself: separate hosts reachable with the stock OpenSSH client, and nothing left behind.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot, tempDir } from '../helpers/cli.js';
import {
  createFleet,
  cutLink,
  destroyFleet,
  type Fleet,
  type FleetHost,
  fleetSupported,
  restoreLink,
  runOnHost,
} from './fleet.js';

const supported = fleetSupported();

/** The stock OpenSSH client, trusting exactly the fleet's host keys. */
async function ssh(fleet: Fleet, host: FleetHost, command: string) {
  const dir = await tempDir('mup-fleet-client-');
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, fleet.knownHosts);
  return spawnSync(
    'ssh',
    [
      '-i',
      fleet.identityFile,
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=3',
      `${fleet.user}@${host.address}`,
      command,
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
}

describe('test fleet', { skip: supported.ok ? false : supported.reason }, () => {
  let fleet: Fleet;
  before(async () => {
    fleet = await createFleet({ hosts: 2 });
  });
  after(async () => {
    if (fleet !== undefined) await destroyFleet(fleet);
  });

  const fromTmp = relative('/tmp', repoRoot);
  const checkoutInTmp = fromTmp.startsWith('..') || isAbsolute(fromTmp) ? '' : (fromTmp.split('/')[0] ?? '');

  it('hosts are separate machines reachable over OpenSSH as a non-root user', async () => {
    const [a, b] = fleet.hosts as [FleetHost, FleetHost];
    const first = await ssh(fleet, a, 'uname -n; id -un; echo "$HOME"; echo one > /srv/marker; ls /home');
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout, `host1\n${fleet.user}\n${fleet.home}\n${fleet.user}\n`);
    const second = await ssh(
      fleet,
      b,
      // A checkout under /tmp is bound into each host's /tmp (the simulator runs from it): not counted.
      `uname -n; ls -A /srv; ls /tmp | grep -vx '${checkoutInTmp}' | wc -l; command -v supervisord python3`,
    );
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout, 'host2\n0\n/usr/bin/supervisord\n/usr/bin/python3\n');
    // Host 1's file is on host 1 only, not on this machine either.
    assert.equal((await runOnHost(a, 'cat /srv/marker')).stdout, 'one\n');
    assert.equal(existsSync('/srv/marker'), false);
  });

  it('hosts reach each other over the bridge, and each sees only its own processes', async () => {
    const [a, b] = fleet.hosts as [FleetHost, FleetHost];
    const ping = await ssh(fleet, a, `exec 3<>/dev/tcp/${b.address}/22 && head -c 4 <&3`);
    assert.equal(ping.stdout, 'SSH-');
    const ps = await runOnHost(b, 'cat /proc/1/cmdline | tr "\\0" " "');
    assert.match(ps.stdout, /^sshd: \/usr\/sbin\/sshd -D/);
  });

  it('a cut link makes the host unreachable until it is restored', async () => {
    const a = fleet.hosts[0] as FleetHost;
    await cutLink(a);
    try {
      const cut = await ssh(fleet, a, 'true');
      assert.equal(cut.status, 255);
    } finally {
      await restoreLink(a);
    }
    const back = await ssh(fleet, a, 'echo back');
    assert.equal(back.stdout, 'back\n');
  });

  it('refuses a size outside 1..40 before creating anything', async () => {
    for (const hosts of [0, 41, 2.5])
      await assert.rejects(createFleet({ hosts }), new RegExp(`a fleet has 1 to 40 hosts, not ${hosts}`));
  });

  it('teardown leaves no process, link, bridge or directory', async () => {
    const other = await createFleet({ hosts: 2 });
    const sleeper = await runOnHost(
      other.hosts[0] as FleetHost,
      'nohup sleep 6173 >/dev/null 2>&1 & echo $!',
    );
    assert.equal(sleeper.exitCode, 0);
    const pids = other.hosts.flatMap((host) => [host.unsharePid, host.initPid]);
    await destroyFleet(other);
    for (const pid of pids) assert.equal(existsSync(`/proc/${pid}`), false, `pid ${pid} survived`);
    const links = execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' });
    assert.ok(!links.includes(other.bridge), links);
    for (const host of other.hosts) assert.ok(!links.includes(host.link), links);
    assert.equal(existsSync(other.dir), false);
    const leftover = spawnSync('pgrep', ['-f', 'sleep 6173'], { encoding: 'utf8' });
    assert.equal(leftover.stdout, '');
  });
});
