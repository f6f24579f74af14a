/**
 * `downloadSnapshot`: the files bert-compress needs of a hub repo at a revision (see files.ts), in the
 * huggingface_hub cache (see cache.ts). Online, the API resolves the revision to a commit and lists the files; files
 * already in the snapshot are not downloaded again, unless their size is not the one the hub lists. All blobs are
 * downloaded and verified before any is linked into the snapshot, so a failed download leaves no partial snapshot. Offline (`HF_HUB_OFFLINE=1`), or when the hub
 * cannot be reached and the revision is cached, the snapshot on disk is used without any request; there a short
 * commit hash (`@2d0429d`) names the one cached snapshot whose commit starts with it.
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { utf8Json } from '../files.ts';
import { type RepoFile, fetchRepoInfo } from './api.ts';
import { type RepoCache, cachedCommit, cachedCommitsStartingWith, linkBlob, repoCache, snapshotFiles, writeRef } from './cache.ts';
import { type BlobExpectation, downloadBlob } from './download.ts';
import { HubError } from './errors.ts';
import { quotedText, valueAndKind } from '../errors.ts';
import {
  CONFIG_FILE,
  ONNX_FILE,
  SAFETENSORS_FILE,
  SAFETENSORS_INDEX,
  WEIGHT_FILES,
  type WeightsKind,
  isSafeRepoPath,
  selectFiles,
  shardsOfIndex,
} from './files.ts';
import { unreadableWeightFiles } from '../onnx/locate.ts';
import { externalDataLocations } from '../onnx/identity.ts';
import { type FetchLike, HubConnectionError, type RequestContext, hubFetch, hubHeaders, httpError } from './http.ts';
import { type HubRef, parseHubRef, shortCommitHint } from './ref.ts';
import { type HubSettings, hubSettings } from './settings.ts';
import { formatMB } from '../units.ts';
import { someNames } from '../some-names.ts';
import { checkOptionKinds, checkOptions, type OptionKind } from '../library-args.ts';

export interface SnapshotOptions {
  /** Hub settings (default: from `env`). */
  settings?: HubSettings;
  /** Environment the settings are read from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** One line per event (resolution, each file downloaded or resumed); nothing is printed without it. */
  log?: (line: string) => void;
  fetch?: FetchLike;
  /** Which weights to take when a repo has both (default 'onnx': `onnx/model.onnx` over the safetensors). */
  prefer?: 'onnx' | 'safetensors';
  /**
   * Checks the downloaded config.json (its file, and the weights the repo is used through) before any weights are
   * downloaded; what it throws ends the download. A safetensors checkpoint that cannot be built is so refused before
   * its gigabytes are fetched.
   */
  checkConfig?: (configFile: string, weights: WeightsKind) => void;
}

export interface Snapshot {
  ref: HubRef;
  /** The commit the revision resolved to. */
  commit: string;
  /** `<cache>/models--org--name/snapshots/<commit>`: a model folder. */
  dir: string;
  /** The repo's cache folder (`<cache>/models--org--name`). */
  repoDir: string;
  /** Repo paths of the files used. */
  files: string[];
  weights: WeightsKind;
  /** Repo paths downloaded by this call (empty when all were cached). */
  downloaded: string[];
  /** True when no request was made (offline, or the hub unreachable and the revision cached). */
  fromCache: boolean;
}

/** A wait in milliseconds of HubSettings: a number greater than 0. */
const WAIT_MS = { is: (v: unknown) => typeof v === 'number' && v > 0, expected: 'a number of milliseconds greater than 0' } as const;

/** HubSettings by their kinds (what hubSettings returns), as a caller's own `settings` are checked. */
const HUB_SETTINGS_KINDS = {
  endpoint: 'string',
  token: 'string',
  tokenSource: 'string',
  cacheDir: 'string',
  offline: 'boolean',
  offlineVariable: 'string',
  downloadTimeoutMs: WAIT_MS,
  etagTimeoutMs: WAIT_MS,
} as const satisfies Record<keyof HubSettings, OptionKind>;

/**
 * downloadSnapshot's options (and resolveModelRef's, resolveModelSource's) by their kinds, before any request: a
 * JavaScript caller's prefer 'safetensor' was read as 'onnx', settings.offline 'no' as offline, fetch or log 'x'
 * failed with a TypeError at the first request, a misspelt option was read as nothing.
 */
const SNAPSHOT_OPTION_KINDS = {
  settings: { options: HUB_SETTINGS_KINDS },
  env: { is: (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v), expected: "the environment's variables (process.env)" },
  log: 'function',
  fetch: 'function',
  prefer: ['onnx', 'safetensors'],
  checkConfig: 'function',
} as const satisfies Record<keyof SnapshotOptions, OptionKind>;

