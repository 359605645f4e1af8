// A cluster's boot entry on one host, through its Executor (so the same over SSH): a systemd unit where
// systemd is the init and mup may write system units (root), else an `@reboot` line in the deploy user's
// crontab. Installing and removing are idempotent; `status` says what the host holds.
import { MupError } from '../errors.js';
import type { Executor } from '../hosts/executor.js';
import {
  type BootSpec,
  crontabEntryOf,
  crontabWith,
  crontabWithout,
  renderSystemdUnit,
  systemdUnitName,
  systemdUnitPath,
} from '../render/boot.js';

export type BootMethod = 'systemd' | 'crontab';

export interface BootStatus {
  /** What starts the cluster's supervisord at boot, or 'none'. */
  method: BootMethod | 'none';
  /** The unit name, or the crontab line. */
  detail?: string;
}

export class BootEntryFailedError extends MupError {
  constructor(host: string, what: string, output: string) {
    super(`could not ${what} on ${host}: ${output.trim() || 'no output'}`, {
      hint: 'install cron (apt-get install cron) or deploy with --no-boot-start and start the cluster after a reboot with mup cluster start',
    });
  }
}

const TIMEOUT_MS = 30_000;

/** systemd is the running init (sd_booted: /run/systemd/system exists) and system units may be written. */
export async function chooseBootMethod(executor: Executor): Promise<BootMethod> {
  const systemd = await executor.run(
    '/bin/sh',
    ['-c', 'test -d /run/systemd/system && test "$(id -u)" = 0'],
    {
      timeoutMs: TIMEOUT_MS,
    },
  );
  return systemd.exitCode === 0 ? 'systemd' : 'crontab';
}

export async function installBootEntry(executor: Executor, spec: BootSpec): Promise<BootStatus> {
  const method = await chooseBootMethod(executor);
  if (method === 'systemd') {
    await executor.writeFile(systemdUnitPath(spec.cluster), renderSystemdUnit(spec), 0o644);
    await systemctl(executor, ['daemon-reload'], 'reload systemd units');
    // Enabled, not started: the daemon mup started runs already; the unit takes over at the next boot.
    await systemctl(executor, ['enable', systemdUnitName(spec.cluster)], 'enable the boot unit');
    return { method, detail: systemdUnitName(spec.cluster) };
  }
  await editCrontab(executor, (crontab) => crontabWith(crontab, spec));
  return { method, detail: crontabEntryOf(crontabWith('', spec), spec) ?? '' };
}

/** Removes whichever entry the host holds for the cluster; nothing there is fine. */
export async function removeBootEntry(
  executor: Executor,
  spec: Pick<BootSpec, 'cluster' | 'iniPath'>,
): Promise<string[]> {
  const removed: string[] = [];
  const unit = systemdUnitPath(spec.cluster);
  if (await executor.exists(unit)) {
    const text = (await executor.readFile(unit)).toString('utf8');
    // Only the unit of this cluster's supervisor.ini: a same-named cluster of another mup home keeps its own.
    if (text.includes(spec.iniPath)) {
      await executor.run('systemctl', ['disable', systemdUnitName(spec.cluster)], { timeoutMs: TIMEOUT_MS });
      await executor.remove(unit);
      await executor.run('systemctl', ['daemon-reload'], { timeoutMs: TIMEOUT_MS });
      removed.push(unit);
    }
  }
  if (await hasCrontab(executor)) {
    let had = false;
    await editCrontab(executor, (crontab) => {
      had = crontabEntryOf(crontab, spec) !== undefined;
      return crontabWithout(crontab, spec);
    });
    if (had) removed.push('crontab @reboot entry');
  }
  return removed;
}

