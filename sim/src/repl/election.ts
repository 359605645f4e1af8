// PV1 elections over the wire (§3.9): a dry run at the current term, then the real election at term+1
// with our own vote persisted first; the winner becomes PRIMARY, writes the "new primary" no-op in its
// term and only then accepts writes ("Transition to primary complete").
import { type Document, Long } from 'bson';
import { isVoter } from './config.js';
import { MemberState } from './member-state.js';
import { numberOf, opTimeToBson } from './optime.js';
import type { ReplSetRole } from './role.js';
import type { ElectionReason } from './topology.js';

interface Tally {
  granted: number;
  higherTerm: number;
}

async function requestVotes(role: ReplSetRole, dryRun: boolean, term: number): Promise<Tally> {
  const topo = role.topo;
  const config = topo.config;
  const tally: Tally = { granted: 0, higherTerm: -1 };
  if (!config) return tally;
  const self = config.members[topo.selfIndex];
  if (self && isVoter(self)) tally.granted++;
  const needed = topo.votesNeeded();
  const body: Document = {
    replSetRequestVotes: 1,
    setName: config.setName,
    dryRun,
    term: Long.fromNumber(term),
    candidateIndex: Long.fromNumber(topo.selfIndex),
    configVersion: Long.fromNumber(config.version),
    ...(role.features.configTerm ? { configTerm: Long.fromNumber(config.term) } : {}),
    lastAppliedOpTime: opTimeToBson(topo.myApplied),
  };
  const voters = config.members.filter((m, i) => i !== topo.selfIndex && isVoter(m));
  if (tally.granted >= needed) return tally;
  const timeout = config.settings.electionTimeoutMillis;
  await new Promise<void>((resolve) => {
    let outstanding = voters.length;
    if (outstanding === 0) resolve();
    for (const m of voters) {
      role.peers
        .run(m.host, 'election', body, timeout)
        .then((reply) => {
          const t = numberOf(reply.term);
          if (t !== null && t > tally.higherTerm) tally.higherTerm = t;
          if (reply.voteGranted === true) tally.granted++;
          else if (typeof reply.reason === 'string') {
            role.logRepl('I', 51799, 'Vote not granted', { from: m.host, reason: reply.reason }, 'ELECTION');
          }
        })
        .catch(() => undefined)
        .finally(() => {
          outstanding--;
          if (outstanding === 0 || tally.granted >= needed) resolve();
        });
    }
  });
  return tally;
}

async function catchUp(role: ReplSetRole, term: number): Promise<void> {
  const topo = role.topo;
  const timeout = topo.config?.settings.catchUpTimeoutMillis ?? -1;
  if (timeout === 0 || topo.caughtUp(Date.now())) return;
  role.logRepl('I', 21359, 'Entering primary catch-up mode');
  const deadline = timeout < 0 ? Number.POSITIVE_INFINITY : Date.now() + timeout;
  while (topo.state === MemberState.PRIMARY && topo.term === term && !topo.caughtUp(Date.now())) {
    if (Date.now() >= deadline) {
      role.logRepl('I', 21363, 'Catchup timed out');
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  role.logRepl('I', 21364, 'Caught up to the latest optime known via heartbeats');
}

/** The reason replSetGetStatus reports: a step-up request without a dry run is told apart. */
function metricsReason(reason: ElectionReason, skipDryRun: boolean): ElectionReason {
  return reason === 'stepUpRequest' && skipDryRun ? 'stepUpRequestSkipDryRun' : reason;
}

/**
 * Runs one election; returns true when this node became primary. `role.electionDecided` resolves as soon
 * as the votes are counted (won: PRIMARY, before catch-up), which is when replSetStepUp answers.
 */
export async function runElection(
  role: ReplSetRole,
  reason: ElectionReason,
  skipDryRun: boolean,
): Promise<boolean> {
  const topo = role.topo;
  if (role.electionInProgress || !topo.config) return false;
  if (topo.electableReason(Date.now()) !== null) return false;
  role.electionInProgress = true;
  topo.candidate = true;
  let decide = (): void => {};
  role.electionDecided = new Promise<void>((resolve) => {
    decide = resolve;
  });
  try {
    role.logRepl('I', 21438, 'Starting an election', { reason }, 'ELECTION');
    role.node.counters.noteElection(reason, false);
    const needed = topo.votesNeeded();
    if (!skipDryRun) {
      const dry = await requestVotes(role, true, topo.term);
      if (dry.higherTerm > topo.term) role.observeTerm(dry.higherTerm);
      if (dry.granted < needed || topo.state !== MemberState.SECONDARY) {
        role.logRepl(
          'I',
          21440,
          'Not running for primary, we received insufficient votes',
          { reason },
          'ELECTION',
        );
        topo.abandonElection(Date.now());
        return false;
      }
    }
    const term = topo.startRealElection(Date.now(), metricsReason(reason, skipDryRun));
    role.persistElection();
    const real = await requestVotes(role, false, term);
    if (real.higherTerm > term) role.observeTerm(real.higherTerm);
    if (real.granted < needed || topo.term !== term || topo.state !== MemberState.SECONDARY) {
      role.logRepl('I', 21448, 'Lost election due to insufficient votes', { term }, 'ELECTION');
      topo.abandonElection(Date.now());
      return false;
    }
    const old = topo.state;
    topo.becomePrimary(Date.now());
    role.node.counters.noteElection(reason, true);
    role.logRepl('I', 21450, 'Election succeeded, assuming primary role', { term }, 'ELECTION');
    role.stateChanged(old);
    decide();
    // Catch-up (§3.9): while a member we can see is ahead, pull from it, for at most
    // catchUpTimeoutMillis (-1: until done; 0: skip). Drain is immediate: applying is synchronous here.
    const seenAtElection = topo.myApplied;
    await catchUp(role, term);
    // The state may have changed while catching up (a higher term seen, lost majority).
    const stillPrimary = (topo.state as number) === MemberState.PRIMARY && topo.term === term;
    if (!stillPrimary) {
      topo.abandonElection(Date.now());
      return false;
    }
    const metrics = topo.electionCandidateMetrics;
    if (metrics && (topo.config?.members.length ?? 0) > 1) {
      // numCatchUpOps: entries this primary applied while catching up (a single-node set has no catch-up).
      metrics.numCatchUpOps = role.oplog.from(
        seenAtElection.secs,
        seenAtElection.inc,
        false,
        Number.POSITIVE_INFINITY,
      ).length;
    }
    const first = role.writeNoop('new primary', term);
    topo.completeTransitionToPrimary(first);
    if (role.features.configTerm && topo.config && topo.config.term !== term) {
      // 4.4+: the config carries the term of the primary that last wrote it.
      const config = { ...topo.config, term };
      role.persistConfig(config);
      topo.config = config;
    }
    role.logRepl('I', 21331, 'Transition to primary complete; database writes are now permitted');
    role.node.topology.bump();
    role.scheduleHeartbeats(0);
    role.afterOplogAdvance();
    return true;
  } catch (err) {
    role.logRepl('W', 21441, 'Election failed', { error: (err as Error).message }, 'ELECTION');
    topo.abandonElection(Date.now());
    return false;
  } finally {
    topo.candidate = false;
    role.electionInProgress = false;
    decide();
  }
}

export function installElections(role: ReplSetRole): void {
  role.onStartElection = (reason, skipDryRun) => {
    void runElection(role, reason, skipDryRun);
  };
}
