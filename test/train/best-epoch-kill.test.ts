/**
 * A run killed between writing a new best epoch's parameters (`best/`) and the checkpoint of that epoch's end, then
 * resumed, writes the parameters of the epoch its lineage names the best. The kill is made deterministic by a stubbed
 * checkpoint writer that throws, as if the process died there, before the write it is armed for. A tiny STS-B run
 * (lr 3e-3, seed 3) whose epoch 2 scores above epoch 1; the resumed run's replay of epoch 2 stands in for one at other
 * --threads that scores otherwise: its dev labels are reversed (5 − score), which negates Pearson and Spearman, so
 * the replayed epoch 2 no longer beats epoch 1.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { evaluate } from '../../src/eval/evaluate.ts';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import type { Checkpoint } from '../../src/train/checkpoint.ts';

/** The write to throw before, once: `best` (a best epoch's parameters) or `epoch` (an epoch-end checkpoint), of epoch 2. */
const kill = vi.hoisted(() => ({ at: undefined as 'best' | 'epoch' | undefined }));
vi.mock('../../src/train/checkpoint.ts', async (original) => {
  const m = await original<typeof import('../../src/train/checkpoint.ts')>();
  const { basename } = await import('node:path');
  return {
    ...m,
    saveCheckpoint: (dir: string, c: Checkpoint, opts?: Parameters<typeof m.saveCheckpoint>[2]) => {
      const best = basename(dir) === 'best';
      const endOfEpoch2 = ((c.extra as { epochs?: unknown[] } | undefined)?.epochs?.length ?? 0) === 2;
      if ((kill.at === 'best' && best && c.epoch === 2) || (kill.at === 'epoch' && !best && endOfEpoch2)) {
        kill.at = undefined;
        throw new Error('killed');
      }
      return m.saveCheckpoint(dir, c, opts);
    },
  };
});

const work = mkdtempSync(join(tmpdir(), 'best-epoch-kill-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const model = writeModelFolder(join(work, 'model'), tinyBert({ numLabels: 1 }), { regression: true });
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'STS-B', 16, ['train', 'dev']);
const dev = join(glueDir, 'STS-B', 'dev.tsv');
const devText = readFileSync(dev, 'utf8');

const job = (name: string) => ({
  task: 'STS-B',
  student: join(model, 'model.onnx'),
  glueDir,
  cacheDir: join(work, 'cache'),
  output: join(work, name, 'model.onnx'),
  settings: { epochs: 3, batchSize: 4, threads: 1, evalEachEpoch: true, seed: 3, lr: 3e-3 },
  log: () => {},
});

/** dev.tsv with each score s written as 5 − s. */
function reversedDev(): string {
  const [header, ...rows] = devText.trimEnd().split('\n');
  return `${[header, ...rows.map((r) => r.replace(/[^\t]+$/, (s) => (5 - Number(s)).toFixed(3)))].join('\n')}\n`;
}

describe('a run killed around a new best epoch, resumed', () => {
  it('killed after best/ would be written, before the epoch checkpoint: the model written is the best epoch its lineage names', async () => {
    const reference = await runTraining(job('reference'));
    const scores = reference.lineage!.epochs.map((e) => e.score!);
    // (the case: epoch 2 beats epoch 1, and neither replayed epoch beats epoch 1 on the reversed labels)
    expect(reference.lineage!.bestEpoch).toBe(2);
    expect(-scores[1]!).toBeLessThan(scores[0]!);
    expect(-scores[2]!).toBeLessThan(scores[0]!);

    kill.at = 'epoch';
    await expect(runTraining(job('killed'))).rejects.toThrow('killed');
    expect(kill.at).toBeUndefined();
    writeFileSync(dev, reversedDev());
    let resumed: Awaited<ReturnType<typeof runTraining>>;
    try {
      resumed = await runTraining(job('killed'));
    } finally {
      writeFileSync(dev, devText);
    }
    expect(resumed.lineage!.bestEpoch).toBe(1);
    const written = await evaluate({ model: join(work, 'killed', 'model.onnx'), tasks: ['STS-B'], glueDir, threads: 1 });
    expect(written.tasks[0]!.metrics).toEqual(reference.lineage!.epochs[0]!.metrics);
  });

  it("killed after the epoch checkpoint that names a new best epoch, before best/: the rerun writes that epoch's parameters", async () => {
    const reference = await runTraining(job('reference-2'));
    expect(reference.lineage!.bestEpoch).toBe(2);
    kill.at = 'best';
    await expect(runTraining(job('killed-2'))).rejects.toThrow('killed');
    expect(kill.at).toBeUndefined();
    const resumed = await runTraining(job('killed-2'));
    expect(resumed.lineage!.bestEpoch).toBe(2);
    expect(resumed.lineage!.epochs).toEqual(reference.lineage!.epochs.map((e) => ({ ...e, seconds: expect.any(Number) })));
    const written = await evaluate({ model: join(work, 'killed-2', 'model.onnx'), tasks: ['STS-B'], glueDir, threads: 1 });
    expect(written.tasks[0]!.metrics).toEqual(reference.lineage!.epochs[1]!.metrics);
  });
});
