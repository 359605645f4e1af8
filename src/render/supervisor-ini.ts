// The unified supervisor.ini of one cluster on one host: daemon, loopback HTTP API with
// credentials, supervisorctl settings and one [program:...] per mongod/mongos. Built as a typed object and
// serialized; every value is validated and escaped, so a path can never inject a key or a section.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { MupError } from '../errors.js';
import type { ResolvedInstance } from '../topology/types.js';

/** One supervised process. */
export interface SupervisorProgram {
  /** `[program:<name>]`, e.g. `mongod-30001`. */
  name: string;
  /** Executable and arguments; quoted for supervisord's shell-like splitting, never run through a shell. */
  command: readonly string[];
  /** Working directory of the process. */
  directory: string;
  /** Captured stdout+stderr (rotated by supervisord). */
  outputFile: string;
  /** Seconds the process must stay up to count as started. */
  startsecs: number;
  /**
   * Started by supervisord itself when the daemon starts (a host's boot): the cluster's desired state. mup
   * starts programs one by one itself otherwise; supervisord reads this only at its own start. Default false.
   */
  autostart?: boolean;
  /** The user supervisord starts the process as (`user=`); supervisord itself needs to be root to switch. */
  user?: string;
}

/** A `[group:<name>]` section: its programs are addressed as `<group>:<program>` and reloaded as one unit. */
export interface SupervisorGroup {
  name: string;
  programs: readonly string[];
}

export interface SupervisorIniSpec {
  cluster: string;
  /** Holds supervisor.ini, supervisord.log and supervisord.pid (`ResolvedHost.supervisorDir`). */
  supervisorDir: string;
  /** Port of the API on 127.0.0.1. */
  httpPort: number;
  username: string;
  /** Plain password: stored as `{SHA}` for the server and in clear for supervisorctl (the file is 0600). */
  password: string;
  /** RLIMIT_NOFILE raised for the daemon and its children; must not exceed the host's hard limit (else rc 2). */
  minfds: number;
  programs: readonly SupervisorProgram[];
  groups: readonly SupervisorGroup[];
  /** Rotation of each program's output file and of the daemon log. */
  logMaxBytes?: string;
  logBackups?: number;
}

export const DEFAULT_STARTSECS = 5;
/** mongod's clean shutdown can take minutes; supervisord sends SIGKILL after this (forcing recovery). */
export const STOPWAITSECS = 300;
/** MongoDB's recommended open-file limit; clamped to the host's hard limit by `chooseMinfds`. */
export const PREFERRED_MINFDS = 64000;
const DEFAULT_LOG_MAX_BYTES = '50MB';
const DEFAULT_LOG_BACKUPS = 5;

export class SupervisorIniError extends MupError {
  constructor(message: string) {
    super(message, {
      hint: 'supervisor.ini values must be single-line; names may use letters, digits, . _ -',
    });
  }
}

export function supervisorIniPath(supervisorDir: string): string {
  return join(supervisorDir, 'supervisor.ini');
}
export function supervisordLogPath(supervisorDir: string): string {
  return join(supervisorDir, 'supervisord.log');
}
export function supervisordPidPath(supervisorDir: string): string {
  return join(supervisorDir, 'supervisord.pid');
}
/** Identifier returned by `supervisor.getIdentification`: proves the API belongs to this cluster's daemon. */
export function supervisorIdentifier(cluster: string): string {
  return `mup-${cluster}`;
}

/** supervisord refuses to start when minfds exceeds the hard RLIMIT_NOFILE, so never ask for more. */
export function chooseMinfds(hardLimit: number | 'unlimited'): number {
  return hardLimit === 'unlimited' ? PREFERRED_MINFDS : Math.min(PREFERRED_MINFDS, hardLimit);
}

export function programForInstance(
  instance: ResolvedInstance,
  startsecs = DEFAULT_STARTSECS,
  user?: string,
): SupervisorProgram {
  const binary = instance.role === 'mongos' ? 'mongos' : 'mongod';
  return {
    ...(user === undefined ? {} : { user }),
    name: instance.programName,
    // The binary itself, never --fork: supervisord must be the parent to restart it and to signal it.
    command: [join(instance.binDir, binary), '--config', instance.configFile],
    directory: instance.deployDir,
    outputFile: instance.outputFile,
    startsecs,
  };
}

/**
 * Groups are opt-in: supervisord reloads a whole group when any member changes (a changed group must be fully
 * stopped before removeProcessGroup), so a group per replica set would restart every member for a change to one.
 * Without groups each program is its own group and config changes stay rolling.
 */
export type GroupBy = 'none' | 'replicaSet';

export function groupsForInstances(
  instances: readonly ResolvedInstance[],
  groupBy: GroupBy,
): SupervisorGroup[] {
  if (groupBy === 'none') return [];
  const groups = new Map<string, string[]>();
  for (const instance of instances) {
    const name = instance.replicaSet ?? (instance.role === 'mongos' ? 'mongos' : undefined);
    if (name === undefined) continue;
    const members = groups.get(name) ?? [];
    members.push(instance.programName);
    groups.set(name, members);
  }
  return [...groups].map(([name, programs]) => ({ name, programs }));
}

