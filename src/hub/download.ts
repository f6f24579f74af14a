/**
 * Downloading one blob resumably and verifying it, as huggingface_hub does: bytes go to `blobs/<id>.incomplete`;
 * an interrupted transfer is resumed with `Range: bytes=N-` (in the same call, a few times, and by any later call),
 * a server that answers 200 instead of 206 is read from the start again. The finished file must have the expected
 * size and hash (the LFS sha256, else the git blob sha1) before it is renamed to `blobs/<id>`; on a mismatch it
 * is deleted and nothing is left behind (when it held bytes from an earlier call, it is downloaded once more from
 * byte 0 first).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, lstatSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { sha256File } from '../files.ts';
import { withFileLock } from '../file-lock.ts';
import { HubError } from './errors.ts';
import { valueText } from '../errors.ts';
import { causeMessage, fetchRangeInto, fileSize } from '../ranged-download.ts';
import { type FetchLike, type RequestContext, bodyStall, hubFetch, hubHeaders, httpError } from './http.ts';
import type { HubSettings } from './settings.ts';
import { formatMB } from '../units.ts';
import { ensureFolder } from '../folders.ts';

/** What the finished file must be. */
export interface BlobExpectation {
  size?: number;
  /** Hex sha256 of the content (LFS files). */
  sha256?: string;
  /** Hex git blob id: sha1 of `blob <size>\0` + content (files not in LFS). */
  gitSha1?: string;
}

export interface BlobDownloadOptions {
  settings: HubSettings;
  /** Names the reference and the file in messages (`ctx.file` must be set). */
  ctx: RequestContext;
  fetchImpl?: FetchLike;
  log?: (line: string) => void;
  /** Resumes after an interrupted transfer within this call (default 3). */
  retries?: number;
}

/** A transfer that broke off after some bytes (kept in the .incomplete file for a resume). */
class Interrupted extends HubError {}

/** `.incomplete` beside a blob, as huggingface_hub names it. */
export function incompletePath(blob: string): string {
  return `${blob}.incomplete`;
}

const sizeOf = fileSize;

/**
 * The lock of a blob, where huggingface_hub keeps its locks: `<cache>/.locks/models--org--name/<id>.lock` for
 * `<cache>/models--org--name/blobs/<id>`.
 */
export function lockPath(blob: string): string {
  const repoDir = dirname(dirname(blob));
  return join(dirname(repoDir), '.locks', basename(repoDir), `${basename(blob)}.lock`);
}

/**
 * Runs `fn` holding the blob's lock file (created exclusively, holding this process's pid), so two processes never
 * write one `.incomplete` file at once: a process that finds the lock waits until it is gone, and takes over a lock
 * whose process has died (a killed download).
 */
async function withBlobLock<T>(blob: string, opts: BlobDownloadOptions, fn: () => Promise<T>): Promise<T> {
  return withFileLock(lockPath(blob), (owner) => opts.log?.(`${opts.ctx.label}: waiting for process ${owner}, which is downloading ${opts.ctx.file}`), fn);
}

/**
 * Downloads `url` into `blob` (see the module comment); resolves once `blob` is in place and verified. Holds the
 * blob's lock meanwhile; when another process finished the same blob while this one waited, nothing is fetched.
 */
export async function downloadBlob(url: string, blob: string, expected: BlobExpectation, opts: BlobDownloadOptions): Promise<void> {
  ensureFolder(dirname(blob), blob);
  await withBlobLock(blob, opts, async () => {
    if (!existsSync(blob)) await fetchAndVerify(url, blob, expected, opts);
  });
}

async function fetchAndVerify(url: string, blob: string, expected: BlobExpectation, opts: BlobDownloadOptions): Promise<void> {
  const part = incompletePath(blob);
  // a folder or link where the part belongs is not an earlier download's bytes (and a link could lead the write out)
  if (lstatSync(part, { throwIfNoEntry: false })?.isFile() === false) rmSync(part, { recursive: true, force: true });
  // bytes an earlier call left may not be this blob's: if the result does not check out, it is downloaded once more
  // from byte 0
  let earlier = sizeOf(part) > 0;
  for (;;) {
    await fetchWhole(url, part, expected, opts);
    try {
      await verify(part, expected, opts.ctx);
      break;
    } catch (e) {
      if (!earlier) throw e;
      earlier = false;
      opts.log?.(
        `${opts.ctx.label} (${opts.ctx.file}): the part an earlier download left does not match the hub's checksum; downloading it again from the start`,
      );
    }
  }
  renameSync(part, blob);
}

