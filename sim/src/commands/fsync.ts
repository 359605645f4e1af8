// fsync, fsync with lock (db.fsyncLock()) and fsyncUnlock. Every acknowledged write is already on disk
// here, so fsync only reports; the lock is counted (nested locks need as many unlocks) and, while held,
// writes wait until the last unlock, as they do on mongod. Reads go on.
// Source: MongoDB manual "fsync", "fsyncUnlock" (reply fields info, lockCount, seeAlso).
import { type Document, Int32, Long } from 'bson';
import { CommandError, ErrorCode } from '../errors.js';
import type { SimNode } from '../node.js';
import { TransactionLockWait } from '../txn/lock-wait.js';
import type { CommandContext, CommandRegistry } from './registry.js';

class FsyncLock {
  count = 0;
  private released: Promise<void> = Promise.resolve();
  private release: () => void = () => {};

  lock(): void {
    if (this.count === 0) {
      this.released = new Promise((resolve) => {
        this.release = resolve;
      });
    }
    this.count++;
  }

  unlock(): void {
    this.count--;
    if (this.count === 0) this.release();
  }

  /** Commit observer: a write while locked waits for the last unlock (nothing is written meanwhile). */
  check(): void {
    if (this.count > 0) throw new TransactionLockWait(this.released);
  }
}

export function registerFsyncCommands(registry: CommandRegistry, node: SimNode): void {
  const state = new FsyncLock();
  // First: a refused batch must not reach the other observers (transactions keep pre-images there).
  node.commitObservers.unshift(() => state.check());
  registry.register({
    names: ['fsync'],
    program: 'mongod',
    adminOnly: true,
    handler: (ctx: CommandContext): Document => {
      if (ctx.body.lock === true || ctx.body.lock === 1) {
        state.lock();
        return {
          info: 'now locked against writes, use db.fsyncUnlock() to unlock',
          lockCount: Long.fromNumber(state.count),
          seeAlso: 'http://dochub.mongodb.org/core/fsynccommand',
        };
      }
      return { numFiles: new Int32(1) };
    },
  });
  registry.register({
    names: ['fsyncUnlock'],
    program: 'mongod',
    adminOnly: true,
    handler: (): Document => {
      if (state.count === 0) {
        throw new CommandError(ErrorCode.IllegalOperation, 'fsyncUnlock called when not locked');
      }
      state.unlock();
      return { info: 'fsyncUnlock completed', lockCount: Long.fromNumber(state.count) };
    },
  });
}
