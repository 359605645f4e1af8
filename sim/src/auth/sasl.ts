// saslStart / saslContinue (also the speculativeAuthenticate and saslSupportedMechs of hello),
// authenticate, logout. Every failed step answers 18 AuthenticationFailed "Authentication failed."
// and logs the reason; an unknown mechanism answers 334 MechanismUnavailable.
// Sources: mongod src/mongo/db/auth/sasl_commands.cpp (doSaslStep, doSpeculativeSaslStart),
// reference/mongod-behavior.md §7.1, the MongoDB handshake and auth specifications.
import { Binary, type Document, Int32 } from 'bson';
import type { CommandContext, CommandRegistry } from '../commands/registry.js';
import { CommandError, ErrorCode } from '../errors.js';
import { atLeast } from '../version.js';
import type { AccessControl } from './access.js';
import { parseClientFirst, ScramError, type ScramMechanism, ScramServerConversation } from './scram.js';
import type { AuthSession } from './session.js';
import { credentialOf, mechanismsOf } from './users.js';

const AUTH_FAILED = 18;
const MECHANISM_UNAVAILABLE = 334;
const PROTOCOL_ERROR = 17;

function payloadText(v: unknown): string {
  if (v instanceof Binary) return Buffer.from(v.buffer).toString('utf8');
  if (typeof v === 'string') return Buffer.from(v, 'base64').toString('utf8');
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  throw new CommandError(ErrorCode.TypeMismatch, "BSON field 'payload' is the wrong type");
}

const payload = (text: string): Binary => new Binary(Buffer.from(text, 'utf8'), 0);

function sessionOf(ctx: CommandContext): AuthSession {
  const s = ctx.conn.auth;
  if (!s) throw new CommandError(ErrorCode.IllegalOperation, 'no authentication on an internal client');
  return s;
}

function failed(
  ctx: CommandContext,
  mechanism: string,
  user: string,
  db: string,
  reason: string,
  speculative: boolean,
): CommandError {
  ctx.node.log.info(
    'ACCESS',
    20249,
    `conn${ctx.conn.id}`,
    'Authentication failed',
    {
      mechanism,
      speculative,
      principalName: user,
      authenticationDatabase: db,
      remote: ctx.conn.remote,
      extraInfo: {},
      error: `AuthenticationFailed: ${reason}`,
    },
    `SASL ${mechanism} authentication failed for ${user} on ${db} from client ${ctx.conn.remote} ; AuthenticationFailed: ${reason}`,
  );
  return new CommandError(AUTH_FAILED, 'Authentication failed.');
}

async function startConversation(
  ctx: CommandContext,
  access: AccessControl,
  db: string,
  body: Document,
  speculative: boolean,
): Promise<Document> {
  const session = sessionOf(ctx);
  const mechanism = String(body.mechanism ?? '');
  if (!(access.mechanisms() as string[]).includes(mechanism)) {
    throw new CommandError(
      MECHANISM_UNAVAILABLE,
      `Received authentication for mechanism ${mechanism} which is unknown or not enabled`,
      {},
      'MechanismUnavailable',
    );
  }
  const m = mechanism as ScramMechanism;
  let first: ReturnType<typeof parseClientFirst>;
  try {
    first = parseClientFirst(payloadText(body.payload));
  } catch (err) {
    if (err instanceof ScramError) throw failed(ctx, m, '', db, err.message, speculative);
    throw err;
  }
  const doc = await access.userDocument(db, first.user);
  if (!doc)
    throw failed(ctx, m, first.user, db, `Could not find user "${first.user}" for db "${db}"`, speculative);
  const credential = credentialOf(doc, m);
  if (!credential) {
    throw failed(
      ctx,
      m,
      first.user,
      db,
      `Unable to perform ${m} authentication for a user without ${m} credentials`,
      speculative,
    );
  }
  const scram = new ScramServerConversation(m, credential, first);
  const options = (body.options as Document | undefined) ?? {};
  session.conversation = {
    mechanism: m,
    db,
    user: first.user,
    scram,
    skipEmptyExchange: options.skipEmptyExchange === true,
    step: 'proof',
    speculative,
  };
  return { conversationId: new Int32(1), done: false, payload: payload(scram.serverFirstMessage) };
}

