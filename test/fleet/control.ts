// The control machine of a fleet test: a MUP_HOME, a user home whose ~/.ssh/known_hosts trusts the fleet's
// host keys, the simulator's binaries, and the built CLI run with the fleet's key (no agent). The hosts get
// the parent of the deploy dirs, as an administrator prepares it for the deploy user.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DisplayResult } from '../../src/ops/display.js';
import { type MupRun, runMup, tempDir } from '../helpers/cli.js';
import { simBinaryDir } from '../helpers/sim.js';
import { type Fleet, runOnHost } from './fleet.js';

export interface Control {
  home: string;
  userHome: string;
  binDir: string;
  /** Environment of a mup run: the user home, no SSH agent. */
  env: Record<string, string>;
  mup(
    args: readonly string[],
    options?: { timeoutMs?: number; env?: Record<string, string> },
  ): Promise<MupRun>;
  display(name: string): Promise<DisplayResult>;
}

export async function prepareControl(fleet: Fleet, version: string): Promise<Control> {
  await Promise.all(
    fleet.hosts.map((host) => runOnHost(host, `mkdir -p /srv/mongodb && chown ${fleet.uid} /srv/mongodb`)),
  );
  const userHome = await tempDir('mup-fleet-user-');
  await mkdir(join(userHome, '.ssh'), { mode: 0o700 });
  await writeFile(join(userHome, '.ssh', 'known_hosts'), fleet.knownHosts);
  const home = await tempDir('mup-fleet-home-');
  const env = { HOME: userHome, SSH_AUTH_SOCK: '' };
  const mup: Control['mup'] = (args, options = {}) =>
    runMup(['-i', fleet.identityFile, ...args], {
      home,
      env: { ...env, ...options.env },
      timeoutMs: options.timeoutMs ?? 180_000,
    });
  return {
    home,
    userHome,
    binDir: await simBinaryDir(version),
    env,
    mup,
    display: async (name) => {
      const run = await mup(['cluster', 'display', name, '--json']);
      assert.equal(run.code, 0, run.stderr);
      return JSON.parse(run.stdout) as DisplayResult;
    },
  };
}

/** Display until every process is up with one primary per replica set (bounded), then the last view. */
export async function settledDisplay(
  control: Control,
  name: string,
  primaries = 1,
  timeoutMs = 90_000,
): Promise<DisplayResult> {
  const deadline = Date.now() + timeoutMs;
  let view = await control.display(name);
  for (let i = 0; i < 400 && Date.now() < deadline; i++) {
    const up = view.processes.every((p) => p.status.startsWith('Up'));
    if (up && view.processes.filter((p) => p.status === 'Up|P').length === primaries) return view;
    await new Promise((resolve) => setTimeout(resolve, 500));
    view = await control.display(name);
  }
  return view;
}
