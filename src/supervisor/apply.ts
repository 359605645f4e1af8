// Applies a new supervisor.ini to a running daemon without touching unchanged programs:
// atomic write, reloadConfig (which only computes the diff), then per group: stop → removeProcessGroup,
// addProcessGroup, start. Never supervisor.restart / SIGHUP: they stop every program.
// The unit of change is supervisord's process group: a program outside any [group:] is its own group.
import { MupError } from '../errors.js';
import { withProgramAutostart } from '../render/supervisor-ini.js';
import type { SupervisorDaemon } from './daemon.js';
import { Fault, isFault, SupervisorFault } from './errors.js';
import { isRunningState, type ProcessInfo } from './process-info.js';
import { ProgramControl, type ProgramRef } from './programs.js';

export interface ApplyOptions {
  /**
   * Order in which changed groups are replaced (one at a time): a list (groups not in it follow in the
   * daemon's order) or a function of the changed group names, e.g. secondaries first, the primary last.
   */
  order?:
    | readonly string[]
    | ((changed: readonly string[]) => readonly string[] | Promise<readonly string[]>);
  /** Whether to start a group after it was (re)added. Default: changed groups that were running; added: no. */
  shouldStart?: (group: string, change: 'added' | 'changed', wasRunning: boolean) => boolean;
  /** Called before a changed group is stopped (e.g. step down a primary). */
  beforeReplace?: (group: string) => Promise<void>;
  /** Called after a changed group was started again (e.g. wait until the member is SECONDARY again). */
  afterReplace?: (group: string) => Promise<void>;
  /** Details of programs (startsecs, log files) for waits and failure reports, by program name. */
  programs?: ReadonlyMap<string, ProgramRef>;
}

export interface ApplyResult {
  added: string[];
  changed: string[];
  removed: string[];
  /** Groups whose processes were started by this apply (changed ones that ran before, or as chosen). */
  started: string[];
  /**
   * The daemon's own sections ([supervisord], [inet_http_server], [supervisorctl], ...) differ from the previous
   * file on disk. reloadConfig ignores them; they take effect only when the daemon is restarted, which stops every
   * program — plan it like a full cluster restart.
   */
  daemonSettingsChanged: boolean;
}

export class SupervisorConfigRejectedError extends MupError {
  constructor(detail: string, cause: unknown) {
    super(`supervisord rejected the new supervisor.ini: ${detail}`, {
      hint: 'the daemon keeps running with its previous configuration (restored on disk); fix the change and apply again',
      cause,
    });
  }
}

export async function applySupervisorConfig(
  daemon: SupervisorDaemon,
  iniText: string,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const client = await daemon.client();
  const control = new ProgramControl(client, daemon.executor);
  const previous = (await daemon.executor.exists(daemon.iniPath))
    ? (await daemon.executor.readFile(daemon.iniPath)).toString('utf8')
    : undefined;
  // `autostart` records the desired state for the daemon's next start and is rewritten without a reload, so it
  // may differ from what the daemon holds; supervisord counts such a program as changed, and replacing it
  // would restart it. The reload therefore sees the daemon's own values; the desired ones are written after.
  const held = new Map((await client.getAllConfigInfo()).map((c) => [c.name, c.autostart]));
  await daemon.writeConfig(withProgramAutostart(iniText, held));
  let diff: Awaited<ReturnType<typeof client.reloadConfig>>;
  try {
    diff = await client.reloadConfig();
  } catch (error) {
    if (error instanceof SupervisorFault && error.code === Fault.CANT_REREAD) {
      // Put the file the daemon runs with back, so a later daemon start does not trip over the bad one.
      if (previous !== undefined) await daemon.writeConfig(previous);
      throw new SupervisorConfigRejectedError(error.detail, error);
    }
    throw error;
  }
  const before = groupProcesses(await client.getAllProcessInfo());
  const refFor = (info: ProcessInfo): ProgramRef => ({
    ...options.programs?.get(info.name),
    name: info.name,
    group: info.group,
  });
  const stopGroup = async (group: string): Promise<void> => {
    await Promise.all((before.get(group) ?? []).map((info) => control.stop(refFor(info))));
  };
  const removeGroup = async (group: string): Promise<void> => {
    try {
      await client.removeProcessGroup(group);
    } catch (error) {
      if (!isFault(error, Fault.BAD_NAME)) throw error;
    }
  };
  const addGroup = async (group: string): Promise<void> => {
    try {
      await client.addProcessGroup(group);
    } catch (error) {
      if (!isFault(error, Fault.ALREADY_ADDED)) throw error;
    }
  };
  const startGroup = async (group: string): Promise<void> => {
    const infos = (await client.getAllProcessInfo()).filter((info) => info.group === group);
    await Promise.all(infos.map((info) => control.start(refFor(info))));
  };
  const shouldStart =
    options.shouldStart ??
    ((_group: string, change: 'added' | 'changed', wasRunning: boolean) =>
      change === 'changed' && wasRunning);
  const started: string[] = [];

  for (const group of diff.removed) {
    await stopGroup(group);
    await removeGroup(group);
  }
  for (const group of diff.added) {
    await addGroup(group);
    if (shouldStart(group, 'added', false)) {
      await startGroup(group);
      started.push(group);
    }
  }
  for (const group of await orderChanged(diff.changed, options.order)) {
    const wasRunning = (before.get(group) ?? []).some((info) => isRunningState(info.state));
    await options.beforeReplace?.(group);
    await stopGroup(group);
    await removeGroup(group);
    await addGroup(group);
    if (shouldStart(group, 'changed', wasRunning)) {
      await startGroup(group);
      started.push(group);
    }
    await options.afterReplace?.(group);
  }
  await daemon.writeConfig(iniText);
  return {
    added: diff.added,
    changed: diff.changed,
    removed: diff.removed,
    started,
    daemonSettingsChanged: previous !== undefined && daemonSections(previous) !== daemonSections(iniText),
  };
}

/** The non-program sections of an ini, normalised (comments and blank lines dropped), for comparison. */
function daemonSections(text: string): string {
  const kept: string[] = [];
  let inProgram = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    if (line.startsWith('[')) inProgram = /^\[(program|group):/.test(line);
    if (!inProgram) kept.push(line);
  }
  return kept.join('\n');
}

function groupProcesses(infos: readonly ProcessInfo[]): Map<string, ProcessInfo[]> {
  const groups = new Map<string, ProcessInfo[]>();
  for (const info of infos) groups.set(info.group, [...(groups.get(info.group) ?? []), info]);
  return groups;
}

async function orderChanged(changed: readonly string[], order: ApplyOptions['order']): Promise<string[]> {
  if (order === undefined) return [...changed];
  if (typeof order === 'function') {
    const chosen = [...(await order(changed))];
    const missing = changed.filter((group) => !chosen.includes(group));
    const unknown = chosen.filter((group) => !changed.includes(group));
    if (missing.length > 0 || unknown.length > 0) {
      throw new MupError(`the apply order must list exactly the changed groups (${changed.join(', ')})`);
    }
    return chosen;
  }
  const listed = order.filter((group) => changed.includes(group));
  return [...listed, ...changed.filter((group) => !listed.includes(group))];
}
