// How the supervision layer addresses a resolved instance: its program, evidence files, port and dbPath.
import { DEFAULT_STARTSECS, STOPWAITSECS } from '../render/supervisor-ini.js';
import type { ResolvedInstance } from '../topology/types.js';
import type { OrphanProbe } from './orphans.js';
import type { ProgramRef } from './programs.js';

/** `group` is the instance's `[group:...]` when supervisor.ini was rendered with groups. */
export function programRefFor(
  instance: ResolvedInstance,
  options: { startsecs?: number; group?: string } = {},
): ProgramRef {
  return {
    name: instance.programName,
    group: options.group,
    logFile: instance.logFile,
    outputFile: instance.outputFile,
    startsecs: options.startsecs ?? DEFAULT_STARTSECS,
    stopwaitsecs: STOPWAITSECS,
    port: instance.port,
    dataDir: instance.dataDir,
  };
}

export function orphanProbeFor(instance: ResolvedInstance): OrphanProbe {
  return { program: instance.programName, port: instance.port, dataDir: instance.dataDir };
}
