// Member states and their strings (reference §3.1, member_state.h).
export const MemberState = {
  STARTUP: 0,
  PRIMARY: 1,
  SECONDARY: 2,
  RECOVERING: 3,
  STARTUP2: 5,
  UNKNOWN: 6,
  ARBITER: 7,
  DOWN: 8,
  ROLLBACK: 9,
  REMOVED: 10,
} as const;

export type MemberStateValue = (typeof MemberState)[keyof typeof MemberState];

const NAMES: Record<number, string> = {
  0: 'STARTUP',
  1: 'PRIMARY',
  2: 'SECONDARY',
  3: 'RECOVERING',
  4: 'FATAL',
  5: 'STARTUP2',
  6: 'UNKNOWN',
  7: 'ARBITER',
  8: 'DOWN',
  9: 'ROLLBACK',
  10: 'REMOVED',
};

export function stateString(s: number): string {
  return NAMES[s] ?? 'UNKNOWN';
}

/** Readable states serve secondaryOk reads (PRIMARY and SECONDARY only). */
export function isReadable(s: number): boolean {
  return s === MemberState.PRIMARY || s === MemberState.SECONDARY;
}
