#!/usr/bin/env node
// The `compress` command. The installed package runs the compiled CLI in dist/ (no TypeScript at run time). A
// checkout, where src/ sits beside bin/, runs the sources through tsx (a dev dependency), so an edit is never
// shadowed by an older build. `--version` alone is answered from package.json before anything else is loaded.
import { existsSync, readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const sources = new URL('../src/cli/index.ts', import.meta.url);
  const checkout = existsSync(sources);
  if (checkout) {
    (await import('./tsx-cache.mjs')).settleTsxCache(); // (a TMPDIR tsx cannot cache in: without its cache)
    (await import('tsx/esm/api')).register();
  }
  const { main, endsOnReturn } = await import(checkout ? sources.href : '../dist/cli/index.js');
  process.exitCode = await main(argv);
  // (a command whose libraries leave timers behind once its work is done, BullMQ's and ioredis's with Redis out of
  // reach: the process ends once its output is written, not seconds after its last line)
  if (endsOnReturn()) process.stderr.write('', () => process.stdout.write('', () => process.exit()));
}
