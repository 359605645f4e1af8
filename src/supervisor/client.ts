// supervisord's XML-RPC API (supervisor 4.x, API version 3.0) with typed results.
// One fresh connection per call (agent:false + Connection: close): on a reused keep-alive connection
// supervisord's medusa server meets delayed ACK and every response of a few KB stalls ~40 ms.
import { request } from 'node:http';
import {
  SupervisorAuthError,
  SupervisorFault,
  SupervisorProtocolError,
  SupervisorUnreachableError,
} from './errors.js';
import { type ProcessInfo, toProcessInfo } from './process-info.js';
import { encodeMethodCall, parseMethodResponse, XmlRpcParseError, type XmlRpcValue } from './xmlrpc.js';

export interface SupervisorEndpoint {
  host: string;
  port: number;
  username: string;
  password: string;
}

export interface CallOptions {
  /** Client-side limit; an aborted call does not cancel the action on the server. */
  timeoutMs?: number;
}

export type MulticallResult = { ok: true; value: XmlRpcValue } | { ok: false; fault: SupervisorFault };

export interface DaemonState {
  code: number;
  name: 'FATAL' | 'RUNNING' | 'RESTARTING' | 'SHUTDOWN' | string;
}

export interface ReloadResult {
  added: string[];
  changed: string[];
  removed: string[];
}

/** The part of `getAllConfigInfo` mup reads: the config the daemon holds in memory, per program. */
export interface ProgramConfigInfo {
  name: string;
  group: string;
  autostart: boolean;
}

export interface TailResult {
  bytes: string;
  /** Offset to pass to the next tail call to continue from here. */
  offset: number;
  /** True when more output was written than was returned (the tail skipped some). */
  overflow: boolean;
}

/**
 * One request's view of a daemon (display's): who it is, its pid, every program and the tail of its log.
 * `undefined` marks a part the daemon answered with a fault.
 */
export interface DaemonOverview {
  identification: string | undefined;
  pid: number | undefined;
  infos: ProcessInfo[] | SupervisorFault;
  log: string | undefined;
}

// supervisord answers from one Python thread: a host running a few dozen members under load (8 shards of a
// local cluster restarting side by side) took over 10 s to answer at times. A daemon that is down refuses at
// once; this only bounds a hung or swamped one.
const DEFAULT_TIMEOUT_MS = 30_000;

export class SupervisorClient {
  readonly endpoint: SupervisorEndpoint;
  private readonly defaultTimeoutMs: number;

