// Replica-set membership changes: find the primary, read its config, replSetReconfig with the rules of the
// 4.4+ safe reconfig (https://www.mongodb.com/docs/manual/reference/command/replSetReconfig/): at most one
// voting member added or removed per reconfig, and the next reconfig only once the previous config is
// committed — the server answers 308 CurrentConfigNotCommittedYet (109 ConfigurationInProgress before 7.0)
// meanwhile, which is waited out here. Also the initial-sync view of a joining member.
import type { Document } from 'mongodb';
import { MupError } from '../errors.js';
import { adminCommand, formatAddress, pollUntil, type ServerAddress, sleep } from './connect.js';

/** Codes a reconfig answers while the previous one is not committed, or while the primary is changing. */
const RETRYABLE_RECONFIG = new Set([
  109, // ConfigurationInProgress
  308, // CurrentConfigNotCommittedYet
  10107, // NotWritablePrimary
  11602, // InterruptedDueToReplStateChange
  189, // PrimarySteppedDown
  91, // ShutdownInProgress
]);

/** The member that answers hello as primary, or undefined when none does within `timeoutMs`. */
export async function findPrimary(
  members: readonly ServerAddress[],
  timeoutMs: number,
): Promise<ServerAddress | undefined> {
  return pollUntil(
    async () => {
      for (const member of members) {
        const reply = await adminCommand(member, { isMaster: 1 }, { timeoutMs: 2000 }).catch(() => undefined);
        if (reply?.ismaster === true && typeof reply.setName === 'string') return member;
      }
      return undefined;
    },
    timeoutMs,
    250,
  );
}

export async function replSetGetConfig(address: ServerAddress): Promise<Document> {
  const reply = await adminCommand(address, { replSetGetConfig: 1 }, { timeoutMs: 10_000 });
  return reply.config as Document;
}

export interface ReconfigResult {
  /** False when `change` found nothing to do. */
  changed: boolean;
  primary: string;
}

function codeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Reads the primary's config, lets `change` edit its members (returning false when the config already is as
 * wanted) and installs it with the next version. Retried, bounded by `timeoutMs`, while the previous config
 * is not committed yet or the primary moves; any other refusal (103, 104 NodeNotElectable ...) is thrown.
 */
export async function reconfigure(
  members: readonly ServerAddress[],
  change: (config: Document) => boolean,
  timeoutMs: number,
): Promise<ReconfigResult> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no primary found';
  for (let attempt = 1; Date.now() < deadline; attempt++) {
    const primary = await findPrimary(members, Math.max(1000, deadline - Date.now()));
    if (!primary) break;
    try {
      const config = await replSetGetConfig(primary);
      if (!change(config)) return { changed: false, primary: formatAddress(primary) };
      config.version = Number(config.version) + 1;
      await adminCommand(primary, { replSetReconfig: config, maxTimeMS: 60_000 }, { timeoutMs: 70_000 });
      return { changed: true, primary: formatAddress(primary) };
    } catch (error) {
      const code = codeOf(error);
      last = (error as Error).message;
      const network = /closed|ECONNRESET|network|timed out/i.test(last);
      if (code === undefined ? !network : !RETRYABLE_RECONFIG.has(code)) {
        throw new MupError(`replSetReconfig on ${formatAddress(primary)} was refused: ${last}`, {
          hint: 'the replica set keeps its previous config; see `mup cluster display` for its members',
          cause: error,
        });
      }
    }
    await sleep(Math.min(250 * attempt, 2000));
  }
  throw new MupError(
    `replSetReconfig did not succeed within ${Math.round(timeoutMs / 1000)}s (last: ${last})`,
    { hint: 'a majority of the voting members must be up and caught up for a reconfig to commit' },
  );
}

/** The config's member document for `host:port`, if any. */
export function memberOf(config: Document, address: ServerAddress): Document | undefined {
  const wanted = formatAddress(address);
  return ((config.members as Document[] | undefined) ?? []).find((m) => m.host === wanted);
}

