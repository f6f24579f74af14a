/**
 * Downloading one file resumably and verifying it. Bytes go to `<dest>.part`; a later call continues from the
 * part's size with an HTTP Range request (a server that answers 200 instead of 206 restarts it). The finished part
 * must have the expected sha256 (and size, when known) before it is renamed to `dest`; on a mismatch it is deleted.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { DataError } from '../../errors.ts';
import { sha256File } from '../../files.ts';

export interface DownloadEvents {
  /** A request starts: `from` is the byte offset resumed from (0 for a fresh download). */
  onStart?: (url: string, from: number) => void;
}

/**
 * Fetches `url` into `dest` (resuming `<dest>.part` if present) and checks its sha256 and size. A network failure
 * leaves the part file for the next call; a checksum mismatch removes it. Both are DataErrors naming the URL.
 */
export async function downloadVerified(url: string, dest: string, expected: { sha256: string; bytes?: number }, events: DownloadEvents = {}): Promise<void> {
  mkdirSync(dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  let have = existsSync(part) ? statSync(part).size : 0;
  if (expected.bytes === undefined || have < expected.bytes) {
    have = await fetchInto(url, part, have, events);
  }
  const size = statSync(part).size;
  const actual = await sha256File(part);
  if (actual !== expected.sha256.toLowerCase() || (expected.bytes !== undefined && size !== expected.bytes)) {
    rmSync(part, { force: true });
    throw new DataError(
      `${url}: checksum mismatch: expected sha256 ${expected.sha256}${expected.bytes !== undefined ? ` (${expected.bytes} bytes)` : ''}, got ${actual} (${size} bytes); the download was removed`,
    );
  }
  renameSync(part, dest);
}

/** Requests `url` from byte `from` and appends to `part`; returns the part's size afterwards. */
async function fetchInto(url: string, part: string, from: number, events: DownloadEvents): Promise<number> {
  let response: Response;
  try {
    response = await fetch(url, { headers: from > 0 ? { Range: `bytes=${from}-` } : {} });
  } catch (e) {
    throw new DataError(`${url}: cannot connect: ${causeMessage(e)}`, { cause: e });
  }
  if (response.status === 416 && from > 0) {
    // The part already holds the whole file; the checksum decides.
    await response.body?.cancel();
    return from;
  }
  let append = false;
  if (response.status === 206) {
    const start = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '')?.[1];
    if (Number(start) !== from) {
      await response.body?.cancel();
      throw new DataError(`${url}: server answered a resume from byte ${from} with range '${response.headers.get('content-range')}'`);
    }
    append = true;
  } else if (response.status !== 200) {
    await response.body?.cancel();
    throw new DataError(`${url}: HTTP ${response.status} ${response.statusText}`);
  }
  if (!response.body) throw new DataError(`${url}: empty response`);
  events.onStart?.(url, append ? from : 0);
  try {
    // Each chunk is on disk before the next is read, so a dropped connection keeps every byte received for the resume.
    const fd = openSync(part, append ? 'a' : 'w');
    try {
      for await (const chunk of Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>)) {
        const bytes = chunk as Uint8Array;
        for (let off = 0; off < bytes.byteLength; ) off += writeSync(fd, bytes, off, bytes.byteLength - off);
      }
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const got = existsSync(part) ? statSync(part).size : 0;
    throw new DataError(`${url}: download interrupted at ${got} bytes (${causeMessage(e)}); run again to resume`, { cause: e });
  }
  return statSync(part).size;
}

function causeMessage(e: unknown): string {
  const err = e as { message?: string; cause?: { message?: string; code?: string } };
  return err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
}
