// Taking a shard out through a mongos: removeShard drains it (the balancer moves its chunks away), the
// databases it is primary of move with movePrimary, and the last call removes it. Every call is safe to
// repeat: removeShard on a draining shard only reports what is left.
// https://www.mongodb.com/docs/manual/reference/command/removeShard/
import type { Document } from 'mongodb';
import { adminCommand, type ServerAddress } from './connect.js';

export interface RemoveShardReply {
  state: 'started' | 'ongoing' | 'completed';
  /** Chunks the balancer still has to move off the shard; unknown in the reply that starts draining. */
  chunks: number | undefined;
  /** Databases whose primary shard it still is. */
  dbsToMove: string[];
}

export async function removeShard(mongos: ServerAddress, shard: string): Promise<RemoveShardReply> {
  const reply = await adminCommand(mongos, { removeShard: shard }, { timeoutMs: 60_000 });
  const remaining = reply.remaining as Document | undefined;
  return {
    state: reply.state as RemoveShardReply['state'],
    chunks: remaining === undefined ? undefined : Number(remaining.chunks ?? 0),
    dbsToMove: ((reply.dbsToMove as unknown[] | undefined) ?? []).map(String),
  };
}

export async function movePrimary(mongos: ServerAddress, db: string, to: string): Promise<void> {
  await adminCommand(mongos, { movePrimary: db, to }, { timeoutMs: 600_000 });
}
