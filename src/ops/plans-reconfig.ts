// The replica-set reconfigs of `cluster reload`: from the member options and `replica_set_settings` the
// processes run with to the stored (edited) ones, an ordered list of replSetReconfig changes per set. Pure.
//
// MongoDB's rules kept here (https://www.mongodb.com/docs/manual/reference/command/replSetReconfig/):
// - from 4.4 a non-force reconfig adds or removes at most one voting member, so each member whose `votes`
//   changes gets a reconfig of its own; every other change (priority, hidden, delay, tags, settings) goes
//   into one reconfig;
// - every intermediate config must itself be valid: at most 7 voting members and at least one member that
//   can become primary — the order of the reconfigs is chosen so that it is, or the change is refused;
// - `arbiterOnly` and `buildIndexes` cannot change in place (the member must be removed and re-added).
// Whether the primary stays electable is a live fact: the step checks it when it runs (see steps/reload.ts).
import { isDeepStrictEqual } from 'node:util';
import { UsageError } from '../errors.js';
import { isElectable } from '../topology/servers.js';
import type { MemberOptions, ResolvedTopology } from '../topology/types.js';

/** MongoDB's limit on voting members (repl_set_config.cpp kMaxVotingMembers). */
const MAX_VOTERS = 7;

export interface MemberChange {
  id: string;
  from: MemberOptions;
  to: MemberOptions;
}

export interface SettingsChange {
  from: Record<string, unknown>;
  to: Record<string, unknown>;
}

/** One replSetReconfig: the members it changes (each to its whole new option set) and maybe the settings. */
export interface ReconfigChange {
  set: string;
  /** 1-based position among the set's reconfigs: the step id is `reconfig:<set>:<n>`. */
  n: number;
  members: MemberChange[];
  settings?: SettingsChange;
}

/** Why a set's change cannot be done in place, for edit-config to point at the member. */
export class ReconfigRefusal extends UsageError {
  readonly member: string | undefined;

  constructor(message: string, hint: string, member?: string) {
    super(message, hint);
    this.member = member;
  }
}

function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value ?? null)) as T;
}

/** "priority 1→0, votes 1→0, tags {}→{dc:"b"}" */
export function describeMemberChange(change: MemberChange): string {
  const parts: string[] = [];
  const keys: (keyof MemberOptions)[] = ['priority', 'votes', 'hidden', 'secondaryDelaySecs', 'tags'];
  for (const key of keys) {
    const a = change.from[key];
    const b = change.to[key];
    if (!isDeepStrictEqual(plain(a), plain(b)))
      parts.push(`${key} ${JSON.stringify(a)}→${JSON.stringify(b)}`);
  }
  return `${change.id} ${parts.join(', ')}`;
}

export function describeSettingsChange(change: SettingsChange): string {
  const keys = [...new Set([...Object.keys(change.from), ...Object.keys(change.to)])].sort();
  return keys
    .filter((k) => !isDeepStrictEqual(plain(change.from[k]), plain(change.to[k])))
    .map(
      (k) =>
        `${k} ${change.from[k] === undefined ? 'default' : JSON.stringify(change.from[k])}→${change.to[k] === undefined ? 'default' : JSON.stringify(change.to[k])}`,
    )
    .join(', ');
}

export function describeReconfig(change: ReconfigChange): string {
  const parts = change.members.map(describeMemberChange);
  if (change.settings) parts.push(`settings ${describeSettingsChange(change.settings)}`);
  return parts.join('; ');
}

type State = Map<string, MemberOptions>;

/** What makes a config unusable as a step on the way: too many voters, or nobody able to become primary. */
function problemOf(state: State): string | undefined {
  const options = [...state.values()];
  const voters = options.filter((o) => o.votes === 1).length;
  if (voters > MAX_VOTERS) return `${voters} voting members (MongoDB allows ${MAX_VOTERS})`;
  if (!options.some(isElectable)) return 'no member able to become primary';
  return undefined;
}

function applied(state: State, changes: readonly MemberChange[]): State {
  const next = new Map(state);
  for (const c of changes) next.set(c.id, c.to);
  return next;
}

/**
 * The reconfigs of one set, in an order whose every intermediate config is valid. `before` and `after` hold
 * every member of the set (members outside the selection keep their `before` options in `after`).
 */
