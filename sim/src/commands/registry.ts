// Command dispatch: a name → handler table, the generic reply shape ({..., ok:1.0} or
// {ok:0.0, errmsg, code, codeName}) and the checks every command shares.
// Source: reference/mongod-behavior.md §1.7 (reply shape), §2.7 (CommandNotFound text), §3.10.
import { type Document, Double } from 'bson';
import type { AuthSession } from '../auth/session.js';
import { asNumber } from '../bsonvalues.js';
import { CommandError, codeNameFor, ErrorCode } from '../errors.js';
import type { SimNode } from '../node.js';
import { hasTopologyVersion } from '../version.js';

/** Per-connection state shared by the commands run on it. */
export interface ConnectionState {
  readonly id: number;
  /** "127.0.0.1:51234" */
  readonly remote: string;
  readonly remoteAddress: string;
  /** Aborted when the connection closes, so long waits (awaitable hello, write concern) stop. */
  readonly closed: AbortSignal;
  /** Client metadata from the handshake hello. */
  clientMetadata?: Document;
  /** Closes the connection at once (failCommand's closeConnection); absent for internal contexts. */
  readonly destroy?: () => void;
  /** Who the connection authenticated as; absent for the server's own internal contexts (never checked). */
  readonly auth?: AuthSession;
}

export interface CommandContext {
  readonly node: SimNode;
  readonly conn: ConnectionState;
  /** Target database ($db, or the namespace of a legacy OP_QUERY). */
  readonly db: string;
  /** The command name exactly as sent (first key of the body). */
  readonly name: string;
  readonly body: Document;
  /** The request allows reading from a secondary ($readPreference other than primary). */
  readonly secondaryOk: boolean;
  /** The request asked for no reply (moreToCome); the result is discarded. */
  readonly fireAndForget: boolean;
}

export type CommandHandler = (ctx: CommandContext) => Document | Promise<Document>;

export interface CommandSpec {
  readonly names: readonly string[];
  /** Must run against admin: 13 Unauthorized "<name> may only be run against the admin database." */
  readonly adminOnly?: boolean;
  /** Only registered when setParameter enableTestCommands=1 (configureFailPoint and friends). */
  readonly testOnly?: boolean;
  /** Only on this program; mongod commands return CommandNotFound on mongos and the reverse. */
  readonly program?: 'mongod' | 'mongos';
  readonly handler: CommandHandler;
}

const CRUD_COUNTED = new Set(['insert', 'find', 'update', 'delete', 'getMore']);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * MongoDB's failCommand failpoint (configureFailPoint, test commands only): makes the listed commands
 * fail with errorCode, close the connection, block for blockTimeMS or carry a writeConcernError.
 * hello/isMaster are affected only when listed; appName restricts it to one client application.
 */
function failCommand(ctx: CommandContext): Document | undefined {
  const fp = ctx.node.failPointActive('failCommand', (data) => {
    const names = data.failCommands;
    if (!Array.isArray(names) || !names.includes(ctx.name)) return false;
    if (typeof data.appName === 'string') {
      const app = (ctx.conn.clientMetadata?.application as Document | undefined)?.name;
      if (app !== data.appName) return false;
    }
    return true;
  });
  return fp?.data;
}

/** Codes whose error replies carry topologyVersion on 4.4+ (state-change errors, §2.4). */
const STATE_CHANGE_CODES = new Set([10107, 13435, 13436, 189, 11602, 91, 11600, 10058]);

export class CommandRegistry {
  private readonly table = new Map<string, CommandSpec>();
  /**
   * Runs every handler when set: the session layer (sim/src/txn/) puts transaction statements in their
   * transaction and makes writes wait for transactions holding the documents they change.
   */
  around: ((ctx: CommandContext, handler: CommandHandler) => Promise<Document>) | undefined;

  register(spec: CommandSpec): void {
    for (const name of spec.names) this.table.set(name, spec);
  }

  has(name: string): boolean {
    return this.table.has(name);
  }

