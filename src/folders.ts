/**
 * Creating folders. Missing folders are made one level at a time: `mkdirSync(…, { recursive: true })` never returns
 * for a path under /proc (or a link into it), spinning in one synchronous call that not even SIGTERM ends. A part of
 * the path that is a file, a link loop, a link to nothing, or a folder that takes no new entries is a one-line UserError
 * naming it. Every
 * folder of bert-compress is made here (ensureFolder); the folders a failed command made are removed again when
 * still empty (removeCreatedFolders).
 */
import { lstatSync, mkdirSync, readlinkSync, rmdirSync, statSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { FS_REASONS, UserError } from './errors.ts';
import { onInterrupt } from './interrupt.ts';

/**
 * Why a folder that exists refuses a new entry with ENOENT: a virtual file system (/proc, /sys' kin) whose
 * entries the kernel makes; "no such file or folder" would name the wrong thing.
 */
export const NO_NEW_ENTRIES = 'takes no new files (a read-only or special file system, such as /proc)';

/**
 * The file type of whatever is at `path` (following links), or null when nothing is there; a link loop or another
 * fault is a one-line UserError (led by `label`, when given).
 */
export function kindOf(path: string, label?: string): 'file' | 'folder' | 'special' | null {
  try {
    const s = statSync(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'folder' : 'special';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null; // ENOTDIR: a parent is a file, which ensureFolder names
    throw fileSystemError(e, path, label) ?? e;
  }
}

/**
 * Where `path` links to when it is a symbolic link to nothing (its target missing: a folder on a disk not mounted, a
 * link made before its folder), else undefined: mkdir fails on it ('already exists') and a folder moved onto it ('a
 * part of the path is not a folder'), where the link is what a user sees.
 */
function missingLinkTarget(path: string): string | undefined {
  try {
    if (!lstatSync(path).isSymbolicLink() || kindOf(path) !== null) return undefined;
    return readlinkSync(path);
  } catch {
    return undefined; // (nothing there, or a link loop: kindOf names it)
  }
}

/** Why `abs`, a part of the path `label` names, a link to `target` that is missing (missingLinkTarget), cannot be written into. */
function missingLinkLine(label: string, abs: string, target: string): string {
  return `${label}: ${abs} is a link to ${target}, which does not exist; create it or give another path`;
}

/**
 * A one-line UserError for a failed fs call (`label: cannot <syscall> PATH: reason`), or undefined when `e` is not
 * an fs error we can explain.
 */
export function fileSystemError(e: unknown, path?: string, label?: string): UserError | undefined {
  const err = e as NodeJS.ErrnoException;
  if (!err || typeof err !== 'object' || typeof err.code !== 'string' || !(err.code in FS_REASONS) || typeof err.syscall !== 'string') return undefined;
  // (a rename's error names the file moved as its path, and where it went as its dest: the place that refused it)
  const dest = (err as NodeJS.ErrnoException & { dest?: unknown }).dest;
  const where = err.syscall.startsWith('rename') && typeof dest === 'string' ? dest : (err.path ?? path);
  const verb = err.syscall.startsWith('mkdir')
    ? 'create folder'
    : err.syscall.startsWith('rename')
      ? 'move into'
      : err.syscall.startsWith('open') || err.syscall.startsWith('write')
        ? 'write'
        : err.syscall === 'stat' || err.syscall === 'lstat'
          ? 'reach'
          : err.syscall;
  return new UserError(`${label ? `${label}: ` : ''}cannot ${verb}${where ? ` ${where}` : ''}: ${FS_REASONS[err.code]}`, { cause: e });
}

/** The folders ensureFolder created in this process, parents first: a command that fails removes them (below). */
const createdFolders: string[] = [];
/** Unregisters removeCreatedFolders from the interrupt clean-ups (set while folders are recorded). */
let stopWatchingInterrupts: (() => void) | undefined;

/**
 * Removes the folders ensureFolder created in this process that are still empty, deepest first, and forgets them
 * all: a command refused after checking its destinations leaves no empty folders behind. A folder something was
 * written into is kept. With `inside`, only those in one of its folders (or one of them) are removed and forgotten;
 * the others stay listed: a process that goes on (a sweep running its next point) leaves the folders it made that
 * other points share (a model's work folder, a cache folder), which another process may be about to create a file or
 * folder in (a worker's point; a few such folders, however many points run).
 */
export function removeCreatedFolders(inside?: readonly string[]): void {
  const roots = inside?.map((dir) => resolve(dir));
  const kept: string[] = [];
  for (const dir of [...createdFolders].reverse()) {
    if (roots && !roots.some((root) => dir === root || dir.startsWith(root.endsWith(sep) ? root : root + sep))) {
      kept.unshift(dir);
      continue;
    }
    try {
      rmdirSync(dir);
    } catch {
      // not empty (or already gone): keep it
    }
  }
  createdFolders.splice(0, createdFolders.length, ...kept);
  if (kept.length === 0) {
    stopWatchingInterrupts?.();
    stopWatchingInterrupts = undefined;
  }
}

/**
 * Runs `work`; when it fails, removes the folders ensureFolder made meanwhile on the paths of `dirs` (each dir and
 * its parents) that are still empty, deepest first, and forgets them: a library call that fails (a pass refusing at
 * run time) leaves none of the empty folders it made for its output, as the CLI removes those of a failed command
 * (removeCreatedFolders). Folders made meanwhile elsewhere (another call's) stay.
 */
export async function removingFoldersMadeOnFailure<T>(dirs: readonly string[], work: () => Promise<T>): Promise<T> {
  const before = new Set(createdFolders);
  try {
    return await work();
  } catch (e) {
    for (const dir of dirs) {
      for (let at = resolve(dir); ; at = dirname(at)) {
        const i = createdFolders.indexOf(at);
        if (i >= 0 && !before.has(at)) {
          try {
            rmdirSync(at);
          } catch {
            break; // not empty (or gone): it and its parents stay
          }
          createdFolders.splice(i, 1);
        }
        if (dirname(at) === at) break;
      }
    }
    if (createdFolders.length === 0) {
      stopWatchingInterrupts?.();
      stopWatchingInterrupts = undefined;
    }
    throw e;
  }
}

/**
 * How many times ensureFolder makes a folder again whose parent went missing meanwhile: another process removed it,
 * empty (a failed command cleaning up the folders it made), between the check that it is there and the mkdir in it.
 */
const VANISHED_PARENT_RETRIES = 3;

/**
 * Creates `dir` and its missing parents one level at a time (see the module comment), remembering what it created
 * (see removeCreatedFolders); a UserError naming `label` when a part of the path is a file or cannot be created.
 */
export function ensureFolder(dir: string, label = dir): void {
  const abs = resolve(dir);
  for (let attempt = 0; ; attempt++) {
    const kind = kindOf(abs, label);
    if (kind === 'folder') return;
    const problem = folderPartProblem(label, abs, kind);
    if (problem !== undefined) throw new UserError(problem);
    const parent = dirname(abs);
    if (parent !== abs) ensureFolder(parent, label);
    try {
      mkdirSync(abs);
      createdFolders.push(abs);
      // a command stopped by Ctrl-C removes them too, once its other clean-ups (a staging folder inside) have run
      stopWatchingInterrupts ??= onInterrupt(removeCreatedFolders);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && kindOf(abs) === 'folder') return;
      // (the parent removed since it was made or found: made again; a folder that takes no new entries fails each time)
      if (code === 'ENOENT' && parent !== abs && attempt < VANISHED_PARENT_RETRIES) continue;
      throw folderRefusal(e, abs, label);
    }
  }
}

/** ensureFolder's refusal of mkdir's error `e` at `abs` (a path `label` names), in one line where it is the file system's. */
export function folderRefusal(e: unknown, abs: string, label: string): unknown {
  const parent = dirname(abs);
  if ((e as NodeJS.ErrnoException).code === 'ENOENT' && parent !== abs && kindOf(parent) === 'folder')
    return new UserError(`${label}: cannot create folder ${abs}: ${parent} ${NO_NEW_ENTRIES}`, { cause: e });
  return fileSystemError(e, abs, label) ?? e;
}

/** What a path that is no folder is, by its kind (kindOf): 'a file', or 'a device, pipe or socket'. */
export function notFolderKind(kind: 'file' | 'special'): string {
  return kind === 'file' ? 'a file' : 'a device, pipe or socket';
}

/** Why `abs`, a part of the folder path `label` names, cannot be a folder. */
function notAFolder(label: string, abs: string, kind: 'file' | 'special'): string {
  return `${label}: ${abs} is ${notFolderKind(kind)}, not a folder`;
}

/**
 * Why `abs`, a part of the folder path `label` names that is no folder (`kind`: kindOf's), cannot become one: it is a
 * file, device, pipe or socket, or a link to a missing folder (mkdir fails on it); undefined when nothing is there
 * (a folder to create). The one rule of ensureFolder, which creates the folders, and destination.ts' checkFolderPath,
 * which checks a name before any work.
 */
export function folderPartProblem(label: string, abs: string, kind: 'file' | 'special' | null): string | undefined {
  if (kind !== null) return notAFolder(label, abs, kind);
  const target = missingLinkTarget(abs);
  return target === undefined ? undefined : missingLinkLine(label, abs, target);
}