/** `opts` of `fn` (downloadSnapshot, resolveModelRef, …) as an options object, each option of its kind (SNAPSHOT_OPTION_KINDS). */
export function checkSnapshotOptions(fn: string, opts: unknown): void {
  checkOptionKinds(fn, checkOptions(fn, opts, '{settings, env, log, fetch, prefer, checkConfig}'), SNAPSHOT_OPTION_KINDS);
}

/** Downloads (or finds in the cache) the files of `ref` bert-compress needs; see the module comment. */
export async function downloadSnapshot(ref: string | HubRef, opts: SnapshotOptions = {}): Promise<Snapshot> {
  checkSnapshotOptions('downloadSnapshot', opts);
  const r = typeof ref === 'string' ? parseHubRef(ref) : ref;
  if (typeof r?.repo !== 'string' || (r.revision !== undefined && typeof r.revision !== 'string'))
    throw new HubError(`downloadSnapshot: ref: expected hf:org/name[@revision] or what parseHubRef returns, got ${valueAndKind(ref)}`);
  const settings = opts.settings ?? hubSettings(opts.env);
  const cache = repoCache(settings.cacheDir, r.repo);
  if (settings.offline) {
    const variable = settings.offlineVariable ?? 'HF_HUB_OFFLINE';
    return cachedSnapshot(r, cache, `${variable} is set`, opts.prefer, `run once without ${variable} to download it`);
  }
  try {
    return await onlineSnapshot(r, cache, settings, opts);
  } catch (e) {
    if (!(e instanceof HubConnectionError)) throw e;
    let cached: Snapshot;
    try {
      cached = cachedSnapshot(r, cache, 'the hub cannot be reached', opts.prefer);
    } catch {
      throw e;
    }
    opts.log?.(`${r.text}: ${e.message.replace(/^.*?: /, '')}; using the cached snapshot ${cached.commit.slice(0, 12)}`);
    return cached;
  }
}

/** The cached snapshot of `ref`, without requests; a one-line HubError when it is not cached (completely). */
export function cachedSnapshot(
  ref: HubRef,
  cache: RepoCache,
  why: string,
  prefer?: 'onnx' | 'safetensors',
  hint = 'run once without HF_HUB_OFFLINE to download it',
): Snapshot {
  const commit = cachedCommit(cache, ref.revision);
  const several = commit ? [] : cachedCommitsStartingWith(cache, ref.revision);
  if (several.length > 1) {
    throw new HubError(
      `${ref.text}: the short commit hash ${quotedText(ref.revision)} is ambiguous in the cache (${why}): snapshots ${someNames(several, 3)}; give more of it, or the full 40-character commit hash`,
    );
  }
  if (!commit) throw new HubError(`${ref.text}: not in the cache (${why}): no ${join(cache.refs, ref.revision)}${shortCommitHint(ref.revision)}; ${hint}`);
  const dir = join(cache.snapshots, commit);
  if (!existsSync(dir)) throw new HubError(`${ref.text}: not in the cache (${why}): no snapshot ${dir}; ${hint}`);
  const present = snapshotFiles(dir);
  const label = `${ref.text}: cached snapshot ${dir}`;
  // (a file the snapshot lacks is the cache's gap, not the repo's: a Python hf_hub_download of one file, a link whose
  // blob was removed; where selectFiles said 'the repo has no config.json', which the repo may well have)
  const lacks = (what: string) => new HubError(`${label} lacks ${what} (${why}); ${hint}`);
  if (!present.includes(CONFIG_FILE)) throw lacks(CONFIG_FILE);
  // (weights the snapshot holds but this use does not read, an ONNX export where `compress export` reads the checkpoint
  // or a pickle, may be all that was downloaded of a repo that has the others: said as the cache's gap too)
  const wanted = prefer === 'safetensors' ? [SAFETENSORS_FILE, SAFETENSORS_INDEX] : WEIGHT_FILES;
  if (!present.some((f) => wanted.includes(f))) {
    // (pickled, TensorFlow or Flax weights and their shards: unreadableWeightFiles, as the repo's refusal lists them)
    const unreadable = unreadableWeightFiles(present);
    const holds = present.includes(ONNX_FILE)
      ? `; it holds ${ONNX_FILE}, which compress, eval and inspect read as it is`
      : unreadable.length > 0
        ? `; it holds ${someNames(unreadable, 4)}, which bert-compress cannot read`
        : '';
    throw lacks(`${prefer === 'safetensors' ? 'the checkpoint to export' : 'its weights'} (${wanted.join(', ')}${holds})`);
  }
  const selection = selectFiles(present, label, prefer);
  const files = [...selection.files];
  if (selection.weights === 'sharded') {
    const shards = shardsOfIndex(readJson(join(dir, SAFETENSORS_INDEX), label), label);
    const missing = shards.filter((s) => !present.includes(s));
    if (missing.length) throw new HubError(`${label} lacks shard ${missing[0]} (${why}); ${hint}`);
    files.push(...shards);
  }
  if (selection.weights === 'onnx') {
    for (const path of onnxDataFiles(join(dir, ...ONNX_FILE.split('/')), label)) {
      if (!present.includes(path)) throw new HubError(`${label} lacks ${path}, which ${ONNX_FILE} keeps its weights in (${why}); ${hint}`);
      if (!files.includes(path)) files.push(path);
    }
  }
  return { ref, commit, dir, repoDir: cache.root, files, weights: selection.weights, downloaded: [], fromCache: true };
}

