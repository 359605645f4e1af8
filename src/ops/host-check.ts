// What `mup cluster check` learns about a host and how it judges it. The facts come from one shell script run
// on the host (POSIX sh, so the same text works locally and over SSH); everything after that is pure, so each
// verdict is unit-tested from facts alone. Thresholds follow MongoDB's production notes: open files and
// processes 64000 (the manual's ulimit page), transparent huge pages enabled from 8.0 and disabled before
// (TCMalloc per-CPU caches in 8.0), vm.swappiness 0 or 1.
import { describePlatform, hostPlatform } from '../binaries/platform.js';
import { hostRelease } from '../binaries/targets.js';
import { isAtLeast, parseMongoVersion } from '../render/mongo-version.js';

export type CheckStatus = 'pass' | 'warn' | 'fail';

/** The checks, in the order they are shown. */
export const CHECK_NAMES = [
  'ssh',
  'host-key',
  'os',
  'glibc',
  'python3',
  'supervisord',
  'ports',
  'dirs',
  'disk',
  'nofile',
  'nproc',
  'thp',
  'swappiness',
  'clock',
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

export interface CheckRow {
  host: string;
  check: CheckName;
  status: CheckStatus;
  detail: string;
  /** What to do about a warn or fail. */
  hint?: string;
  /** What `--apply` did for this row, or why it changed nothing. */
  applied?: string;
}

export type Limit = number | 'unlimited';

export interface DirFact {
  /** A dir the cluster uses on the host. */
  path: string;
  /** The dir itself, or its deepest existing parent. */
  nearest: string;
  nearestIsDir: boolean;
  /** The login user may create entries in `nearest`. */
  writable: boolean;
  /** Free space (KiB) of the file system holding `nearest`; undefined when df could not tell. */
  availKiB?: number;
}

export interface HostFacts {
  os: string;
  arch: string;
  osRelease?: string;
  /** `getconf GNU_LIBC_VERSION`, e.g. "glibc 2.36"; empty when the C library is not glibc. */
  glibc: string;
  python3: string;
  uid: number;
  /** `sudo -n true` works: root commands can be run without a password. */
  sudo: boolean;
  nofile?: { soft: Limit; hard: Limit };
  nproc?: { soft: Limit; hard: Limit };
  /** /sys/kernel/mm/transparent_hugepage/enabled as read, e.g. "always [madvise] never". */
  thp?: string;
  swappiness?: number;
  dirs: DirFact[];
}

export const RECOMMENDED_LIMIT = 64_000;
/** Below this the data dir's file system cannot hold a useful database: fail. */
export const DISK_FAIL_KIB = 1024 * 1024;
/** Below this, warn: MongoDB's journal and a few collections fit, a real data set may not. */
export const DISK_WARN_KIB = 10 * 1024 * 1024;
/** Clock difference to this machine beyond which a host is flagged (after the round trip is allowed for). */
export const CLOCK_SKEW_WARN_MS = 1000;

export const THP_FILE = '/sys/kernel/mm/transparent_hugepage/enabled';
export const SWAPPINESS_FILE = '/proc/sys/vm/swappiness';

/**
 * The fact-gathering script. Positional arguments: the dirs to look at. Output: `key=value` lines, `dir=` lines
 * with tab-separated fields, and os-release lines prefixed `osr:`. Reads only.
 */
export const FACTS_SCRIPT = [
  'export LC_ALL=C',
  'echo "os=$(uname -s)"',
  'echo "arch=$(uname -m)"',
  'echo "uid=$(id -u)"',
  'echo "glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null)"',
  'echo "python3=$(command -v python3 2>/dev/null)"',
  'if sudo -n true >/dev/null 2>&1; then echo sudo=yes; fi',
  // dash has no `ulimit -u`: /proc/self/limits has both limits (Linux); elsewhere the open-files one only.
  'if [ -r /proc/self/limits ]; then',
  '  awk \'/^Max open files/ {print "nofile=" $4 " " $5} /^Max processes/ {print "nproc=" $3 " " $4}\' /proc/self/limits',
  'else',
  '  echo "nofile=$(ulimit -Sn) $(ulimit -Hn)"',
  'fi',
  `if [ -r ${THP_FILE} ]; then echo "thp=$(cat ${THP_FILE})"; fi`,
  `if [ -r ${SWAPPINESS_FILE} ]; then echo "swappiness=$(cat ${SWAPPINESS_FILE})"; fi`,
  'for d in "$@"; do',
  '  n=$d; i=0',
  '  while [ ! -e "$n" ] && [ $i -lt 256 ]; do n=$(dirname "$n"); i=$((i+1)); done',
  '  if [ -d "$n" ]; then isdir=1; else isdir=0; fi',
  '  if [ -d "$n" ] && [ -w "$n" ] && [ -x "$n" ]; then w=1; else w=0; fi',
  '  avail=$(df -Pk "$n" 2>/dev/null | awk \'NR==2 {print $4}\')',
  '  printf "dir=%s\\t%s\\t%s\\t%s\\t%s\\n" "$d" "$n" "$isdir" "$w" "$avail"',
  'done',
  'for f in /etc/os-release /usr/lib/os-release; do',
  '  if [ -r "$f" ]; then sed "s/^/osr:/" "$f"; break; fi',
  'done',
].join('\n');

function parseLimit(text: string | undefined): Limit | undefined {
  if (text === undefined) return undefined;
  if (text === 'unlimited' || text === 'infinity') return 'unlimited';
  const value = Number(text);
  return Number.isInteger(value) && value >= 0 ? value : undefined;
}

function parseLimits(text: string | undefined): { soft: Limit; hard: Limit } | undefined {
  const [soft, hard] = (text ?? '').trim().split(/\s+/).map(parseLimit);
  return soft === undefined || hard === undefined ? undefined : { soft, hard };
}

/** Reads the facts script's output. */
export function parseFacts(output: string): HostFacts {
  const values = new Map<string, string>();
  const dirs: DirFact[] = [];
  const osRelease: string[] = [];
  for (const line of output.split('\n')) {
    if (line.startsWith('osr:')) {
      osRelease.push(line.slice(4));
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'dir') {
      const [path, nearest, isDir, writable, avail] = value.split('\t');
      if (path === undefined || nearest === undefined) continue;
      const availKiB = Number(avail);
      dirs.push({
        path,
        nearest,
        nearestIsDir: isDir === '1',
        writable: writable === '1',
        ...(avail !== undefined && avail !== '' && Number.isFinite(availKiB) ? { availKiB } : {}),
      });
      continue;
    }
    values.set(key, value.trim());
  }
  const swappiness = Number(values.get('swappiness'));
  const nofile = parseLimits(values.get('nofile'));
  const nproc = parseLimits(values.get('nproc'));
  const thp = values.get('thp');
  return {
    os: values.get('os') ?? '',
    arch: values.get('arch') ?? '',
    ...(osRelease.length === 0 ? {} : { osRelease: `${osRelease.join('\n')}\n` }),
    glibc: values.get('glibc') ?? '',
    python3: values.get('python3') ?? '',
    uid: Number(values.get('uid') ?? '-1'),
    sudo: values.get('sudo') === 'yes',
    ...(nofile === undefined ? {} : { nofile }),
    ...(nproc === undefined ? {} : { nproc }),
    ...(thp === undefined || thp === '' ? {} : { thp }),
    ...(values.has('swappiness') && Number.isInteger(swappiness) ? { swappiness } : {}),
    dirs,
  };
}

type Verdict = Omit<CheckRow, 'host'>;

/** The OS/arch row: a platform MongoDB builds for, and which build family the host takes. */
export function judgeOs(facts: HostFacts): Verdict {
  let platform: ReturnType<typeof hostPlatform>;
  try {
    platform = hostPlatform(facts.os, facts.arch, facts.osRelease);
  } catch (error) {
    return {
      check: 'os',
      status: 'fail',
      detail: `${facts.os} ${facts.arch}: ${(error as Error).message}`,
      hint: 'MongoDB runs on Linux (x86_64, arm64) and macOS',
    };
  }
  const described = describePlatform(platform);
  if (platform.os === 'darwin') return { check: 'os', status: 'pass', detail: `${described} → macos builds` };
  const release = platform.distro === undefined ? undefined : hostRelease(platform.distro);
  if (release === undefined)
    return {
      check: 'os',
      status: 'warn',
      detail: `${described}: not a distribution MongoDB publishes builds for`,
      hint: 'deploy with --target <a MongoDB build target> or --binary-path; see `mup mongo list-remote`',
    };
  return {
    check: 'os',
    status: 'pass',
    detail: `${described} → ${release.family} ${release.version.join('.')} builds`,
  };
}

export function judgeGlibc(facts: HostFacts): Verdict {
  if (facts.os.toLowerCase() !== 'linux') return { check: 'glibc', status: 'pass', detail: 'not Linux' };
  if (/^glibc \d/.test(facts.glibc)) return { check: 'glibc', status: 'pass', detail: facts.glibc };
  return {
    check: 'glibc',
    status: 'fail',
    detail: 'the C library is not glibc (musl?)',
    hint: "MongoDB's Linux builds need glibc: use a glibc distribution (Debian, Ubuntu, RHEL ...)",
  };
}

export function judgePython(facts: HostFacts): Verdict {
  if (facts.python3.startsWith('/')) return { check: 'python3', status: 'pass', detail: facts.python3 };
  return {
    check: 'python3',
    status: 'fail',
    detail: 'python3 is not on PATH',
    hint: 'install python3 (supervisord runs on it; mup probes ports with it)',
  };
}

function limitText(limit: Limit): string {
  return limit === 'unlimited' ? 'unlimited' : String(limit);
}

function below(limit: Limit, minimum: number): boolean {
  return limit !== 'unlimited' && limit < minimum;
}

/**
 * Open files: supervisord raises its programs' soft limit to min(64000, hard) (`minfds`), so the hard limit
 * is what bounds mongod.
 */
export function judgeNofile(facts: HostFacts): Verdict {
  if (facts.nofile === undefined)
    return { check: 'nofile', status: 'warn', detail: 'the open-files limit could not be read' };
  const { soft, hard } = facts.nofile;
  const detail = `open files: soft ${limitText(soft)}, hard ${limitText(hard)}`;
  if (below(hard, RECOMMENDED_LIMIT))
    return {
      check: 'nofile',
      status: 'warn',
      detail: `${detail} (mongod gets at most ${limitText(hard)}; ${RECOMMENDED_LIMIT} recommended)`,
      hint: `raise the login user's nofile limit to ${RECOMMENDED_LIMIT} (/etc/security/limits.conf) and log in again`,
    };
  return { check: 'nofile', status: 'pass', detail };
}

/** Processes/threads: mongod starts a thread per connection and inherits the login's soft limit. */
export function judgeNproc(facts: HostFacts): Verdict {
  if (facts.nproc === undefined)
    return { check: 'nproc', status: 'pass', detail: 'no per-user process limit on this system' };
  const { soft, hard } = facts.nproc;
  const detail = `processes: soft ${limitText(soft)}, hard ${limitText(hard)}`;
  if (below(soft, RECOMMENDED_LIMIT))
    return {
      check: 'nproc',
      status: 'warn',
      detail: `${detail} (${RECOMMENDED_LIMIT} recommended)`,
      hint: `raise the login user's nproc limit to ${RECOMMENDED_LIMIT} (/etc/security/limits.conf) and log in again`,
    };
  return { check: 'nproc', status: 'pass', detail };
}

/** The value in brackets of a sysfs choice file ("always [madvise] never" → madvise). */
export function selectedChoice(text: string): string | undefined {
  return /\[([^\]]+)\]/.exec(text)?.[1];
}

