#!/usr/bin/env node
import { runProcess } from './startup.js';
// Entry point of the simulated mongod/mongos. The wrapper (sim/src/install.ts) sets
// MONGOD_SIM_VERSION and MONGOD_SIM_PROGRAM; everything else comes from argv, like the real binary.
import { type Program, parseVersion } from './version.js';

const versionText = process.env.MONGOD_SIM_VERSION;
const programText = process.env.MONGOD_SIM_PROGRAM ?? 'mongod';
if (!versionText || (programText !== 'mongod' && programText !== 'mongos')) {
  process.stderr.write(
    'simulator: MONGOD_SIM_VERSION and MONGOD_SIM_PROGRAM (mongod|mongos) must be set by the wrapper\n',
  );
  process.exit(1);
}
const program: Program = programText;
const argv0 = process.env.MONGOD_SIM_ARGV0 ?? program;

// An uncaught error is mongod's std::terminate: report it and die abruptly (exit 14), leaving the
// lock file behind like any crash.
const die = (err: unknown): never => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(14);
};
process.on('uncaughtException', die);
process.on('unhandledRejection', die);

runProcess({ program, version: parseVersion(versionText), argv: process.argv.slice(2), argv0 }).then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  die,
);
