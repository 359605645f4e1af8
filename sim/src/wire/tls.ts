// TLS with Node's `tls`: net.tls.* (4.2+) and its older spelling net.ssl.* (every version; the only
// one before 4.2). Modes: disabled, allowTLS/allowSSL and preferTLS/preferSSL (the server accepts TLS
// and plain connections; members connect to each other with TLS only under prefer/require),
// requireTLS/requireSSL (plain connections are closed). With a CA file clients must present a
// certificate signed by it unless allowConnectionsWithoutCertificates. Any mode but disabled needs a
// certificate: startup fails like mongod's option storage ("BadValue: need tlsCertificateKeyFile or
// certificateSelector when TLS is enabled", exit 2; "need sslPEMKeyFile to enable SSL" before 4.2).
// Sources: MongoDB manual "Configure mongod and mongos for TLS/SSL" and net.tls options; mongod
// src/mongo/util/net/ssl_options_server.cpp.
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { type ConnectionOptions, createSecureContext, createServer as createTlsServer } from 'node:tls';
import { atLeast, type VersionInfo } from '../version.js';

export type TlsMode = 'disabled' | 'allow' | 'prefer' | 'require';

export interface TlsSettings {
  readonly mode: TlsMode;
  readonly certificateKeyFile?: string;
  readonly caFile?: string;
  readonly clusterFile?: string;
  readonly allowConnectionsWithoutCertificates: boolean;
  readonly allowInvalidHostnames: boolean;
  readonly allowInvalidCertificates: boolean;
}

export const TLS_DISABLED: TlsSettings = {
  mode: 'disabled',
  allowConnectionsWithoutCertificates: false,
  allowInvalidHostnames: false,
  allowInvalidCertificates: false,
};

const MODES: Record<string, TlsMode> = {
  disabled: 'disabled',
  allowTLS: 'allow',
  allowSSL: 'allow',
  preferTLS: 'prefer',
  preferSSL: 'prefer',
  requireTLS: 'require',
  requireSSL: 'require',
};

/** Reads net.tls.* (falling back to the net.ssl.* spelling); returns the option error text, if any. */
export function readTlsSettings(
  get: (key: string) => unknown,
  version: VersionInfo,
): TlsSettings | { error: string } {
  const pick = (tlsKey: string, sslKey: string): unknown =>
    get(`net.tls.${tlsKey}`) ?? get(`net.ssl.${sslKey}`);
  const modeText = pick('mode', 'mode');
  if (modeText === undefined) return TLS_DISABLED;
  const mode = MODES[String(modeText)];
  if (!mode) return { error: `BadValue: Invalid tlsMode: ${String(modeText)}` };
  if (mode === 'disabled') return TLS_DISABLED;
  const certificateKeyFile = pick('certificateKeyFile', 'PEMKeyFile');
  if (typeof certificateKeyFile !== 'string' || certificateKeyFile === '') {
    return {
      error: atLeast(version, 4, 2)
        ? 'BadValue: need tlsCertificateKeyFile or certificateSelector when TLS is enabled'
        : 'BadValue: need sslPEMKeyFile to enable SSL',
    };
  }
  const caFile = pick('CAFile', 'CAFile');
  const clusterFile = pick('clusterFile', 'clusterFile');
  return {
    mode,
    certificateKeyFile,
    ...(typeof caFile === 'string' ? { caFile } : {}),
    ...(typeof clusterFile === 'string' ? { clusterFile } : {}),
    allowConnectionsWithoutCertificates:
      pick('allowConnectionsWithoutCertificates', 'allowConnectionsWithoutCertificates') === true,
    allowInvalidHostnames: pick('allowInvalidHostnames', 'allowInvalidHostnames') === true,
    allowInvalidCertificates: pick('allowInvalidCertificates', 'allowInvalidCertificates') === true,
  };
}

