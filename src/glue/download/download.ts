/**
 * `compress data download`: fetches the official GLUE files into a GLUE folder laid out as the official script
 * lays it out (`<dir>/<TASK>/{train,dev,test}.tsv`, `<dir>/diagnostic/diagnostic.tsv`). Every download is
 * resumable and sha256-checked, and so is every file found in the download cache (`<dir>/.downloads`) before it is
 * used: one that fails is deleted and fetched again. A task is installed into a staging folder and renamed into
 * place, its marker file last. Tasks already present (marker file there) are skipped unless `force` is set. A mirror (or a test server) can replace the origin with `baseUrl`, which then serves each
 * file under its plain name (`<baseUrl>/CoLA.zip`).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { checkOutputFolder, ensureFolder, fileSystemError } from '../../destination.ts';
import { DataError, SettingsError, counted, quotedText } from '../../errors.ts';
import { environmentValue } from '../../environment.ts';
import { sha256File, writeFileAtomic } from '../../files.ts';
import { withFileLock } from '../../file-lock.ts';
import { onInterrupt } from '../../interrupt.ts';
import { checkHttpUrl } from '../../ranged-download.ts';
import { lookupTasks, NO_TASK_GIVEN, normalizeTaskName, taskNameList } from '../registry.ts';
import { GLUE_TASKS, type TaskDefinition } from '../tasks.ts';
import { downloadVerified, type DownloadEvents } from './http-file.ts';
import { formatMrpc } from './mrpc.ts';
import { GLUE_SOURCES, type RemoteFile, type TaskSource } from './sources.ts';
import { extractZip } from './zip.ts';

/** Environment variable that overrides the download origin, like `baseUrl`. */
export const BASE_URL_ENV = 'GLUE_BASE_URL';

export interface DownloadOptions {
  /** Task names as `eval` accepts them (MNLI-m/-mm and MNLI all mean MNLI; AX means diagnostic), or 'all'. */
  tasks: readonly string[] | 'all';
  /** The GLUE folder to fill. */
  dir: string;
  /**
   * How `dir` was given, for messages: `--dir DIR` unless said (compress data download's GLUE_DIR=VALUE, or its
   * default folder).
   */
  dirLabel?: string;
  /** Serve every file from `<baseUrl>/<name>` instead of its official URL (default: $GLUE_BASE_URL). */
  baseUrl?: string;
  /** Download even if the task looks installed. */
  force?: boolean;
  /** The source table (tests give their own). */
  sources?: readonly TaskSource[];
  /** Progress messages, one line each. */
  log?: (line: string) => void;
}

export interface DownloadedTask {
  readonly folder: string;
  /** 'skipped' when the task's marker file was already there. */
  readonly status: 'installed' | 'skipped';
  readonly files: readonly string[];
}

/** Picks the sources for task names; SettingsError (with suggestions) for unknown names. */
export function selectSources(tasks: readonly string[] | 'all', sources: readonly TaskSource[] = GLUE_SOURCES): TaskSource[] {
  const names = taskNameList(tasks);
  if (names.length === 0) throw new SettingsError(NO_TASK_GIVEN);
  const chosen = new Set<TaskSource>();
  for (const name of names) {
    const key = normalizeTaskName(name);
    if (key === 'all') {
      sources.forEach((s) => chosen.add(s));
      continue;
    }
    const direct = sources.find((s) => normalizeTaskName(s.folder) === key);
    const folders = direct ? [direct.folder] : lookupTasks(name, [...downloadTaskNames(sources), 'all']).map(sourceFolderOfTask);
    for (const folder of folders) {
      const s = sources.find((x) => x.folder === folder);
      if (!s) throw new SettingsError(`no download source for task ${quotedText(name)}`);
      chosen.add(s);
    }
  }
  return sources.filter((s) => chosen.has(s));
}

/** The top folder of a task's files ('MNLI/dev_matched.tsv' → 'MNLI'): the download source that holds them. */
function sourceFolderOfTask(t: TaskDefinition): string {
  return (t.splits.dev?.path ?? t.splits.test!.path).split('/')[0]!;
}

