// Which addresses a simulated server listens on for net.bindIp / net.bindIpAll.
// The test machines allow listening on loopback only, so addresses of this host's other interfaces
// are left out (real mongod would listen there too) and bindIpAll becomes 127.0.0.1 — except addresses of
// the test fleet's range (198.18.0.0/15, RFC 2544), which exist only inside the network namespaces the
// multi-host tests build: there a member listens on its host's address as real mongod does. What real mongod
// cannot bind fails the same way here: an address this host does not have, or a name that does not
// resolve, ends startup with exit 48. Source: reference/mongod-behavior.md §5.1, §5.4.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

export type ListenPlan =
  | { kind: 'ok'; addresses: string[] }
  | { kind: 'error'; errno: number; message: string; address: string };

function isLoopback(ip: string): boolean {
  return ip === '::1' || (isIP(ip) === 4 && ip.startsWith('127.'));
}

/** 198.18.0.0/15: the addresses of the test fleet's hosts (see test/fleet/fleet.ts). */
function isFleetAddress(ip: string): boolean {
  return isIP(ip) === 4 && (ip.startsWith('198.18.') || ip.startsWith('198.19.'));
}

function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address);
  return out;
}

export async function planListen(bindIps: string[], bindIpAll: boolean): Promise<ListenPlan> {
  if (bindIpAll) return { kind: 'ok', addresses: ['127.0.0.1'] };
  const out = new Set<string>();
  const local = localAddresses();
  const take = (ip: string): ListenPlan | undefined => {
    if (isLoopback(ip) || (isFleetAddress(ip) && local.has(ip))) out.add(ip);
    else if (!local.has(ip))
      return { kind: 'error', errno: 99, message: 'Cannot assign requested address', address: ip };
    return undefined;
  };
  for (const entry of bindIps) {
    if (entry === 'localhost') {
      out.add('127.0.0.1');
      continue;
    }
    if (isIP(entry) !== 0) {
      const problem = take(entry);
      if (problem) return problem;
      continue;
    }
    let resolved: Array<{ address: string }>;
    try {
      resolved = await lookup(entry, { all: true });
    } catch {
      return {
        kind: 'error',
        errno: -2,
        message: `getaddrinfo("${entry}") failed: Name or service not known`,
        address: entry,
      };
    }
    for (const r of resolved) {
      const problem = take(r.address);
      if (problem) return problem;
    }
  }
  if (out.size === 0) out.add('127.0.0.1');
  return { kind: 'ok', addresses: [...out] };
}
