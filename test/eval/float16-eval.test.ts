/**
 * `compress eval` on a float16 model (a BERT converted with onnxconverter-common for transformers.js or a GPU): its
 * float16 logits are read as numbers (it was refused: "model output 'logits' is float16; expected float32 scores"),
 * its int64 id inputs fed as a float32 model's, and it scores as its float32 original does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/eval/evaluate.ts';
import { toFloat16 } from '../helpers/float16.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

const root = mkdtempSync(join(tmpdir(), 'bc-f16-eval-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('evaluate on a float16 model', () => {
  it('reads its float16 logits and scores as the float32 model does', async () => {
    const glueDir = join(root, 'glue');
    writeGlueTask(glueDir, 'SST-2', 24);
    const model32 = tinyBert({}, { seed: 3, std: 0.3 });
    const dir32 = writeModelFolder(join(root, 'fp32'), model32);
    const dir16 = writeModelFolder(join(root, 'fp16'), toFloat16(model32));
    const t32 = (await evaluate({ model: dir32, tasks: ['SST-2'], glueDir, threads: 1 })).tasks[0]!;
    const t16 = (await evaluate({ model: dir16, tasks: ['SST-2'], glueDir, threads: 1 })).tasks[0]!;
    expect(new Set(t32.predictions)).toEqual(new Set([0, 1])); // both classes predicted: the scores mean something
    const differ = Array.from(t32.predictions).filter((p, i) => p !== t16.predictions[i]).length;
    expect(differ).toBeLessThanOrEqual(1);
    expect(Math.abs(t16.metrics.accuracy! - t32.metrics.accuracy!)).toBeLessThanOrEqual(1 / 24 + 1e-9);
  });
});
