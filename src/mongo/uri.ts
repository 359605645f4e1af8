// Connection strings for a resolved topology. They never carry credentials, except the one
// `mup cluster credentials --uri` asks for (credentialUri).
import type { ResolvedTopology } from '../topology/types.js';
import type { TlsClient } from './connect.js';
import type { MongoCredentials } from './credentials.js';

/** `uri` with more query options, percent-encoded (`?` or `&` as the URI needs). */
function withOptions(uri: string, options: readonly [string, string][]): string {
  if (options.length === 0) return uri;
  const query = options.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  return `${uri}${uri.includes('?') ? '&' : '?'}${query}`;
}

/** The options a client of a TLS cluster needs: TLS, trusting the cluster CA (a file on this machine). */
function tlsQuery(tls: TlsClient | undefined): [string, string][] {
  return tls === undefined
    ? []
    : [
        ['tls', 'true'],
        ['tlsCAFile', tls.caFile],
      ];
}

function hostList(ids: readonly string[]): string {
  return ids.join(',');
}

/** Per replica set (non-sharded) or the mongos list (sharded): what a client should connect to. */
export function connectionUris(topology: ResolvedTopology, tls?: TlsClient): { name: string; uri: string }[] {
  if (tls !== undefined)
    return connectionUris(topology).map(({ name, uri }) => ({ name, uri: withOptions(uri, tlsQuery(tls)) }));
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
export function primaryUri(topology: ResolvedTopology, tls?: TlsClient): string {
  return connectionUris(topology, tls)[0]?.uri ?? '';
}

/** primaryUri with the user and password in it, and authSource: only for `mup cluster credentials --uri`. */
export function credentialUri(
  topology: ResolvedTopology,
  credentials: MongoCredentials,
  tls?: TlsClient,
): string {
  // A host list is not a WHATWG URL: splice the userinfo in after the scheme, percent-encoded.
  const base = primaryUri(topology);
  const scheme = 'mongodb://';
  const userinfo = `${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}@`;
  const withUser = `${scheme}${userinfo}${base.slice(scheme.length)}`;
  return withOptions(withUser, [['authSource', credentials.source], ...tlsQuery(tls)]);
}
