// A static file server on 127.0.0.1 for release lists and archives, counting requests per path, with
// per-path faults: 404, a hang (headers never sent), a truncated body, a body that stalls half way (connection
// kept open), or a delayed body (to overlap clients).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join, normalize } from 'node:path';

export type Fault = 'not-found' | 'hang' | 'truncate' | 'stall' | { delayMs: number };

export interface ReleaseServer {
  url: string;
  /** Requests per URL path (e.g. "/linux/mongodb-linux-x86_64-ubuntu2204-7.0.14.tgz"). */
  requests: Map<string, number>;
  count(pathEnd: string): number;
  faults: Map<string, Fault>;
  /** Replaces the served root directory. */
  root: string;
  close(): Promise<void>;
}

export async function startReleaseServer(root: string): Promise<ReleaseServer> {
  const sockets = new Set<Socket>();
  const requests = new Map<string, number>();
  const faults = new Map<string, Fault>();
  const state = { root };
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const fault = faults.get(path);
    if (fault === 'hang') return; // never answer; the socket is destroyed on close()
    if (fault === 'not-found') {
      res.writeHead(404).end('not found');
      return;
    }
    const file = join(state.root, normalize(path).replace(/^(\.\.[/\\])+/, ''));
    stat(file).then(
      (info) => {
        if (!info.isFile()) {
          res.writeHead(404).end('not found');
          return;
        }
        res.writeHead(200, { 'content-length': info.size, 'content-type': 'application/octet-stream' });
        if (fault === 'stall') {
          createReadStream(file, { end: Math.max(0, Math.floor(info.size / 2) - 1) }).pipe(res, {
            end: false,
          });
          return;
        }
        if (fault === 'truncate') {
          // Promise the whole file, send half, then drop the connection.
          const half = Math.max(1, Math.floor(info.size / 2));
          createReadStream(file, { end: half - 1 })
            .on('end', () => res.socket?.destroy())
            .pipe(res, { end: false });
          return;
        }
        if (typeof fault === 'object') {
          setTimeout(() => createReadStream(file).pipe(res), fault.delayMs);
          return;
        }
        createReadStream(file).pipe(res);
      },
      () => res.writeHead(404).end('not found'),
    );
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    count: (pathEnd) => [...requests].filter(([p]) => p.endsWith(pathEnd)).reduce((n, [, c]) => n + c, 0),
    faults,
    get root() {
      return state.root;
    },
    set root(value: string) {
      state.root = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
