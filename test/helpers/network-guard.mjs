// Preloaded (NODE_OPTIONS=--import=...) by scripts/run-tests.mjs into every test process and, through the
// environment, every mup and simulator process the tests start: tests may only reach loopback and the
// test fleet's own addresses (198.18.0.0/15, the benchmarking range RFC 2544 reserves, used by the network
// namespaces of SSH tests). Any other TCP connection, and any DNS lookup of another name, throws at once,
// so that a regression (say, a release URL no longer rewritten to the test mirror) fails loudly instead of
// reaching the internet.
import dns from 'node:dns';
import net from 'node:net';

const LOCAL_NAMES = new Set(['localhost', 'localhost.', 'ip6-localhost', 'ip6-loopback']);

function ipv4Allowed(address) {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return false;
  // 127.0.0.0/8 loopback; 198.18.0.0/15 the test fleet; 0.0.0.0 means "this host" to connect().
  return (
    parts[0] === 127 || (parts[0] === 198 && (parts[1] === 18 || parts[1] === 19)) || address === '0.0.0.0'
  );
}

/** Whether a connection to `host` (a name or an address) stays on this machine or the test fleet. */
export function hostAllowed(host) {
  if (host === undefined || host === null || host === '') return true; // connect() defaults to localhost
  const h = String(host).toLowerCase();
  if (LOCAL_NAMES.has(h)) return true;
  if (net.isIPv4(h)) return ipv4Allowed(h);
  if (net.isIPv6(h)) {
    if (h === '::1' || h === '::') return true;
    const mapped = h.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/);
    return mapped ? ipv4Allowed(mapped[1]) : false;
  }
  return false;
}

class NetworkGuardError extends Error {
  constructor(what) {
    super(`test network guard: ${what} is outside loopback and 198.18.0.0/15; tests must not reach it`);
    this.name = 'NetworkGuardError';
    this.code = 'ERR_TEST_NETWORK_GUARD';
  }
}

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  // net.connect() passes its normalized arguments as one array; a direct call passes (options | port, host).
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  let host;
  let path;
  if (first !== null && typeof first === 'object') {
    host = first.host;
    path = first.path;
  } else if (typeof first === 'string' && !/^\d+$/.test(first)) {
    path = first;
  } else if (!Array.isArray(args[0])) {
    host = typeof args[1] === 'string' ? args[1] : undefined;
  }
  if (path === undefined && !hostAllowed(host)) throw new NetworkGuardError(`a connection to ${host}`);
  return originalConnect.apply(this, args);
};

const originalLookup = dns.lookup;
dns.lookup = function guardedLookup(hostname, ...rest) {
  if (!hostAllowed(hostname)) throw new NetworkGuardError(`a DNS lookup of ${hostname}`);
  return originalLookup.call(this, hostname, ...rest);
};
const originalPromisesLookup = dns.promises.lookup;
dns.promises.lookup = function guardedPromisesLookup(hostname, ...rest) {
  if (!hostAllowed(hostname)) return Promise.reject(new NetworkGuardError(`a DNS lookup of ${hostname}`));
  return originalPromisesLookup.call(this, hostname, ...rest);
};
for (const name of ['resolve', 'resolve4', 'resolve6', 'resolveSrv', 'resolveTxt', 'resolveAny']) {
  const original = dns.promises[name];
  if (typeof original !== 'function') continue;
  dns.promises[name] = function guardedResolve(hostname, ...rest) {
    if (!hostAllowed(hostname)) return Promise.reject(new NetworkGuardError(`a DNS query for ${hostname}`));
    return original.call(this, hostname, ...rest);
  };
}