/** The daemon's settings as in the spec; the programs and groups come from the host's instances. */
export interface SupervisorIniForHost
  extends Pick<
    SupervisorIniSpec,
    'cluster' | 'supervisorDir' | 'httpPort' | 'username' | 'password' | 'minfds'
  > {
  /** The instances of this cluster on this host. */
  instances: readonly ResolvedInstance[];
  startsecs?: number;
  groupBy?: GroupBy;
  /** Program names written `autostart=true` (should run whenever the daemon starts); default none. */
  autostart?: readonly string[];
  /** The user the host's processes run as (`ResolvedHost.user`). */
  user?: string;
}

export function supervisorIniSpecForHost(input: SupervisorIniForHost): SupervisorIniSpec {
  const { cluster, supervisorDir, httpPort, username, password, minfds } = input;
  return {
    cluster,
    supervisorDir,
    httpPort,
    username,
    password,
    minfds,
    programs: input.instances.map((instance) => ({
      ...programForInstance(instance, input.startsecs, input.user),
      autostart: input.autostart?.includes(instance.programName) ?? false,
    })),
    groups: groupsForInstances(input.instances, input.groupBy ?? 'none'),
  };
}

type IniValue = string | number | boolean;
interface IniSection {
  name: string;
  entries: ReadonlyArray<readonly [string, IniValue]>;
}

export function renderSupervisorIni(spec: SupervisorIniSpec): string {
  validateSpec(spec);
  const logMaxBytes = spec.logMaxBytes ?? DEFAULT_LOG_MAX_BYTES;
  const logBackups = spec.logBackups ?? DEFAULT_LOG_BACKUPS;
  const serverUrl = `http://127.0.0.1:${spec.httpPort}`;
  const sections: IniSection[] = [
    {
      name: 'supervisord',
      entries: [
        ['logfile', supervisordLogPath(spec.supervisorDir)],
        ['logfile_maxbytes', logMaxBytes],
        ['logfile_backups', logBackups],
        ['loglevel', 'info'],
        ['pidfile', supervisordPidPath(spec.supervisorDir)],
        ['directory', spec.supervisorDir],
        ['childlogdir', spec.supervisorDir],
        ['nodaemon', false],
        ['minfds', spec.minfds],
        ['identifier', supervisorIdentifier(spec.cluster)],
      ],
    },
    {
      // `127.0.0.1:` is required: a bare port binds 0.0.0.0.
      name: 'inet_http_server',
      entries: [
        ['port', `127.0.0.1:${spec.httpPort}`],
        ['username', spec.username],
        ['password', `{SHA}${sha1Hex(spec.password)}`],
      ],
    },
    {
      name: 'rpcinterface:supervisor',
      entries: [['supervisor.rpcinterface_factory', 'supervisor.rpcinterface:make_main_rpcinterface']],
    },
    {
      // supervisorctl sends the password in clear, so it needs the plain one (the file is 0600).
      name: 'supervisorctl',
      entries: [
        ['serverurl', serverUrl],
        ['username', spec.username],
        ['password', spec.password],
      ],
    },
  ];
  for (const program of spec.programs) sections.push(programSection(program, logMaxBytes, logBackups));
  for (const group of spec.groups) {
    sections.push({ name: `group:${group.name}`, entries: [['programs', group.programs.join(',')]] });
  }
  const header = [
    `; supervisord configuration of mup cluster "${singleLine(spec.cluster)}" on this host.`,
    '; Generated by mup: edits are overwritten. Contains credentials: keep it mode 0600.',
  ];
  return `${header.join('\n')}\n\n${sections.map(serializeSection).join('\n')}`;
}

function programSection(program: SupervisorProgram, logMaxBytes: string, logBackups: number): IniSection {
  return {
    name: `program:${program.name}`,
    entries: [
      ['command', program.command.map(quoteArgument).join(' ')],
      ['directory', program.directory],
      ...(program.user === undefined ? [] : [['user', program.user] as const]),
      ['autostart', program.autostart ?? false],
      // Restart only after a crash; a clean shutdown (exit 0, e.g. `shutdown` command) stays down.
      ['autorestart', 'unexpected'],
      ['exitcodes', '0'],
      ['startsecs', program.startsecs],
      ['startretries', 3],
      ['stopsignal', 'TERM'],
      ['stopwaitsecs', STOPWAITSECS],
      ['stopasgroup', true],
      ['killasgroup', true],
      ['redirect_stderr', true],
      ['stdout_logfile', program.outputFile],
      ['stdout_logfile_maxbytes', logMaxBytes],
      ['stdout_logfile_backups', logBackups],
    ],
  };
}

function serializeSection(section: IniSection): string {
  const lines = [`[${section.name}]`];
  for (const [key, value] of section.entries) lines.push(`${key}=${iniValue(value)}`);
  return `${lines.join('\n')}\n`;
}