async function onlineSnapshot(r: HubRef, cache: RepoCache, settings: HubSettings, opts: SnapshotOptions): Promise<Snapshot> {
  const info = await fetchRepoInfo(r, settings, opts.fetch, opts.log);
  const dir = join(cache.snapshots, info.commit);
  const byPath = new Map(info.files.map((f) => [f.path, f]));
  const selection = selectFiles([...byPath.keys()], r.text, opts.prefer);
  const blobs = new Map<string, string>(); // repo path → blob file
  const downloaded: string[] = [];
  const fetchFile = async (path: string) => {
    const blob = await ensureBlob(r, info.commit, byPath.get(path)!, cache, dir, settings, opts);
    if (blob.downloaded) downloaded.push(path);
    blobs.set(path, blob.path);
  };
  for (const path of selection.files) {
    await fetchFile(path);
    if (path === 'config.json') opts.checkConfig?.(blobs.get(path)!, selection.weights); // selectFiles puts it first
  }
  const files = [...selection.files];
  if (selection.weights === 'sharded') {
    const label = `${r.text} (${SAFETENSORS_INDEX})`;
    const shards = shardsOfIndex(readJson(blobs.get(SAFETENSORS_INDEX)!, label), label);
    for (const s of shards) {
      if (!byPath.has(s)) throw new HubError(`${r.text}: ${SAFETENSORS_INDEX} names shard ${s}, which is not in the repo at ${info.commit.slice(0, 12)}`);
      await fetchFile(s);
    }
    files.push(...shards);
  }
  if (selection.weights === 'onnx') {
    for (const path of onnxDataFiles(blobs.get(ONNX_FILE)!, r.text)) {
      if (files.includes(path)) continue;
      if (!byPath.has(path))
        throw new HubError(`${r.text}: ${ONNX_FILE} keeps its weights in ${path}, which is not in the repo at ${info.commit.slice(0, 12)}`);
      await fetchFile(path);
      files.push(path);
    }
  }
  for (const path of files) {
    const target = join(dir, ...path.split('/'));
    if (!existsSync(target)) linkBlob(blobs.get(path)!, target);
  }
  writeRef(cache, r.revision, info.commit);
  opts.log?.(
    downloaded.length
      ? `${r.text}: ${r.repo} at ${info.commit.slice(0, 12)} in ${dir}`
      : `${r.text}: ${r.repo} at ${info.commit.slice(0, 12)}, cached (${dir})`,
  );
  return { ref: r, commit: info.commit, dir, repoDir: cache.root, files, weights: selection.weights, downloaded, fromCache: false };
}

/**
 * The blob of one file, downloaded unless the snapshot or the blob store has it. Its id is the LFS sha256, else the
 * git blob id of the API, else the `X-Linked-Etag` / `ETag` of a HEAD request (as huggingface_hub names blobs). A
 * cached file whose size is not the one the hub lists (cut short, or written over) is downloaded again.
 */
