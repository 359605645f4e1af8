// SshExecutor against real OpenSSH servers (the test fleet): commands, files, uploads, forwards, limits.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MupError } from '../../src/errors.js';
import { CommandTimeoutError, UploadVerificationError } from '../../src/hosts/errors.js';
import { LocalExecutor } from '../../src/hosts/local.js';
import type { ExecutorPool } from '../../src/hosts/pool.js';
import { commandLine, type SshExecutor, shellQuote } from '../../src/hosts/ssh.js';
import {
  createFleet,
  destroyFleet,
  type Fleet,
  type FleetHost,
  fleetSupported,
  runOnHost,
} from '../fleet/fleet.js';
import { tempDir } from '../helpers/cli.js';
import { controlMachine, fleetPool, sshTo } from './ssh-helpers.js';

const supported = fleetSupported();

describe('shell quoting', () => {
  it('quotes every argument so the shell passes it through unchanged', () => {
    assert.equal(shellQuote("it's"), "'it'\\''s'");
    assert.equal(commandLine('echo', ['a b']), "exec 'echo' 'a b'");
    assert.equal(
      commandLine('prog', [], { cwd: '/srv/x y', env: { A: '1 2' } }),
      "cd '/srv/x y' && exec env 'A=1 2' 'prog'",
    );
    assert.throws(() => shellQuote('a\0b'), /NUL/);
    assert.throws(() => commandLine('p', [], { env: { 'A;B': '1' } }), /invalid environment variable name/);
  });
});

// Every test and hook has its own bound, far below the runner's per-file limit: a stuck step fails with its
// name (and the after hook still tears the fleet down) instead of the whole file being killed silently.
const STEP = { timeout: 120_000 };

