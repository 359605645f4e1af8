// Least privilege and confined paths (PRODUCT.md §9): destroy never follows a symbolic link planted where one
// of its dirs was; existing dirs of a topology must be real dirs the deploy user owns; processes run as the
// topology's user, and never as root without --allow-root. Every refusal exits 2 and changes nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from '../helpers/cli.js';
import { destroyAllClusters, type E2eEnv, e2eEnv, e2ePortBase, simPidsMatching } from '../helpers/e2e.js';

const PORT_BASE = e2ePortBase();
const envs: E2eEnv[] = [];

after(async () => {
  for (const env of envs) await destroyAllClusters(env, 120_000);
});

async function newEnv(): Promise<E2eEnv> {
  const env = await e2eEnv();
  envs.push(env);
  return env;
}

/** A directory that is none of mup's business, holding files that must survive. */
async function victimDir(): Promise<{ dir: string; files: string[] }> {
  const dir = await tempDir('mup-victim-');
  const files = ['data/precious-data.txt', 'bin/precious-bin.txt', 'conf/mongod.conf', 'log/mongod.log'];
  for (const file of files) {
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), `keep ${file}\n`);
  }
  return { dir, files };
}

function assertSurvived(victim: { dir: string; files: string[] }): void {
  for (const file of victim.files) {
    assert.equal(readFileSync(join(victim.dir, file), 'utf8'), `keep ${file}\n`, `${file} survived`);
  }
}

test('destroy removes a symlinked instance dir and a symlinked data dir as links only', async () => {
  const env = await newEnv();
  const topology = join(env.userHome, 'two.yaml');
  await writeFile(
    topology,
    'global: { deploy_dir: mongodb }\nmongod_servers:\n  - { host: localhost, port: 0 }\n  - { host: localhost, port: 0 }\n',
  );
  const deploy = await env.mup([...env.deployArgs('links', topology, PORT_BASE), '--json'], {
    timeoutMs: 180_000,
  });
  assert.equal(deploy.code, 0, deploy.stderr);
  const [first, second] = (JSON.parse(deploy.stdout) as { instances: { program: string }[] }).instances;
  assert.ok(first && second);
  const deployDir = join(env.userHome, 'mongodb');

  // The first instance's whole dir becomes a link to an unrelated dir with conf/, log/, data/ and bin/.
  const victimA = await victimDir();
  const instanceA = join(deployDir, first.program);
  await rename(instanceA, `${instanceA}.moved`);
  await symlink(victimA.dir, instanceA);
  // The second instance's data dir becomes a link to another one.
  const victimB = await victimDir();
  const dataB = join(deployDir, second.program, 'data');
  await rename(dataB, `${dataB}.moved`);
  await symlink(join(victimB.dir, 'data'), dataB);

  const destroy = await env.mup(['cluster', 'destroy', 'links', '--yes', '--json'], { timeoutMs: 120_000 });
  assert.equal(destroy.code, 0, destroy.stderr);
  assertSurvived(victimA);
  assertSurvived(victimB);
  assert.equal(existsSync(join(victimB.dir, 'data')), true, 'the linked data dir itself is kept');
  // The links are gone; what they stood for was never followed.
  assert.throws(() => lstatSync(instanceA), /ENOENT/);
  assert.throws(() => lstatSync(dataB), /ENOENT/);
  const removed = (JSON.parse(destroy.stdout) as { removed: string[] }).removed;
  assert.ok(removed.includes(`localhost:${instanceA}`), removed.join('\n'));
  assert.ok(removed.includes(`localhost:${dataB}`), removed.join('\n'));
  assert.ok(!removed.some((p) => p.includes(victimA.dir) || p.includes(victimB.dir)));
  // Everything mup put through real dirs is gone; the moved-aside dirs (not mup's paths any more) stay.
  assert.equal(existsSync(join(deployDir, second.program, 'conf')), false);
  assert.equal(existsSync(`${instanceA}.moved`), true);
});

/** path, kind, size, mode and owner of everything under `root` (dir mtimes left out: a lock comes and goes). */
function listing(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      out.push(
        `${path} ${stat.size} ${stat.mode} ${stat.uid}${stat.isDirectory() ? '' : ` ${stat.mtimeMs}`}`,
      );
      if (stat.isDirectory()) walk(path);
    }
  };
  walk(root);
  return out;
}

interface DirCase {
  name: string;
  /** Prepares the user's home; returns the topology's global section and the path the refusal must name. */
  setup(userHome: string): Promise<{ global: string; names: string; also?: string }>;
  /** Words the message must contain. */
  says: RegExp;
}

