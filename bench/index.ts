/**
 * `npm run bench [-- NAME ...]`: runs the benchmarks one after another, each in its own process (so one's memory
 * does not count against the next). Every benchmark measures its baseline in the same run and prints ratios.
 *
 *   npm run bench                       # all of them (about 15 minutes on 2 cores)
 *   npm run bench -- quantize eval      # only those whose name contains one of the words
 *   npm run bench -- train --rounds 15  # flags (from the first --flag on) go to each chosen benchmark that reads them
 *
 * A word that names no benchmark, or a flag none of the chosen ones reads (bench/suites.ts lists them), is refused in
 * one line with exit code 2 before any runs.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { flagProblem, flagsOf, splitBenchArgs } from './args.ts';
import { BENCHMARKS, type FlagKind } from './suites.ts';

const { names: words, flags } = splitBenchArgs(process.argv.slice(2));
const refuse = (line: string): never => {
  console.error(line);
  process.exit(2);
};
const known = `known: ${BENCHMARKS.map((b) => b.name).join(', ')}`;
/** Per word, the benchmarks whose name contains it. */
const matches = words.map((w) => BENCHMARKS.filter((b) => b.name.includes(w)));
// Every word must choose a benchmark: a misspelt one beside a right one ran the right one alone.
const unmatched = words.filter((_, i) => matches[i]!.length === 0);
if (unmatched.length) refuse(`no benchmark matches ${unmatched.join(' ')}; ${known}`);
const chosen = words.length ? BENCHMARKS.filter((b) => matches.some((m) => m.includes(b))) : BENCHMARKS;
// The flags are checked against those of the chosen benchmarks together, before any runs; each gets its own.
const union: Record<string, FlagKind> = Object.assign({}, ...chosen.map((b) => b.flags));
const problem = flagProblem(flags, union, chosen.length === 1 ? chosen[0]!.name : `${chosen.map((b) => b.name).join(', ')} together`);
if (problem !== undefined) refuse(problem);
/** The flags `b` reads that npm run bench does not already give it (factorize-share's --run). */
const ownFlags = (b: (typeof BENCHMARKS)[number]) => Object.fromEntries(Object.entries(b.flags).filter(([f]) => !b.args?.includes(f)));
let failed = 0;
for (const b of chosen) {
  console.log(`\n=== ${b.name}: ${b.what}`);
  const r = spawnSync(process.execPath, [resolve('bin/run-ts.mjs'), resolve('bench', b.file), ...(b.args ?? []), ...flagsOf(flags, union, ownFlags(b))], {
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    failed++;
    console.log(`=== ${b.name} exited with ${r.status ?? r.signal}`);
  }
}
process.exit(failed ? 1 : 0);