  constructor(endpoint: SupervisorEndpoint, options: { timeoutMs?: number } = {}) {
    this.endpoint = endpoint;
    this.defaultTimeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  get url(): string {
    return `http://${this.endpoint.host}:${this.endpoint.port}/RPC2`;
  }

  /** Raw call: resolves with the value, rejects with SupervisorFault or a transport error. */
  async call(
    method: string,
    params: readonly XmlRpcValue[] = [],
    options: CallOptions = {},
  ): Promise<XmlRpcValue> {
    const body = await this.post(
      encodeMethodCall(method, params),
      options.timeoutMs ?? this.defaultTimeoutMs,
    );
    let response: ReturnType<typeof parseMethodResponse>;
    try {
      response = parseMethodResponse(body);
    } catch (error) {
      if (error instanceof XmlRpcParseError)
        throw new SupervisorProtocolError(this.url, error.message, error);
      throw error;
    }
    if (response.kind === 'fault') throw new SupervisorFault(method, response.code, response.message);
    return response.value;
  }

  private post(payload: string, timeoutMs: number): Promise<string> {
    const { host, port, username, password } = this.endpoint;
    const data = Buffer.from(payload, 'utf8');
    return new Promise((resolve, reject) => {
      const req = request({
        host,
        port,
        method: 'POST',
        path: '/RPC2',
        agent: false,
        headers: {
          'Content-Type': 'text/xml',
          'Content-Length': data.length,
          Connection: 'close',
          Authorization: `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`,
        },
      });
      const timer = setTimeout(() => {
        req.destroy(new SupervisorUnreachableError(this.url, `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('error', (error) => {
        clearTimeout(timer);
        if (error instanceof SupervisorUnreachableError) reject(error);
        else reject(new SupervisorUnreachableError(this.url, error.message, error));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => {
          clearTimeout(timer);
          reject(new SupervisorUnreachableError(this.url, error.message, error));
        });
        res.on('end', () => {
          clearTimeout(timer);
          if (res.statusCode === 401) reject(new SupervisorAuthError(this.url));
          else if (res.statusCode !== 200) {
            reject(new SupervisorProtocolError(this.url, `HTTP ${res.statusCode ?? '?'}`));
          } else resolve(Buffer.concat(chunks).toString('utf8'));
        });
      });
      req.end(data);
    });
  }

  async getState(options?: CallOptions): Promise<DaemonState> {
    const value = await this.call('supervisor.getState', [], options);
    const struct = asStruct(value, 'getState');
    return { code: asNumber(struct.statecode), name: asString(struct.statename) };
  }

  async getIdentification(options?: CallOptions): Promise<string> {
    return asString(await this.call('supervisor.getIdentification', [], options));
  }

  async getPID(options?: CallOptions): Promise<number> {
    return asNumber(await this.call('supervisor.getPID', [], options));
  }

  async getSupervisorVersion(options?: CallOptions): Promise<string> {
    return asString(await this.call('supervisor.getSupervisorVersion', [], options));
  }

  async getProcessInfo(name: string, options?: CallOptions): Promise<ProcessInfo> {
    return toProcessInfo(
      asStruct(await this.call('supervisor.getProcessInfo', [name], options), 'getProcessInfo'),
    );
  }

  async getAllProcessInfo(options?: CallOptions): Promise<ProcessInfo[]> {
    const value = await this.call('supervisor.getAllProcessInfo', [], options);
    if (!Array.isArray(value))
      throw new SupervisorProtocolError(this.url, 'getAllProcessInfo is not an array');
    return value.map((item) => toProcessInfo(asStruct(item, 'getAllProcessInfo')));
  }

  /** With wait, resolves once the process has stayed up startsecs (RUNNING); the timeout must exceed that. */
  async startProcess(name: string, wait: boolean, options?: CallOptions): Promise<void> {
    await this.call('supervisor.startProcess', [name, wait], options);
  }

  /** With wait, resolves once stopped; supervisord sends SIGKILL after stopwaitsecs. */
  async stopProcess(name: string, wait: boolean, options?: CallOptions): Promise<void> {
    await this.call('supervisor.stopProcess', [name, wait], options);
  }

  async signalProcess(name: string, signal: string, options?: CallOptions): Promise<void> {
    await this.call('supervisor.signalProcess', [name, signal], options);
  }

  /** Re-reads the config file; applies nothing (groups must then be removed/added). */
  async reloadConfig(options?: CallOptions): Promise<ReloadResult> {
    const value = await this.call('supervisor.reloadConfig', [], options);
    // The result is wrapped in one outer array: [[added, changed, removed]].
    const inner = Array.isArray(value) ? value[0] : undefined;
    if (!Array.isArray(inner) || inner.length !== 3) {
      throw new SupervisorProtocolError(this.url, 'reloadConfig did not return [[added, changed, removed]]');
    }
    const [added, changed, removed] = inner.map((list) => asStringList(list, this.url));
    return { added: added ?? [], changed: changed ?? [], removed: removed ?? [] };
  }

  /** The program settings the daemon runs with (read at its start or at the last add of the group). */
  async getAllConfigInfo(options?: CallOptions): Promise<ProgramConfigInfo[]> {
    const value = await this.call('supervisor.getAllConfigInfo', [], options);
    if (!Array.isArray(value))
      throw new SupervisorProtocolError(this.url, 'getAllConfigInfo is not an array');
    return value.map((item) => {
      const struct = asStruct(item, 'getAllConfigInfo');
      if (typeof struct.autostart !== 'boolean')
        throw new SupervisorProtocolError(this.url, 'getAllConfigInfo: autostart is not a boolean');
      return { name: asString(struct.name), group: asString(struct.group), autostart: struct.autostart };
    });
  }

  async addProcessGroup(name: string, options?: CallOptions): Promise<void> {
    await this.call('supervisor.addProcessGroup', [name], options);
  }

  async removeProcessGroup(name: string, options?: CallOptions): Promise<void> {
    await this.call('supervisor.removeProcessGroup', [name], options);
  }

  /** The last `length` bytes from `offset` of the program's captured output (current file only). */
  async tailProcessStdoutLog(
    name: string,
    offset: number,
    length: number,
    options?: CallOptions,
  ): Promise<TailResult> {
    const value = await this.call('supervisor.tailProcessStdoutLog', [name, offset, length], options);
    return toTail(value, this.url);
  }

  /** `offset` < 0 counts from the end; length 0 reads to the end. */
  async readProcessStdoutLog(
    name: string,
    offset: number,
    length: number,
    options?: CallOptions,
  ): Promise<string> {
    return asString(await this.call('supervisor.readProcessStdoutLog', [name, offset, length], options));
  }

  /** The daemon's own log; `offset` < 0 counts from the end; length 0 reads to the end. */
  async readLog(offset: number, length: number, options?: CallOptions): Promise<string> {
    return asString(await this.call('supervisor.readLog', [offset, length], options));
  }

  /** Stops every program (one group at a time) and exits; returns at once. */
  async shutdown(options?: CallOptions): Promise<void> {
    await this.call('supervisor.shutdown', [], options);
  }

  /**
   * getIdentification, getPID, getAllProcessInfo and readLog(-logBytes, 0) in one request: over an SSH tunnel
   * each request opens a channel, so one instead of four saves as many round trips.
   */
  async overview(logBytes: number, options?: CallOptions): Promise<DaemonOverview> {
    const [identification, pid, infos, log] = await this.multicall(
      [
        { method: 'supervisor.getIdentification', params: [] },
        { method: 'supervisor.getPID', params: [] },
        { method: 'supervisor.getAllProcessInfo', params: [] },
        { method: 'supervisor.readLog', params: [-logBytes, 0] },
      ],
      options,
    );
    const value = (result: MulticallResult | undefined) => (result?.ok ? result.value : undefined);
    const text = (result: MulticallResult | undefined) => {
      const found = value(result);
      return typeof found === 'string' ? found : undefined;
    };
    const pidValue = value(pid);
    let programs: ProcessInfo[] | SupervisorFault;
    if (infos !== undefined && !infos.ok) programs = infos.fault;
    else {
      const list = value(infos);
      if (!Array.isArray(list))
        throw new SupervisorProtocolError(this.url, 'getAllProcessInfo is not an array');
      programs = list.map((item) => toProcessInfo(asStruct(item, 'getAllProcessInfo')));
    }
    return {
      identification: text(identification),
      pid: typeof pidValue === 'number' ? pidValue : undefined,
      infos: programs,
      log: text(log),
    };
  }

  /**
   * Several calls in one request. supervisord returns each success bare (not wrapped in `[value]` as the
   * XML-RPC multicall convention says) and each fault as a struct; one fault does not abort the others.
   */
  async multicall(
    calls: ReadonlyArray<{ method: string; params: readonly XmlRpcValue[] }>,
    options?: CallOptions,
  ): Promise<MulticallResult[]> {
    const value = await this.call(
      'system.multicall',
      [calls.map((one) => ({ methodName: one.method, params: [...one.params] }))],
      options,
    );
    if (!Array.isArray(value) || value.length !== calls.length) {
      throw new SupervisorProtocolError(this.url, 'multicall returned a result of the wrong length');
    }
    return value.map((item, index) => {
      if (item !== null && typeof item === 'object' && !Array.isArray(item) && 'faultCode' in item) {
        const method = calls[index]?.method ?? 'system.multicall';
        return {
          ok: false,
          fault: new SupervisorFault(method, asNumber(item.faultCode), asString(item.faultString)),
        };
      }
      return { ok: true, value: item };
    });
  }
}

function toTail(value: XmlRpcValue, url: string): TailResult {
  if (!Array.isArray(value) || value.length !== 3) throw new SupervisorProtocolError(url, 'bad tail result');
  const [bytes, offset, overflow] = value;
  if (typeof bytes !== 'string' || typeof offset !== 'number' || typeof overflow !== 'boolean') {
    throw new SupervisorProtocolError(url, 'bad tail result');
  }
  return { bytes, offset, overflow };
}

function asStruct(value: XmlRpcValue, what: string): Record<string, XmlRpcValue> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new SupervisorProtocolError('supervisord', `${what} did not return a struct`);
  }
  return value;
}

function asString(value: XmlRpcValue | undefined): string {
  if (typeof value !== 'string') throw new SupervisorProtocolError('supervisord', 'expected a string');
  return value;
}

function asNumber(value: XmlRpcValue | undefined): number {
  if (typeof value !== 'number') throw new SupervisorProtocolError('supervisord', 'expected a number');
  return value;
}

function asStringList(value: XmlRpcValue | undefined, url: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new SupervisorProtocolError(url, 'expected a list of names');
  }
  return value as string[];
}