async function saslContinue(ctx: CommandContext): Promise<Document> {
  const session = sessionOf(ctx);
  if (Number(ctx.body.conversationId) !== 1) {
    throw new CommandError(PROTOCOL_ERROR, 'sasl: Mismatched conversation id', {}, 'ProtocolError');
  }
  const conv = session.conversation;
  if (!conv || conv.db !== ctx.db) {
    throw new CommandError(PROTOCOL_ERROR, 'No SASL session state found', {}, 'ProtocolError');
  }
  if (conv.step === 'final') {
    session.conversation = undefined;
    return { conversationId: new Int32(1), done: true, payload: payload('') };
  }
  let serverFinal: string;
  try {
    serverFinal = conv.scram.verify(payloadText(ctx.body.payload));
  } catch (err) {
    session.conversation = undefined;
    if (err instanceof ScramError)
      throw failed(ctx, conv.mechanism, conv.user, conv.db, err.message, conv.speculative);
    throw err;
  }
  const previous = session.user;
  if (previous && (previous.user !== conv.user || previous.db !== conv.db)) {
    session.conversation = undefined;
    if (atLeast(ctx.node.version, 5, 0)) {
      throw new CommandError(
        5626701,
        `Each client connection may only be authenticated once. Previously authenticated as: ${previous.user}@${previous.db}`,
      );
    }
  }
  session.user = { user: conv.user, db: conv.db };
  ctx.node.log.info(
    'ACCESS',
    20250,
    `conn${ctx.conn.id}`,
    atLeast(ctx.node.version, 5, 0) ? 'Authentication succeeded' : 'Successfully authenticated',
    {
      mechanism: conv.mechanism,
      speculative: conv.speculative,
      principalName: conv.user,
      authenticationDatabase: conv.db,
      remote: ctx.conn.remote,
      extraInfo: {},
    },
    `Successfully authenticated as principal ${conv.user} on ${conv.db} from client ${ctx.conn.remote}`,
  );
  if (conv.skipEmptyExchange) session.conversation = undefined;
  else conv.step = 'final';
  return { conversationId: new Int32(1), done: conv.skipEmptyExchange, payload: payload(serverFinal) };
}

/**
 * Fields hello adds for authentication: saslSupportedMechs for "<db>.<user>" (omitted for an unknown
 * user), and the reply to a speculative saslStart (omitted when it fails: the client falls back).
 */
export async function helloAuthFields(ctx: CommandContext, access: AccessControl): Promise<Document> {
  const out: Document = {};
  const mechs = ctx.body.saslSupportedMechs;
  if (typeof mechs === 'string') {
    const dot = mechs.indexOf('.');
    const doc = dot > 0 ? await access.userDocument(mechs.slice(0, dot), mechs.slice(dot + 1)) : undefined;
    if (doc) out.saslSupportedMechs = mechanismsOf(doc).filter((m) => access.mechanisms().includes(m));
  }
  const spec = ctx.body.speculativeAuthenticate as Document | undefined;
  if (spec && typeof spec === 'object' && typeof spec.db === 'string' && ctx.conn.auth) {
    try {
      out.speculativeAuthenticate = await startConversation(ctx, access, spec.db, spec, true);
    } catch {
      // mongod treats a failed speculative start as if none was sent.
    }
  }
  return out;
}

export function registerSaslCommands(registry: CommandRegistry, access: AccessControl): void {
  registry.register({
    names: ['saslStart'],
    handler: (ctx) => startConversation(ctx, access, ctx.db, ctx.body, false),
  });
  registry.register({ names: ['saslContinue'], handler: saslContinue });
  registry.register({
    names: ['authenticate'],
    handler: (ctx) => {
      const mechanism = String(ctx.body.mechanism ?? '');
      if (mechanism === 'MONGODB-X509') throw new CommandError(AUTH_FAILED, 'Authentication failed.');
      throw new CommandError(
        MECHANISM_UNAVAILABLE,
        `Unsupported mechanism '${mechanism}' on authenticate command`,
        {},
        'MechanismUnavailable',
      );
    },
  });
  registry.register({
    names: ['logout'],
    handler: (ctx) => {
      const session = ctx.conn.auth;
      if (session?.user && session.user.db === ctx.db) session.user = undefined;
      return {};
    },
  });
}
