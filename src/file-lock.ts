/**
 * A lock between processes on one machine: a file created exclusively that holds its owner's pid. A process that
 * finds the lock waits until it is gone, and takes over a lock whose process has died (a killed run). Used where two
 * runs would write the same partial file (a download resumed by both at once corrupts it).
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processAlive } from './processes.ts';

/** Runs `fn` holding the lock file `lock`; `onWait(pid)` is called once if another live process holds it first. */
export async function withFileLock<T>(lock: string, onWait: (owner: number) => void, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(lock), { recursive: true });
  let waiting = false;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(lock, 'utf8'));
    } catch {
      continue; // released between the two calls
    }
    if (Number.isSafeInteger(owner) && owner > 0 && processAlive(owner)) {
      if (!waiting) onWait(owner);
      waiting = true;
      await sleep(200);
    } else if (Number.isSafeInteger(owner) && owner > 0) {
      rmSync(lock, { force: true }); // its process is gone
    } else {
      await sleep(50); // being written: read it again
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}
