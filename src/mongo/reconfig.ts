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
