// The signal a write outside any transaction gets when a document it changes is held by an open
// transaction (mongod retries such a write until the transaction ends; so does the simulator).
import { CommandError } from '../errors.js';

export const WRITE_CONFLICT = 112;

/**
 * Thrown from the commit path when a write outside any transaction touches a document an open
 * transaction wrote: nothing was written; the caller waits for the transaction to end and tries again.
 */
export class TransactionLockWait extends CommandError {
  readonly until: Promise<void>;
  constructor(until: Promise<void>) {
    super(
      WRITE_CONFLICT,
      'WriteConflict error: this operation conflicted with another operation. Please retry your operation or multi-document transaction.',
      {},
      'WriteConflict',
    );
    this.until = until;
  }
}

/**
 * Waits for the transaction (or fsync lock) to end; bounded by the command's maxTimeMS when it has one,
 * and given up when the operation is killed (killOp), so a killed write never runs afterwards: mongod
 * interrupts a lock wait the same way.
 */
export async function waitForLock(
  err: TransactionLockWait,
  maxTimeMS: unknown,
  killed?: Promise<never>,
): Promise<void> {
  const ms = typeof maxTimeMS === 'number' ? maxTimeMS : Number(maxTimeMS ?? 0);
  const until = killed ? Promise.race([err.until, killed]) : err.until;
  if (!(ms > 0)) return until;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CommandError(50, 'operation exceeded time limit', {}, 'MaxTimeMSExpired')),
      ms,
    );
  });
  try {
    await Promise.race([until, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
