// A fleet of SSH hosts built on this Linux machine (root only), for tests that must reach real remote
// hosts. Each host is a process tree in its own network, UTS, mount and PID namespaces:
// - network: a veth pair, one end on a private bridge in the root namespace (the fleet's own /24 inside
//   198.18.0.0/15, the RFC 2544 benchmarking range), the other end `eth0` inside the host;
// - UTS: its own hostname;
// - mount: private /srv, /home, /tmp and /run, and an overlay on /etc whose passwd, group and shadow have a
//   login user added, and a private crontab spool (mounts visible only inside the host, so nothing on this
//   machine is changed, and each host has its own `@reboot` entries);
// - PID: Debian's OpenSSH sshd is PID 1, so killing it ends every process started on the host.
// The hosts share the root file system otherwise, so supervisord and python3 are the machine's own.
//
// Clean-up does not depend on the test reaching its `after` hook: each host is started under
// `setpriv --pdeathsig KILL` (its processes die with the test process), the bridge is deleted by an exit
// hook, and a fleet left behind by a killed test process is swept when the next fleet is created (the
// bridge's alias names the owner pid and the temp dir).
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { repoRoot } from '../helpers/cli.js';

export interface FleetHost {
  /** Hostname inside the host (`uname -n`). */
  name: string;
  /** Its address on the fleet's bridge; SSH listens on port 22. */
  address: string;
  port: number;
  /** `ssh-ed25519 AAAA...`: the host key sshd presents. */
  hostKey: string;
  /** The root-namespace end of the host's veth pair (bring it down to cut the host off). */
  link: string;
  /** Pid (in this namespace) of the host's `unshare` process and of its PID 1 (sshd). */
  unsharePid: number;
  initPid: number;
  /** The host's private directories on this machine (bind-mounted inside it). */
  root: string;
}

export interface Fleet {
  dir: string;
  bridge: string;
  /** The bridge's address: how the hosts see this machine. */
  gateway: string;
  /** The login user on every host (non-root), its uid and its home inside the hosts. */
  user: string;
  uid: number;
  home: string;
  /** A private key (ed25519, no passphrase) authorized for `user` on every host, and its public half. */
  identityFile: string;
  publicKey: string;
  /** known_hosts lines for every host, as `ssh-keyscan` would print them. */
  knownHosts: string;
  hosts: FleetHost[];
}

export interface FleetOptions {
  /**
   * Number of hosts (1..40): addresses .11 to .50 of the fleet's /24; each host is one sshd (its own
   * MaxStartups), and 30 hosts start in about 15 s on 2 cores.
   */
  hosts: number;
  /** Hostname prefix: `<prefix>1`, `<prefix>2`, ... */
  namePrefix?: string;
}

const BRIDGE_PREFIX = 'mupfl';
const ALIAS_PREFIX = 'mup-test-fleet';
const USER = 'deploy';
const SETUP_TIMEOUT_MS = 20_000;
/** Bound of each synchronous `ip` call (it blocks the event loop, so every test timer, while it runs). */
const SYNC_TIMEOUT_MS = 10_000;

/** True when this machine can build a fleet (Linux, root, the tools present). */
export function fleetSupported(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: 'the test fleet needs Linux namespaces' };
  if (process.getuid?.() !== 0)
    return { ok: false, reason: 'the test fleet needs root (namespaces, bridge)' };
  for (const tool of ['/usr/sbin/sshd', 'ip', 'unshare', 'setpriv', 'nsenter', 'ssh-keygen']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore', timeout: SYNC_TIMEOUT_MS });
    } catch {
      return { ok: false, reason: `${tool} is not installed (apt-get install openssh-server iproute2)` };
    }
  }
  return { ok: true };
}

