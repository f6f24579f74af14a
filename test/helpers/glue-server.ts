/**
 * A local HTTP file server on 127.0.0.1 for the download tests: serves named buffers, honours `Range: bytes=N-`
 * with 206 answers, records every request, can cut a response short (to simulate a dropped connection) and answer
 * a file's next requests with an error status (a busy or failing server).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendRange } from './serve-range.ts';

export interface RecordedRequest {
  path: string;
  range: string | undefined;
}

export interface FileServer {
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  /** The next response for `name` sends only this many bytes of the body, then drops the connection. */
  cutNext(name: string, bytes: number): void;
  /** The next `times` requests for `name` are answered `status` with `headers` (e.g. 503, or 429 with Retry-After). */
  failNext(name: string, status: number, times: number, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

export async function serveFiles(files: Readonly<Record<string, Buffer>>, opts: { ignoreRange?: boolean } = {}): Promise<FileServer> {
  const requests: RecordedRequest[] = [];
  const cuts = new Map<string, number>();
  const failures = new Map<string, { status: number; times: number; headers: Record<string, string> }>();
  const server: Server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').split('?')[0]!.replace(/^\/+/, ''));
    const range = req.headers.range;
    requests.push({ path: name, range });
    const failure = failures.get(name);
    if (failure && failure.times > 0) {
      failure.times--;
      res.writeHead(failure.status, failure.headers).end(`HTTP ${failure.status}`);
      return;
    }
    const data = files[name];
    if (!data) {
      res.writeHead(404).end('not found');
      return;
    }
    const cut = cuts.get(name);
    cuts.delete(name);
    sendRange(req, res, data, { ignoreRange: opts.ignoreRange, ...(cut !== undefined ? { cutAt: cut } : {}) });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    cutNext: (name, bytes) => cuts.set(name, bytes),
    failNext: (name, status, times, headers = {}) => failures.set(name, { status, times, headers }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
