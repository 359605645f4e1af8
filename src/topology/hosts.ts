// Host names: which ones are this machine, and how an instance is named (`host:port`).
import { isIPv4, isIPv6 } from 'node:net';

/**
 * True for loopback names: `localhost`, 127.0.0.0/8 and ::1 — the same set MongoDB calls "localhost
 * references" when it insists that a replica set uses either only those or none of them.
 */
export function isLocalHost(host: string): boolean {
  const name = host.toLowerCase();
  if (name === 'localhost') return true;
  if (isIPv4(name)) return name.startsWith('127.');
  // Every IPv6 address has a ':'; net.isIPv6's large pattern is compiled on its first use, a cost at start-up.
  if (name.includes(':') && isIPv6(name)) return name === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(name);
  return false;
}

/** `host:port`, with IPv6 addresses in brackets as MongoDB connection strings and replica-set configs want. */
export function endpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

// RFC 1123 host names: dot-separated labels of letters, digits and hyphens (1-63 characters, no hyphen at
// either end), at most 253 characters in all. Underscores are refused too: resolvers and TLS reject them.
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Why `host` is neither an IP address nor a valid host name; undefined when it is one. */
export function hostProblem(host: string): string | undefined {
  if (isIPv4(host) || (host.includes(':') && isIPv6(host))) return undefined;
  if (host.includes(':')) {
    return 'a host with ":" must be an IPv6 address (without brackets); the port goes in port (host)';
  }
  if (host.length > 253) return `is ${host.length} characters long; a host name has at most 253 (host)`;
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  const labels = name.split('.');
  const bad = labels.find((label) => !LABEL.test(label));
  if (bad !== undefined) {
    return `must be an IP address or a host name of letters, digits, "-" and "." (${JSON.stringify(host)} is not) (host)`;
  }
  // An all-numeric dotted name is a mistyped IPv4 address (999.1.1.1, 10.0.1), never a host name.
  if (labels.every((label) => /^[0-9]+$/.test(label)))
    return `${JSON.stringify(host)} is not a valid IPv4 address (host)`;
  return undefined;
}
