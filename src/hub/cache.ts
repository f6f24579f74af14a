/**
 * The huggingface_hub cache layout, shared with Python tools: under the cache folder,
 * `models--org--name/blobs/<sha256 or git blob id>` holds each file's bytes once,
 * `models--org--name/snapshots/<commit>/<path>` links to the blob (a relative symlink, or a copy where symlinks
 * cannot be made), and `models--org--name/refs/<revision>` holds the commit a branch or tag pointed to.
 */
import { copyFileSync, existsSync, lstatSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { removeStaleTemporaries, writeFileAtomic } from '../files.ts';
import { isCommitHash, isShortCommitHash, repoFolderName } from './ref.ts';
import { ensureFolder, fileSystemError } from '../folders.ts';

/** The folders of one repo in the cache. */
export interface RepoCache {
  /** `<cache>/models--org--name`. */
  root: string;
  blobs: string;
  snapshots: string;
  refs: string;
}

/** The cache folders of `repo` under `cacheDir`. */
export function repoCache(cacheDir: string, repo: string): RepoCache {
  const root = join(cacheDir, repoFolderName(repo));
  return { root, blobs: join(root, 'blobs'), snapshots: join(root, 'snapshots'), refs: join(root, 'refs') };
}

/**
 * The commit `revision` stands for from the cache alone: itself when a commit hash, else `refs/<revision>`, else
 * (a short commit hash, `2d0429d`) the one cached snapshot whose commit starts with it. Undefined when none is
 * cached, or when several snapshots start with it (see cachedCommitsStartingWith).
 */
export function cachedCommit(cache: RepoCache, revision: string): string | undefined {
  if (isCommitHash(revision)) return revision;
  const commit = readRef(join(cache.refs, revision));
  if (commit !== undefined) return isCommitHash(commit) ? commit : undefined;
  const matches = cachedCommitsStartingWith(cache, revision);
  return matches.length === 1 ? matches[0] : undefined;
}

/** The commits of the cached snapshots that start with `prefix`, a short commit hash (none for another revision), sorted. */
export function cachedCommitsStartingWith(cache: RepoCache, prefix: string): string[] {
  if (!isShortCommitHash(prefix) || !existsSync(cache.snapshots)) return [];
  return readdirSync(cache.snapshots, { withFileTypes: true })
    .filter((e) => e.isDirectory() && isCommitHash(e.name) && e.name.startsWith(prefix))
    .map((e) => e.name)
    .sort();
}

/**
 * Records that `revision` (a branch or tag) points to `commit`; nothing for a commit hash. The file is written
 * through a temporary in the repo's folder, not in `refs/`, where huggingface_hub's scan_cache_dir (`hf cache ls`,
 * `huggingface-cli scan-cache`) reads every file as a ref: a write killed there left a ref named
 * `main.PID.RANDOM.tmp`, or an empty one, for which it calls the repo corrupted (a ref to a missing commit). The
 * temporaries of writers that are gone are removed, in the repo's folder and those earlier versions left in `refs/`.
 */
export function writeRef(cache: RepoCache, revision: string, commit: string): void {
  if (revision === commit) return;
  const file = join(cache.refs, revision);
  const temporaryFor = join(cache.root, `refs--${revision.replaceAll('/', '--')}`);
  removeStaleTemporaries(temporaryFor);
  removeStaleTemporaries(file);
  if (readRef(file) === commit) return;
  writeFileAtomic(file, commit, { temporaryFor });
}

/**
 * The text of the ref file `file` (`refs/<revision>`), trimmed; undefined when there is none. One that cannot be read
 * (a folder there) is a one-line error naming it, where the message named no file ('cannot read: is a folder').
 */
function readRef(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw fileSystemError(e, file) ?? e;
  }
}

/** Puts `blob` at `target` (a snapshot path): a relative symlink as huggingface_hub makes, else a copy. */
export function linkBlob(blob: string, target: string): void {
  ensureFolder(dirname(target), target);
  if (existsSync(target) || isLink(target)) rmSync(target, { force: true });
  try {
    symlinkSync(relative(dirname(target), blob), target);
  } catch {
    copyFileSync(blob, target);
  }
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The files of a snapshot folder, as repo paths (`onnx/model.onnx`), skipping broken links. */
export function snapshotFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (sub: string) => {
    for (const e of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.isDirectory()) walk(rel);
      else if (existsSync(join(dir, rel))) out.push(rel);
    }
  };
  if (existsSync(dir)) walk('');
  return out.sort();
}
