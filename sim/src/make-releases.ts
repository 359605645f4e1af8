// Command line for makeFakeReleases:
//   node dist/sim/src/make-releases.js <outDir> --version 7.0.14 --version 6.0.16:ubuntu2204,rhel80
//     [--target ubuntu2204]... [--arch x86_64]... [--percona 7.0.14-8[:jammy,bookworm]]...
//     [--base-url URL | --relative] [--pad-mb 200]
// A version's own ":targets" override the --target defaults. Prints a JSON summary of the archives.
import { parseArgs } from 'node:util';
import { type FakeArch, makeFakeReleases } from './releases.js';

function splitSpec(spec: string): { version: string; targets: string[] | undefined } {
  const [version = '', targets] = spec.split(':');
  return { version, targets: targets ? targets.split(',').filter(Boolean) : undefined };
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      version: { type: 'string', multiple: true, default: [] },
      target: { type: 'string', multiple: true },
      arch: { type: 'string', multiple: true },
      percona: { type: 'string', multiple: true, default: [] },
      'base-url': { type: 'string' },
      relative: { type: 'boolean', default: false },
      'pad-mb': { type: 'string' },
    },
  });
  const outDir = positionals[0];
  if (!outDir || (values.version.length === 0 && values.percona.length === 0)) {
    process.stderr.write('usage: make-releases <outDir> --version <x.y.z[:target,...]>... [options]\n');
    return 2;
  }
  const arches = values.arch as FakeArch[] | undefined;
  const result = await makeFakeReleases({
    outDir,
    versions: values.version.map((spec) => {
      const { version, targets } = splitSpec(spec);
      return { version, targets: targets ?? values.target ?? ['ubuntu2204'], arches };
    }),
    percona: values.percona.map((spec) => {
      const { version, targets } = splitSpec(spec);
      return { version, targets, arches };
    }),
    baseUrl: values.relative ? '' : values['base-url'],
    padBytes: values['pad-mb'] ? Math.round(Number(values['pad-mb']) * 1024 * 1024) : 0,
  });
  process.stdout.write(`${JSON.stringify(result.archives, null, 2)}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
