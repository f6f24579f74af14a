/**
 * The hub's model API: `GET {endpoint}/api/models/{repo}/revision/{revision}?blobs=true` gives the commit (`sha`)
 * and the files (`siblings[].rfilename`, with `size`, the git `blobId` and for LFS files `lfs.{sha256,size}`).
 */
import { HubError } from './errors.ts';
import { jsonSyntaxReason, parseJsonText } from '../files.ts';
import { bodyTextWithin, causeMessage } from '../ranged-download.ts';
import { type FetchLike, HubConnectionError, NETWORK_ADVICE, bodyStall, hubFetch, hubHeaders, httpError } from './http.ts';
import { type HubRef, isCommitHash } from './ref.ts';
import type { HubSettings } from './settings.ts';

/** A file of the repo at the resolved commit. */
export interface RepoFile {
  /** Path in the repo. */
  path: string;
  /** Bytes, when the API gives them. */
  size?: number;
  /** Git blob id (sha1 of the blob), for files not in LFS. */
  blobId?: string;
  /** For LFS files: the content's sha256 and size. */
  lfs?: { sha256: string; size: number };
}

export interface RepoInfo {
  /** The 40-hex commit the revision resolves to. */
  commit: string;
  files: RepoFile[];
}

/** The API URL of a repo at a revision. */
export function revisionUrl(settings: HubSettings, ref: HubRef): string {
  return `${settings.endpoint}/api/models/${ref.repo}/revision/${encodeURIComponent(ref.revision)}?blobs=true`;
}

/** Resolves `ref`'s revision to a commit and lists the repo's files there (`log`: a line per try again). */
export async function fetchRepoInfo(ref: HubRef, settings: HubSettings, fetchImpl?: FetchLike, log?: (line: string) => void): Promise<RepoInfo> {
  const ctx = { label: ref.text, repo: ref.repo, revision: ref.revision };
  const res = await hubFetch(revisionUrl(settings, ref), { headers: hubHeaders(settings, { Accept: 'application/json' }) }, settings, ctx, fetchImpl, log);
  if (!res.ok) throw await httpError(res, settings, ctx);
  let text: string;
  try {
    text = await bodyTextWithin(res, bodyStall(settings));
  } catch (e) {
    throw new HubConnectionError(
      `${ref.text}: the answer of ${settings.endpoint} for ${ref.repo}@${ref.revision} stopped (${causeMessage(e)}); ${NETWORK_ADVICE}`,
      {
        cause: e,
      },
    );
  }
  let json: unknown;
  try {
    json = parseJsonText(text);
  } catch (e) {
    // (the parser's reason as every JSON file's, jsonSyntaxReason: its place as a line and column, its quote whole)
    throw new HubError(`${ref.text}: the hub's answer for ${ref.repo}@${ref.revision} is not JSON (${jsonSyntaxReason(e, text)})`, { cause: e });
  }
  return parseRepoInfo(json, ref.text);
}

/** Checks the API's JSON: a 40-hex `sha` and a `siblings` list of `{rfilename}`. */
export function parseRepoInfo(json: unknown, label: string): RepoInfo {
  const o = json as { sha?: unknown; siblings?: unknown } | null;
  if (!o || typeof o.sha !== 'string' || !isCommitHash(o.sha)) throw new HubError(`${label}: the hub's answer has no 40-hex commit 'sha'`);
  if (!Array.isArray(o.siblings)) throw new HubError(`${label}: the hub's answer has no 'siblings' file list`);
  const files: RepoFile[] = [];
  for (const s of o.siblings as Array<Record<string, unknown>>) {
    if (typeof s?.rfilename !== 'string') throw new HubError(`${label}: the hub's file list has an entry without 'rfilename'`);
    const f: RepoFile = { path: s.rfilename };
    if (typeof s.size === 'number') f.size = s.size;
    if (typeof s.blobId === 'string') f.blobId = s.blobId;
    const lfs = s.lfs as { sha256?: unknown; size?: unknown } | undefined;
    if (lfs && typeof lfs.sha256 === 'string' && typeof lfs.size === 'number') f.lfs = { sha256: lfs.sha256.toLowerCase(), size: lfs.size };
    files.push(f);
  }
  return { commit: o.sha, files };
}
