/**
 * The files a queued point reads, and how a worker on another machine finds them.
 *
 * The coordinator lists them when it enqueues a point (`pointFiles`): per folder of its own (the model's folder, the
 * GLUE folder, a teacher's or student's folder), the files the point reads from it, with their sha256 and size.
 * A worker then finds each folder (`localizePoint`):
 *
 * 1. at the same path, when every listed file is there with the same sha256 (a shared filesystem);
 * 2. else through the first `--path-map FROM=TO` whose FROM holds it: TO is a local folder (the same share mounted
 *    elsewhere; checked the same way) or an http(s) URL, from which each file is fetched (resumably) into the worker's
 *    cache, verified by sha256, and laid out as a folder there;
 * 3. else the point fails with one line naming the file and what to do: given back to the queue for another worker
 *    (NotForThisWorker) where the file is not found here or not fetched (this worker's set-up, or gone for all); failed
 *    where a file differs from the coordinator's sha256 wherever it is read (its own path, a mapped folder, a URL): the
 *    coordinator's path or a --path-map names the folder the coordinator hashed, so another file there is one changed
 *    since (the same for every worker reading that folder or mirror), which a give-back would count towards every
 *    healthy worker's stop; the line names where it was read, for a stale copy to be mended.
 *
 * The point is then rewritten to those folders; its outputs go to the worker's own work folder. The point key is
 * untouched: equal files give equal results wherever they are read from.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { DataError, SettingsError, errorLine, quotedText } from '../errors.ts';
import { MODEL_SIDE_FILES } from '../eval/model-files.ts';
import { locateModel } from '../onnx/locate.ts';
import { externalDataFiles } from '../onnx/identity.ts';
import { fileStamps, goneWritersTemporaries, sha256File, stampsHold, temporaryPathFor, type FileStamp } from '../files.ts';
import { splitFile } from '../glue/dataset.ts';
import { ChecksumMismatch, downloadVerified } from '../glue/download/http-file.ts';
import { getTask } from '../glue/registry.ts';
import { projectionsStudent, type SweepPoint } from '../sweep/plan.ts';
import { projectionsPath } from '../train/projections.ts';
import { formatMB } from '../units.ts';
import { ensureFolder } from '../folders.ts';
import { NotForThisWorker } from './job.ts';
import { compareText } from '../text-order.ts';

/** One file a point reads: its path inside its folder (with '/'), sha256 and size. */
export interface ManifestFile {
  path: string;
  sha256: string;
  bytes: number;
}

/** A folder of the coordinator's and the files a point reads from it. */
export interface FileTree {
  /** Absolute path on the coordinator. */
  root: string;
  files: ManifestFile[];
}

/** `--path-map FROM=TO`: a coordinator folder and where this worker finds it (a folder or an http(s) URL). */
export interface PathMapping {
  from: string;
  to: string;
}