export function planSetReconfigs(
  set: string,
  before: ReadonlyMap<string, MemberOptions>,
  after: ReadonlyMap<string, MemberOptions>,
  settings: SettingsChange | undefined,
): ReconfigChange[] {
  const changes: MemberChange[] = [];
  for (const [id, from] of before) {
    const to = after.get(id) ?? from;
    if (isDeepStrictEqual(plain(from), plain(to))) continue;
    if (from.arbiterOnly !== to.arbiterOnly || from.buildIndexes !== to.buildIndexes)
      throw new ReconfigRefusal(
        `${id}: ${from.arbiterOnly !== to.arbiterOnly ? 'arbiter_only' : 'build_indexes'} cannot change in place`,
        'MongoDB needs the member removed and added again: `mup cluster scale-in`, then `scale-out`',
        id,
      );
    changes.push({ id, from, to });
  }
  const settingsChanged =
    settings !== undefined && !isDeepStrictEqual(plain(settings.from), plain(settings.to));
  // One batch of everything that keeps the voters as they are, one reconfig per voting change.
  let batch = changes.filter((c) => c.from.votes === c.to.votes);
  let withSettings = settingsChanged;
  const voting = changes.filter((c) => c.from.votes !== c.to.votes);
  const out: ReconfigChange[] = [];
  let state: State = new Map(before);
  const push = (members: MemberChange[], withSet: boolean) => {
    out.push({
      set,
      n: out.length + 1,
      members,
      ...(withSet && settings ? { settings } : {}),
    });
  };
  const finalProblem = problemOf(applied(state, changes));
  if (finalProblem)
    throw new ReconfigRefusal(
      `replica set ${set} would have ${finalProblem}`,
      'keep a data-bearing member with votes 1 and priority > 0, and at most 7 voters',
    );
  // Greedy: the batch first when it is valid on its own, then voters leaving before voters joining (the
  // voter limit), joining first when leaving first would leave nobody electable.
  for (let guard = 0; guard <= changes.length + 1; guard++) {
    const candidates: { members: MemberChange[]; batch: boolean }[] = [];
    if (batch.length > 0 || withSettings) candidates.push({ members: batch, batch: true });
    const leaving = voting.filter((c) => c.to.votes === 0);
    const joining = voting.filter((c) => c.to.votes === 1);
    for (const c of [...leaving, ...joining]) candidates.push({ members: [c], batch: false });
    if (candidates.length === 0) return out;
    const next = candidates.find((c) => problemOf(applied(state, c.members)) === undefined);
    if (!next) {
      const first = candidates[0] as { members: MemberChange[] };
      throw new ReconfigRefusal(
        `replica set ${set}: no order of reconfigs keeps it valid — the next one would leave ${problemOf(applied(state, first.members))}`,
        'make the change in two edits (reload after each)',
        first.members[0]?.id,
      );
    }
    state = applied(state, next.members);
    if (next.batch) {
      push(next.members, withSettings);
      batch = [];
      withSettings = false;
    } else {
      push(next.members, false);
      voting.splice(voting.indexOf(next.members[0] as MemberChange), 1);
    }
  }
  return out;
}

/**
 * Every set's reconfigs between the topology the processes run with and the stored one. Only members in
 * `selected` change; a set's settings change when all of its members are selected.
 */
export function planReconfigs(
  applied: ResolvedTopology,
  stored: ResolvedTopology,
  selected: ReadonlySet<string>,
): ReconfigChange[] {
  const out: ReconfigChange[] = [];
  for (const set of stored.replicaSets) {
    const old = applied.replicaSets.find((s) => s.name === set.name);
    if (!old) continue;
    const before = new Map<string, MemberOptions>();
    const after = new Map<string, MemberOptions>();
    for (const id of set.members) {
      const was = applied.instances.find((i) => i.id === id)?.member;
      const now = stored.instances.find((i) => i.id === id)?.member;
      if (!was || !now) continue;
      before.set(id, was);
      after.set(id, selected.has(id) ? now : was);
    }
    const whole = set.members.every((id) => selected.has(id));
    const settings =
      whole && !isDeepStrictEqual(plain(old.settings), plain(set.settings))
        ? { from: old.settings, to: set.settings }
        : undefined;
    out.push(...planSetReconfigs(set.name, before, after, settings));
  }
  return out;
}