  /** Every registered name with its spec (listCommands). */
  entries(): [string, CommandSpec][] {
    return [...this.table.entries()];
  }

  /** The spec registered under a name (a role may wrap a core command, e.g. find on local.oplog.rs). */
  get(name: string): CommandSpec | undefined {
    return this.table.get(name);
  }

  /** Runs a command and always returns a reply document (errors included). */
  async run(ctx: CommandContext): Promise<Document> {
    const node = ctx.node;
    try {
      const spec = this.table.get(ctx.name);
      if (
        !spec ||
        (spec.testOnly && !node.testCommandsEnabled) ||
        (spec.program !== undefined && spec.program !== node.program)
      ) {
        throw new CommandError(ErrorCode.CommandNotFound, `no such command: '${ctx.name}'`);
      }
      if (spec.adminOnly && ctx.db !== 'admin') {
        throw new CommandError(
          ErrorCode.Unauthorized,
          `${ctx.name} may only be run against the admin database.`,
        );
      }
      await node.access.check(ctx);
      // opcounters.command counts every command the CRUD counters do not (serverStatus).
      if (!CRUD_COUNTED.has(ctx.name)) node.opcounters.command++;
      const injected = failCommand(ctx);
      if (injected?.blockConnection === true) await sleep(asNumber(injected.blockTimeMS) ?? 0);
      if (injected?.closeConnection === true) {
        ctx.conn.destroy?.();
        throw new CommandError(ErrorCode.InternalError, "Failing command via 'failCommand' failpoint");
      }
      if (injected && injected.errorCode !== undefined) {
        throw new CommandError(
          asNumber(injected.errorCode) ?? 1,
          "Failing command via 'failCommand' failpoint",
          {
            ...(Array.isArray(injected.errorLabels) ? { errorLabels: injected.errorLabels } : {}),
          },
        );
      }
      const op = node.operations.begin(ctx);
      let reply: Document;
      try {
        const running = Promise.resolve(this.around ? this.around(ctx, spec.handler) : spec.handler(ctx));
        // A killed operation answers at once; whatever its handler does afterwards is not awaited.
        running.catch(() => {});
        reply = await Promise.race([running, op.killed]);
      } finally {
        node.operations.end(op);
      }
      if (injected?.writeConcernError) reply.writeConcernError = injected.writeConcernError;
      node.counters.noteCommand(this.metricsName(ctx.name), false);
      return this.success(node, reply);
    } catch (err) {
      const reply = this.failure(node, err);
      node.counters.noteCommand(this.metricsName(ctx.name), true, reply.code as number);
      return reply;
    }
  }

  /** metrics.commands keys: the command's name, or <UNKNOWN> for a name no command answers to. */
  private metricsName(name: string): string {
    return this.table.has(name) ? name : '<UNKNOWN>';
  }

  success(node: SimNode, reply: Document): Document {
    const out: Document = { ...reply };
    if (!('ok' in out)) out.ok = new Double(1);
    return Object.assign(out, node.role.replyFields());
  }

  failure(node: SimNode, err: unknown): Document {
    if (!(err instanceof CommandError)) {
      const msg = err instanceof Error ? err.message : String(err);
      node.log.write({
        s: 'E',
        c: 'COMMAND',
        id: 21966,
        ctx: 'conn',
        msg: 'Assertion while executing command',
        attr: { error: msg },
      });
      err = new CommandError(ErrorCode.InternalError, msg);
    }
    const e = err as CommandError;
    const out: Document = {
      ok: new Double(0),
      errmsg: e.message,
      code: e.code,
      codeName: e.codeName ?? codeNameFor(e.code, node.version),
      ...e.extra,
    };
    if (STATE_CHANGE_CODES.has(e.code) && hasTopologyVersion(node.version) && !('topologyVersion' in out)) {
      out.topologyVersion = node.topology.toDocument();
    }
    return Object.assign(out, node.role.replyFields());
  }
}
