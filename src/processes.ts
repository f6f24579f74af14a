/**
 * Processes: whether one is still running (for locks and claims that hold a pid), and how to fork a child that runs
 * one of the project's own entry modules.
 */
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
