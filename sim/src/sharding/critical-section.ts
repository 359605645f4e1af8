// The donor shard's migration critical section: while a chunk migration catches up and commits, the
// donor holds writes to the collection, and once the section ends it answers them 13388 StaleConfig so
// that mongos refreshes its routing and sends them to the new owner, as mongod's shards do. Entered
// and left by the config server primary with an internal command; a section left open by a crashed
// migration ends by itself after a minute. Source: MongoDB manual "Chunk Migration Procedure" (the
// critical section and the commit), error_codes.yml (13388 StaleConfig).
import type { Document } from 'bson';
import type { CommandContext, CommandRegistry } from '../commands/registry.js';
import { CommandError, ErrorCode } from '../errors.js';

const StaleConfig = 13388;
const MAX_SECTION_MS = 60_000;
const WRITE_COMMANDS = ['insert', 'update', 'delete', 'findAndModify', 'findandmodify'];

interface Section {
  readonly done: Promise<void>;
  readonly end: () => void;
}

export class CriticalSections {
  private readonly open = new Map<string, Section>();

  enter(ns: string): void {
    if (this.open.has(ns)) return;
    let end: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      end = resolve;
    });
    const timer = setTimeout(() => this.exit(ns), MAX_SECTION_MS);
    timer.unref();
    this.open.set(ns, {
      done,
      end: () => {
        clearTimeout(timer);
        end();
      },
    });
  }

  exit(ns: string): void {
    const s = this.open.get(ns);
    if (!s) return;
    this.open.delete(ns);
    s.end();
  }

  /** Resolves when the section on `ns` ends; undefined when there is none. */
  waitFor(ns: string): Promise<void> | undefined {
    return this.open.get(ns)?.done;
  }
}

export function registerCriticalSection(registry: CommandRegistry, sections: CriticalSections): void {
  registry.register({
    names: ['_shardsvrMigrationCriticalSection'],
    adminOnly: true,
    program: 'mongod',
    handler: (ctx: CommandContext): Document => {
      const ns = ctx.body[ctx.name];
      if (typeof ns !== 'string')
        throw new CommandError(ErrorCode.TypeMismatch, 'namespace must be a string');
      if (ctx.body.enter === true) sections.enter(ns);
      else sections.exit(ns);
      return {};
    },
  });
  for (const name of WRITE_COMMANDS) {
    const core = registry.get(name);
    if (!core) continue;
    registry.register({
      ...core,
      names: [name],
      handler: async (ctx) => {
        const coll = ctx.body[ctx.name];
        const ns = `${ctx.db}.${String(coll)}`;
        const pending = typeof coll === 'string' ? sections.waitFor(ns) : undefined;
        if (!pending) return core.handler(ctx);
        await pending;
        throw new CommandError(
          StaleConfig,
          `The critical section for ${ns} was held by a chunk migration; the range may have moved`,
          {},
          'StaleConfig',
        );
      },
    });
  }
}
