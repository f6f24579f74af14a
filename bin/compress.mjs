#!/usr/bin/env node
// The `compress` command. The installed package runs the compiled CLI in dist/ (no TypeScript at run time). A
// checkout, where src/ sits beside bin/, runs the sources through tsx (a dev dependency), so an edit is never
// shadowed by an older build. `--version` alone is answered from package.json before anything else is loaded.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * Whether tsx can keep its cache of compiled sources where it puts it, TMPDIR/tsx-<uid>: there already, or made
 * there now. Where it cannot (TMPDIR a file, missing, read-only, or /proc, under which tsx's recursive mkdir never
 * returns), the caller turns tsx's cache off (TSX_DISABLE_CACHE, which the tsx children of sweeps and bench inherit):
 * each start compiles again, slower, but runs.
 */
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

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const sources = new URL('../src/cli/index.ts', import.meta.url);
  const checkout = existsSync(sources);
  if (checkout) {
    if (!process.env.TSX_DISABLE_CACHE && !tsxCacheUsable()) process.env.TSX_DISABLE_CACHE = '1';
    (await import('tsx/esm/api')).register();
  }
  const { main } = await import(checkout ? sources.href : '../dist/cli/index.js');
  process.exitCode = await main(argv);
}
