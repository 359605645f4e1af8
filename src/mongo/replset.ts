// Replica-set administration: initiate, wait for a primary and healthy members, step down.
// Member states and codes: https://www.mongodb.com/docs/manual/reference/replica-states/
import type { Document } from 'mongodb';
import { MupError } from '../errors.js';
import type { MemberOptions } from '../topology/types.js';
import { adminCommand, formatAddress, pollUntil, type ServerAddress } from './connect.js';

export interface ReplicaSetMemberSpec extends ServerAddress {
  options: MemberOptions;
}

/** The replSetInitiate config document: members in topology order with their options. */
export function buildReplicaSetConfig(
  name: string,
  members: ReplicaSetMemberSpec[],
  settings: Record<string, unknown>,
  options: { configsvr: boolean; version: string },
): Document {
  const major = Number(options.version.split('.')[0]);
  // writeConcernMajorityJournalDefault is a field of the config document itself, beside `settings`.
  const { writeConcernMajorityJournalDefault, ...inner } = settings;
  return {
    _id: name,
    // Servers default a missing version to 1; sending it keeps the document explicit.
    version: 1,
    ...(options.configsvr ? { configsvr: true } : {}),
    members: members.map((member, index) => {
      const o = member.options;
      const doc: Document = { _id: index, host: formatAddress(member) };
      if (o.arbiterOnly) doc.arbiterOnly = true;
      if (o.priority !== 1) doc.priority = o.priority;
      if (o.votes !== 1) doc.votes = o.votes;
      if (o.hidden) doc.hidden = true;
      // secondaryDelaySecs replaced slaveDelay in 5.0.
      if (o.secondaryDelaySecs > 0)
        doc[major >= 5 ? 'secondaryDelaySecs' : 'slaveDelay'] = o.secondaryDelaySecs;
      if (!o.buildIndexes) doc.buildIndexes = false;
      if (Object.keys(o.tags).length > 0) doc.tags = o.tags;
      return doc;
    }),
    ...(writeConcernMajorityJournalDefault === undefined ? {} : { writeConcernMajorityJournalDefault }),
    ...(Object.keys(inner).length > 0 ? { settings: inner } : {}),
  };
}

export async function replSetStatus(address: ServerAddress, timeoutMs = 5000): Promise<Document> {
  return adminCommand(address, { replSetGetStatus: 1 }, { timeoutMs });
}

/** True when the member already belongs to an initiated replica set. */
export async function isInitiated(address: ServerAddress): Promise<boolean> {
  const reply = await adminCommand(address, { isMaster: 1 });
  return typeof reply.setName === 'string';
}

export async function initiateReplicaSet(address: ServerAddress, config: Document): Promise<void> {
  await adminCommand(address, { replSetInitiate: config }, { timeoutMs: 60_000 });
}

export interface HealthyWaitOptions {
  /**
   * The member to ask for an election (replSetStepUp) once every member is SECONDARY or ARBITER and none is
   * primary. Left alone, the first election waits for a member's election timer: electionTimeoutMillis
   * (10 s by default) plus a random offset, after every initiate and every start of a stopped set.
   */
  stepUp?: ServerAddress;
}

// A refused or failed step-up is retried no sooner than this; the natural election still happens meanwhile.
const STEP_UP_RETRY_MS = 2000;

/** Waits until some member reports itself primary and every member is PRIMARY, SECONDARY or ARBITER. */
export async function waitForHealthyReplicaSet(
  setName: string,
  members: ServerAddress[],
  timeoutMs: number,
  options: HealthyWaitOptions = {},
): Promise<{ primary: string }> {
  let lastSeen = 'no member answered';
  let lastStepUp = 0;
  const result = await pollUntil(
    async () => {
      // Each member's own state: a member knows it is SECONDARY before the others hear of it (heartbeats
      // come every 2 s), so waiting for one member's view of all would delay the step-up by up to that.
      const selfStates: string[] = [];
      let primarySeen = false;
      for (const member of members) {
        let status: Document;
        try {
          status = await replSetStatus(member, 2000);
        } catch (error) {
          lastSeen = `${formatAddress(member)}: ${(error as Error).message}`;
          continue;
        }
        const states = (status.members as Document[] | undefined) ?? [];
        const primary = states.find((m) => m.stateStr === 'PRIMARY');
        const unhealthy = states.filter(
          (m) => !['PRIMARY', 'SECONDARY', 'ARBITER'].includes(String(m.stateStr)),
        );
        lastSeen = states.map((m) => `${m.name} ${m.stateStr}`).join(', ');
        if (primary && unhealthy.length === 0 && states.length === members.length)
          return { primary: String(primary.name) };
        if (primary) primarySeen = true;
        const self = states.find((m) => m.self === true);
        if (self) selfStates.push(String(self.stateStr));
      }
      const allReady =
        selfStates.length === members.length &&
        selfStates.every((state) => state === 'SECONDARY' || state === 'ARBITER');
      if (allReady && !primarySeen && options.stepUp && Date.now() - lastStepUp >= STEP_UP_RETRY_MS) {
        lastStepUp = Date.now();
        await requestStepUp(options.stepUp);
      }
      return undefined;
    },
    timeoutMs,
    // A round is a replSetGetStatus per member on loopback or a LAN: cheap next to a user waiting.
    100,
  );
  if (!result) {
    throw new MupError(
      `replica set ${setName} did not become healthy within ${Math.round(timeoutMs / 1000)}s (last seen: ${lastSeen})`,
      {
        hint: "check the members' logs with `mup cluster logs <cluster> -N <host:port>`",
      },
    );
  }
  return result;
}

/**
 * Asks a SECONDARY to stand for election now. Best effort: a member that is not electable, or loses, answers
 * with an error and the set elects a primary on its own.
 */
async function requestStepUp(member: ServerAddress): Promise<void> {
  await adminCommand(member, { replSetStepUp: 1 }, { timeoutMs: 10_000 }).catch(() => undefined);
}

/** Asks the primary to step down and waits until another member is primary. */
export async function stepDown(primary: ServerAddress, seconds = 60): Promise<void> {
  try {
    await adminCommand(
      primary,
      { replSetStepDown: seconds, secondaryCatchUpPeriodSecs: 30 },
      { timeoutMs: 45_000 },
    );
  } catch (error) {
    // Servers before 4.2 close every connection on stepdown, so the reply can be a network error.
    const message = (error as Error).message;
    if (!/closed|ECONNRESET|network/i.test(message)) throw error;
  }
}