export async function createFleet(options: FleetOptions): Promise<Fleet> {
  const supported = fleetSupported();
  if (!supported.ok) throw new Error(supported.reason);
  if (!Number.isInteger(options.hosts) || options.hosts < 1 || options.hosts > 40)
    throw new Error(`a fleet has 1 to 40 hosts, not ${options.hosts}`);
  sweepAbandonedFleets();
  const dir = await mkdtemp(join(tmpdir(), 'mup-fleet-'));
  const { bridge, slot } = claimBridge(dir);
  const fleet: Fleet = {
    dir,
    bridge,
    gateway: `198.18.${slot}.1`,
    user: USER,
    uid: freeUid(),
    home: `/home/${USER}`,
    identityFile: join(dir, 'client', 'id_ed25519'),
    publicKey: '',
    knownHosts: '',
    hosts: [],
  };
  live.add(fleet);
  try {
    await mkdir(join(dir, 'client'), { mode: 0o700 });
    await sh(`ssh-keygen -q -t ed25519 -N '' -C fleet-user -f ${fleet.identityFile}`);
    fleet.publicKey = (await readFile(`${fleet.identityFile}.pub`, 'utf8')).trim();
    const prefix = options.namePrefix ?? 'host';
    for (let i = 1; i <= options.hosts; i++) await startHost(fleet, slot, i, `${prefix}${i}`);
    fleet.knownHosts = fleet.hosts.map((host) => `${host.address} ${host.hostKey}\n`).join('');
    await Promise.all(fleet.hosts.map((host) => waitForSsh(fleet, host)));
    return fleet;
  } catch (error) {
    await destroyFleet(fleet).catch(() => {});
    throw error;
  }
}

/** Kills every host, removes the bridge and the temp dir. Safe to call twice; throws what it could not undo. */
export async function destroyFleet(fleet: Fleet): Promise<void> {
  const problems: string[] = [];
  for (const host of fleet.hosts) {
    // Killing a host's PID 1 kills every process of its PID namespace; its unshare parent reaps it and exits.
    // A host whose PID 1 is not known yet goes with its unshare process (--kill-child).
    if (!running.has(host.unsharePid)) continue;
    if (host.initPid > 0) killQuietly(host.initPid);
    else killQuietly(host.unsharePid);
  }
  for (const host of fleet.hosts) {
    const exited = exits.get(host.unsharePid) ?? Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), 10_000);
    });
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      if (running.has(host.unsharePid)) killQuietly(host.unsharePid);
      problems.push(`host ${host.name} (pid ${host.unsharePid}) did not exit`);
    }
    clearTimeout(timer);
    exits.delete(host.unsharePid);
    if (!(await waitUntil(() => !pidExists(host.initPid), 10_000)))
      problems.push(`host ${host.name} (pid ${host.initPid}) did not exit`);
  }
  // The veth pairs disappear with the hosts' network namespaces.
  // On a loaded machine the kernel may free a dead namespace late (and with it the pair): after a while the
  // pair is deleted from this side instead, which ends it at once.
  for (const host of fleet.hosts) {
    if (await waitUntil(() => !linkExists(host.link), 10_000)) continue;
    try {
      execFileSync('ip', ['link', 'del', host.link], { stdio: 'pipe', timeout: SYNC_TIMEOUT_MS });
    } catch (error) {
      if (linkExists(host.link)) problems.push(`link ${host.link} could not be deleted: ${String(error)}`);
    }
  }
  try {
    if (linkExists(fleet.bridge))
      execFileSync('ip', ['link', 'del', fleet.bridge], { stdio: 'pipe', timeout: SYNC_TIMEOUT_MS });
  } catch (error) {
    problems.push(`could not delete bridge ${fleet.bridge}: ${String(error)}`);
  }
  await rm(fleet.dir, { recursive: true, force: true });
  live.delete(fleet);
  if (problems.length > 0) throw new Error(`fleet teardown: ${problems.join('; ')}`);
}

/** Cuts the host off the network (its veth end on the bridge goes down); connections to it stall. */
export async function cutLink(host: FleetHost): Promise<void> {
  await sh(`ip link set ${host.link} down`);
}

