// Connection strings for a resolved topology. They never carry credentials, except the one
// `mup cluster credentials --uri` asks for (credentialUri).
import type { ResolvedTopology } from '../topology/types.js';
import type { MongoCredentials } from './credentials.js';

function hostList(ids: readonly string[]): string {
  return ids.join(',');
}

/** Per replica set (non-sharded) or the mongos list (sharded): what a client should connect to. */
export function connectionUris(topology: ResolvedTopology): { name: string; uri: string }[] {
  if (topology.kind === 'sharded') {
    const mongos = topology.instances.filter((i) => i.role === 'mongos').map((i) => i.id);
    return [{ name: 'mongos', uri: `mongodb://${hostList(mongos)}/` }];
  }
  const uris = topology.replicaSets.map((set) => ({
    name: set.name,
    uri: `mongodb://${hostList(set.members)}/?replicaSet=${encodeURIComponent(set.name)}`,
  }));
  for (const instance of topology.instances.filter(
    (i) => i.replicaSet === undefined && i.role === 'mongod',
  )) {
    uris.push({ name: instance.id, uri: `mongodb://${instance.id}/` });
  }
  return uris;
}

/** The one URI printed by deploy and playground: the first of connectionUris. */
export function primaryUri(topology: ResolvedTopology): string {
  return connectionUris(topology)[0]?.uri ?? '';
}

/** primaryUri with the user and password in it, and authSource: only for `mup cluster credentials --uri`. */
export function credentialUri(topology: ResolvedTopology, credentials: MongoCredentials): string {
  // A host list is not a WHATWG URL: splice the userinfo in after the scheme, percent-encoded.
  const base = primaryUri(topology);
  const scheme = 'mongodb://';
  const userinfo = `${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}@`;
  const withUser = `${scheme}${userinfo}${base.slice(scheme.length)}`;
  return `${withUser}${withUser.includes('?') ? '&' : '?'}authSource=${encodeURIComponent(credentials.source)}`;
}