/** THP setting MongoDB recommends for a version: enabled from 8.0 (new TCMalloc), disabled before. */
export function wantedThp(version: string): 'always' | 'never' {
  return isAtLeast(parseMongoVersion(version), '8.0.0') ? 'always' : 'never';
}

export function judgeThp(facts: HostFacts, version: string): Verdict {
  if (facts.thp === undefined)
    return { check: 'thp', status: 'pass', detail: 'no transparent huge pages on this system' };
  const current = selectedChoice(facts.thp) ?? facts.thp;
  const wanted = wantedThp(version);
  const detail = `transparent huge pages: ${current}`;
  if (current === wanted) return { check: 'thp', status: 'pass', detail };
  return {
    check: 'thp',
    status: 'warn',
    detail: `${detail}; MongoDB ${version} wants ${wanted}`,
    hint: `echo ${wanted} > ${THP_FILE} as root, and at boot (on remote hosts --apply does it with root or sudo)`,
  };
}

export function judgeSwappiness(facts: HostFacts): Verdict {
  if (facts.swappiness === undefined)
    return { check: 'swappiness', status: 'pass', detail: 'no vm.swappiness on this system' };
  const detail = `vm.swappiness ${facts.swappiness}`;
  if (facts.swappiness <= 1) return { check: 'swappiness', status: 'pass', detail };
  return {
    check: 'swappiness',
    status: 'warn',
    detail: `${detail} (0 or 1 recommended)`,
    hint: 'sysctl -w vm.swappiness=1 as root, and in /etc/sysctl.conf (on remote hosts --apply does it with root or sudo)',
  };
}

