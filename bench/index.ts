/**
 * `npm run bench [-- NAME ...]`: runs the benchmarks one after another, each in its own process (so one's memory
 * does not count against the next). Every benchmark measures its baseline in the same run and prints ratios.
 *
 *   npm run bench                       # all of them (about 15 minutes on 2 cores)
 *   npm run bench -- quantize eval      # only those whose name contains one of the words
 *   npm run bench -- train --rounds 15  # flags (from the first --flag on) go to each chosen benchmark
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { splitBenchArgs } from './args.ts';

const BENCHMARKS: ReadonlyArray<{ name: string; file: string; args?: string[]; what: string }> = [
  { name: 'load-save', file: 'build-load-save.ts', what: 'load + save of a built BERT-base: < 10 s, peak memory < 2.5x the file' },
  { name: 'eval-throughput', file: 'eval-throughput.ts', what: 'GLUE harness throughput / direct onnxruntime calls: >= 0.90' },
  { name: 'quantize', file: 'quantize.ts', what: 'int8/int4/mixed on the teachers: size, GLUE change, speed-up vs fp32' },
  {
    name: 'int8-formulations',
    file: 'int8-formulations.ts',
    what: 'int8 forms on BERT-base vs onnxruntime quantize_dynamic (default >= 1.0x at <= 62% bytes; --optimize faster still), CPU flags, teacher accuracy',
  },
  { name: 'factorize-share', file: 'factorize-share.ts', args: ['--run'], what: 'factorize / share on BERT-base: < 30 s per pass' },
  {
    name: 'prune-importance',
    file: 'prune-importance.ts',
    what: 'heads pruned by importance (in steps) vs random at 30/50/70%, 4 SST-2 models of 4 shapes, dev accuracy',
  },
  { name: 'passes-speed', file: 'passes-speed.ts', what: 'speed of each pass output against its input, same run' },
  { name: 'interleaved-speedup', file: 'interleaved-speedup.ts', what: 'bench speed-up: A/A about 1.00, half the layers about 1.9x' },
  { name: 'passes-base', file: 'passes-base.ts', what: 'every pass on a built BERT-base: < 30 s each' },
  { name: 'train', file: 'train.ts', what: 'training step / forward pass of the same model (aim <= 4), peak RSS training 4x256 (aim < 2 GB)' },
  { name: 'queue', file: 'queue.ts', what: 'distributed sweep (Redis, BullMQ): N points run by 1, 2 and 3 local workers, throughput ratio' },
  { name: 'startup', file: 'startup.ts', what: 'compress --version, whole process (aim <= 0.3 s); --help compiled vs through tsx' },
];

const { names: words, flags } = splitBenchArgs(process.argv.slice(2));
const chosen = words.length ? BENCHMARKS.filter((b) => words.some((w) => b.name.includes(w))) : BENCHMARKS;
if (!chosen.length) {
  console.error(`no benchmark matches ${words.join(' ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const b of chosen) {
  console.log(`\n=== ${b.name}: ${b.what}`);
  const r = spawnSync(process.execPath, [resolve('bin/run-ts.mjs'), resolve('bench', b.file), ...(b.args ?? []), ...flags], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`=== ${b.name} exited with ${r.status ?? r.signal}`);
  }
}
process.exit(failed ? 1 : 0);
