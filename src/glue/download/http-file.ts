/**
 * Downloading one file resumably and verifying it. Bytes go to `<dest>.part`; a later call continues from the
 * part's size with an HTTP Range request (a server that answers 200 instead of 206 restarts it). The finished part
 * must have the expected sha256 (and size, when known) before it is renamed to `dest`; on a mismatch it is deleted
 * (and when the part held bytes from an earlier call, downloaded once more from byte 0).
 * A server that answers 429 or 5xx is asked again a few times, after the pause its Retry-After asks for (else 1, 2,
 * 4 s).
 */
import { existsSync, lstatSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataError, counted, valueText } from '../../errors.ts';
import { sha256File } from '../../files.ts';
import { TRANSIENT_STATUSES, causeMessage, fetchRangeInto, fetchRetrying, fileSize, triesOf } from '../../ranged-download.ts';
import { ensureFolder } from '../../folders.ts';

export interface DownloadEvents {
  /** A request starts: `from` is the byte offset resumed from (0 for a fresh download). */
  onStart?: (url: string, from: number) => void;
  /** The server answered 429 or 5xx: the request is sent again after `waitMs`, as try number `nextTry`. */
  onRetry?: (url: string, status: number, waitMs: number, nextTry: number) => void;
}

/** A downloaded file whose sha256 or size is not the one expected: the server's file, not the connection (downloadVerified). */
export class ChecksumMismatch extends DataError {
  override name = 'ChecksumMismatch';
}

/**
 * Fetches `url` into `dest` (resuming `<dest>.part` if present) and checks its sha256 and size. A network failure
 * leaves the part file for the next call; a checksum mismatch removes it. Both are DataErrors naming the URL.
 */
export async function downloadVerified(url: string, dest: string, expected: { sha256: string; bytes?: number }, events: DownloadEvents = {}): Promise<void> {
  ensureFolder(dirname(dest), dest);
  const part = `${dest}.part`;
  // a folder or link where the part belongs is not an earlier download's bytes (and a link could lead the write out)
  if (lstatSync(part, { throwIfNoEntry: false })?.isFile() === false) rmSync(part, { recursive: true, force: true });
  // bytes left by an earlier call may not be this file's (another version, a broken disk): if the result does not
  // check out, they are dropped and the file downloaded once more from byte 0
  let earlier = existsSync(part) ? statSync(part).size : 0;
  for (;;) {
    const have = existsSync(part) ? statSync(part).size : 0;
    if (expected.bytes === undefined || have < expected.bytes) await fetchInto(url, part, have, events);
    const size = statSync(part).size;
    const actual = await sha256File(part);
    if (actual === expected.sha256.toLowerCase() && (expected.bytes === undefined || size === expected.bytes)) break;
    rmSync(part, { force: true });
    if (earlier > 0) {
      earlier = 0;
      continue;
    }
    throw new ChecksumMismatch(
      `${url}: checksum mismatch: expected sha256 ${expected.sha256}${expected.bytes !== undefined ? ` (${expected.bytes} bytes)` : ''}, got ${actual} (${size} bytes); the download was removed`,
    );
  }
  renameSync(part, dest);
}

/** Requests `url` from byte `from` and appends to `part`; returns the part's size afterwards. */
async function fetchInto(url: string, part: string, from: number, events: DownloadEvents): Promise<number> {
  await fetchRangeInto(
    part,
    from,
    async (headers) => {
      try {
        return await fetchRetrying(() => fetch(url, { headers }), { onRetry: (res, waitMs, nextTry) => events.onRetry?.(url, res.status, waitMs, nextTry) });
      } catch (e) {
        throw new DataError(`${url}: cannot connect: ${causeMessage(e)}`, { cause: e });
      }
    },
    {
      http: (response) =>
        new DataError(
          `${url}: HTTP ${response.status} ${response.statusText}${
            TRANSIENT_STATUSES.has(response.status) ? ` (${counted(triesOf(response), 'try', 'tries')}); the server is busy or failing, run again later` : ''
          }`,
        ),
      badRange: (start, range) => new DataError(`${url}: server answered a resume from byte ${start} with range ${valueText(range)}`),
      empty: () => new DataError(`${url}: empty response`),
      interrupted: (bytes, cause) => new DataError(`${url}: download interrupted at ${bytes} bytes (${causeMessage(cause)}); run again to resume`, { cause }),
    },
    (_, appended) => events.onStart?.(url, appended ? from : 0),
  );
  return fileSize(part);
}
