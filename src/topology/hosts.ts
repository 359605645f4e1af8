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
  if (isIPv6(name)) return name === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(name);
  return false;
}

/** `host:port`, with IPv6 addresses in brackets as MongoDB connection strings and replica-set configs want. */
export function endpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