export interface DirVerdicts {
  dirs: Verdict;
  disk: Verdict;
  /** Dirs that do not exist yet and that the login user can create (what --apply creates). */
  creatable: string[];
}

function gib(kib: number): string {
  return `${(kib / 1024 / 1024).toFixed(1)} GiB`;
}

/** Dirs writable (or creatable) by the login user; free space where the data dirs go. */
export function judgeDirs(facts: HostFacts, dataDirs: readonly string[]): DirVerdicts {
  const problems: string[] = [];
  const creatable: string[] = [];
  for (const dir of facts.dirs) {
    if (!dir.nearestIsDir) problems.push(`${dir.path}: ${dir.nearest} is not a directory`);
    else if (!dir.writable)
      problems.push(
        dir.nearest === dir.path
          ? `${dir.path} is not writable`
          : `${dir.path}: ${dir.nearest} is not writable`,
      );
    else if (dir.nearest !== dir.path) creatable.push(dir.path);
  }
  const dirs: Verdict =
    problems.length > 0
      ? {
          check: 'dirs',
          status: 'fail',
          detail: problems.join('; '),
          hint: 'create the dirs for the login user, or give it write access to their parent (chown)',
        }
      : {
          check: 'dirs',
          status: 'pass',
          detail:
            creatable.length === 0
              ? `${facts.dirs.length} dirs writable`
              : `${facts.dirs.length - creatable.length} writable, ${creatable.length} to be created (parent writable)`,
        };
  const measured = facts.dirs.filter((d) => dataDirs.includes(d.path) && d.availKiB !== undefined);
  const smallest = measured.reduce<DirFact | undefined>(
    (min, d) => (min === undefined || (d.availKiB ?? 0) < (min.availKiB ?? 0) ? d : min),
    undefined,
  );
  let disk: Verdict;
  if (smallest?.availKiB === undefined)
    disk = {
      check: 'disk',
      status: 'pass',
      detail: dataDirs.length === 0 ? 'no data dirs' : 'free space unknown',
    };
  else {
    const detail = `${gib(smallest.availKiB)} free at ${smallest.nearest}`;
    disk =
      smallest.availKiB < DISK_FAIL_KIB
        ? {
            check: 'disk',
            status: 'fail',
            detail: `${detail} (at least ${gib(DISK_FAIL_KIB)} needed)`,
            hint: 'free space there or put data_dir on a larger file system',
          }
        : smallest.availKiB < DISK_WARN_KIB
          ? {
              check: 'disk',
              status: 'warn',
              detail: `${detail} (under ${gib(DISK_WARN_KIB)})`,
              hint: 'make sure the data set fits',
            }
          : { check: 'disk', status: 'pass', detail };
  }
  return { dirs, disk, creatable };
}