const REFUSED_PORT = PORT_BASE + 10;

const DIR_CASES: DirCase[] = [
  {
    name: 'a deploy dir owned by another user',
    setup: async (home) => {
      const dir = join(home, 'shared');
      await mkdir(dir);
      chownSync(dir, 65534, 65534);
      return { global: `{ deploy_dir: ${dir} }`, names: dir };
    },
    says: /owned by the deploy user, but its owner is uid 65534; .*\(dir owner\)/,
  },
  {
    name: 'a deploy dir every user may write',
    setup: async (home) => {
      const dir = join(home, 'open');
      await mkdir(dir);
      chmodSync(dir, 0o777);
      return { global: `{ deploy_dir: ${dir} }`, names: dir };
    },
    says: /not to be writable by every user \(mode 777\)/,
  },
  {
    name: 'a supervisor dir that is a symbolic link to a world-writable dir',
    setup: async (home) => {
      const target = await tempDir('mup-open-');
      chmodSync(target, 0o777);
      await mkdir(join(home, 'mongodb'));
      await symlink(target, join(home, 'mongodb', 'supervisor'));
      return { global: '{ deploy_dir: mongodb }', names: join(home, 'mongodb', 'supervisor'), also: target };
    },
    says: /is a symbolic link.*\(symbolic link\)/,
  },
  {
    name: 'an instance dir that is a symbolic link to an unrelated dir',
    setup: async (home) => {
      const victim = await victimDir();
      await mkdir(join(home, 'mongodb'));
      await symlink(victim.dir, join(home, 'mongodb', `mongod-${REFUSED_PORT}`));
      return {
        global: '{ deploy_dir: mongodb }',
        names: join(home, 'mongodb', `mongod-${REFUSED_PORT}`),
        also: victim.dir,
      };
    },
    says: /is a symbolic link/,
  },
  {
    name: 'a data dir whose path escapes into /etc through a link above it',
    setup: async (home) => {
      await symlink('/etc', join(home, 'sys'));
      return {
        global: `{ deploy_dir: mongodb, data_dir: ${join(home, 'sys', 'mup-data')} }`,
        names: '/etc/mup-data',
      };
    },
    says: /goes through a symbolic link: .* resolves to \/etc\/mup-data.*inside the system dir \/etc \(path escape\)/,
  },
];