/** Parses `FROM=TO`; a SettingsError naming the flag otherwise. */
export function parsePathMapping(text: string): PathMapping {
  const i = text.indexOf('=');
  const from = i > 0 ? text.slice(0, i) : '';
  const to = i > 0 ? text.slice(i + 1) : '';
  if (!from || !to) throw new SettingsError(`--path-map ${quotedText(text)}: expected FROM=TO (a coordinator folder = a folder or http(s) URL here)`);
  if (!isAbsolute(from)) throw new SettingsError(`--path-map ${quotedText(text)}: FROM must be an absolute path (as the coordinator's points name it)`);
  if (to.startsWith('hf:')) throw new SettingsError(`--path-map ${quotedText(text)}: hf: ids are not supported yet; map to an https:// URL or a folder`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(to) && !/^https?:\/\//i.test(to))
    throw new SettingsError(`--path-map ${quotedText(text)}: only http:// and https:// URLs can be fetched`);
  if (!/^https?:\/\//i.test(to) && !isAbsolute(to)) throw new SettingsError(`--path-map ${quotedText(text)}: TO must be an absolute folder or an http(s) URL`);
  return { from: trimSlash(resolve(from)), to: /^https?:\/\//i.test(to) ? to.replace(/\/+$/, '') : trimSlash(resolve(to)) };
}

const trimSlash = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);

/** Whether `path` is `root` or inside it. */
function within(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The files of a model (its .onnx, the external data files it names, config.json and tokenizer files) as paths: the
 * external data by the .onnx's own entries (externalDataFiles, as its identity), under any name or subfolder, not
 * the other models' data files beside it (a transformers.js folder's model_fp16.onnx_data).
 */
function modelFiles(onnx: string, dir: string): string[] {
  const files = [onnx];
  for (const name of MODEL_SIDE_FILES) if (existsSync(join(dir, name))) files.push(join(dir, name));
  files.push(...externalDataFiles(onnx));
  return files;
}

/**
 * The folders and files a point reads, each file hashed with `hash` (memoize it across points). Folders: the model's,
 * the GLUE folder (dev files of its tasks, the calibration and training train files), teachers' and students'.
 */
export async function pointFiles(point: SweepPoint, hash: (file: string) => Promise<string>): Promise<FileTree[]> {
  const wanted: Array<{ root: string; file: string }> = [];
  for (const f of modelFiles(point.model.onnx, point.model.dir)) wanted.push({ root: point.model.dir, file: f });
  for (const task of point.tasks) wanted.push({ root: point.glueDir, file: splitFile(getTask(task), 'dev', point.glueDir).file });
  if (point.calibration) wanted.push({ root: point.glueDir, file: splitFile(getTask(point.calibration.task), 'train', point.glueDir).file });
  for (const step of point.training?.steps ?? []) {
    wanted.push({ root: point.glueDir, file: step.data.file });
    if (step.teacher) {
      const where = locateModel(step.teacher); // its config.json and tokenizer may sit above onnx/, as training reads them
      for (const f of modelFiles(where.onnx, where.dir)) wanted.push({ root: where.dir, file: f });
    }
    if (step.student && isAbsolute(step.student)) {
      const where = locateModel(step.student);
      for (const f of modelFiles(where.onnx, where.dir)) wanted.push({ root: where.dir, file: f });
    }
    // (the projections file beside the step's student that its plan hashed: its matches start from it)
    const projected = point.data?.training?.[String(step.index)]?.projections !== undefined ? projectionsStudent(step, point.model.onnx) : undefined;
    if (projected !== undefined) {
      const root = projected === point.model.onnx ? point.model.dir : locateModel(step.student!).dir;
      wanted.push({ root, file: projectionsPath(projected) });
    }
  }
  const trees = new Map<string, Map<string, string>>();
  for (const { root, file } of wanted) {
    // A file outside its folder (an absolute split path) is a folder of its own.
    const base = within(file, root) ? root : dirname(file);
    if (!trees.has(base)) trees.set(base, new Map());
    trees.get(base)!.set(relative(base, file).split(sep).join('/'), file);
  }
  const out: FileTree[] = [];
  for (const [root, files] of trees) {
    const entries: ManifestFile[] = [];
    for (const [path, file] of [...files].sort(([a], [b]) => compareText(a, b))) {
      entries.push({ path, sha256: await hash(file), bytes: statSync(file).size });
    }
    out.push({ root, files: entries });
  }
  return out;
}

/** Where a worker keeps fetched files and its outputs. */
export interface WorkerFiles {
  /** Fetched files (`blobs/<sha256>`), the folders laid out from them (`trees/`), training caches. */
  cacheDir: string;
  /** Compressed models of the points this worker runs. */
  workDir: string;
  pathMap: readonly PathMapping[];
  log?: (line: string) => void;
}

/**
 * sha256 of local files already checked by this process, by path, valid while the file's stamps hold (files.ts
 * `fileStamps`: size, times and inode, so another file moved there with the same size and mtime is hashed again).
 */
const checked = new Map<string, { stamps: FileStamp[]; sha256: string }>();

async function localSha256(file: string): Promise<string> {
  const known = checked.get(file);
  if (known && stampsHold(known.stamps)) return known.sha256;
  const stamps = fileStamps([file]); // (taken before hashing; none for a file changed within the racy margin)
  const sha256 = await sha256File(file);
  if (stamps) checked.set(file, { stamps, sha256 });
  else checked.delete(file);
  return sha256;
}

/** Why a local folder does not hold the tree's files (null when it does): a file missing there, or differing. */
async function localProblem(dir: string, tree: FileTree): Promise<{ text: string; missing: boolean } | null> {
  for (const f of tree.files) {
    const file = join(dir, ...f.path.split('/'));
    if (!existsSync(file)) return { text: `${file}: not found on this worker`, missing: true };
    if (statSync(file).size !== f.bytes || (await localSha256(file)) !== f.sha256)
      return {
        text: `${file}: differs from the coordinator's (sha256 ${f.sha256.slice(0, 12)}…): the file changed after the sweep was queued`,
        missing: false,
      };
  }
  return null;
}

/** Fetches of one blob in flight in this process, so two jobs needing the same file download it once. */
const fetching = new Map<string, Promise<void>>();

/**
 * The name this process downloads each blob under until it has it: its own (temporaryPathFor: the pid and random
 * characters, as two workers in containers share pid 1), made once, so that the next run of a point whose fetch was
 * cut short resumes the part it left ("run again to resume") where a new name fetched it from byte 0 beside it.
 */
const downloadNames = new Map<string, string>();

/**
 * The parts of `blob` in its folder that workers now gone left (goneWritersTemporaries), this process's own download
 * names told it, so that one of a worker of the same pid (pid 1 in each of two containers sharing the cache) is judged
 * by its time unwritten, where that pid being alive (this process's own) kept a dead worker's part for ever.
 */
function goneWorkersParts(blob: string): string[] {
  const made = new Set([...downloadNames.values()].map((name) => `${name}.part`));
  return goneWritersTemporaries(dirname(blob), basename(blob), '.part', made);
}

/**
 * Takes over, as the part of this process's download `mine`, the largest part of `blob` a worker now gone left (killed
 * while fetching it: goneWorkersParts), so the fetch resumes it (downloadVerified fetches from byte 0 where its
 * bytes do not check out); other such parts are removed. A part another worker took over first is left to it.
 */
function takeOverPart(blob: string, mine: string): void {
  const parts = goneWorkersParts(blob)
    .map((path) => ({ path, bytes: statSync(path, { throwIfNoEntry: false })?.size ?? -1 }))
    .sort((a, b) => b.bytes - a.bytes);
  for (const [i, part] of parts.entries()) {
    try {
      if (i === 0) renameSync(part.path, `${mine}.part`);
      else rmSync(part.path, { force: true });
    } catch {
      // (taken over or removed by another worker first)
    }
  }
}

async function fetchBlob(url: string, blob: string, f: ManifestFile, log?: (line: string) => void): Promise<void> {
  if (existsSync(blob)) return;
  let pending = fetching.get(blob);
  if (!pending) {
    // Downloaded under this process's own name, then renamed: workers sharing a cache never mix their parts.
    const mine = downloadNames.get(blob) ?? temporaryPathFor(blob);
    if (!downloadNames.has(blob)) takeOverPart(blob, mine);
    downloadNames.set(blob, mine);
    pending = (async () => {
      log?.(`fetching ${url} (${formatMB(f.bytes)})`);
      await downloadVerified(url, mine, { sha256: f.sha256, bytes: f.bytes });
      renameSync(mine, blob);
      downloadNames.delete(blob);
      // (parts of it that gone workers left since, or too recently to be taken for theirs: not needed now)
      for (const part of goneWorkersParts(blob)) rmSync(part, { force: true });
    })().finally(() => fetching.delete(blob));
    fetching.set(blob, pending);
  }
  await pending;
}

/** Lays the tree out as a folder of links to its blobs (copies where links fail); returns the folder. */
function layOut(tree: FileTree, cacheDir: string): string {
  const id = createHash('sha256')
    .update(JSON.stringify(tree.files.map((f) => [f.path, f.sha256])))
    .digest('hex')
    .slice(0, 24);
  const dir = join(cacheDir, 'trees', `${basename(tree.root) || 'root'}-${id}`);
  for (const f of tree.files) {
    const target = join(dir, ...f.path.split('/'));
    if (existsSync(target)) continue;
    ensureFolder(dirname(target), target);
    const tmp = temporaryPathFor(target);
    const blob = join(cacheDir, 'blobs', f.sha256);
    try {
      linkSync(blob, tmp);
    } catch {
      copyFileSync(blob, tmp);
    }
    renameSync(tmp, target);
  }
  return dir;
}

/** Fetches a tree's files from `baseUrl` (file URL = base + '/' + path) into the cache; returns its local folder. */
async function fetchTree(tree: FileTree, baseUrl: string, files: WorkerFiles): Promise<string> {
  ensureFolder(join(files.cacheDir, 'blobs'));
  for (const f of tree.files) {
    const url = `${baseUrl}/${f.path.split('/').map(encodeURIComponent).join('/')}`;
    await fetchBlob(url, join(files.cacheDir, 'blobs', f.sha256), f, files.log);
  }
  return layOut(tree, files.cacheDir);
}

/** The local folder of one coordinator folder: see the module comment. */
async function locateTree(tree: FileTree, files: WorkerFiles): Promise<string> {
  const here = existsSync(tree.root)
    ? await localProblem(tree.root, tree)
    : { text: `${join(tree.root, tree.files[0]?.path ?? '')}: not found on this worker`, missing: true };
  if (here === null) return tree.root;
  for (const m of files.pathMap) {
    if (!within(tree.root, m.from)) continue;
    const rest = tree.root.slice(m.from.length).split(sep).filter(Boolean);
    if (/^https?:\/\//i.test(m.to)) {
      const mapped = `(mapped from ${tree.root} by --path-map ${m.from}=${m.to})`;
      try {
        return await fetchTree(tree, [m.to, ...rest.map(encodeURIComponent)].join('/'), files);
      } catch (e) {
        // (another file served: the point's, as a differing file is anywhere)
        if (e instanceof ChecksumMismatch) throw new DataError(`${errorLine(e)} ${mapped}`, { cause: e });
        // (not found there, the server or this worker's disk failing: for another worker to run)
        throw new NotForThisWorker(errorLine(e), 'either', { cause: e });
      }
    }
    const dir = join(m.to, ...rest);
    const problem = await localProblem(dir, tree);
    if (problem === null) return dir;
    const line = `${problem.text} (mapped from ${tree.root} by --path-map ${m.from}=${m.to})`;
    throw problem.missing ? new NotForThisWorker(line) : new DataError(line);
  }
  const line = `${here.text}; share ${tree.root} at the same path, or map it with --path-map ${tree.root}=FOLDER_OR_URL`;
  throw here.missing ? new NotForThisWorker(line) : new DataError(line);
}

/**
 * The point as this worker runs it: every coordinator folder replaced by its local folder (see the module comment),
 * outputs under `files.workDir`, training caches under `files.cacheDir`.
 */
export async function localizePoint(point: SweepPoint, trees: readonly FileTree[], files: WorkerFiles): Promise<SweepPoint> {
  const roots = new Map<string, string>();
  for (const tree of trees) roots.set(tree.root, await locateTree(tree, files));
  // The deepest folder holding a path decides (a model folder may sit inside the GLUE folder or the other way).
  const byDepth = [...roots].sort(([a], [b]) => b.length - a.length);
  const local = (path: string): string => {
    for (const [from, to] of byDepth) if (within(path, from)) return from === to ? path : join(to, relative(from, path));
    return path;
  };
  const out: SweepPoint = structuredClone(point);
  out.model = { ...out.model, onnx: local(point.model.onnx), dir: local(point.model.dir) };
  out.glueDir = local(point.glueDir);
  if (point.outputDir !== null) out.outputDir = join(files.workDir, basename(dirname(point.outputDir)), basename(point.outputDir));
  if (out.training) {
    out.training.cacheDir = join(files.cacheDir, 'training');
    for (const step of out.training.steps) {
      step.data = { ...step.data, file: local(step.data.file) };
      if (step.teacher) step.teacher = local(step.teacher);
      if (step.student && isAbsolute(step.student)) step.student = local(step.student);
    }
  }
  return out;
}
