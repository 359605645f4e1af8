// hello / isMaster / ismaster, including awaitable hello with topologyVersion on 4.4+.
// Source: reference/mongod-behavior.md §2.1–§2.6 (fields, order, errors), §2.4 (awaiting).
import { type Document, Double, Int32, Long, ObjectId } from 'bson';
import { helloAuthFields } from '../auth/sasl.js';
import { asNumber } from '../bsonvalues.js';
import { CommandError, ErrorCode } from '../errors.js';
import type { HelloRequest } from '../replication.js';
import { hasHelloCommand, hasTopologyVersion, helloHasConnectionId, maxWireVersion } from '../version.js';
import { shellValue } from './common.js';
import type { CommandContext, CommandRegistry } from './registry.js';

const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
const MAX_MESSAGE_SIZE_BYTES = 48_000_000;
const MAX_WRITE_BATCH_SIZE = 100_000;

/** Validates the awaitable fields and waits when the client's topologyVersion is current (§2.1, §2.4). */
async function awaitTopologyChange(ctx: CommandContext): Promise<void> {
  const { node, body } = ctx;
  const tv = body.topologyVersion as Document | undefined;
  const maxAwait = body.maxAwaitTimeMS;
  const mongos = node.program === 'mongos';
  if (tv === undefined && maxAwait === undefined) return;
  if (tv !== undefined && maxAwait === undefined) {
    throw new CommandError(
      mongos ? 51760 : 31368,
      "A request with a 'topologyVersion' must include 'maxAwaitTimeMS'",
    );
  }
  if (tv === undefined) {
    throw new CommandError(
      mongos ? 51760 : 31368,
      "A request with 'maxAwaitTimeMS' must include a 'topologyVersion'",
    );
  }
  const waitMs = asNumber(maxAwait) ?? Number.NaN;
  if (!(waitMs >= 0))
    throw new CommandError(mongos ? 51759 : 31373, 'maxAwaitTimeMS must be a non-negative integer');
  const counter = asNumber(tv.counter) ?? Number.NaN;
  if (!(counter >= 0))
    throw new CommandError(mongos ? 51758 : 31372, 'topologyVersion must have a non-negative counter');
  const sameProcess = tv.processId instanceof ObjectId && tv.processId.equals(node.topology.processId);
  if (!sameProcess) return;
  if (counter > node.topology.counter) {
    throw new CommandError(
      mongos ? 51761 : 51764,
      `Received a topology version with the same process ID and a higher counter than the current topology version`,
    );
  }
  if (counter < node.topology.counter) return;
  await node.topology.waitForChange(counter, waitMs, ctx.conn.closed);
}

/**
 * Quiesce mode at shutdown (5.0+, §5.7): every hello/isMaster fails with 91 ShutdownInProgress, carrying
 * the moved topologyVersion and remainingQuiesceTimeMillis (ShutdownInProgressQuiesceInfo), so drivers
 * mark the server Unknown and route elsewhere while its operations drain.
 */
function checkQuiesce(ctx: CommandContext): void {
  const node = ctx.node;
  if (!node.inQuiesceMode) return;
  throw new CommandError(ErrorCode.ShutdownInProgress, 'The server is in quiesce mode and will shut down', {
    topologyVersion: node.topology.toDocument(),
    remainingQuiesceTimeMillis: Long.fromNumber(node.remainingQuiesceMs()),
  });
}

export function helloReply(ctx: CommandContext): Document {
  const { node, body } = ctx;
  const commandName = ctx.name as HelloRequest['commandName'];
  const reply: Document = {};
  if (body.helloOk !== undefined && hasHelloCommand(node.version)) reply.helloOk = true;
  if (node.program === 'mongos') {
    Object.assign(reply, commandName === 'hello' ? { isWritablePrimary: true } : { ismaster: true });
    reply.msg = 'isdbgrid';
  } else {
    Object.assign(reply, node.role.helloFields({ commandName, body }));
  }
  if (hasTopologyVersion(node.version) && !('topologyVersion' in reply)) {
    reply.topologyVersion = node.topology.toDocument();
  }
  if (node.program === 'mongod' && node.options.clusterRole === 'configsvr') reply.configsvr = new Int32(2);
  reply.maxBsonObjectSize = new Int32(MAX_BSON_OBJECT_SIZE);
  reply.maxMessageSizeBytes = new Int32(MAX_MESSAGE_SIZE_BYTES);
  reply.maxWriteBatchSize = new Int32(MAX_WRITE_BATCH_SIZE);
  reply.localTime = new Date();
  reply.logicalSessionTimeoutMinutes = new Int32(30);
  if (helloHasConnectionId(node.version)) reply.connectionId = new Int32(ctx.conn.id);
  reply.minWireVersion = new Int32(0);
  reply.maxWireVersion = new Int32(maxWireVersion(node.version));
  if (node.program === 'mongod') reply.readOnly = false;
  reply.ok = new Double(1);
  return reply;
}

export function registerHelloCommands(registry: CommandRegistry): void {
  registry.register({
    names: ['hello', 'isMaster', 'ismaster'],
    handler: async (ctx) => {
      if (ctx.name === 'hello' && !hasHelloCommand(ctx.node.version)) {
        throw new CommandError(ErrorCode.CommandNotFound, "no such command: 'hello'");
      }
      const client = ctx.body.client;
      if (client !== undefined) {
        // The metadata document is accepted only on the connection's first hello (handshake spec).
        if (ctx.conn.clientMetadata !== undefined) {
          throw new CommandError(
            ErrorCode.ClientMetadataCannotBeMutated,
            'The client metadata document may only be sent in the first hello',
          );
        }
        ctx.conn.clientMetadata = client as Document;
        ctx.node.log.info(
          'NETWORK',
          51800,
          `conn${ctx.conn.id}`,
          'client metadata',
          { remote: ctx.conn.remote, client: `conn${ctx.conn.id}`, doc: client },
          `received client metadata from ${ctx.conn.remote} conn${ctx.conn.id}: ${shellValue(client)}`,
        );
      }
      checkQuiesce(ctx);
      if (hasTopologyVersion(ctx.node.version)) await awaitTopologyChange(ctx);
      // A hello waiting for a topology change is answered with the error when quiesce mode begins.
      checkQuiesce(ctx);
      const reply = helloReply(ctx);
      // saslSupportedMechs / speculativeAuthenticate go before ok, as mongod appends them last.
      const auth = await helloAuthFields(ctx, ctx.node.access);
      if (Object.keys(auth).length === 0) return reply;
      const { ok, ...rest } = reply;
      return { ...rest, ...auth, ok };
    },
  });
}
