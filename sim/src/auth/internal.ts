// Internal authentication: with a keyFile every connection a member opens to another member (heart-
// beats, votes, oplog fetching) and every connection between mongos, config servers and shards
// authenticates first as __system@local, with SCRAM over the key (SCRAM-SHA-256 when the peer offers it
// for __system, else SCRAM-SHA-1, as mongod negotiates through saslSupportedMechs). A peer holding
// another key answers 18 AuthenticationFailed, so the connection is never used.
// Source: reference/mongod-behavior.md §7.2 (keyFile internal auth); MongoDB manual "Internal/Membership
// Authentication".
import { Binary } from 'bson';
import type { SimNode } from '../node.js';
import type { ConnectOptions, WireClient } from '../wire/client.js';
import { membersUseTls } from '../wire/tls.js';
import { SYSTEM_USER } from './access.js';
import { authenticateScram, type ScramMechanism } from './scram.js';

const AUTH_TIMEOUT_MS = 10_000;

/** How this process connects to other members: TLS under preferTLS/requireTLS, then __system auth. */
export function internalConnectOptions(node: SimNode): ConnectOptions {
  const key = node.clusterKey;
  return {
    ...(node.tls && membersUseTls(node.tls) ? { tls: node.tls.clientOptions } : {}),
    ...(key ? { afterConnect: (client: WireClient) => authenticateAsSystem(node, client, key) } : {}),
  };
}

async function authenticateAsSystem(node: SimNode, client: WireClient, key: string): Promise<void> {
  const hello = await client.command(
    'admin',
    { isMaster: 1, saslSupportedMechs: `${SYSTEM_USER.db}.${SYSTEM_USER.user}` },
    AUTH_TIMEOUT_MS,
  );
  const offered = Array.isArray(hello.saslSupportedMechs) ? (hello.saslSupportedMechs as unknown[]) : [];
  const mechanism: ScramMechanism =
    offered.includes('SCRAM-SHA-256') && node.access.mechanisms().includes('SCRAM-SHA-256')
      ? 'SCRAM-SHA-256'
      : 'SCRAM-SHA-1';
  await authenticateScram(
    (db, body) => client.command(db, body, AUTH_TIMEOUT_MS),
    (text) => new Binary(Buffer.from(text, 'utf8'), 0),
    mechanism,
    SYSTEM_USER.db,
    SYSTEM_USER.user,
    key,
  );
}