/**
 * The task names `--tasks` takes besides 'all' (and the aliases eval takes), one per source in its order: the name of
 * the task whose files it holds (AX for diagnostic), or its folder for the files of several (MNLI for MNLI-m and -mm).
 */
export function downloadTaskNames(sources: readonly TaskSource[] = GLUE_SOURCES): string[] {
  return sources.map((s) => {
    const tasks = GLUE_TASKS.filter((t) => sourceFolderOfTask(t) === s.folder);
    return tasks.length === 1 ? tasks[0]!.name : s.folder;
  });
}

/** The URL to fetch a file from, honouring a mirror base URL. */
export function fileUrl(file: RemoteFile, baseUrl: string | undefined): string {
  return baseUrl ? `${baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(file.name)}` : file.url;
}

/** Downloads and installs the chosen tasks into `dir`. */
export async function downloadGlue(opts: DownloadOptions): Promise<DownloadedTask[]> {
  const given = opts.baseUrl ?? environmentValue(process.env, BASE_URL_ENV);
  const log = opts.log ?? (() => {});
  const sources = selectSources(opts.tasks, opts.sources ?? GLUE_SOURCES);
  if (given !== undefined) checkHttpUrl(given, opts.baseUrl !== undefined ? '--base-url' : BASE_URL_ENV);
  // (--base-url's blanks around it trimmed, as the check's URL parser trims them and environmentValue an environment
  // variable's: a trailing one, which the check passed, went inside each file's URL, 'http://mirror /SST-2.zip')
  const baseUrl = given?.trim();
  const label = opts.dirLabel ?? `--dir ${opts.dir}`;
  checkOutputFolder(opts.dir, label);
  const cache = join(opts.dir, '.downloads');
  if (existsSync(cache) && !statSync(cache).isDirectory()) {
    throw new DataError(`${label}: ${cache} (the download cache) is a file, not a folder; remove it`);
  }
  // one download into a folder at a time: two would resume the same partial files and corrupt both
  return withFileLock(
    join(opts.dir, '.downloads.lock'),
    (owner) => log(`waiting for process ${owner}, which is downloading into ${opts.dir}`),
    () => downloadInto(opts, sources, baseUrl, cache, log),
  );
}

async function downloadInto(
  opts: DownloadOptions,
  sources: readonly TaskSource[],
  baseUrl: string | undefined,
  cache: string,
  log: (line: string) => void,
): Promise<DownloadedTask[]> {
  const events: DownloadEvents = {
    onStart: (url, from) => log(from > 0 ? `resuming ${url} at byte ${from}` : `downloading ${url}`),
    onRetry: (url, status, waitMs, nextTry) => log(`${url}: HTTP ${status}; trying again in ${Math.round(waitMs / 1000)} s (try ${nextTry})`),
  };
  const done: DownloadedTask[] = [];
  try {
    for (const source of sources) {
      if (!opts.force && existsSync(join(opts.dir, source.marker))) {
        log(`${source.folder}: already present (${source.marker}), skipped`);
        done.push({ folder: source.folder, status: 'skipped', files: [] });
        continue;
      }
      const fetched: string[] = [];
      for (const file of source.files) {
        const dest = join(cache, file.name);
        if (existsSync(dest) && !statSync(dest).isFile()) {
          log(`${file.name}: the cached copy is not a file; removed, downloading again`);
          rmSync(dest, { recursive: true, force: true });
        } else if (existsSync(dest) && !(await matchesChecksum(dest, file))) {
          log(`${file.name}: the cached copy does not match its sha256; removed, downloading again`);
          rmSync(dest, { force: true });
        }
        if (!existsSync(dest)) await downloadVerified(fileUrl(file, baseUrl), dest, file, events);
        fetched.push(dest);
      }
      const files = await installStaged(source, fetched, opts.dir, cache, opts.dirLabel ?? `--dir ${opts.dir}`);
      fetched.forEach((f) => rmSync(f, { force: true }));
      log(`${source.folder}: installed ${counted(files.length, 'file')}`);
      done.push({ folder: source.folder, status: 'installed', files });
    }
  } finally {
    // A failure keeps partial downloads (to resume) in the cache, but not an empty cache folder.
    if (existsSync(cache) && readdirSync(cache).length === 0) rmSync(cache, { recursive: true, force: true });
  }
  rmSync(cache, { recursive: true, force: true });
  return done;
}

