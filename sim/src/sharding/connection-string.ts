// Replica-set connection strings as sharding uses them: "<setName>/<host:port>,<host:port>,...".
// mongos' sharding.configDB must have this form since 3.4 (the mirrored form was removed), and
// addShard takes it for replica-set shards. Source: reference/mongod-behavior.md §4.2, §4.3.

export interface SetConnectionString {
  /** Empty for a plain host list (a standalone shard in old versions). */
  readonly setName: string;
  /** "host:port", port made explicit (27017 when absent, as mongod's HostAndPort does). */
  readonly hosts: readonly string[];
}

export class ConnectionStringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionStringError';
  }
}

/** "h" → "h:27017"; "h:p" kept; "[::1]:p" kept. */
export function normalizeHost(host: string, defaultPort = 27017): string {
  const h = host.trim();
  if (h.startsWith('[')) return h.includes(']:') ? h : `${h}:${defaultPort}`;
  return h.includes(':') ? h : `${h}:${defaultPort}`;
}

export function splitHostPort(host: string): { host: string; port: number } {
  const at = host.lastIndexOf(':');
  const name = host.slice(0, at).replace(/^\[|\]$/g, '');
  return { host: name, port: Number(host.slice(at + 1)) };
}

/** Parses "set/h1:p1,h2:p2" or "h1:p1,h2:p2". Throws ConnectionStringError on an empty or bad list. */
export function parseConnectionString(text: string): SetConnectionString {
  const slash = text.indexOf('/');
  const setName = slash < 0 ? '' : text.slice(0, slash);
  const list = slash < 0 ? text : text.slice(slash + 1);
  const hosts = list
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  if (hosts.length === 0) throw new ConnectionStringError(`Invalid connection string ${text}`);
  for (const h of hosts) {
    const port = h.startsWith('[') ? h.split(']:')[1] : h.split(':')[1];
    if (port !== undefined && !/^\d+$/.test(port)) {
      throw new ConnectionStringError(`Invalid connection string ${text}`);
    }
  }
  return { setName, hosts: hosts.map((h) => normalizeHost(h)) };
}

export function formatConnectionString(cs: SetConnectionString): string {
  return cs.setName ? `${cs.setName}/${cs.hosts.join(',')}` : cs.hosts.join(',');
}

/**
 * mongos' check of sharding.configDB (mongos_options.cpp): only a replica-set connection string is
 * accepted since 3.4. Returns the error text to print before exit 2, or undefined when valid.
 */
export function configDbProblem(text: string): string | undefined {
  let cs: SetConnectionString;
  try {
    cs = parseConnectionString(text);
  } catch {
    return `BadValue: Invalid --configdb: ${text}`;
  }
  if (!cs.setName) return 'BadValue: configdb supports only replica set connection string';
  return undefined;
}
