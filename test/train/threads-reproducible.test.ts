/**
 * `compress distill` writes the same model, byte for byte, run after run and at 1 or 2 onnxruntime intra-op threads
 * (the default on a 2-core machine, and a sweep's share under --jobs 2): a rerun of a sweep or a results script there
 * gives the scores of the first run. At 4 threads or more the bytes differ: onnxruntime's MatMul gives the pooler's
 * [32 × 256]·[256 × 256] other rounding once a thread's share is 64 columns or fewer (test/runtime/matmul-threads.test.ts
 * pins the rule); the first thread count that does so depends on the widths and the batch (a 128-wide student's step
 * at batch 32 × 64: the same bits at 1-6, 8, 12 and 16 threads; on a batch of 1 × 32 tokens: other bits at 2).
 * Before the embedding tables' gradients were summed in TypeScript (150194df), onnxruntime's ScatterND-add lost updates
 * of repeated ids with 2 threads now and then, and two runs of the same command differed.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256FileSync } from '../../src/files.ts';
import { GLUE_DIR, TEACHERS, hasGlue } from '../helpers/paths.ts';

const BIN = resolve(__dirname, '../../bin/compress.mjs');
const TEACHER = join(TEACHERS, 'sst2-L2H256');
const haveShared = hasGlue && existsSync(join(TEACHER, 'model.onnx'));

const work = mkdtempSync(join(tmpdir(), 'bert-compress-threads-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A 1 × 256 student (the same bytes at 1 to 3 threads, other bytes from 4 on: the pooler, above), 128 examples at batch
 * 32 × length 64: 4 steps, dropout on, warmup 0. */
async function distill(output: string, threads: number): Promise<string> {
  await promisify(execFile)(
    process.execPath,
    [
      BIN,
      'distill',
      '--teacher',
      TEACHER,
      '--student',
      'bert:layers=1,hidden=256,heads=4,intermediate=512',
      '--task',
      'SST-2',
      '-o',
      output,
      '--max-examples',
      '128',
      '--max-length',
      '64',
      '--epochs',
      '1',
      '--warmup',
      '0',
      '--lr',
      '1e-3',
      '--threads',
      String(threads),
      '--glue-dir',
      GLUE_DIR,
      '--cache-dir',
      join(work, 'cache'),
    ],
    { timeout: 120_000 },
  );
  return sha256FileSync(output);
}

describe.runIf(haveShared)('distill (needs ../shared)', () => {
  it('two runs write the same bytes, at 1 and at 2 onnxruntime threads', { timeout: 300_000 }, async () => {
    const one = await distill(join(work, 'a', 'model.onnx'), 1);
    const two = await distill(join(work, 'b', 'model.onnx'), 2);
    expect(two).toBe(one);
  });
});
