/**
 * Where a compressed model may be written, checked before any work: the output, its lineage sidecar and its data
 * file must be regular files or absent, none may be one of the input's own files (the model, its external data,
 * its sidecar, its config.json and tokenizer files, compared by real path, so `-o in/model.onnx.data` or a link to
 * the input is refused), and config.json or tokenizer files already in the output folder must be the input's (a
 * folder holds the side files of one model: a second model compressed there would be evaluated with the first
 * one's labels). The files are first written into a staging folder beside the output, `.compress-<host>-<pid>-XXXXXX`,
 * which also proves the folder writable; staging folders left by killed runs on this host are removed.
 */
import { existsSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import {
  checkFolderPath,
  checkOnnxName,
  checkOutputFiles,
  checkPathLength,
  fileSystemError,
  lineagePath,
  modelOutputFiles,
  refuseForeignSideFiles,
} from '../destination.ts';
export { checkNotInTransformersJsFolder } from '../destination.ts';
import { UsageError } from '../errors.ts';
import { MODEL_SIDE_FILES, checkNotSideFileNames, readJsonObject, readModelFile } from '../eval/model-files.ts';
import { sameModelConfig } from '../eval/output-config.ts';
import { onInterrupt } from '../interrupt.ts';
import { createLockFile, lockHolderRuns, lockIsStale, readLockFile, takeOverStaleLock, type LockHolder } from '../file-lock.ts';
import { processAlive } from '../processes.ts';

export { lineagePath };

/** The real path of `path`, or of its nearest existing folder joined with the rest when it does not exist yet. */
export function realPathOf(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(realPathOf(parent), basename(abs));
  }
}

/** The files an input model owns, by real path: the model, its external data files, its sidecar and side files. */
export function inputFiles(input: string, externalFiles: readonly string[]): string[] {
  const dir = dirname(resolve(input));
  const candidates = [input, lineagePath(input), ...MODEL_SIDE_FILES.map((f) => join(dir, f))].filter((f) => existsSync(f));
  return [...new Set([...candidates.map(realPathOf), ...externalFiles.map(realPathOf)])];
}

/**
 * The name a command line gives a model output (`-o OUT`), checked before anything is read: not too long for it, its
 * sidecar or data file to be written (checkPathLength), not named like a side file (nor its sidecar or data file),
 * ending in .onnx (checkOnnxName), and not under a file (checkFolderPath).
 */
export function checkModelOutputName(output: string): void {
  const label = `-o ${output}`;
  const files = modelOutputFiles(output);
  for (const [path] of files) checkPathLength(path, label, 'file');
  checkNotSideFileNames(files, label);
  checkOnnxName(output);
  checkFolderPath(dirname(output), label);
}

/**
 * Throws a one-line error when `output` (or its sidecar or data file) is named like a model side file
 * (MODEL_SIDE_FILES: config.json or a tokenizer file, which live beside the model), is not a regular file or absent,
 * cannot be written, or is one of `owned` (real paths of the input's files). Names are checked before any folder is
 * created.
 */
export function checkOutputPaths(output: string, owned: readonly string[]): void {
  const label = `-o ${output}`;
  const mine = new Set(owned);
  const paths = modelOutputFiles(output);
  checkNotSideFileNames(paths, label);
  const files = paths.map(([path]) => path);
  checkOutputFiles(files, label);
  for (const [path, what] of paths) {
    const real = realPathOf(path);
    if (mine.has(real)) throw new UsageError(`${label}: ${what} ${path} is one of the input model's files (${real}); refusing to overwrite it`);
  }
}

/**
 * The config.json and tokenizer files in the output folder that belong to another model: a file that differs from
 * the input folder's, or a config.json when the input has none (it would stay beside the output, with another
 * model's labels and shape). The output would be evaluated with them, so they are refused in one line (`label`:
 * `-o OUT`) unless `force`; with `force` they are returned, for removeSideFiles to clear before the output's own are
 * written. (A tokenizer file the input lacks may be there: a bare model's tokenizer, put beside it on purpose.) A
 * config.json that differs only in the fields describing the model's shape (written for another output of the same
 * input: see src/eval/output-config.ts) is the same model's. `config`: the config.json the output gets when it is not
 * the input's (an export naming its seeded head): a config.json there of its model is the output's too.
 */
export function checkSideFiles(inputDir: string, outputDir: string, label: string, force = false, config?: Record<string, unknown>): string[] {
  if (realPathOf(inputDir) === realPathOf(outputDir)) return [];
  const foreign = MODEL_SIDE_FILES.filter((name) => {
    const mine = join(inputDir, name);
    const there = join(outputDir, name);
    if (!existsSync(there)) return false;
    if (name === 'config.json' && config && sameConfigAs(there, config)) return false;
    if (!existsSync(mine)) return name === 'config.json';
    // (read as a model file is: one that is a folder or unreadable refused naming it)
    return !readModelFile(mine).equals(readModelFile(there)) && !(name === 'config.json' && sameConfigFile(mine, there));
  });
  if (!force) refuseForeignSideFiles(outputDir, foreign, label);
  return foreign;
}

/** Removes `names` (another model's side files, given --force: see checkSideFiles) from `outputDir`. */
export function removeSideFiles(outputDir: string, names: readonly string[], label: string): void {
  for (const name of names) {
    try {
      rmSync(join(outputDir, name), { force: true });
    } catch (e) {
      throw fileSystemError(e, join(outputDir, name), label) ?? e;
    }
  }
}

/** Two config.json files of the same model (sameModelConfig); false when either is not a JSON object. */
function sameConfigFile(a: string, b: string): boolean {
  try {
    return sameConfigAs(b, readJsonObject(a));
  } catch {
    return false;
  }
}