export async function restoreLink(host: FleetHost): Promise<void> {
  await sh(`ip link set ${host.link} up`);
}

export interface HostCommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a shell script as root inside the host (its mounts, network, hostname and processes). */
export function runOnHost(host: FleetHost, script: string, timeoutMs = 20_000): Promise<HostCommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'nsenter',
      ['-t', String(host.initPid), '-m', '-u', '-n', '-p', '--', '/bin/sh', '-c', script],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`on ${host.name}: ${script} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? -1, stdout, stderr });
    });
  });
}

/**
 * Gives the host a new host key: sshd re-reads its keys on SIGHUP (it re-executes itself, staying PID 1).
 * Returns the new `type base64` key.
 */
export async function rotateHostKey(fleet: Fleet, host: FleetHost): Promise<string> {
  const keyPath = join(host.root, 'sshd', 'host_ed25519');
  await rm(keyPath, { force: true });
  await rm(`${keyPath}.pub`, { force: true });
  await sh(`ssh-keygen -q -t ed25519 -N '' -C ${host.name} -f ${keyPath}`);
  host.hostKey = publicKeyOf(await readFile(`${keyPath}.pub`, 'utf8'));
  fleet.knownHosts = fleet.hosts.map((h) => `${h.address} ${h.hostKey}\n`).join('');
  process.kill(host.initPid, 'SIGHUP');
  // The old listener may still answer for a moment: wait until the new key is the one presented.
  const presented = () =>
    sh(`ssh-keyscan -T 2 -t ed25519 ${host.address} 2>/dev/null`).then(
      (out) => out.includes(host.hostKey.split(' ')[1] ?? '-'),
      () => false,
    );
  if (!(await waitUntilAsync(presented, SETUP_TIMEOUT_MS)))
    throw new Error(`sshd on ${host.name} did not take its new host key: ${await hostLog(fleet, host.name)}`);
  return host.hostKey;
}

// ---------------------------------------------------------------------------------------------------

/**
 * unshare processes not yet exited. Once one has, neither its pid nor its PID 1's may be signalled again:
 * pids wrap at 32768 here and may already be another test's.
 */
const running = new Set<number>();

/** Resolves when a host's unshare process has exited and was reaped (so no zombie is left either). */
const exits = new Map<number, Promise<void>>();

/** Fleets of this process, torn down by the exit hook if a test never reached its own teardown. */
const live = new Set<Fleet>();
process.once('exit', () => {
  for (const fleet of live) {
    for (const host of fleet.hosts) {
      if (!running.has(host.unsharePid)) continue;
      killQuietly(host.unsharePid);
      killQuietly(host.initPid);
    }
    try {
      execFileSync('ip', ['link', 'del', fleet.bridge], { stdio: 'ignore', timeout: SYNC_TIMEOUT_MS });
    } catch {
      // already gone
    }
    rmSync(fleet.dir, { recursive: true, force: true });
  }
});

/** Starts one host and adds it to `fleet.hosts` (at once, so a failed start is still torn down). */
async function startHost(fleet: Fleet, slot: number, index: number, name: string): Promise<void> {
  const root = join(fleet.dir, name);
  const address = `198.18.${slot}.${10 + index}`;
  const link = `${fleet.bridge}h${index}`;
  for (const sub of ['sshd', 'etc', 'srv', 'tmp', `home/${USER}/.ssh`])
    await mkdir(join(root, sub), { recursive: true });
  await sh(`ssh-keygen -q -t ed25519 -N '' -C ${name} -f ${join(root, 'sshd', 'host_ed25519')}`);
  const hostKey = publicKeyOf(await readFile(join(root, 'sshd', 'host_ed25519.pub'), 'utf8'));
  await writeFile(
    join(root, 'sshd', 'sshd_config'),
    [
      'ListenAddress 0.0.0.0',
      'Port 22',
      'HostKey /run/fleet-host/host_ed25519',
      'PidFile none',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'AuthorizedKeysFile .ssh/authorized_keys',
      'AllowTcpForwarding yes',
      'PrintMotd no',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  // The login user exists only inside the hosts: copies of the machine's account files with it added.
  const etc = (file: string) => readFileSync(`/etc/${file}`, 'utf8').replace(/\n?$/, '\n');
  await writeFile(
    join(root, 'etc', 'passwd'),
    `${etc('passwd')}${USER}:x:${fleet.uid}:${fleet.uid}::${fleet.home}:/bin/bash\n`,
  );
  await writeFile(join(root, 'etc', 'group'), `${etc('group')}${USER}:x:${fleet.uid}:\n`);
  // `*`: no password, yet not a locked account (sshd refuses `!` accounts even for public keys).
  await writeFile(join(root, 'etc', 'shadow'), `${etc('shadow')}${USER}:*:19000:0:99999:7:::\n`, {
    mode: 0o640,
  });
  // The host knows its own name, as a real machine does: sudo (check --apply) resolves it on every call,
  // and without an entry that would be a DNS query leaving the host.
  await writeFile(join(root, 'etc', 'hosts'), `${etc('hosts')}${address} ${name}\n`);
  const home = join(root, 'home', USER);
  await writeFile(join(home, '.ssh', 'authorized_keys'), `${fleet.publicKey}\n`, { mode: 0o600 });
  for (const path of [home, join(home, '.ssh'), join(home, '.ssh', 'authorized_keys'), join(root, 'srv')])
    await chown(path, fleet.uid, fleet.uid);
  await chmod(join(home, '.ssh'), 0o700);
  await chmod(join(root, 'tmp'), 0o1777);
  // The simulator's wrappers run this checkout's dist/: a checkout under /tmp would be hidden by the host's
  // private /tmp, so it is bound at the same path inside it.
  const checkout = relative('/tmp', repoRoot);
  const checkoutInTmp = !checkout.startsWith('..') && !isAbsolute(checkout);
  if (checkoutInTmp) await mkdir(join(root, 'tmp', checkout), { recursive: true });
  // The host's own crontab spool, made as Debian's cron package makes it (crontab is setgid crontab).
  const cronSpool = existsSync('/var/spool/cron/crontabs');
  if (cronSpool) {
    await mkdir(join(root, 'cron', 'crontabs'), { recursive: true });
    const spool = await stat('/var/spool/cron/crontabs');
    await chown(join(root, 'cron', 'crontabs'), spool.uid, spool.gid);
    await chmod(join(root, 'cron', 'crontabs'), spool.mode & 0o7777);
  }

  // Inside the new namespaces: wait until the veth is moved in, then configure and become sshd.
  const init = [
    'set -eu',
    'read -r go',
    'ip link set lo up',
    `ip addr add ${address}/24 dev eth0`,
    'ip link set eth0 up',
    `ip route add default via ${fleet.gateway}`,
    `hostname ${name}`,
    'mount -t tmpfs -o mode=755 tmpfs /run',
    'mkdir -p /run/sshd /run/fleet-host',
    `mount --bind ${join(root, 'sshd')} /run/fleet-host`,
    // The account files through an overlay on /etc, not bind mounts on the files: a tool replacing
    // /etc/passwd on this machine (useradd renames a new file over it) detaches a file bind mount in every
    // namespace, and the login user would vanish from the host mid-test.
    'mkdir -p /run/fleet-etc/upper /run/fleet-etc/work',
    ...['passwd', 'group', 'shadow', 'hosts'].map(
      (file) => `cp -p ${join(root, 'etc', file)} /run/fleet-etc/upper/${file}`,
    ),
    'mount -t overlay fleet-etc -o lowerdir=/etc,upperdir=/run/fleet-etc/upper,workdir=/run/fleet-etc/work /etc',
    // Kept aside under /run before /tmp is covered, then put back at its own path.
    ...(checkoutInTmp
      ? ['mkdir -p /run/fleet-checkout', `mount --bind ${repoRoot} /run/fleet-checkout`]
      : []),
    // Before /tmp is covered: the host's own dirs live under this machine's /tmp.
    ...(cronSpool ? [`mount --bind ${join(root, 'cron')} /var/spool/cron`] : []),
    ...['srv', 'home', 'tmp'].map((dir) => `mount --bind ${join(root, dir)} /${dir}`),
    ...(checkoutInTmp ? [`mount --bind /run/fleet-checkout ${repoRoot}`] : []),
    'exec /usr/sbin/sshd -D -e -f /run/fleet-host/sshd_config </dev/null',
  ].join('\n');
  const log = openSync(join(fleet.dir, `${name}.log`), 'a');
  const child = spawn(
    'setpriv',
    [
      '--pdeathsig',
      'KILL',
      'unshare',
      '--net',
      '--uts',
      '--mount',
      '--pid',
      '--fork',
      '--mount-proc',
      '--propagation',
      'private',
      '--kill-child=SIGKILL',
      '/bin/sh',
      '-c',
      init,
    ],
    { stdio: ['pipe', log, log] },
  );
  closeSync(log);
  const unsharePid = child.pid;
  if (unsharePid === undefined) throw new Error(`could not start host ${name}`);
  child.unref();
  running.add(unsharePid);
  exits.set(
    unsharePid,
    new Promise((resolve) =>
      child.once('exit', () => {
        running.delete(unsharePid);
        resolve();
      }),
    ),
  );
  const host: FleetHost = { name, address, port: 22, hostKey, link, unsharePid, initPid: 0, root };
  fleet.hosts.push(host);
  // setpriv execs unshare, which enters the new namespaces before forking PID 1.
  const ownNet = netNamespace('self');
  if (!(await waitUntil(() => netNamespace(String(unsharePid)) !== ownNet, SETUP_TIMEOUT_MS)))
    throw new Error(`host ${name} did not enter its namespaces: ${await hostLog(fleet, name)}`);
  await sh(
    `ip link add ${link} type veth peer name eth0 netns ${unsharePid} && ip link set ${link} master ${fleet.bridge} up`,
  );
  child.stdin?.end('go\n');
  const initPid = await waitUntilValue(() => firstChild(unsharePid), SETUP_TIMEOUT_MS);
  if (initPid === undefined) throw new Error(`host ${name} has no PID 1: ${await hostLog(fleet, name)}`);
  host.initPid = initPid;
}

async function waitForSsh(fleet: Fleet, host: FleetHost): Promise<void> {
  const ready = await waitUntilAsync(() => sshBannerSeen(host.address, host.port), SETUP_TIMEOUT_MS);
  if (!ready)
    throw new Error(
      `sshd on ${host.name} (${host.address}) did not answer: ${await hostLog(fleet, host.name)}`,
    );
}

function sshBannerSeen(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('data', (data) => done(data.toString('latin1').startsWith('SSH-')));
    socket.once('error', () => done(false));
  });
}

async function hostLog(fleet: Fleet, name: string): Promise<string> {
  return (await readFile(join(fleet.dir, `${name}.log`), 'utf8').catch(() => '')).trim();
}

/** Claims a free bridge name (the kernel refuses a duplicate, so parallel test files never share one). */
function claimBridge(dir: string): { bridge: string; slot: number } {
  const start = Math.floor(Math.random() * 200);
  for (let i = 0; i < 200; i++) {
    const slot = ((start + i) % 200) + 1;
    const bridge = `${BRIDGE_PREFIX}${slot}`;
    try {
      execFileSync('ip', ['link', 'add', bridge, 'type', 'bridge'], {
        stdio: 'pipe',
        timeout: SYNC_TIMEOUT_MS,
      });
    } catch {
      continue;
    }
    try {
      const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe', timeout: SYNC_TIMEOUT_MS });
      ip('link', 'set', bridge, 'alias', `${ALIAS_PREFIX} ${process.pid} ${dir}`);
      ip('addr', 'add', `198.18.${slot}.1/24`, 'dev', bridge);
      ip('link', 'set', bridge, 'up');
    } catch (error) {
      // A bridge without its alias would never be swept: remove it now.
      try {
        execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore', timeout: SYNC_TIMEOUT_MS });
      } catch {
        // reported below
      }
      throw new Error(`could not set up fleet bridge ${bridge}: ${String(error)}`);
    }
    return { bridge, slot };
  }
  throw new Error('no free fleet bridge name');
}

/** Removes bridges (and temp dirs) of fleets whose test process is gone. */
function sweepAbandonedFleets(): void {
  let links: Array<{ ifname: string; ifalias?: string }>;
  try {
    links = JSON.parse(
      execFileSync('ip', ['-j', 'link', 'show', 'type', 'bridge'], {
        encoding: 'utf8',
        timeout: SYNC_TIMEOUT_MS,
      }),
    );
  } catch {
    return;
  }
  for (const link of links) {
    const [tag, pid, dir] = (link.ifalias ?? '').split(' ');
    if (tag !== ALIAS_PREFIX || pid === undefined || pidExists(Number(pid))) continue;
    try {
      execFileSync('ip', ['link', 'del', link.ifname], { stdio: 'ignore', timeout: SYNC_TIMEOUT_MS });
    } catch {
      // taken by another sweeper
    }
    if (dir?.startsWith(join(tmpdir(), 'mup-fleet-'))) rmSync(dir, { recursive: true, force: true });
  }
}

/** A uid not used on this machine, for the hosts' login user. */
function freeUid(): number {
  const used = new Set(
    readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((line) => Number(line.split(':')[2])),
  );
  for (let uid = 2742; uid < 2942; uid++) if (!used.has(uid)) return uid;
  throw new Error('no free uid for the fleet user');
}

function publicKeyOf(line: string): string {
  const [type, blob] = line.trim().split(/\s+/);
  return `${type} ${blob}`;
}

function netNamespace(pid: string): string | undefined {
  try {
    return execFileSync('readlink', [`/proc/${pid}/ns/net`], {
      encoding: 'utf8',
      timeout: SYNC_TIMEOUT_MS,
    }).trim();
  } catch {
    return undefined;
  }
}

function firstChild(pid: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return children === '' ? undefined : Number(children.split(' ')[0]);
  } catch {
    return undefined;
  }
}

function linkExists(name: string): boolean {
  try {
    execFileSync('ip', ['link', 'show', name], { stdio: 'ignore', timeout: SYNC_TIMEOUT_MS });
    return true;
  } catch {
    return false;
  }
}

function pidExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped by its parent) holds nothing.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** SIGKILL to a pid, or to a process group when negative. */
function killQuietly(pid: number): void {
  if (!Number.isInteger(pid) || pid === 0) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function sh(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // Its own process group, so that a timeout kills the commands the shell started too; and the promise
    // settles at the timeout whatever they do (a grandchild holding the pipes open must not hold us up).
    const child = spawn('/bin/sh', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    let err = '';
    let settled = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    const timer = setTimeout(() => {
      settled = true;
      if (child.pid !== undefined) killQuietly(-child.pid);
      child.stdout.destroy();
      child.stderr.destroy();
      reject(new Error(`${script}: did not finish within ${SETUP_TIMEOUT_MS} ms`));
    }, SETUP_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      if (!settled) reject(error);
      settled = true;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      if (code === 0) resolve(out);
      else reject(new Error(`${script}: exit ${code}: ${err.trim()}`));
    });
  });
}

async function waitUntil(test: () => boolean, timeoutMs: number): Promise<boolean> {
  return waitUntilAsync(async () => test(), timeoutMs);
}

async function waitUntilValue<T>(probe: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  let value: T | undefined;
  await waitUntil(() => {
    value = probe();
    return value !== undefined;
  }, timeoutMs);
  return value;
}

async function waitUntilAsync(test: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 10_000; attempt++) {
    if (await test()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
