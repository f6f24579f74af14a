/**
 * How trustworthy `compress bench`'s speed-up is: an A/A comparison (the teacher against itself, where the true
 * ratio is 1.00) shows the noise floor, and an A/B comparison against the teacher with every other layer dropped
 * (half the encoder: a true ratio a little under 2 since embeddings and head stay) shows it finds a real difference.
 *
 *   node bin/run-ts.mjs bench/interleaved-speedup.ts [--model DIR] [--threads 1] [--repeats 30] [--rounds 3]
 *
 * Each round is one `benchModels` call (interleaved A,B,A,B… after warm-up); the spread over rounds is printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchModels, describeMachine } from '../src/bench/index.ts';
import { compressFile } from '../src/export/compress.ts';
import { locateModel } from '../src/onnx/locate.ts';
import { registerAllPasses } from '../src/passes.ts';
import { arg as flagArg, checkFlags, wholeArg } from './args.ts';

const argv = process.argv.slice(2);
checkFlags('interleaved-speedup', argv);
const model = locateModel(resolve(flagArg('--model', '../shared/teachers/sst2-L4H256', argv))).onnx;
const threads = wholeArg('--threads', 1, 0, argv);
const repeats = wholeArg('--repeats', 30, 1, argv);
const rounds = wholeArg('--rounds', 3, 1, argv);

registerAllPasses();
const dir = mkdtempSync(join(tmpdir(), 'bench-speedup-'));
try {
  const half = join(dir, 'half.onnx');
  await compressFile({ input: model, output: half, steps: [{ pass: 'drop-layers', settings: { keep: 'every-other' } }] });
  for (const [name, candidate] of [
    ['A/A: teacher vs itself (true ratio 1.00)', model],
    ['A/B: every other layer dropped vs teacher', half],
  ] as const) {
    const ratios: string[] = [];
    let machine = '';
    for (let r = 0; r < rounds; r++) {
      const res = await benchModels({ model: candidate, baseline: model, batches: [1, 8], seqs: [64], threads, repeats, warmup: 3 });
      machine = describeMachine(res.machine);
      ratios.push(res.shapes.map((s) => `b${s.batch} ×${s.speedup!.toFixed(3)}`).join(' ') + `  (geo ×${res.speedup!.toFixed(3)})`);
    }
    console.log(`${name}\n  ${ratios.join('\n  ')}`);
    if (name.startsWith('A/A')) console.log(`  machine: ${machine}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
