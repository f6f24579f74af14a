/**
 * A local HTTP file server on 127.0.0.1 for the download tests: serves named buffers, honours `Range: bytes=N-`
 * with 206 answers, records every request, and can cut a response short (to simulate a dropped connection).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  path: string;
  range: string | undefined;
}

export interface FileServer {
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  /** The next response for `name` sends only this many bytes of the body, then drops the connection. */
  cutNext(name: string, bytes: number): void;
  close(): Promise<void>;
}

export async function serveFiles(files: Readonly<Record<string, Buffer>>, opts: { ignoreRange?: boolean } = {}): Promise<FileServer> {
  const requests: RecordedRequest[] = [];
  const cuts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').split('?')[0]!.replace(/^\/+/, ''));
    const range = req.headers.range;
    requests.push({ path: name, range });
    const data = files[name];
    if (!data) {
      res.writeHead(404).end('not found');
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(range ?? '');
    if (m && !opts.ignoreRange) {
      start = Number(m[1]);
      if (start >= data.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${data.length}` }).end();
        return;
      }
      res.writeHead(206, { 'Content-Length': data.length - start, 'Content-Range': `bytes ${start}-${data.length - 1}/${data.length}` });
    } else {
      res.writeHead(200, { 'Content-Length': data.length });
    }
    const body = data.subarray(start);
    const cut = cuts.get(name);
    if (cut !== undefined) {
      cuts.delete(name);
      res.write(body.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    cutNext: (name, bytes) => cuts.set(name, bytes),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
