/**
 * Processes: whether one is still running (for locks and claims that hold a pid), and how to fork a child that runs
 * one of the project's own entry modules.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** True while process `pid` exists (also when it belongs to another user: EPERM). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When process `pid` started, as an opaque string that tells it from a later process given the same pid (Linux:
 * field 22 `starttime` of /proc/PID/stat, in clock ticks since boot); undefined where it cannot be read (no /proc,
 * the process gone, or hidden).
 */
export function processStartTime(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // `PID (COMM) STATE ...`: COMM may hold spaces and parentheses, so the fields start after the last ')'
  const fields = stat
    .slice(stat.lastIndexOf(')') + 1)
    .trim()
    .split(/\s+/);
  const start = fields[22 - 3]; // fields[0] is field 3 (state)
  return start !== undefined && /^\d+$/.test(start) ? start : undefined;
}

/**
 * True while the process that held pid `pid` when it started at `start` (processStartTime) still runs: false once
 * the pid belongs to another process (reused after it died). Without `start`, or where the start time cannot be
 * read, whether any process holds the pid (processAlive).
 */
export function processStillRunning(pid: number, start: string | undefined): boolean {
  if (start === undefined) return processAlive(pid);
  const now = processStartTime(pid);
  if (now === undefined) return processAlive(pid);
  return now === start;
}

/**
 * Sends `message` to the parent process (of a child forked with an IPC channel). A channel that closed meanwhile
 * (the parent quit: EPIPE, ERR_IPC_CHANNEL_CLOSED) is no error here: the message is dropped, and the child's
 * 'disconnect' handler decides what happens next.
 */
export function sendToParent(message: unknown): void {
  if (!process.send || !process.connected) return;
  try {
    process.send(message, undefined, {}, () => {
      // an error here: the parent went away (see above)
    });
  } catch {
    // the same, reported at once
  }
}

/** Running compiled (dist/, the installed package) or from the TypeScript sources (a checkout, through tsx). */
const COMPILED = import.meta.url.endsWith('.js');

/**
 * How to fork the entry module `name` (without extension) beside the module at `moduleUrl`: its path (`.js`
 * compiled, `.ts` from the sources) and the Node flags it needs (from the sources, tsx's `--import` hook; tsx is a
 * dev dependency).
 */
export function childEntry(moduleUrl: string, name: string): { path: string; execArgv: string[] } {
  return {
    path: fileURLToPath(new URL(`./${name}${COMPILED ? '.js' : '.ts'}`, moduleUrl)),
    execArgv: COMPILED ? [] : ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href],
  };
}