// One command answers what bootStatus needs (over SSH each command is a round trip): the first line is
// `systemd` followed by `systemctl is-enabled`'s answer, or `crontab` followed by the user's crontab, or `none`.
const BOOT_STATUS_SCRIPT = [
  'if [ -e "$1" ]; then echo systemd; systemctl is-enabled "$2" 2>/dev/null; exit 0; fi',
  'if command -v crontab >/dev/null 2>&1; then echo crontab; crontab -l 2>/dev/null; exit 0; fi',
  'echo none',
].join('\n');

export async function bootStatus(
  executor: Executor,
  spec: Pick<BootSpec, 'cluster' | 'iniPath'>,
): Promise<BootStatus> {
  const unitName = systemdUnitName(spec.cluster);
  const found = await executor.run(
    '/bin/sh',
    ['-c', BOOT_STATUS_SCRIPT, 'mup-boot-status', systemdUnitPath(spec.cluster), unitName],
    { timeoutMs: TIMEOUT_MS },
  );
  const [kind, ...rest] = found.stdout.split('\n');
  if (found.exitCode !== 0 || kind === undefined)
    throw new BootEntryFailedError(executor.host, 'read the boot entry', found.stderr);
  if (kind === 'systemd')
    return { method: 'systemd', detail: `${unitName} (${rest.join('\n').trim() || 'unknown'})` };
  if (kind === 'crontab') {
    const entry = crontabEntryOf(rest.join('\n'), spec);
    if (entry !== undefined) return { method: 'crontab', detail: entry };
  }
  return { method: 'none' };
}

async function systemctl(executor: Executor, args: string[], what: string): Promise<void> {
  const result = await executor.run('systemctl', args, { timeoutMs: TIMEOUT_MS });
  if (result.exitCode !== 0) throw new BootEntryFailedError(executor.host, what, result.stderr);
}

async function hasCrontab(executor: Executor): Promise<boolean> {
  const found = await executor.run('/bin/sh', ['-c', 'command -v crontab'], { timeoutMs: TIMEOUT_MS });
  return found.exitCode === 0;
}

async function readCrontab(executor: Executor): Promise<string> {
  const listed = await executor.run('crontab', ['-l'], { timeoutMs: TIMEOUT_MS });
  // "no crontab for <user>" (exit 1) is an empty crontab.
  return listed.exitCode === 0 ? listed.stdout : '';
}

/**
 * Writes the user's crontab only if nobody changed it since it was read (another mup, another cluster's
 * deploy): the check and the write run under a per-user lock, and a lost race reads again (bounded).
 */
const WRITE_IF_UNCHANGED = [
  'current=$(crontab -l 2>/dev/null) || current=""',
  '[ "$current" = "$1" ] || exit 75',
  'new=$(cat)',
  'if [ -z "$new" ]; then crontab -r 2>/dev/null || true; else printf "%s\\n" "$new" | crontab -; fi',
].join('\n');

async function editCrontab(executor: Executor, edit: (crontab: string) => string): Promise<void> {
  if (!(await hasCrontab(executor)))
    throw new BootEntryFailedError(executor.host, 'add the @reboot entry', 'crontab is not installed');
  const uid = (await executor.run('id', ['-u'], { timeoutMs: TIMEOUT_MS })).stdout.trim();
  const lock = `/tmp/mup-crontab-${uid}.lock`;
  for (let attempt = 1; attempt <= 10; attempt++) {
    const before = await readCrontab(executor);
    const after = edit(before);
    if (after === before) return;
    // $(...) drops trailing newlines on both sides of the comparison.
    const result = await executor.run(
      'flock',
      ['-w', '30', lock, '/bin/sh', '-c', WRITE_IF_UNCHANGED, 'sh', before.replace(/\n+$/, '')],
      { timeoutMs: 60_000, input: after.replace(/\n+$/, '') },
    );
    if (result.exitCode === 0) return;
    if (result.exitCode !== 75)
      throw new BootEntryFailedError(executor.host, 'update the crontab', result.stderr);
  }
  throw new BootEntryFailedError(executor.host, 'update the crontab', 'it kept changing under mup');
}