/** One member's own state and, while it syncs from scratch, how far its initial sync is. */
export interface SyncView {
  state: string;
  /** "12.5 MiB of 100.0 MiB copied, 2 databases cloned" while in STARTUP2. */
  progress?: string;
}

function mib(bytes: unknown): string {
  return typeof bytes === 'number' ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : '? MiB';
}

export async function syncView(address: ServerAddress): Promise<SyncView> {
  const status = await adminCommand(address, { replSetGetStatus: 1, initialSync: 1 }, { timeoutMs: 3000 });
  const self = ((status.members as Document[] | undefined) ?? []).find((m) => m.self === true);
  const state = String(self?.stateStr ?? status.myState ?? 'UNKNOWN');
  const sync = status.initialSyncStatus as Document | undefined;
  if (!sync || state !== 'STARTUP2') return { state };
  const dbs = sync.databases as Document | undefined;
  const databases =
    typeof dbs?.databasesCloned === 'number' ? `, ${dbs.databasesCloned} databases cloned` : '';
  return {
    state,
    progress: `${mib(sync.approxTotalBytesCopied)} of ${mib(sync.approxTotalDataSize)} copied${databases}`,
  };
}

/** The member options a reconfig may change in place (arbiterOnly and buildIndexes cannot change). */
export interface ChangeableMemberOptions {
  priority: number;
  votes: number;
  hidden: boolean;
  secondaryDelaySecs: number;
  tags: Record<string, string>;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * Sets the options on a member document of a live config; true when something differed. The delay field is
 * `secondaryDelaySecs` from 5.0 and `slaveDelay` before (replSetGetConfig shows the version's own name).
 */
export function setMemberOptions(member: Document, options: ChangeableMemberOptions, major: number): boolean {
  const delayField = major >= 5 ? 'secondaryDelaySecs' : 'slaveDelay';
  const wanted: Document = {
    priority: options.priority,
    votes: options.votes,
    hidden: options.hidden,
    [delayField]: options.secondaryDelaySecs,
    tags: options.tags,
  };
  // What the server shows for a field it was never given: its default.
  const defaults: Document = { priority: 1, votes: 1, hidden: false, [delayField]: 0, tags: {} };
  let changed = false;
  for (const [key, value] of Object.entries(wanted)) {
    if (same(member[key] ?? defaults[key], value)) continue;
    member[key] = value;
    changed = true;
  }
  return changed;
}

/** MongoDB's defaults of the replica-set settings (repl_set_config.idl), for a setting taken out of the spec. */
const SETTING_DEFAULTS: Record<string, unknown> = {
  chainingAllowed: true,
  heartbeatIntervalMillis: 2000,
  heartbeatTimeoutSecs: 10,
  electionTimeoutMillis: 10_000,
  catchUpTimeoutMillis: -1,
  catchUpTakeoverDelayMillis: 30_000,
  getLastErrorModes: {},
  getLastErrorDefaults: { w: 1, wtimeout: 0 },
};

/** `writeConcernMajorityJournalDefault` sits beside `settings` in the config document, not inside it. */
export const TOP_LEVEL_SETTINGS = ['writeConcernMajorityJournalDefault'] as const;

/**
 * Brings a live config's settings from `from` to `to` (the spec's `replica_set_settings` of the set); a
 * setting taken out of the spec returns to MongoDB's default. True when something differed.
 */
export function setReplicaSetSettings(
  config: Document,
  from: Record<string, unknown>,
  to: Record<string, unknown>,
): boolean {
  const settings: Document = (config.settings as Document | undefined) ?? {};
  let changed = false;
  for (const key of new Set([...Object.keys(from), ...Object.keys(to)])) {
    const topLevel = (TOP_LEVEL_SETTINGS as readonly string[]).includes(key);
    const target = topLevel ? config : settings;
    const value = key in to ? to[key] : topLevel ? true : SETTING_DEFAULTS[key];
    if (value === undefined) {
      if (key in target) {
        delete target[key];
        changed = true;
      }
      continue;
    }
    if (same(target[key], value)) continue;
    target[key] = value;
    changed = true;
  }
  config.settings = settings;
  return changed;
}
