// Feature compatibility version and the balancer, as a rolling upgrade needs them
// (https://www.mongodb.com/docs/manual/reference/command/setFeatureCompatibilityVersion/,
// https://www.mongodb.com/docs/manual/reference/command/balancerStop/). From 7.0 setFeatureCompatibilityVersion
// must carry `confirm: true` (error 7369100 otherwise); before 7.0 the field is unknown (40415), so it is sent
// only from 7.0.
import { MupError } from '../errors.js';
import { adminCommand, formatAddress, pollUntil, type ServerAddress } from './connect.js';

/** The FCV a mongod reports (`getParameter featureCompatibilityVersion`), e.g. "7.0". */
export async function readFcv(address: ServerAddress): Promise<string> {
  const reply = await adminCommand(
    address,
    { getParameter: 1, featureCompatibilityVersion: 1 },
    { timeoutMs: 5000 },
  );
  const version = (reply.featureCompatibilityVersion as { version?: unknown } | undefined)?.version;
  if (typeof version !== 'string')
    throw new MupError(`${formatAddress(address)} did not report its featureCompatibilityVersion`);
  return version;
}

function needsConfirm(series: string): boolean {
  return Number(series.split('.')[0]) >= 7;
}

/** Sets the FCV through a replica-set primary, a standalone mongod or (sharded) a mongos. */
export async function setFcv(address: ServerAddress, series: string): Promise<void> {
  await adminCommand(
    address,
    { setFeatureCompatibilityVersion: series, ...(needsConfirm(series) ? { confirm: true } : {}) },
    { timeoutMs: 120_000 },
  );
}

/** Waits until every address reports `series` (secondaries learn it by replication). */
export async function waitForFcv(
  addresses: ServerAddress[],
  series: string,
  timeoutMs: number,
): Promise<void> {
  const seen = new Map<string, string>();
  const done = await pollUntil(async () => {
    for (const address of addresses) {
      const fcv = await readFcv(address).catch(() => 'unknown');
      seen.set(formatAddress(address), fcv);
    }
    return [...seen.values()].every((v) => v === series) ? true : undefined;
  }, timeoutMs);
  if (!done)
    throw new MupError(
      `featureCompatibilityVersion did not reach ${series} everywhere within ${Math.round(timeoutMs / 1000)}s: ${[
        ...seen,
      ]
        .map(([a, v]) => `${a} ${v}`)
        .join(', ')}`,
    );
}

/** True when the balancer is enabled (`balancerStatus` mode other than "off"). */
export async function balancerEnabled(mongos: ServerAddress): Promise<boolean> {
  const reply = await adminCommand(mongos, { balancerStatus: 1 }, { timeoutMs: 10_000 });
  return reply.mode !== 'off';
}

export async function stopBalancer(mongos: ServerAddress): Promise<void> {
  await adminCommand(mongos, { balancerStop: 1 }, { timeoutMs: 120_000 });
}

export async function startBalancer(mongos: ServerAddress): Promise<void> {
  await adminCommand(mongos, { balancerStart: 1 }, { timeoutMs: 60_000 });
}

/** The version a running mongod/mongos reports in buildInfo, e.g. "7.0.14". */
export async function serverVersion(address: ServerAddress): Promise<string> {
  const reply = await adminCommand(address, { buildInfo: 1 }, { timeoutMs: 5000 });
  return String(reply.version);
}
