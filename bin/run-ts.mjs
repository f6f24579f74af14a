#!/usr/bin/env node
// Runs a TypeScript entry file (benchmarks, scripts) through tsx: `node bin/run-ts.mjs FILE [ARGS...]`.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { settleTsxCache } from './tsx-cache.mjs';

settleTsxCache(); // before tsx loads (a TMPDIR tsx cannot cache in: without its cache)
(await import('tsx/esm/api')).register();
const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bin/run-ts.mjs FILE [ARGS...]');
  process.exit(2);
}
process.argv = [process.argv[0], resolve(file), ...rest];
await import(pathToFileURL(resolve(file)).href);