/** Whether the config.json `file` is `config`'s model (sameModelConfig); false when it is not a JSON object. */
function sameConfigAs(file: string, config: Record<string, unknown>): boolean {
  try {
    return sameModelConfig(readJsonObject(file), config);
  } catch {
    return false;
  }
}

const STAGING_PREFIX = '.compress-';

/** This host's name as staging folder names hold it. */
const stagingHost = (): string => hostname().replace(/[^A-Za-z0-9.-]/g, '_');

/** `.compress-<host>-<pid>-XXXXXX` → host and pid; null for a name that is not a staging folder. */
export function parseStagingName(name: string): { host: string; pid: number } | null {
  const m = /^\.compress-(.+)-(\d+)-[A-Za-z0-9]{6}$/.exec(name);
  return m ? { host: m[1]!, pid: Number(m[2]) } : null;
}

/**
 * The file in a staging folder naming the process that writes there, as a lock file names its holder (file-lock.ts:
 * `PID START`): a later process given the pid is not taken for it.
 */
const STAGING_HOLDER = '.holder';

/** Whether the run that made the staging folder `dir` (of this host, its pid `pid` in the name) is gone. */
function stagingRunGone(dir: string, pid: number): boolean {
  let holder: LockHolder | undefined;
  try {
    holder = readLockFile(join(dir, STAGING_HOLDER))?.holder;
  } catch {
    holder = undefined;
  }
  // (folders of earlier versions, or one whose holder file is not written yet: by the pid in the name)
  return holder !== undefined ? !lockHolderRuns(holder) : !processAlive(pid);
}

/**
 * Removes the staging folders in `folder` left by runs that died (this host, and its holder file names a process
 * gone, or one whose pid another process has now; without the file, by the pid in its name) and those of the earlier
 * unmarked form `.compress-XXXXXX`; returns the names removed.
 */
export function removeStaleStaging(folder: string): string[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  const host = stagingHost();
  const stale = names
    .filter((n) => {
      if (!n.startsWith(STAGING_PREFIX)) return false;
      const owner = parseStagingName(n);
      if (!owner) return /^\.compress-[A-Za-z0-9]{6}$/.test(n);
      return owner.host === host && stagingRunGone(join(folder, n), owner.pid);
    })
    .filter((n) => restoreReplaced(folder, n));
  for (const n of stale) rmSync(join(folder, n), { recursive: true, force: true });
  return stale;
}

/** The lock file, in an output's folder, that runs writing into that folder hold while they put their files in place. */
export const OUTPUT_LOCK = '.bert-compress-output.lock';

/**
 * Puts back the earlier outputs that the dead run's staging folder `name` (in `folder`) holds aside: a transformers.js
 * folder being replaced is renamed to `<staging>/<output name>.replaced` before the new one is renamed into place
 * (commitFolder), so a run killed between the two renames leaves no output and the earlier one only there, beside the
 * new folder still staged as `X`. Each such `X.replaced` is renamed back to `folder/X` when that path is absent (the
 * new folder never came; one without `X` beside it is a staged output named `X.replaced`, not put anywhere); when it exists
 * (the new one came) it is removed with the staging folder. Done holding the folder's output lock, taken at once or
 * over a dead holder's (the killed run held it): while a live run holds it (it may be between its own two renames),
 * nothing is done and false is returned (the staging folder kept for a later cleanup); true when the folder may go.
 */
function restoreReplaced(folder: string, name: string): boolean {
  let aside: string[];
  try {
    aside = readdirSync(join(folder, name)).filter((f) => f.endsWith('.replaced') && f.length > '.replaced'.length);
  } catch {
    return true;
  }
  // (its new folder `X` still staged beside it: else `X.replaced` is the staged folder of an output named so)
  const lost = aside.filter(
    (f) => existsSync(join(folder, name, f.slice(0, -'.replaced'.length))) && !existsSync(join(folder, f.slice(0, -'.replaced'.length))),
  );
  if (!lost.length) return true;
  const lock = join(folder, OUTPUT_LOCK);
  try {
    if (!createLockFile(lock)) {
      const found = readLockFile(lock);
      if (found && !lockIsStale(found)) return false; // (a live run writing there: left for a later cleanup)
      if (takeOverStaleLock(lock, found?.holder) || !createLockFile(lock)) return false;
    }
  } catch {
    return false;
  }
  try {
    for (const f of lost) {
      const output = join(folder, f.slice(0, -'.replaced'.length));
      if (!existsSync(output)) renameSync(join(folder, name, f), output);
    }
    return true;
  } catch {
    return false; // (kept: its earlier output is still there to put back)
  } finally {
    rmSync(lock, { force: true });
  }
}

/** A staging folder beside an output: files are written there, checked, then renamed into place. */
export interface Staging {
  readonly dir: string;
  /** Where `name` is staged. */
  path(name: string): string;
  remove(): void;
}

/**
 * Creates the staging folder beside `output` (its folder exists and is writable: see checkOutputPaths); it is removed
 * by `remove()`, or when the process is interrupted before that (see ../interrupt.ts).
 */
export function openStaging(output: string): Staging {
  const folder = dirname(resolve(output));
  removeStaleStaging(folder);
  let dir: string;
  try {
    dir = mkdtempSync(join(folder, `${STAGING_PREFIX}${stagingHost()}-${process.pid}-`));
  } catch (e) {
    throw fileSystemError(e, folder, `-o ${output}`) ?? e;
  }
  try {
    createLockFile(join(dir, STAGING_HOLDER));
  } catch {
    // (a best effort: without it, the pid in the folder's name tells whether its run is gone)
  }
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  const forget = onInterrupt(remove); // Ctrl-C or SIGTERM while the files are staged removes them too
  return {
    dir,
    path: (name) => join(dir, name),
    remove: () => {
      forget();
      remove();
    },
  };
}
