/**
 * Serving a file's bytes as the test servers (GLUE mirror, hub) do: `Range: bytes=N-` answered with 206 (or 416 past
 * the end) unless `ignoreRange`, else 200 with the whole body; HEAD gets the headers only; a `cutAt` byte count
 * sends that much of the body, then drops the connection (a transfer broken off halfway); a `stallAt` count sends that
 * much, then nothing more (a transfer that stalls).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RangeOptions {
  ignoreRange?: boolean;
  /** Extra headers of a 200 or 206 answer. */
  headers?: Record<string, string>;
  /** Send this many bytes of the answer's body, then drop the connection. */
  cutAt?: number;
  /** Send this many bytes of the answer's body, then nothing more, the connection left open (a stalled transfer). */
  stallAt?: number;
}

export function sendRange(req: IncomingMessage, res: ServerResponse, body: Buffer, opts: RangeOptions = {}): void {
  let start = 0;
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (m && !opts.ignoreRange) {
    start = Number(m[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
      return;
    }
    res.writeHead(206, { ...opts.headers, 'Content-Length': body.length - start, 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` });
  } else {
    res.writeHead(200, { ...opts.headers, 'Content-Length': body.length, 'Accept-Ranges': 'bytes' });
  }
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const rest = body.subarray(start);
  if (opts.stallAt !== undefined && opts.stallAt < rest.length) {
    res.write(rest.subarray(0, opts.stallAt));
    return;
  }
  if (opts.cutAt !== undefined && opts.cutAt < rest.length) {
    res.write(rest.subarray(0, opts.cutAt), () => setTimeout(() => res.socket?.destroy(), 20));
    return;
  }
  res.end(rest);
}
