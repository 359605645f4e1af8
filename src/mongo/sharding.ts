// Sharded-cluster administration through a mongos: addShard, listShards (https://www.mongodb.com/docs/manual/reference/command/addShard/).
import type { Document } from 'mongodb';
import { adminCommand, formatAddress, type ServerAddress } from './connect.js';

/** `shard1/h1:p1,h2:p2` — the seed list form addShard expects for a replica-set shard. */
export function shardConnectionString(setName: string, members: ServerAddress[]): string {
  return `${setName}/${members.map(formatAddress).join(',')}`;
}

export async function listShards(mongos: ServerAddress): Promise<Document[]> {
  const reply = await adminCommand(mongos, { listShards: 1 }, { timeoutMs: 10_000 });
  return (reply.shards as Document[] | undefined) ?? [];
}

export async function addShard(
  mongos: ServerAddress,
  setName: string,
  members: ServerAddress[],
): Promise<void> {
  await adminCommand(
    mongos,
    { addShard: shardConnectionString(setName, members), name: setName },
    { timeoutMs: 60_000 },
  );
}
