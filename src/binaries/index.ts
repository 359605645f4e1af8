// Public API of the binaries layer (used by the CLI, deploy and playground).
export { type CheckedBinaryPath, checkBinaryPath, parseVersionOutput } from './binary-path.js';
export * from './errors.js';
export type { BinaryEvent, BinaryEventListener } from './events.js';
export { type InstallResult, installRelease } from './install.js';
export { listRemoteVersions, type RemoteListing, type RemoteVersion } from './list-remote.js';
export { buildMirror, type MirroredArchive, type MirrorOptions, type MirrorResult } from './mirror.js';
export {
  findPackage,
  type InstalledPackage,
  listPackages,
  packageName,
  packagesDir,
} from './package-store.js';
export {
  describePlatform,
  detectLocalPlatform,
  type HostPlatform,
  hostPlatform,
  type LinuxDistro,
  type OsReleaseReader,
  parseOsRelease,
} from './platform.js';
export { loadReleaseList, releaseCachePath } from './release-cache.js';
export { type Arch, parseReleaseList, type ReleaseList, type ReleaseVersion } from './release-list.js';
export { type RemoveFilter, removePackages } from './remove.js';
export {
  type BinaryContext,
  type ReleaseChoice,
  type ResolvedRelease,
  resolveRelease,
  timeoutFromEnv,
} from './resolve.js';
export {
  engineLabel,
  installSimulator,
  type SimulatorInstall,
  simulatorBinDir,
  simulatorLabel,
  simulatorVersion,
} from './simulator.js';
export { type ReleaseSource, resolveSource, type Variant, variants } from './source.js';
export { chooseDownload, rankCandidates } from './targets.js';
export { parseVersionSpec, resolveVersion } from './versions.js';