/** Whether a file has the sha256 (and size, when known) its source pins. */
async function matchesChecksum(path: string, file: RemoteFile): Promise<boolean> {
  if (file.bytes !== undefined && statSync(path).size !== file.bytes) return false;
  return (await sha256File(path)) === file.sha256.toLowerCase();
}

/**
 * Installs a task into a staging folder under `cache`, checks the files whose sha256 the source pins, then renames
 * every file into `dir`, the marker last, so an interrupted or refused install never looks installed. When the
 * install or a check fails, the fetched files are deleted (a cached archive that cannot be installed is fetched
 * again next time) and nothing reaches `dir` (`label`: how it was given, for messages). Returns the installed paths.
 */
async function installStaged(source: TaskSource, fetched: readonly string[], dir: string, cache: string, label: string): Promise<string[]> {
  const stage = mkdtempSync(join(cache, 'stage-'));
  // Ctrl-C or SIGTERM meanwhile removes the half-built task too (the cache keeps only whole downloads, to resume)
  const forget = onInterrupt(() => rmSync(stage, { recursive: true, force: true }));
  try {
    let staged: string[];
    try {
      staged = (await install(source, fetched, stage)).map((f) => relative(stage, f));
      for (const [rel, sha] of Object.entries(source.outputs ?? {})) {
        const actual = existsSync(join(stage, rel)) ? await sha256File(join(stage, rel)) : 'missing';
        if (actual !== sha) throw new DataError(`${join(dir, rel)}: built file has sha256 ${actual}, expected ${sha}`);
      }
      if (!staged.includes(normalize(source.marker))) throw new DataError(`${source.folder}: the download has no ${source.marker}`);
    } catch (e) {
      fetched.forEach((f) => rmSync(f, { force: true }));
      throw e;
    }
    const marker = normalize(source.marker);
    for (const rel of [...staged.filter((f) => f !== marker), marker]) {
      const target = join(dir, rel);
      ensureFolder(dirname(target), label);
      try {
        renameSync(join(stage, rel), target);
      } catch (e) {
        throw fileSystemError(e, target, label) ?? e;
      }
    }
    return staged.map((rel) => join(dir, rel));
  } finally {
    forget();
    rmSync(stage, { recursive: true, force: true });
  }
}

/** Puts a task's downloaded files under `dir` (a staging folder); returns the paths written. */
async function install(source: TaskSource, fetched: readonly string[], dir: string): Promise<string[]> {
  switch (source.kind) {
    case 'zip':
      return extractZip(fetched[0]!, dir);
    case 'file': {
      const target = join(dir, source.target ?? source.files[0]!.name);
      writeFileAtomic(target, readFileSync(fetched[0]!));
      return [target];
    }
    case 'mrpc': {
      // Fetched in the order the source lists them: MSR train, MSR test, dev ids.
      const [train, test, devIds] = fetched.map((f) => readFileSync(f)) as [Buffer, Buffer, Buffer];
      const built = formatMrpc(train.toString('utf8'), test.toString('utf8'), devIds.toString('utf8'));
      const folder = join(dir, source.folder);
      const outputs: Array<[string, string | Buffer]> = [
        ['msr_paraphrase_train.txt', train],
        ['msr_paraphrase_test.txt', test],
        ['dev_ids.tsv', devIds],
        ['train.tsv', built.train],
        ['dev.tsv', built.dev],
        ['test.tsv', built.test],
      ];
      return outputs.map(([name, data]) => {
        writeFileAtomic(join(folder, name), data);
        return join(folder, name);
      });
    }
  }
}
