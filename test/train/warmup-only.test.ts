/**
 * A run of one optimizer step with a warmup takes that step at lr 0 (the first step of a linear warmup, as the
 * Trainer's schedule): its weights do not change, and the run says so, where it wrote the model it read as trained.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTraining } from '../../src/train/run.ts';
import { loadModel } from '../../src/onnx/load.ts';
import { readFloat32 } from '../../src/onnx/tensor.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

const work = mkdtempSync(join(tmpdir(), 'bert-compress-warmup-only-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const model = tinyBert();
const student = writeModelFolder(join(work, 'student'), model);
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);

async function run(name: string, warmupRatio: number): Promise<{ lines: string[]; moved: boolean }> {
  const lines: string[] = [];
  const output = join(work, name, 'model.onnx');
  await runTraining({
    task: 'SST-2',
    student,
    glueDir,
    output,
    settings: { epochs: 1, batchSize: 8, threads: 1, lr: 1e-2, warmupRatio, dropout: 0, evalEachEpoch: false },
    log: (l) => lines.push(l),
  });
  const classifier = (m: typeof model) => readFloat32(m.graph.initializers.get('classifier.weight')!);
  const moved = !classifier(loadModel(output)).every((v, i) => v === classifier(model)[i]);
  return { lines, moved };
}

describe('a run of one optimizer step', () => {
  it('with a warmup says that its step runs at lr 0 and leaves the weights as they were', async () => {
    const { lines, moved } = await run('warmup', 0.1);
    expect(moved).toBe(false);
    expect(lines).toContain(
      'note: 1 optimizer step, the first of a warmup (--warmup 0.1), runs at lr 0: the weights do not change; give more examples or epochs, a smaller --batch-size, or --warmup 0',
    );
  });

  it('without one trains and says nothing of it', async () => {
    const { lines, moved } = await run('no-warmup', 0);
    expect(moved).toBe(true);
    expect(lines.filter((l) => l.includes('lr 0'))).toEqual([]);
  });
});
