// Host keys and logins as OpenSSH does them, against the fleet's real sshd: unknown, accepted, hashed,
// changed keys; agent, explicit and default identity files; wrong keys.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ExitCode } from '../../src/errors.js';
import { ChangedHostKeyError, HostAuthenticationError, UnknownHostKeyError } from '../../src/hosts/errors.js';
import { fingerprint } from '../../src/hosts/known-hosts.js';
import {
  createFleet,
  destroyFleet,
  type Fleet,
  type FleetHost,
  fleetSupported,
  rotateHostKey,
} from '../fleet/fleet.js';
import { tempDir } from '../helpers/cli.js';
import { controlMachine, fleetPool, sshTo } from './ssh-helpers.js';

const supported = fleetSupported();

function blobOf(publicKey: string): Buffer {
  return Buffer.from(publicKey.split(' ')[1] ?? '', 'base64');
}

describe('SSH host keys and logins', { skip: supported.ok ? false : supported.reason }, () => {
  let fleet: Fleet;
  let host: FleetHost;
  let other: FleetHost;

  before(async () => {
    fleet = await createFleet({ hosts: 2 });
    [host, other] = fleet.hosts as [FleetHost, FleetHost];
  });
  after(async () => {
    if (fleet !== undefined) await destroyFleet(fleet);
  });

  it('refuses an unknown host with its fingerprint as ssh-keygen prints it, and records nothing', async () => {
    const control = await controlMachine(fleet, '');
    const pool = fleetPool(fleet, control);
    try {
      const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', '-'], {
        input: `${host.hostKey}\n`,
        encoding: 'utf8',
      }).split(' ')[1];
      await assert.rejects(sshTo(pool, fleet, host).run('true', []), (error: unknown) => {
        assert.ok(error instanceof UnknownHostKeyError);
        assert.equal(error.fingerprint, printed);
        assert.match(
          error.message,
          new RegExp(`ED25519 key fingerprint is ${printed?.replace(/[+/]/g, '.')}`),
        );
        assert.match(error.hint ?? '', /--accept-new-host-keys/);
        return true;
      });
      await assert.rejects(readFile(join(control.mupHome, 'known_hosts')), { code: 'ENOENT' });
    } finally {
      await pool.closeAll();
    }
  });

  it('accepts a new host with accept-new, records it in $MUP_HOME/known_hosts, and trusts it afterwards', async () => {
    const control = await controlMachine(fleet, '');
    const accepting = fleetPool(fleet, control, { acceptNewHostKeys: true });
    try {
      assert.equal((await sshTo(accepting, fleet, host).run('uname', ['-n'])).stdout, 'host1\n');
    } finally {
      await accepting.closeAll();
    }
    const recorded = await readFile(join(control.mupHome, 'known_hosts'), 'utf8');
    assert.equal(recorded, `${host.address} ${host.hostKey}\n`);
    // A later run without the flag trusts the recorded key.
    const strict = fleetPool(fleet, control);
    try {
      assert.equal((await sshTo(strict, fleet, host).run('uname', ['-n'])).stdout, 'host1\n');
    } finally {
      await strict.closeAll();
    }
  });

  it('trusts hashed ~/.ssh/known_hosts entries', async () => {
    const control = await controlMachine(fleet);
    const file = join(control.localHome, '.ssh', 'known_hosts');
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    assert.doesNotMatch(await readFile(file, 'utf8'), /198\.18\./);
    const pool = fleetPool(fleet, control);
    try {
      assert.equal((await sshTo(pool, fleet, other).run('uname', ['-n'])).stdout, 'host2\n');
    } finally {
      await pool.closeAll();
    }
  });

  it('refuses a changed host key naming both fingerprints, even with accept-new', async () => {
    const control = await controlMachine(fleet);
    const oldKey = host.hostKey;
    await rotateHostKey(fleet, host);
    const pool = fleetPool(fleet, control, { acceptNewHostKeys: true });
    try {
      await assert.rejects(sshTo(pool, fleet, host).run('true', []), (error: unknown) => {
        assert.ok(error instanceof ChangedHostKeyError);
        assert.equal(error.fingerprint, fingerprint(blobOf(host.hostKey)));
        assert.deepEqual(error.knownFingerprints, [fingerprint(blobOf(oldKey))]);
        assert.ok(error.message.includes(fingerprint(blobOf(oldKey))));
        assert.ok(error.message.includes(fingerprint(blobOf(host.hostKey))));
        assert.ok(error.message.includes(`${join(control.localHome, '.ssh', 'known_hosts')}:1`));
        return true;
      });
      await assert.rejects(readFile(join(control.mupHome, 'known_hosts')), { code: 'ENOENT' });
    } finally {
      await pool.closeAll();
    }
  });

  it('refuses a key the host does not authorize, naming what was tried', async () => {
    const control = await controlMachine(fleet);
    const wrong = join(control.localHome, 'wrong_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrong]);
    const pool = fleetPool(fleet, control, { identityFile: wrong });
    try {
      await assert.rejects(sshTo(pool, fleet, other).run('true', []), (error: unknown) => {
        assert.ok(error instanceof HostAuthenticationError);
        assert.match(error.message, new RegExp(`deploy@${other.address.replace(/\./g, '\\.')} was refused`));
        assert.ok(error.message.includes(wrong));
        return true;
      });
    } finally {
      await pool.closeAll();
    }
    // No key at all: refused too, and the message says so.
    const empty = fleetPool(fleet, control, { identityFile: undefined });
    try {
      await assert.rejects(
        sshTo(empty, fleet, other).run('true', []),
        /tried: nothing \(no agent, no key file\)/,
      );
    } finally {
      await empty.closeAll();
    }
  });

  it('refuses a missing --identity-file as a usage error', async () => {
    const control = await controlMachine(fleet);
    const pool = fleetPool(fleet, control, { identityFile: join(control.localHome, 'nope') });
    try {
      await assert.rejects(sshTo(pool, fleet, other).run('true', []), (error: unknown) => {
        assert.ok(error instanceof Error && 'exitCode' in error);
        assert.equal(error.exitCode, ExitCode.usage);
        assert.match(error.message, /cannot read the identity file/);
        return true;
      });
    } finally {
      await pool.closeAll();
    }
  });

  it('logs in with ~/.ssh/id_ed25519 when no identity file is given', async () => {
    const control = await controlMachine(fleet);
    await copyFile(fleet.identityFile, join(control.localHome, '.ssh', 'id_ed25519'));
    const pool = fleetPool(fleet, control, { identityFile: undefined });
    try {
      assert.equal((await sshTo(pool, fleet, other).run('id', ['-un'])).stdout, `${fleet.user}\n`);
    } finally {
      await pool.closeAll();
    }
  });

  it('logs in with a key held by ssh-agent', async () => {
    const control = await controlMachine(fleet);
    const socket = join(await tempDir('mup-agent-'), 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      await waitForFile(socket);
      execFileSync('ssh-add', [fleet.identityFile], {
        env: { ...process.env, SSH_AUTH_SOCK: socket },
        stdio: 'ignore',
      });
      const pool = fleetPool(fleet, control, { identityFile: undefined, agentSocket: socket });
      try {
        assert.equal((await sshTo(pool, fleet, other).run('id', ['-un'])).stdout, `${fleet.user}\n`);
      } finally {
        await pool.closeAll();
      }
    } finally {
      if (agent.pid !== undefined) process.kill(agent.pid, 'SIGTERM');
    }
  });
});

async function waitForFile(path: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await readFile(path);
      return;
    } catch (error) {
      // A socket cannot be read (ENXIO) but exists.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${path} did not appear`);
}
