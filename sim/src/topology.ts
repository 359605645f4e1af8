// topologyVersion {processId, counter} (4.4+): a new processId per process start, a counter bumped on
// every significant topology change. Awaitable hello waits here. Source: reference §2.4 [S3].
import { EventEmitter } from 'node:events';
import { Long, ObjectId } from 'bson';

export class TopologyVersion {
  readonly processId = new ObjectId();
  private counterValue = 0;
  private readonly events = new EventEmitter();

  constructor() {
    // Every open awaitable hello adds a listener; hundreds of monitors are legitimate.
    this.events.setMaxListeners(0);
  }

  get counter(): number {
    return this.counterValue;
  }

  toDocument(): { processId: ObjectId; counter: Long } {
    return { processId: this.processId, counter: Long.fromNumber(this.counterValue) };
  }

  /** Records a significant topology change and wakes every waiting awaitable hello. */
  bump(): void {
    this.counterValue++;
    this.events.emit('change', this.counterValue);
  }

  /** Resolves when the counter moves past `seen`, after `ms`, or when `signal` aborts — whichever is first. */
  waitForChange(seen: number, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.counterValue > seen || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.events.off('change', onChange);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const onChange = (): void => {
        if (this.counterValue > seen) done();
      };
      const timer = setTimeout(done, ms);
      this.events.on('change', onChange);
      signal?.addEventListener('abort', done);
    });
  }
}
