// For a checkout, where the bins run TypeScript through tsx: tsx keeps its cache of compiled sources in
// TMPDIR/tsx-<uid>. Where that folder cannot be used (TMPDIR a file, missing, read-only, or /proc, under which tsx's
// recursive mkdir never returns), tsx's cache is turned off (TSX_DISABLE_CACHE, which the tsx children of sweeps and
// bench inherit): each start compiles again, slower, but runs. Not shipped: the installed package runs dist/.
import { mkdirSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** Whether tsx's cache folder is there already, or made now (one level only). */
function tsxCacheUsable() {
  const dir = join(tmpdir(), `tsx-${process.geteuid ? process.geteuid() : userInfo().username}`);
  try {
    if (statSync(dir).isDirectory()) return true;
  } catch {
    // not there (or TMPDIR is not a folder): made below, one level only
  }
  try {
    mkdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

/** Call before tsx is loaded. */
export function settleTsxCache() {
  if (!process.env.TSX_DISABLE_CACHE && !tsxCacheUsable()) process.env.TSX_DISABLE_CACHE = '1';
}
