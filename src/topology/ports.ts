// Ports for `port: 0` entries: one contiguous block of free local ports, so a cluster's ports read as a
// range (30000-30002). Probing is injected; unit tests need no sockets.
import { UsageError } from '../errors.js';

export const DEFAULT_PORT_BASE = 30000;
const MAX_PORT = 65535;

export type PortProbe = (port: number) => Promise<boolean>;

export interface PortBlockOptions {
  /** First port tried. */
  base?: number;
  /** True when nothing listens on the port (the CLI binds 127.0.0.1 to find out). */
  isPortFree: PortProbe;
  /** Ports that must not be handed out even when free now: explicit ports of this topology, other clusters'. */
  reserved?: ReadonlySet<number>;
}

/**
 * `count` contiguous ports starting at the lowest base >= `base` whose block has no reserved or busy port.
 * A busy port moves the search just past it, so each port is probed at most once.
 */
export async function allocatePortBlock(count: number, options: PortBlockOptions): Promise<number[]> {
  const base = options.base ?? DEFAULT_PORT_BASE;
  if (count === 0) return [];
  const reserved = options.reserved ?? new Set<number>();
  let start = base;
  search: while (start + count - 1 <= MAX_PORT) {
    for (let port = start; port < start + count; port++) {
      if (reserved.has(port) || !(await options.isPortFree(port))) {
        start = port + 1;
        continue search;
      }
    }
    return Array.from({ length: count }, (_, i) => start + i);
  }
  throw new UsageError(
    `no block of ${count} free contiguous ports between ${base} and ${MAX_PORT}`,
    'choose another base port, or give the servers explicit ports',
  );
}