/** The certificate files, read once at startup; a file that cannot be read fails global init (exit 1). */
export interface TlsMaterial {
  readonly settings: TlsSettings;
  /** Certificate, key and CA for the accepting side. */
  readonly serverOptions: { cert: Buffer; key: Buffer; ca?: Buffer };
  readonly clientOptions: ConnectionOptions;
}

export class TlsFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsFileError';
  }
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsFileError(`${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

export function loadTlsMaterial(settings: TlsSettings): TlsMaterial | undefined {
  if (settings.mode === 'disabled' || !settings.certificateKeyFile) return undefined;
  const pem = read(settings.certificateKeyFile, 'cannot read PEM key file');
  const ca = settings.caFile ? read(settings.caFile, 'cannot read CA file') : undefined;
  const clusterPem = settings.clusterFile ? read(settings.clusterFile, 'cannot read cluster file') : pem;
  const serverOptions = { cert: pem, key: pem, ...(ca ? { ca } : {}) };
  try {
    // Fails here, at startup, for a file that holds no usable certificate and key.
    createSecureContext(serverOptions);
  } catch (err) {
    throw new TlsFileError(`Can not set up PEM key file: ${(err as Error).message}`);
  }
  const clientOptions: ConnectionOptions = {
    cert: clusterPem,
    key: clusterPem,
    ...(ca ? { ca } : {}),
    rejectUnauthorized: !settings.allowInvalidCertificates,
    ...(settings.allowInvalidHostnames ? { checkServerIdentity: () => undefined } : {}),
  };
  return { settings, serverOptions, clientOptions };
}

/** Whether members open their own connections with TLS (preferTLS / requireTLS). */
export function membersUseTls(material: TlsMaterial | undefined): boolean {
  return (
    material !== undefined && (material.settings.mode === 'prefer' || material.settings.mode === 'require')
  );
}

/**
 * Sorts an accepted connection by its first byte: a TLS ClientHello (0x16) is wrapped in a server-side
 * TLSSocket (the bytes already read are replayed through a stream pair); anything else is a plain
 * wire-protocol connection, refused under requireTLS. `serve` receives the socket to talk on.
 */
export function acceptWithTls(
  raw: Socket,
  material: TlsMaterial,
  serve: (socket: Socket, tls: boolean) => void,
  refusePlain: () => void,
): void {
  raw.once('data', (first: Buffer) => {
    raw.pause();
    if (first[0] !== 0x16) {
      if (material.settings.mode === 'require') {
        refusePlain();
        raw.destroy();
        return;
      }
      raw.unshift(first);
      serve(raw, false);
      raw.resume();
      return;
    }
    const carrier = new Duplex({
      read() {
        raw.resume();
      },
      write(chunk: Buffer, _enc, done) {
        raw.write(chunk, done);
      },
      final(done) {
        raw.end();
        done();
      },
      destroy(err, done) {
        raw.destroy();
        done(err);
      },
    });
    carrier.push(first);
    raw.on('data', (d: Buffer) => {
      if (!carrier.push(d)) raw.pause();
    });
    raw.on('end', () => carrier.push(null));
    raw.on('close', () => carrier.destroy());
    raw.on('error', () => carrier.destroy());
    const settings = material.settings;
    const requestCert = settings.caFile !== undefined;
    // A tls.Server fed this one connection: it checks the client certificate (authorized, rejectUnauthorized).
    const server = createTlsServer(
      {
        ...material.serverOptions,
        requestCert,
        rejectUnauthorized:
          requestCert && !settings.allowConnectionsWithoutCertificates && !settings.allowInvalidCertificates,
      },
      (secure) => {
        // Under allowConnectionsWithoutCertificates a missing certificate is fine, an invalid one is not.
        const presented = requestCert && Object.keys(secure.getPeerCertificate()).length > 0;
        if (presented && !secure.authorized && !settings.allowInvalidCertificates) {
          secure.destroy();
          return;
        }
        serve(secure, true);
      },
    );
    server.on('tlsClientError', () => raw.destroy());
    server.emit('connection', carrier);
    raw.resume();
  });
}
