/**
 * The HTTP part of a resumable download, shared by the GLUE downloader and the Hugging Face hub: one GET from byte
 * `from` of a partial file (a `Range: bytes=N-` request when N > 0), its answer read into the part file chunk by
 * chunk, each on disk before the next is read, so a dropped connection keeps every byte received for the next
 * resume. A 206 appends (its Content-Range must start at `from`), a 200 rewrites the part (a server that ignores
 * Range), a 416 means the part already holds the whole file. Checking the finished part (size, hash) and moving it
 * into place stay with the callers, which know what to expect. A body whose next bytes do not come within the
 * caller's `stall` wait is given up as a broken transfer (the part keeps what came). `fetchRetrying` sends a request again, after a pause,
 * while the server answers that it is busy or briefly failing (429, 500, 502, 503, 504).
 */
import { closeSync, existsSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, typedValueText, UsageError } from './errors.ts';

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

/** Statuses of a server that is busy or briefly failing: rate limiting (429), 500, 502, 503 and 504. */
export const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

export interface RetryOptions {
  /** Tries after the first (default 3). */
  retries?: number;
  /** Pause before the n-th try again when the answer has no Retry-After: base · 2^(n-1) ms (default 1000). */
  baseDelayMs?: number;
  /** Longest pause taken; an answer asking for a longer one is returned at once (default 30 000). */
  maxDelayMs?: number;
  /** Called before each pause: the answer, the pause, and the number of the try that follows (2, 3…). */
  onRetry?: (response: Response, waitMs: number, nextTry: number) => void;
}

const triesTaken = new WeakMap<Response, number>();

/** How many requests `fetchRetrying` sent to get `response` (1 for one it did not return). */
export function triesOf(response: Response): number {
  return triesTaken.get(response) ?? 1;
}

/**
 * A Retry-After header (whole seconds, or an HTTP date) in milliseconds from `now`; undefined when absent or neither
 * (an HTTP date names its day and month: '1.5' or '-5', which Date.parse takes for dates of 2001, is none).
 */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/[A-Za-z]/.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The pause a busy server asks for, in milliseconds: on a 429, the reset of the IETF RateLimit header when no request
 * is left (`RateLimit: "api";r=0;t=55`, as the Hugging Face hub answers and huggingface_hub reads it: 56 s), else its
 * Retry-After (retryAfterMs); undefined when it says neither.
 */
export function requestedWaitMs(response: Response, now = Date.now()): number | undefined {
  if (response.status === 429) {
    const limit = /"\w+"\s*;\s*r\s*=\s*(\d+)\s*;\s*t\s*=\s*(\d+)/.exec(response.headers.get('ratelimit') ?? '');
    // (a second more than it says, as huggingface_hub waits: its whole seconds are rounded down, so that t=0 asked
    // again at once, three times in a few milliseconds)
    if (limit && Number(limit[1]) === 0) return (Number(limit[2]) + 1) * 1000;
  }
  return retryAfterMs(response.headers.get('retry-after'), now);
}

/**
 * Sends `send()` until its answer is not a transient status (TRANSIENT_STATUSES), at most `retries` times more,
 * pausing as the answer asks (requestedWaitMs; else 1, 2, 4 s); returns the last answer (its tries: `triesOf`). An
 * answer asking for a pause longer than `maxDelayMs` is returned at once, for the caller to say how long to wait.
 */
export async function fetchRetrying(send: () => Promise<Response>, opts: RetryOptions = {}): Promise<Response> {
  const retries = opts.retries ?? 3;
  for (let attempt = 1; ; attempt++) {
    const response = await send();
    const wait = requestedWaitMs(response) ?? (opts.baseDelayMs ?? 1000) * 2 ** (attempt - 1);
    if (!TRANSIENT_STATUSES.has(response.status) || attempt > retries || wait > (opts.maxDelayMs ?? 30_000)) {
      triesTaken.set(response, attempt);
      return response;
    }
    await response.body?.cancel().catch(() => {});
    opts.onRetry?.(response, wait, attempt + 1);
    await sleep(wait);
  }
}

/** Bytes in a file, 0 when it is absent. */
export function fileSize(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

/** A body that stops sending: how long to wait for its next bytes, and what the transfer's error then says its cause was. */
export interface StallWait {
  ms: number;
  message: string;
}

/**
 * A response body's chunks as they come; with `stall`, broken off (the body cancelled) with an Error saying
 * `stall.message` when the body sends nothing for `stall.ms`: the read timeout `fetch` lacks once the headers are in.
 * The body is cancelled too when the caller stops reading early (an error of its own).
 */
async function* bodyChunks(body: ReadableStream<Uint8Array>, stall?: StallWait): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let ended = false;
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const silence =
        stall &&
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(stall.message)), stall.ms);
        });
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await (silence ? Promise.race([reader.read(), silence]) : reader.read());
      } finally {
        clearTimeout(timer);
      }
      if (next.done) {
        ended = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!ended) await reader.cancel().catch(() => {});
  }
}

/**
 * A response's whole body as text (UTF-8, a BOM dropped, as Response.text() reads it), broken off with an Error
 * saying `stall.message` when the body sends nothing for `stall.ms` (bodyChunks): the read timeout of a small answer
 * (JSON).
 */
export async function bodyTextWithin(response: Response, stall: StallWait): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  for await (const chunk of bodyChunks(response.body, stall)) chunks.push(chunk);
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/**
 * Sends `request(rangeHeaders)` for the bytes from `from` on and writes the answer into `part` (see the module
 * comment). `onWriting` is called once the answer is known good, before its body is read. With `stall`, a body that
 * sends nothing for `stall.ms` is broken off (bodyChunks; errors.interrupted, its cause `stall.message`).
 */
export async function fetchRangeInto(
  part: string,
  from: number,
  request: (headers: Record<string, string>) => Promise<Response>,
  errors: RangedDownloadErrors,
  onWriting?: (response: Response, appended: boolean) => void,
  stall?: StallWait,
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
    for await (const bytes of bodyChunks(response.body, stall)) {
      for (let off = 0; off < bytes.byteLength; ) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    }
  } catch (e) {
    throw errors.interrupted(fileSize(part), e);
  } finally {
    closeSync(fd);
  }
  return { kind: 'written', appended, response };
}

/**
 * Throws a UsageError (a bad value of the user's setting: exit 2) naming `label` (the flag or variable that gave it: '--base-url', 'GLUE_BASE_URL',
 * 'HF_ENDPOINT') unless `url` is an http:// or https:// URL, the base every file is fetched from; the value shown as
 * every refused value of a flag or variable is (typedValueText: quoted, `--base-url 'http://a b': not a URL`).
 */
export function checkHttpUrl(url: string, label: string): void {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new UsageError(`${label} ${typedValueText(url)}: not a URL; give an http:// or https:// URL`);
  }
  if (protocol !== 'http:' && protocol !== 'https:') throw new UsageError(`${label} ${typedValueText(url)}: only http:// and https:// URLs can be fetched`);
}
