// Steps of a sharded cluster's assembly: addShard per shard replica set through a mongos, then a check.
import { MupError } from '../../errors.js';
import { addShard, listShards } from '../../mongo/sharding.js';
import type { Step } from '../../plan/types.js';
import type { ResolvedInstance, ResolvedReplicaSet } from '../../topology/types.js';
import type { ClusterRuntime } from '../runtime.js';
import { memberSpecs } from './replica-set.js';

// Both run in deploy before the admin user exists: on an auth cluster they authenticate with the keyFile.

export function addShardStep(rt: ClusterRuntime, set: ResolvedReplicaSet, mongos: ResolvedInstance): Step {
  const members = memberSpecs(rt, set)
    .filter((m) => !m.options.arbiterOnly)
    .map((m) => ({ host: m.host, port: m.port }));
  return {
    id: `add-shard:${set.name}`,
    title: `addShard ${set.name} through ${mongos.id}`,
    isDone: async () => (await listShards(rt.address(mongos, 'system'))).some((s) => s._id === set.name),
    run: async () => {
      await addShard(rt.address(mongos, 'system'), set.name, members);
      return undefined;
    },
  };
}

export function verifyShardsStep(rt: ClusterRuntime, mongos: ResolvedInstance): Step {
  const expected = rt.meta.topology.replicaSets.filter((s) => s.purpose === 'shard').map((s) => s.name);
  return {
    id: 'verify-shards',
    title: `verify listShards shows ${expected.join(', ')}`,
    run: async () => {
      const shards = (await listShards(rt.address(mongos, 'system'))).map((s) => String(s._id));
      const missing = expected.filter((name) => !shards.includes(name));
      if (missing.length > 0)
        throw new MupError(
          `listShards does not show ${missing.join(', ')} (it shows ${shards.join(', ') || 'none'})`,
        );
      return `shards: ${shards.join(', ')}`;
    },
  };
}
