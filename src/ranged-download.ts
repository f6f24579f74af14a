/**
 * The HTTP part of a resumable download, shared by the GLUE downloader and the Hugging Face hub: one GET from byte
 * `from` of a partial file (a `Range: bytes=N-` request when N > 0), its answer read into the part file chunk by
 * chunk, each on disk before the next is read, so a dropped connection keeps every byte received for the next
 * resume. A 206 appends (its Content-Range must start at `from`), a 200 rewrites the part (a server that ignores
 * Range), a 416 means the part already holds the whole file. Checking the finished part (size, hash) and moving it
 * into place stay with the callers, which know what to expect.
 */
import { closeSync, existsSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { errorMessage } from './errors.ts';

/** How the caller words its errors (each a one-line error of its own class). */
export interface RangedDownloadErrors {
  /** A non-success HTTP answer (not 206, 200 or a 416 to a resume). */
  http(response: Response): Promise<Error> | Error;
  /** A 206 whose Content-Range does not start at the byte asked for (the part is removed). */
  badRange(from: number, contentRange: string | null): Error;
  /** An answer without a body. */
  empty(): Error;
  /** The connection broke while reading: `bytes` now in the part. */
  interrupted(bytes: number, cause: unknown): Error;
}

/** What one request did to the part. */
export type RangedOutcome =
  /** The server says the part already holds the whole file (416 to a resume). */
  | { kind: 'complete' }
  /** The answer was written: appended to the first `from` bytes (206), or over the part (200). */
  | { kind: 'written'; appended: boolean; response: Response };

/** The message of a fetch failure: the cause's code or message, which Node's fetch hides under `fetch failed`. */
export function causeMessage(e: unknown): string {
  const cause = (e as { cause?: unknown })?.cause;
  const code = (cause as { code?: string })?.code;
  return code ?? (cause ? errorMessage(cause) : errorMessage(e));
}

/** Bytes in a file, 0 when it is absent. */
export function fileSize(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

/**
 * Sends `request(rangeHeaders)` for the bytes from `from` on and writes the answer into `part` (see the module
 * comment). `onWriting` is called once the answer is known good, before its body is read.
 */
export async function fetchRangeInto(
  part: string,
  from: number,
  request: (headers: Record<string, string>) => Promise<Response>,
  errors: RangedDownloadErrors,
  onWriting?: (response: Response, appended: boolean) => void,
): Promise<RangedOutcome> {
  const response = await request(from > 0 ? { Range: `bytes=${from}-` } : {});
  if (response.status === 416 && from > 0) {
    await response.body?.cancel().catch(() => {});
    return { kind: 'complete' };
  }
  let appended = false;
  if (response.status === 206) {
    const range = response.headers.get('content-range');
    if (Number(/^bytes (\d+)-/.exec(range ?? '')?.[1]) !== from) {
      await response.body?.cancel().catch(() => {});
      rmSync(part, { force: true });
      throw errors.badRange(from, range);
    }
    appended = true;
  } else if (response.status !== 200) {
    await response.body?.cancel().catch(() => {});
    throw await errors.http(response);
  }
  if (!response.body) throw errors.empty();
  onWriting?.(response, appended);
  const fd = openSync(part, appended ? 'a' : 'w');
  try {
    for await (const chunk of Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>)) {
      const bytes = chunk as Uint8Array;
      for (let off = 0; off < bytes.byteLength; ) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    }
  } catch (e) {
    throw errors.interrupted(fileSize(part), e);
  } finally {
    closeSync(fd);
  }
  return { kind: 'written', appended, response };
}
