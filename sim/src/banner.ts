// What `mongod --version` / `mongos --version` print, and the --help text.
// Source: reference/mongod-behavior.md §5.5 (version probe: text up to 4.2, "Build Info" JSON from 4.4).
import { buildInfo } from './commands/basic.js';
import { atLeast, gitVersion, openSslVersion, type Program, type VersionInfo } from './version.js';

export function versionOutput(program: Program, v: VersionInfo): string {
  const first = program === 'mongos' ? `mongos version v${v.full}` : `db version v${v.full}`;
  const info = buildInfo(v);
  const env = info.buildEnvironment as Record<string, string>;
  if (!atLeast(v, 4, 4)) {
    return [
      first,
      `git version: ${gitVersion(v)}`,
      `OpenSSL version: ${openSslVersion(v)}`,
      'allocator: tcmalloc',
      'modules: none',
      'build environment:',
      `    distmod: ${env.distmod}`,
      `    distarch: ${env.distarch}`,
      `    target_arch: ${env.target_arch}`,
      '',
    ].join('\n');
  }
  const block = {
    version: v.full,
    gitVersion: gitVersion(v),
    openSSLVersion: openSslVersion(v),
    modules: [],
    allocator: 'tcmalloc',
    environment: { distmod: env.distmod, distarch: env.distarch, target_arch: env.target_arch },
  };
  return `${first}\nBuild Info: ${JSON.stringify(block, null, 4)}\n`;
}

export function helpOutput(program: Program): string {
  const lines = [
    'Options:',
    '  --networkMessageCompressors arg       Comma-separated list of compressors',
    '  --port arg                            Specify port number - 27017 by default',
    '  --bind_ip arg                         Comma separated list of ip addresses to listen on',
    '  --bind_ip_all                         Bind to all ip addresses',
    '  -f [ --config ] arg                   Configuration file specifying additional options',
    '  --logpath arg                         Log file to send write to instead of stdout',
    '  --logappend                           Append to logpath instead of over-writing',
    '  --pidfilepath arg                     Full path to pidfile (if not set, no pidfile is created)',
    '  --keyFile arg                         Private key for cluster authentication',
    '  --setParameter arg                    Set a configurable parameter',
    '  --fork                                Fork server process',
  ];
  if (program === 'mongod') {
    lines.push(
      '  --dbpath arg                          Directory for datafiles - defaults to /data/db',
      '  --replSet arg                         arg is <setname>[/<optionalseedhostlist>]',
      '  --configsvr                           Declare this is a config db of a cluster',
      '  --shardsvr                            Declare this is a shard db of a cluster',
      '  --auth                                Run with security',
    );
  } else {
    lines.push(
      '  --configdb arg                        Connection string for communicating with config servers',
    );
  }
  return `${lines.join('\n')}\n`;
}