/** Fetches into `part` until it holds `expected.size` bytes (resuming a few times after a broken transfer). */
async function fetchWhole(url: string, part: string, expected: BlobExpectation, opts: BlobDownloadOptions): Promise<void> {
  let left = opts.retries ?? 3;
  for (;;) {
    let have = sizeOf(part);
    if (expected.size !== undefined && have > expected.size) {
      rmSync(part, { force: true });
      have = 0;
    }
    if (have > 0 && have === expected.size) return; // complete before: the checks decide
    try {
      await fetchInto(url, part, have, expected, opts);
      return;
    } catch (e) {
      if (!(e instanceof Interrupted) || left-- <= 0 || sizeOf(part) <= have) throw e;
    }
  }
}

/** Requests `url` from byte `from` and appends to `part` (or rewrites it on a 200). */
async function fetchInto(url: string, part: string, from: number, expected: BlobExpectation, opts: BlobDownloadOptions): Promise<void> {
  const { settings, ctx } = opts;
  const where = `${ctx.label} (${ctx.file})`;
  const outcome = await fetchRangeInto(
    part,
    from,
    (headers) => hubFetch(url, { headers: hubHeaders(settings, headers) }, settings, ctx, opts.fetchImpl, opts.log),
    {
      http: (res) => httpError(res, settings, ctx),
      badRange: (start, range) => new HubError(`${where}: the server answered a resume from byte ${start} with ${valueText(range)}; run again`),
      empty: () => new HubError(`${where}: empty answer from ${settings.endpoint}`),
      interrupted: (bytes, cause) =>
        new Interrupted(`${where}: download interrupted at ${formatMB(bytes)} (${causeMessage(cause)}); run again to resume`, { cause }),
    },
    (res, appended) => {
      const total = expected.size ?? Number(res.headers.get('x-linked-size') ?? res.headers.get('content-length') ?? Number.NaN);
      const of = Number.isFinite(total) ? formatMB(total) : undefined;
      opts.log?.(
        appended
          ? `${ctx.label}: resuming ${ctx.file} at ${formatMB(from)}${of ? ` of ${of}` : ''}`
          : `${ctx.label}: downloading ${ctx.file}${of ? ` (${of})` : ''}`,
      );
    },
    bodyStall(settings),
  );
  if (outcome.kind === 'complete' && expected.size !== undefined && sizeOf(part) < expected.size) {
    // the server says the part already holds all of its file: its file is shorter than the hub's listing says
    const got = sizeOf(part);
    rmSync(part, { force: true });
    throw new HubError(
      `${where}: the server's file ends at ${formatMB(got)} but the hub lists ${formatMB(expected.size)}; removed the download, run again (if it recurs, the server or mirror at ${settings.endpoint} serves another file)`,
    );
  }
  if (expected.size !== undefined && sizeOf(part) < expected.size) {
    throw new Interrupted(`${where}: the connection closed at ${formatMB(sizeOf(part))} of ${formatMB(expected.size)}; run again to resume`);
  }
}

/** Checks size and hash of the finished part; removes it and throws on a mismatch. */
async function verify(part: string, expected: BlobExpectation, ctx: RequestContext): Promise<void> {
  const size = sizeOf(part);
  let problem: string | undefined;
  if (expected.size !== undefined && size !== expected.size) problem = `expected ${expected.size} bytes, got ${size}`;
  else if (expected.sha256) {
    const got = await sha256File(part);
    if (got !== expected.sha256.toLowerCase()) problem = `expected sha256 ${expected.sha256}, got ${got}`;
  } else if (expected.gitSha1) {
    const got = await gitBlobSha1(part, size);
    if (got !== expected.gitSha1.toLowerCase()) problem = `expected git blob ${expected.gitSha1}, got ${got}`;
  }
  if (problem) {
    rmSync(part, { force: true });
    throw new HubError(`${ctx.label} (${ctx.file}): the download does not match the hub's checksum (${problem}); removed it, run again to download it anew`);
  }
}

/** The git blob id of a file of `size` bytes: the hex sha1 of `blob <size>\0` and its bytes. */
async function gitBlobSha1(path: string, size: number): Promise<string> {
  const hash = createHash('sha1');
  hash.update(`blob ${size}\0`);
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}