async function ensureBlob(
  r: HubRef,
  commit: string,
  file: RepoFile,
  cache: RepoCache,
  dir: string,
  settings: HubSettings,
  opts: SnapshotOptions,
): Promise<{ path: string; downloaded: boolean }> {
  const url = `${settings.endpoint}/${r.repo}/resolve/${commit}/${file.path.split('/').map(encodeURIComponent).join('/')}`;
  const ctx = { label: r.text, repo: r.repo, revision: commit, file: file.path };
  const inSnapshot = join(dir, ...file.path.split('/'));
  const listed = file.lfs?.size ?? file.size;
  if (existsSync(inSnapshot)) {
    const held = statSync(inSnapshot).size;
    if (listed === undefined || held === listed) return { path: inSnapshot, downloaded: false };
    // cut short or written over since it was downloaded and checked: its blob is downloaded again
    opts.log?.(`${r.text}: the cached ${file.path} (${inSnapshot}) holds ${formatMB(held)} but the hub lists ${formatMB(listed)}; downloading it again`);
    rmSync(inSnapshot, { force: true });
  }
  let id = file.lfs?.sha256 ?? file.blobId;
  const expected: BlobExpectation = file.lfs ? { size: file.lfs.size, sha256: file.lfs.sha256 } : { size: file.size, gitSha1: file.blobId };
  if (!id) {
    const head = await headOfFile(url, settings, ctx, opts);
    if (!head.ok && !isRedirect(head)) throw await httpError(head, settings, ctx);
    const etag = (head.headers.get('x-linked-etag') ?? head.headers.get('etag') ?? '').replace(/^W\//, '').replace(/"/g, '');
    if (!/^[0-9a-f]{40}$|^[0-9a-f]{64}$/.test(etag)) throw new HubError(`${r.text}: the hub gives no checksum (ETag) for ${file.path}`);
    id = etag;
    const size = Number(head.headers.get('x-linked-size') ?? head.headers.get('content-length'));
    if (Number.isSafeInteger(size)) expected.size = size;
    if (etag.length === 64) expected.sha256 = etag;
    else expected.gitSha1 = etag;
  }
  const blob = join(cache.blobs, id);
  if (existsSync(blob)) {
    if (expected.size === undefined || statSync(blob).size === expected.size) return { path: blob, downloaded: false };
    rmSync(blob, { force: true });
  }
  await downloadBlob(url, blob, expected, { settings, ctx, fetchImpl: opts.fetch, log: opts.log });
  return { path: blob, downloaded: true };
}

function isRedirect(res: Response): boolean {
  return res.status >= 300 && res.status < 400;
}

/**
 * The HEAD answer that describes a file, as huggingface_hub reads it: redirects are not followed to the CDN, whose
 * ETag is its own (an MD5), since the hub's answer pointing there carries the file's X-Linked-Etag and
 * X-Linked-Size; a redirect without them to the same host (a renamed repo) is followed, at most 5 times. It asks for
 * no compression (`Accept-Encoding: identity`, as huggingface_hub's get_hf_file_metadata): the hub gzips text files
 * for a client that accepts it, and the Content-Length of that answer is the compressed size, not the file's.
 */
async function headOfFile(url: string, settings: HubSettings, ctx: RequestContext, opts: SnapshotOptions): Promise<Response> {
  let current = url;
  for (let hops = 0; ; hops++) {
    const head = await hubFetch(
      current,
      { method: 'HEAD', headers: hubHeaders(settings, { 'Accept-Encoding': 'identity' }), redirect: 'manual' },
      settings,
      ctx,
      opts.fetch,
      opts.log,
      'etag',
    );
    const location = head.headers.get('location');
    if (!isRedirect(head) || !location || head.headers.has('x-linked-etag') || head.headers.has('etag') || hops >= 5) return head;
    const next = new URL(location, current);
    if (next.origin !== new URL(current).origin) return head; // the token goes to the hub only
    current = next.href;
  }
}

/**
 * The JSON of a downloaded file (the safetensors index): bytes that are not UTF-8 are a one-line NotUtf8Error naming
 * the byte offset (utf8Text), as the build refuses such an index, before the shards it names are downloaded.
 */
function readJson(path: string, label: string): unknown {
  return utf8Json(readFileSync(path), `${label}: ${path}`, (reason, cause) => new HubError(`${label}: ${path} is not valid JSON (${reason})`, { cause })).json;
}

/**
 * The repo paths of the external data files the repo's onnx/model.onnx (the file at `onnxFile`) names, whatever
 * their names (Optimum's model.onnx_data, torch's model.onnx.data, a subfolder): its weights, which it cannot run
 * without. A location leaving onnx/ is refused, as loading the model would refuse it.
 */
function onnxDataFiles(onnxFile: string, label: string): string[] {
  return externalDataLocations(onnxFile).map((location) => {
    const path = posix.join(posix.dirname(ONNX_FILE), location);
    if (!path.startsWith(`${posix.dirname(ONNX_FILE)}/`) || !isSafeRepoPath(path))
      throw new HubError(`${label}: ${ONNX_FILE} names external data ${quotedText(location)}, outside its folder`);
    return path;
  });
}
