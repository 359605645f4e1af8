// Per-version replication behaviour, derived once from the emulated server version ("7.0.14").
// Each flag cites the reference section that states the difference.

export interface ReplFeatures {
  readonly major: number;
  readonly minor: number;
  /** §3.2: `secondaryDelaySecs` from 5.0, `slaveDelay` before. */
  readonly delayField: 'secondaryDelaySecs' | 'slaveDelay';
  /** §3.2: config `term` exists from 4.4. */
  readonly configTerm: boolean;
  /** §3.6: non-force reconfig may change at most one voter from 4.4. */
  readonly oneVoterChange: boolean;
  /** §3.10: "not primary" wording and NotWritablePrimary codeName from 5.0. */
  readonly primaryWording: boolean;
  /** §2.4: topologyVersion and awaitable hello from 4.4. */
  readonly topologyVersion: boolean;
  /** §3.4: majorityVoteCount and friends in replSetGetStatus (4.2.1+). */
  readonly statusVoteCounts: boolean;
  /** §3.4: syncSourceHost/syncSourceId (backported to 3.6.6); syncingTo kept on 3.6 and 4.0–4.2. */
  readonly statusSyncingTo: boolean;
  /** §3.2: member _id limited to 0–255 before 5.0. */
  readonly memberIdMax: number;
  /** §3.2: more than one arbiter needs allowMultipleArbiters (newer versions). */
  readonly multipleArbitersNeedParameter: boolean;
  /** §3.2: unknown config fields: IDL messages from 4.4, hand-written parser before. */
  readonly idlConfigParser: boolean;
  /** §5.7: shutdown timeoutSecs default 10 before 5.0, 15 from 5.0. */
  readonly shutdownTimeoutSecsDefault: number;
  /** §3.4: replSetGetStatus electionCandidateMetrics from 4.2.1 (SERVER-41499 era; not on 4.0). */
  readonly electionCandidateMetrics: boolean;
}

export function replFeatures(version: string): ReplFeatures {
  const [maj, min, pat] = version.split('.').map((p) => Number.parseInt(p, 10));
  const major = maj ?? 0;
  const minor = min ?? 0;
  const patch = Number.isFinite(pat) ? (pat as number) : 0;
  const at = (M: number, m: number): boolean => major > M || (major === M && minor >= m);
  return {
    major,
    minor,
    delayField: at(5, 0) ? 'secondaryDelaySecs' : 'slaveDelay',
    configTerm: at(4, 4),
    oneVoterChange: at(4, 4),
    primaryWording: at(5, 0),
    topologyVersion: at(4, 4),
    statusVoteCounts: at(4, 2),
    statusSyncingTo: !at(4, 4),
    memberIdMax: at(5, 0) ? 2 ** 31 - 1 : 255,
    multipleArbitersNeedParameter: at(5, 3),
    idlConfigParser: at(4, 4),
    shutdownTimeoutSecsDefault: at(5, 0) ? 15 : 10,
    electionCandidateMetrics: at(4, 3) || (major === 4 && minor === 2 && patch >= 1),
  };
}
