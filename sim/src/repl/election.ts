// PV1 elections over the wire (§3.9): a dry run at the current term, then the real election at term+1
// with our own vote persisted first; the winner becomes PRIMARY, writes the "new primary" no-op in its
// term and only then accepts writes ("Transition to primary complete").
import { type Document, Long } from 'bson';
import { isVoter } from './config.js';
import { MemberState } from './member-state.js';
import { numberOf, opTimeToBson } from './optime.js';
import type { ReplSetRole } from './role.js';

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

/** Runs one election; returns true when this node became primary. */
export async function runElection(role: ReplSetRole, reason: string, skipDryRun: boolean): Promise<boolean> {
  const topo = role.topo;
  if (role.electionInProgress || !topo.config) return false;
  if (topo.electableReason(Date.now()) !== null) return false;
  role.electionInProgress = true;
  topo.candidate = true;
  try {
    role.logRepl('I', 21438, 'Starting an election', { reason }, 'ELECTION');
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
    const term = topo.startRealElection(Date.now());
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
    role.logRepl('I', 21450, 'Election succeeded, assuming primary role', { term }, 'ELECTION');
    role.stateChanged(old);
    // Catch-up: voters refused us unless we were at least as fresh as a majority, so nothing a majority
    // committed is missing; drain is immediate because applying is synchronous here.
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
  }
}

export function installElections(role: ReplSetRole): void {
  role.onStartElection = (reason, skipDryRun) => {
    void runElection(role, reason, skipDryRun);
  };
}
