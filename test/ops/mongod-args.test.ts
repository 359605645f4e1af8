// mongod command-line options after `playground start --`: mapped to configuration-file settings, or refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { ExitCode, MupError } from '../../src/errors.js';
import { mongodArgsToConfig } from '../../src/ops/mongod-args.js';
import { type PlaygroundRequest, playgroundTopology } from '../../src/ops/playground.js';

test('command-line options become nested configuration settings', () => {
  assert.deepEqual(
    mongodArgsToConfig([
      '--wiredTigerCacheSizeGB',
      '0.5',
      '--setParameter',
      'notablescan=true',
      '--setParameter=ttlMonitorSleepSecs=5',
      '--oplogSize=128',
      '--quiet',
      '-vv',
      '--profile',
      '1',
      '--nounixsocket',
      '--bind_ip',
      '127.0.0.1,::1',
    ]),
    {
      storage: { wiredTiger: { engineConfig: { cacheSizeGB: 0.5 } } },
      setParameter: { notablescan: true, ttlMonitorSleepSecs: 5 },
      replication: { oplogSizeMB: 128 },
      systemLog: { quiet: true, verbosity: 2 },
      operationProfiling: { mode: 'slowOp' },
      net: { unixDomainSocket: { enabled: false }, bindIp: '127.0.0.1,::1' },
    },
  );
  assert.deepEqual(mongodArgsToConfig([]), {});
});

test('unknown, owned, malformed and valueless options are refused with exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['--noSuchOption', '1'], /cannot pass --noSuchOption/],
    [['--port', '27017'], /--port is set by mup/],
    [['--dbpath=/x'], /--dbpath is set by mup/],
    [['--replSet', 'x'], /--replSet is set by mup/],
    [['--oplogSize'], /--oplogSize needs a value/],
    [['--oplogSize', '--quiet'], /--oplogSize needs a value/],
    [['--oplogSize', 'big'], /whole number, got 'big'/],
    [['--oplogSize', '1.5'], /whole number/],
    [['--wiredTigerCacheSizeGB', ''], /a number, got ''/],
    [['--setParameter', 'novalue'], /name=value/],
    [['--quiet=yes'], /--quiet takes no value/],
    [['--profile', '3'], /0, 1 or 2/],
    [['stray'], /'stray' is not a mongod option/],
  ];
  for (const [args, pattern] of cases)
    assert.throws(
      () => mongodArgsToConfig(args),
      (error: unknown) =>
        error instanceof MupError && error.exitCode === ExitCode.usage && pattern.test(error.message),
      args.join(' '),
    );
});

const request = (extra: Partial<PlaygroundRequest> = {}): PlaygroundRequest => ({
  variant: 'mongodb',
  topology: 'sharded',
  nodes: 1,
  shards: 1,
  configServers: 1,
  mongos: 1,
  arbiter: false,
  port: 30000,
  ...extra,
});

test('a 5.0+ playground gets a 0.5 s quiesce for members and routers; the user can set another', () => {
  const spec = parse(playgroundTopology(request(), '/d', '8.0')) as {
    server_configs: Record<string, { setParameter: Record<string, number> }>;
  };
  assert.deepEqual(spec.server_configs, {
    mongod: { setParameter: { shutdownTimeoutMillisForSignaledShutdown: 500 } },
    mongos: { setParameter: { mongosShutdownTimeoutMillisForSignaledShutdown: 500 } },
  });
  const own = parse(
    playgroundTopology(
      request({ mongodArgs: ['--setParameter', 'shutdownTimeoutMillisForSignaledShutdown=3000', '--quiet'] }),
      '/d',
      '7.0.14',
    ),
  ) as { server_configs: { mongod: unknown } };
  assert.deepEqual(own.server_configs.mongod, {
    systemLog: { quiet: true },
    setParameter: { shutdownTimeoutMillisForSignaledShutdown: 3000 },
  });
  // Before 5.0 the parameter does not exist: mongod would refuse to start on it.
  const old = parse(playgroundTopology(request(), '/d', '4.4.29')) as Record<string, unknown>;
  assert.equal(old.server_configs, undefined);
});