describe('SshExecutor on the fleet', { skip: supported.ok ? false : supported.reason }, () => {
  let fleet: Fleet;
  let pool: ExecutorPool;
  let one: SshExecutor;
  let two: SshExecutor;
  let hostOne: FleetHost;
  let hostTwo: FleetHost;

  before(async () => {
    fleet = await createFleet({ hosts: 2 });
    [hostOne, hostTwo] = fleet.hosts as [FleetHost, FleetHost];
    pool = fleetPool(fleet, await controlMachine(fleet));
    one = sshTo(pool, fleet, hostOne);
    two = sshTo(pool, fleet, hostTwo);
  }, STEP);
  after(async () => {
    await pool?.closeAll();
    if (fleet !== undefined) await destroyFleet(fleet);
  }, STEP);

  it(
    'runs commands with exit code, separate output, literal arguments, stdin, env and cwd',
    STEP,
    async () => {
      const result = await one.run('sh', ['-c', 'uname -n; id -un; echo err >&2; exit 3']);
      assert.deepEqual(result, { exitCode: 3, stdout: `host1\n${fleet.user}\n`, stderr: 'err\n' });
      const tricky = `$HOME; rm -rf / 'quoted' "double" \`tick\` \\ *`;
      const literal = await one.run(
        'sh',
        ['-c', 'printf "%s|%s|%s|" "$1" "$MUP_X" "$(pwd)"; cat', 'sh', tricky],
        {
          input: 'from stdin',
          env: { MUP_X: "x 'y'" },
          cwd: '/tmp',
        },
      );
      assert.equal(literal.stdout, `${tricky}|x 'y'|/tmp|from stdin`);
      assert.equal((await two.run('uname', ['-n'])).stdout, 'host2\n');
      // A program that does not exist: the shell's 127, like a failed exec.
      assert.equal((await one.run('/nonexistent/mup-no-such-program', [])).exitCode, 127);
    },
  );

  it('kills a command that exceeds its timeout, on the host too', STEP, async () => {
    const started = Date.now();
    await assert.rejects(one.run('sleep', ['7431'], { timeoutMs: 500 }), (error: unknown) => {
      assert.ok(error instanceof CommandTimeoutError);
      assert.match(error.message, /sleep 7431 did not finish within 500 ms on 198\.18\./);
      return true;
    });
    assert.ok(Date.now() - started < 30_000);
    let left = '';
    for (let i = 0; i < 50; i++) {
      left = (await runOnHost(hostOne, 'pgrep -f "^sleep 7431" || true')).stdout;
      if (left === '') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(left, '', 'the timed-out command still runs on the host');
    // The connection is still usable.
    assert.equal((await one.run('echo', ['ok'])).stdout, 'ok\n');
  });

  it(
    'writes files atomically with their mode, reads, tails, lists and removes them over SFTP',
    STEP,
    async () => {
      const path = '/srv/app/conf/a b/mongod.conf';
      await one.writeFile(path, 'first', 0o600);
      await one.writeFile(path, new TextEncoder().encode('second\nline2\n'), 0o640);
      const seen = await runOnHost(
        hostOne,
        `stat -c '%a %U' '${path}'; cat '${path}'; ls -A '/srv/app/conf/a b'`,
      );
      assert.equal(seen.stdout, `640 ${fleet.user}\nsecond\nline2\nmongod.conf\n`);
      assert.equal((await one.readFile(path)).toString(), 'second\nline2\n');
      assert.equal(await one.tailFile(path, 6), 'line2\n');
      assert.equal(await one.tailFile(path, 1000), 'second\nline2\n');
      assert.equal(await one.tailFile('/srv/app/missing.log', 10), undefined);
      assert.equal(await one.exists(path), true);
      assert.equal(await one.exists('/srv/app/missing'), false);
      assert.equal(await one.exists(`${path}/below-a-file`), false);
      await assert.rejects(one.readFile('/srv/app/missing'), { code: 'ENOENT' });
      // The file is on host 1 only.
      assert.equal(await two.exists(path), false);
      await one.mkdir('/srv/app/data/db', 0o700);
      assert.equal((await runOnHost(hostOne, 'stat -c %a /srv/app/data/db')).stdout, '700\n');
      await one.mkdir('/srv/app/data/db', 0o700);
      await one.remove('/srv/app');
      await one.remove('/srv/app');
      assert.equal((await runOnHost(hostOne, 'ls -A /srv')).stdout, '');
    },
  );

  it('removes the temp file an interrupted write left, and nothing else', STEP, async () => {
    await runOnHost(
      hostOne,
      `mkdir -p /srv/w && echo half > /srv/w/mongod.conf.2755219714 && echo kept > /srv/w/mongod.conf.bak && chown -R ${fleet.uid} /srv/w`,
    );
    await one.writeFile('/srv/w/mongod.conf', 'whole');
    assert.equal((await runOnHost(hostOne, 'ls -A /srv/w')).stdout, 'mongod.conf\nmongod.conf.bak\n');
    await one.remove('/srv/w');
  });

  it(
    'lstat reports a link as a link, never what it points at, and nothing for a missing path',
    STEP,
    async () => {
      await runOnHost(
        hostOne,
        `mkdir -p /srv/l && echo x > /srv/l/file && ln -s /srv/l/file /srv/l/link && ln -s /srv/l/gone /srv/l/dangling && mkdir /srv/l/d && ln -s /srv/l/d /srv/l/dlink && chown -R ${fleet.uid} /srv/l`,
      );
      assert.deepEqual(await one.lstat('/srv/l'), { kind: 'dir', uid: fleet.uid });
      assert.equal((await one.lstat('/srv/l/file'))?.kind, 'file');
      assert.equal((await one.lstat('/srv/l/link'))?.kind, 'symlink');
      assert.equal((await one.lstat('/srv/l/dangling'))?.kind, 'symlink');
      // A link to a dir is a link too, whatever the dir holds.
      assert.equal((await one.lstat('/srv/l/dlink'))?.kind, 'symlink');
      assert.equal(await one.lstat('/srv/l/missing'), undefined);
      assert.equal(await one.lstat('/srv/l/file/below'), undefined);
      await one.remove('/srv/l');
    },
  );

  it('knows the login home, free ports and live pids of the host', STEP, async () => {
    assert.equal(await one.homeDir(), fleet.home);
    const port = 21000 + Math.floor(Math.random() * 5000);
    assert.equal(await one.isPortFree(port), true);
    const server = await runOnHost(
      hostOne,
      `cd /tmp && setsid python3 -m http.server ${port} --bind 127.0.0.1 >/dev/null 2>&1 & echo $!`,
    );
    // setsid execs python (a background job of a non-interactive shell is no group leader): $! is its pid.
    const pid = Number(server.stdout.trim());
    try {
      // Bound inside host 1 only: busy there, free on host 2.
      await waitFor(async () => !(await one.isPortFree(port)));
      assert.equal(await one.isPortFree(port), false);
      assert.equal(await two.isPortFree(port), true);
      assert.equal(await one.isPidAlive(pid), true);
    } finally {
      await runOnHost(hostOne, `kill ${pid}`);
    }
    await waitFor(async () => !(await one.isPidAlive(pid)));
    assert.equal(await one.isPortFree(port), true);
    assert.equal(await one.isPidAlive(999_999), false);
    assert.equal(await one.isPidAlive(-1), false);
    await assert.rejects(one.isPortFree(70_000), /invalid port/);
  });

  it('uploads a file, verified on the host, and skips it when the host already has it', STEP, async () => {
    const dir = await tempDir('mup-ssh-upload-');
    const local = join(dir, 'mongodb-linux.tgz');
    const content = randomBytes(3 * 1024 * 1024 + 17);
    await writeFile(local, content);
    const remote = '/srv/packages/mongodb-linux.tgz';
    const first = await one.upload(local, remote, { mode: 0o640 });
    assert.equal(first.skipped, false);
    assert.equal(first.bytes, content.length);
    const onHost = await runOnHost(
      hostOne,
      `sha256sum ${remote} | cut -d' ' -f1; stat -c %a ${remote}; ls -A /srv/packages`,
    );
    assert.equal(onHost.stdout, `${first.sha256}\n640\nmongodb-linux.tgz\n`);
    const again = await one.upload(local, remote, { mode: 0o640 });
    assert.deepEqual(again, { ...first, skipped: true });
    // Without a mode the host's copy is left as it is.
    assert.deepEqual(await one.upload(local, remote), { ...first, skipped: true });
    assert.equal((await runOnHost(hostOne, `stat -c %a ${remote}`)).stdout, '640\n');
    await writeFile(local, randomBytes(1000));
    const changed = await one.upload(local, remote);
    assert.equal(changed.skipped, false);
    assert.notEqual(changed.sha256, first.sha256);
    // A sum that the file does not have: what arrived is refused and nothing is left on the host.
    await assert.rejects(
      one.upload(local, '/srv/packages/claimed.tgz', { sha256: first.sha256 }),
      (error: unknown) => {
        assert.ok(error instanceof UploadVerificationError);
        assert.match(error.message, new RegExp(`expected ${first.sha256}`));
        return true;
      },
    );
    assert.equal((await runOnHost(hostOne, 'ls -A /srv/packages')).stdout, 'mongodb-linux.tgz\n');
    // A known sum is trusted for hashing and checked on the host.
    const known = await one.upload(local, '/srv/packages/known.tgz', { sha256: changed.sha256 });
    assert.deepEqual(known, { ...changed, skipped: false });
    await one.remove('/srv/packages');
    // A disk that fills during the transfer: the short file is refused (tee's exit status, not the hash of
    // the stream) with the host, the path and where to look, and nothing is left behind.
    await runOnHost(
      hostOne,
      `mkdir -p /srv/full && mount -t tmpfs -o size=1m,mode=755,uid=${fleet.uid} full /srv/full`,
    );
    try {
      const big = join(dir, 'big.tgz');
      await writeFile(big, randomBytes(3 * 1024 * 1024));
      await assert.rejects(one.upload(big, '/srv/full/big.tgz'), (error: unknown) => {
        assert.ok(error instanceof MupError, String(error));
        assert.match(
          error.message,
          new RegExp(`cannot write /srv/full/\\S+ on ${one.host}: .*No space left`),
        );
        assert.match(error.hint ?? '', /free space and permissions of \/srv\/full/);
        return true;
      });
      assert.equal((await runOnHost(hostOne, 'ls -A /srv/full')).stdout, '');
    } finally {
      await runOnHost(hostOne, 'umount /srv/full && rmdir /srv/full');
    }
  });

  it('an upload is not confused by lines a shell start-up file prints', STEP, async () => {
    // sshd runs commands through the login shell, which reads ~/.bashrc: some users' print something.
    const rc = `${fleet.home}/.bashrc`;
    await runOnHost(
      hostOne,
      `[ -f ${rc} ] && mv ${rc} ${rc}.saved; printf 'echo present\necho send\necho "welcome to $(uname -n)"\n' > ${rc}; chown ${fleet.uid} ${rc}`,
    );
    try {
      assert.match((await one.run('true', [])).stdout, /^present\nsend\nwelcome to host1\n$/);
      const dir = await tempDir('mup-ssh-chatty-');
      const local = join(dir, 'chatty.tgz');
      await writeFile(local, randomBytes(256 * 1024));
      const first = await one.upload(local, '/srv/chatty/chatty.tgz');
      assert.equal(first.skipped, false);
      assert.equal(
        (await runOnHost(hostOne, 'sha256sum /srv/chatty/chatty.tgz | cut -d" " -f1')).stdout,
        `${first.sha256}\n`,
      );
      assert.equal((await one.upload(local, '/srv/chatty/chatty.tgz')).skipped, true);
    } finally {
      await runOnHost(
        hostOne,
        `rm -f ${rc}; [ -f ${rc}.saved ] && mv ${rc}.saved ${rc}; rm -rf /srv/chatty; true`,
      );
    }
  });

  it('forwards a local port to a loopback-only port of the host', STEP, async () => {
    const port = 21000 + Math.floor(Math.random() * 5000);
    await runOnHost(hostOne, `mkdir -p /tmp/www && echo "served by $(uname -n)" > /tmp/www/id.txt`);
    await runOnHost(
      hostOne,
      `cd /tmp/www && setsid python3 -m http.server ${port} --bind 127.0.0.1 >/dev/null 2>&1 &`,
    );
    const forwarded = await one.forwardPort(port);
    try {
      assert.equal(forwarded.host, '127.0.0.1');
      const body = await waitFor(async () => {
        const response = await fetch(`http://127.0.0.1:${forwarded.port}/id.txt`, {
          signal: AbortSignal.timeout(5000),
        });
        return response.ok ? await response.text() : undefined;
      });
      assert.equal(body, 'served by host1\n');
      // Several connections through the same forward at once.
      const bodies = await Promise.all(
        Array.from({ length: 5 }, () =>
          fetch(`http://127.0.0.1:${forwarded.port}/id.txt`, { signal: AbortSignal.timeout(10_000) }).then(
            (r) => r.text(),
          ),
        ),
      );
      assert.deepEqual(bodies, Array(5).fill('served by host1\n'));
      // The port is not reachable on the host's address: only the tunnel gets there.
      assert.equal(await canConnect(hostOne.address, port), false);
    } finally {
      await forwarded.close();
      await runOnHost(hostOne, `pkill -f "^python3 -m http.server ${port}" || true`);
    }
    assert.equal(await canConnect('127.0.0.1', forwarded.port), false);
  });

  it('runs many commands at once over one connection, above sshd MaxSessions', STEP, async () => {
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => one.run('sh', ['-c', `sleep 0.2; echo ${i}`])),
    );
    assert.deepEqual(
      results.map((result) => result.stdout),
      Array.from({ length: 25 }, (_, i) => `${i}\n`),
    );
    // One login (one `sshd: user@notty` process) serves every channel; SFTP runs in its own child.
    const sessions = await runOnHost(hostOne, `pgrep -c -f '^sshd: ${fleet.user}@notty$'`);
    assert.equal(sessions.stdout.trim(), '1');
  });

  it('the pool gives one executor per host and a local one for local hosts', STEP, () => {
    assert.equal(sshTo(pool, fleet, hostOne), one);
    assert.notEqual(sshTo(pool, fleet, hostTwo), one);
    for (const name of ['localhost', '127.0.0.1', '127.0.0.3', '::1']) {
      const local = pool.executorFor({ host: name, local: true });
      assert.ok(local instanceof LocalExecutor, name);
      assert.equal(local.host, name);
    }
  });
});

async function waitFor<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let i = 0; i < 1000; i++) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms: ${String(last)}`);
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(3000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