/**
 * Clock difference: the host's time against the middle of the round trip that read it; only the part beyond
 * half the round trip counts, since the reading happened somewhere within it.
 */
export function judgeClock(hostMs: number, sentMs: number, receivedMs: number): Verdict {
  const skew = hostMs - (sentMs + receivedMs) / 2;
  const slack = (receivedMs - sentMs) / 2;
  const shown = `${skew >= 0 ? '+' : ''}${Math.round(skew)} ms vs this machine (±${Math.round(slack)} ms)`;
  if (Math.abs(skew) - slack > CLOCK_SKEW_WARN_MS)
    return {
      check: 'clock',
      status: 'warn',
      detail: shown,
      hint: 'run a time service (chrony, systemd-timesyncd) on every host: replica-set timeouts and logs assume close clocks',
    };
  return { check: 'clock', status: 'pass', detail: shown };
}

/** `date +%s.%N` output (GNU) in ms; a date without %N (BSD prints `N`) gives whole seconds. */
export function parseHostTime(text: string): number | undefined {
  const match = /^(\d+)(?:\.(\d+))?/.exec(text.trim());
  if (match === null) return undefined;
  const fraction = match[2] === undefined ? 0 : Number(`0.${match[2]}`);
  return (Number(match[1]) + fraction) * 1000;
}