/** supervisord expands `%(name)s` in every value, so a literal `%` is written `%%`. */
function iniValue(value: IniValue): string {
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return String(value);
  return singleLine(value).replaceAll('%', '%%');
}

function singleLine(value: string): string {
  if (/[\r\n\0]/.test(value)) throw new SupervisorIniError(`value ${JSON.stringify(value)} spans lines`);
  // A value that starts or ends with blanks would be trimmed by the parser, and `;`/`#` after a blank start a comment.
  if (value !== value.trim())
    throw new SupervisorIniError(`value ${JSON.stringify(value)} has surrounding blanks`);
  if (/\s[;#]/.test(value))
    throw new SupervisorIniError(`value ${JSON.stringify(value)} would be cut by a comment`);
  return value;
}

const SAFE_ARGUMENT = /^[A-Za-z0-9_\-./:=@+,%]+$/;

/** supervisord splits `command` with shlex (POSIX rules), so single quotes keep any argument intact. */
function quoteArgument(argument: string): string {
  if (argument.length > 0 && SAFE_ARGUMENT.test(argument)) return argument;
  return `'${argument.replaceAll("'", `'"'"'`)}'`;
}

const NAME = /^[A-Za-z0-9_.-]+$/;
/** POSIX portable user names: a value supervisord reads as one word. */
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

function validateSpec(spec: SupervisorIniSpec): void {
  if (!NAME.test(spec.cluster))
    throw new SupervisorIniError(`cluster name "${spec.cluster}" is not a valid name`);
  if (!Number.isInteger(spec.httpPort) || spec.httpPort < 1 || spec.httpPort > 65535) {
    throw new SupervisorIniError(`HTTP port ${spec.httpPort} is out of range`);
  }
  if (!Number.isInteger(spec.minfds) || spec.minfds < 1)
    throw new SupervisorIniError('minfds must be positive');
  if (spec.username.length === 0 || /[:\s]/.test(spec.username)) {
    throw new SupervisorIniError('the supervisor username must be non-empty without blanks or ":"');
  }
  if (spec.password.length === 0) throw new SupervisorIniError('the supervisor password is empty');
  const programs = new Set<string>();
  for (const program of spec.programs) {
    if (!NAME.test(program.name)) throw new SupervisorIniError(`program name "${program.name}" is not valid`);
    if (programs.has(program.name))
      throw new SupervisorIniError(`program "${program.name}" is defined twice`);
    programs.add(program.name);
    if (program.command.length === 0)
      throw new SupervisorIniError(`program "${program.name}" has no command`);
    if (program.user !== undefined && !USER.test(program.user))
      throw new SupervisorIniError(`program "${program.name}" has an invalid user "${program.user}"`);
    if (!Number.isInteger(program.startsecs) || program.startsecs < 0) {
      throw new SupervisorIniError(`program "${program.name}" has an invalid startsecs`);
    }
  }
  const grouped = new Set<string>();
  for (const group of spec.groups) {
    if (!NAME.test(group.name)) throw new SupervisorIniError(`group name "${group.name}" is not valid`);
    if (programs.has(group.name)) {
      throw new SupervisorIniError(`group "${group.name}" has the name of a program`);
    }
    for (const member of group.programs) {
      if (!programs.has(member))
        throw new SupervisorIniError(`group "${group.name}" lists unknown "${member}"`);
      if (grouped.has(member)) throw new SupervisorIniError(`program "${member}" is in two groups`);
      grouped.add(member);
    }
  }
}

function sha1Hex(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex');
}

/** `autostart` of each `[program:x]` in a supervisor.ini text (absent: supervisord's default, true). */
export function programAutostart(text: string): Map<string, boolean> {
  const values = new Map<string, boolean>();
  let program: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const section = /^\[(.+)\]$/.exec(line)?.[1];
    if (section !== undefined) {
      program = section.startsWith('program:') ? section.slice('program:'.length) : undefined;
      if (program !== undefined) values.set(program, true);
      continue;
    }
    const value = /^autostart\s*=\s*(\S+)/i.exec(line)?.[1];
    if (program !== undefined && value !== undefined) values.set(program, isTrue(value));
  }
  return values;
}

/** supervisord's boolean spelling (`datatypes.boolean`): true/yes/on/1, any case. */
function isTrue(value: string): boolean {
  return ['true', 'yes', 'on', '1'].includes(value.toLowerCase());
}

/** The text with `autostart` of the programs in `values` set as given (rendered files only: one line each). */
export function withProgramAutostart(text: string, values: ReadonlyMap<string, boolean>): string {
  let program: string | undefined;
  return text
    .split('\n')
    .map((raw) => {
      const line = raw.trim();
      const section = /^\[(.+)\]$/.exec(line)?.[1];
      if (section !== undefined) {
        program = section.startsWith('program:') ? section.slice('program:'.length) : undefined;
        return raw;
      }
      const wanted = program === undefined ? undefined : values.get(program);
      if (wanted === undefined || !/^autostart\s*=/i.test(line)) return raw;
      return `autostart=${wanted ? 'true' : 'false'}`;
    })
    .join('\n');
}
