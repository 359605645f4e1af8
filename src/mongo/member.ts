// One replica-set member's view of itself: state and replication lag, read from replSetGetStatus.
import type { Document } from 'mongodb';
import { MupError } from '../errors.js';
import { adminCommand, formatAddress, pollUntil, type ServerAddress } from './connect.js';
import { stepDown } from './replset.js';

/** Lag at or below which a restarted member counts as caught up (optimeDate has second resolution). */
const CAUGHT_UP_LAG_MS = 2000;

function optimeMs(member: Document | undefined): number | undefined {
  const date = member?.optimeDate;
  return date instanceof Date ? date.getTime() : undefined;
}

/**
 * Waits until the member is PRIMARY/SECONDARY/ARBITER and, if a secondary, replicating from a sync source and
 * within CAUGHT_UP_LAG_MS of the primary.
 */
export async function waitForMemberReady(address: ServerAddress, timeoutMs: number): Promise<string> {
  let last = 'no answer';
  const state = await pollUntil(
    async () => {
      const status = await adminCommand(address, { replSetGetStatus: 1 }, { timeoutMs: 2000 });
      const members = (status.members as Document[] | undefined) ?? [];
      const self = members.find((m) => m.self === true);
      const primary = members.find((m) => m.stateStr === 'PRIMARY');
      const stateStr = String(self?.stateStr ?? 'UNKNOWN');
      last = stateStr;
      if (stateStr === 'ARBITER' || stateStr === 'PRIMARY') return stateStr;
      if (stateStr !== 'SECONDARY' || !primary) return undefined;
      // Replicating, not only caught up by chance: a member that has not chosen its sync source yet falls
      // behind with every write, and the next member of a rolling restart must not go down meanwhile.
      const source = status.syncSourceHost ?? status.syncingTo;
      if (source === '') {
        last = 'SECONDARY, no sync source yet';
        return undefined;
      }
      const lag = (optimeMs(primary) ?? 0) - (optimeMs(self) ?? 0);
      last = `SECONDARY, ${lag} ms behind the primary`;
      return lag <= CAUGHT_UP_LAG_MS ? stateStr : undefined;
    },
    timeoutMs,
    250,
  );
  if (!state) {
    throw new MupError(
      `${formatAddress(address)} did not become a healthy, caught-up member within ${Math.round(timeoutMs / 1000)}s (last: ${last})`,
    );
  }
  return state;
}

export async function isPrimary(address: ServerAddress): Promise<boolean> {
  const reply = await adminCommand(address, { isMaster: 1 }, { timeoutMs: 3000 });
  return reply.ismaster === true && typeof reply.setName === 'string';
}

/** Steps the member down if it is primary and waits until another member is primary. */
export async function moveAwayPrimary(
  address: ServerAddress,
  others: ServerAddress[],
  timeoutMs: number,
): Promise<string | undefined> {
  if (!(await isPrimary(address))) return undefined;
  await stepDown(address);
  const elected = await pollUntil(
    async () => {
      for (const other of others) {
        if (await isPrimary(other).catch(() => false)) return formatAddress(other);
      }
      return undefined;
    },
    timeoutMs,
    250,
  );
  if (!elected)
    throw new MupError(
      `no other member of ${formatAddress(address)}'s replica set became primary within ${Math.round(timeoutMs / 1000)}s after stepDown`,
    );
  return elected;
}

/** The server parameter bounding step-down plus quiesce mode after SIGTERM (MongoDB 5.0+; 15 s by default). */
const SIGNALED_SHUTDOWN_PARAMETER = {
  mongod: 'shutdownTimeoutMillisForSignaledShutdown',
  mongos: 'mongosShutdownTimeoutMillisForSignaledShutdown',
} as const;

/**
 * Sets, until the process exits, how long a 5.0+ mongod or mongos may spend stepping down and in quiesce mode
 * once it gets SIGTERM. Best effort: resolves to the value it replaced (setParameter's `was`), or undefined
 * when the server could not be asked; the stop goes on either way.
 */
export async function limitSignaledShutdown(
  address: ServerAddress,
  program: keyof typeof SIGNALED_SHUTDOWN_PARAMETER,
  ms: number,
): Promise<number | undefined> {
  return adminCommand(
    address,
    { setParameter: 1, [SIGNALED_SHUTDOWN_PARAMETER[program]]: ms },
    { timeoutMs: 3000 },
  ).then(
    (reply) => (typeof reply.was === 'number' ? reply.was : undefined),
    () => undefined,
  );
}