for (const dirCase of DIR_CASES) {
  test(`deploy and deploy --dry-run refuse ${dirCase.name}: exit 2 naming the path, nothing changed`, async () => {
    const env = await newEnv();
    const { global, names, also } = await dirCase.setup(env.userHome);
    const topology = join(env.userHome, 'topology.yaml');
    // An explicit port: the instance dir's name is known in advance, and the refusal comes before any port check.
    await writeFile(
      topology,
      `global: ${global}\nmongod_servers:\n  - { host: localhost, port: ${REFUSED_PORT} }\n`,
    );
    const before = [listing(env.home), listing(env.userHome), also ? listing(also) : []];
    for (const extra of [['--dry-run'], []]) {
      const run = await env.mup([...env.deployArgs('refused', topology, PORT_BASE), ...extra]);
      assert.equal(run.code, 2, `${extra.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /topology\.yaml:1:\d+ +global\.(deploy_dir|data_dir)/);
      assert.ok(run.stderr.includes(names), `names ${names}:\n${run.stderr}`);
      assert.match(run.stderr, dirCase.says);
      assert.deepEqual([listing(env.home), listing(env.userHome), also ? listing(also) : []], before);
    }
    const validate = await env.mup(['topology', 'validate', topology]);
    assert.equal(validate.code, 2, validate.stderr);
    assert.ok(validate.stderr.includes(names));
  });
}

const AS_ROOT = process.getuid?.() === 0;

test('as root without --allow-root, deploy, deploy --dry-run and playground start refuse: exit 2, nothing changed', {
  skip: !AS_ROOT && 'runs only as root',
}, async () => {
  const env = await newEnv();
  const topology = join(env.userHome, 'root.yaml');
  await writeFile(topology, 'mongod_servers:\n  - { host: localhost, port: 0 }\n');
  const withRoot = env.deployArgs('rooted', topology, PORT_BASE + 20);
  const args = withRoot.filter((a) => a !== '--allow-root');
  assert.notDeepEqual(args, withRoot);
  const before = [listing(env.home), listing(env.userHome)];
  for (const run of [
    await env.mup([...args, '--dry-run']),
    await env.mup(args),
    await env.mup(['playground', 'start', '--binary-path', env.binDir, '--port', String(PORT_BASE + 20)]),
  ]) {
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /mup would run mongod and mongos as root on localhost: any flaw in them/);
    assert.match(run.stderr, /hint: set global\.user to an unprivileged user .* or pass --allow-root/);
    assert.deepEqual([listing(env.home), listing(env.userHome)], before);
  }
});

test('global.user naming no user of this machine is refused: exit 2, nothing changed', async () => {
  const env = await newEnv();
  const topology = join(env.userHome, 'nouser.yaml');
  await writeFile(
    topology,
    'global: { user: mup-no-such-user }\nmongod_servers:\n  - { host: localhost, port: 0 }\n',
  );
  const before = [listing(env.home), listing(env.userHome)];
  const run = await env.mup([...env.deployArgs('nouser', topology, PORT_BASE + 20), '--dry-run']);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /global\.user mup-no-such-user: no such user on localhost/);
  assert.deepEqual([listing(env.home), listing(env.userHome)], before);
});

test('as root with global.user, every process runs as that user and its dirs and keyFile are its own', {
  skip: !AS_ROOT && 'runs only as root',
}, async () => {
  const user = `mupt${process.pid % 100000}`;
  const added = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user]);
  assert.equal(added.status, 0, String(added.stderr));
  try {
    const env = await newEnv();
    // The process user must reach its dirs and the (simulated) binaries: the test's temp dirs are 0700.
    chmodSync(env.userHome, 0o755);
    chmodSync(join(env.binDir, '..'), 0o755);
    const uid = Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
    const topology = join(env.userHome, 'user.yaml');
    await writeFile(
      topology,
      `global: { user: ${user}, deploy_dir: mongodb }\nmongod_servers:\n  - { host: localhost, port: 0, replica_set: rs0 }\n  - { host: localhost, port: 0, replica_set: rs0 }\n`,
    );
    // With auth (the default): mongod, run as the user, must read the keyFile mup wrote as root.
    const args = env.authDeployArgs('asuser', topology, PORT_BASE + 30).filter((a) => a !== '--allow-root');
    const deploy = await env.mup([...args, '--json'], { timeoutMs: 180_000 });
    assert.equal(deploy.code, 0, deploy.stderr);
    const programs = (JSON.parse(deploy.stdout) as { instances: { program: string }[] }).instances;
    const deployDir = join(env.userHome, 'mongodb');
    const ini = readFileSync(join(deployDir, 'supervisor', 'supervisor.ini'), 'utf8');
    assert.equal(ini.match(new RegExp(`^user=${user}$`, 'gm'))?.length, programs.length, ini);
    for (const { program } of programs) {
      const pids = simPidsMatching(join(deployDir, program, 'conf'));
      assert.equal(pids.length, 1, `${program} runs once`);
      const status = readFileSync(`/proc/${pids[0]}/status`, 'utf8');
      assert.match(
        status,
        new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`, 'm'),
        `${program} runs as ${user}`,
      );
      for (const dir of ['', 'data', 'log', 'conf', 'conf/mongod.conf', 'data/.mup-owner.json']) {
        assert.equal(
          lstatSync(join(deployDir, program, dir)).uid,
          uid,
          `${program}/${dir} belongs to ${user}`,
        );
      }
    }
    // The supervisor dir (credentials) and the global deploy dir holding it stay root's; the user's group may
    // only pass through the supervisor dir to its keyFile, 0400 and the user's; supervisor.ini stays root's.
    const supervisorDir = lstatSync(join(deployDir, 'supervisor'));
    const gid = Number(spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim());
    assert.deepEqual([supervisorDir.uid, supervisorDir.gid, supervisorDir.mode & 0o777], [0, gid, 0o710]);
    const keyFile = lstatSync(join(deployDir, 'supervisor', 'keyfile'));
    assert.deepEqual([keyFile.uid, keyFile.mode & 0o777], [uid, 0o400]);
    const supervisorIni = lstatSync(join(deployDir, 'supervisor', 'supervisor.ini'));
    assert.deepEqual([supervisorIni.uid, supervisorIni.mode & 0o777], [0, 0o600]);
    assert.equal(lstatSync(deployDir).uid, 0);
    assert.equal(lstatSync(deployDir).mode & 0o777, 0o751);
    const destroy = await env.mup(['cluster', 'destroy', 'asuser', '--yes'], { timeoutMs: 120_000 });
    assert.equal(destroy.code, 0, destroy.stderr);
    assert.equal(existsSync(deployDir), false);
  } finally {
    spawnSync('userdel', [user]);
  }
});
