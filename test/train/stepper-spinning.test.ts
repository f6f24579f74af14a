/**
 * The training graph's session takes turns with the optimizer's update (and an intermediate-KD teacher's run) each
 * step: its intra-op threads spin-wait between the graph's operators only, stopping as each run returns.
 */
import { describe, expect, it, vi } from 'vitest';
import { createStepper, DEFAULT_TRAIN_SETTINGS } from '../../src/train/trainer.ts';
import { scratchStudent, teacherShape } from '../../src/train/students/index.ts';
import { tinyBert } from '../helpers/models.ts';
import type { ModelSessionOptions } from '../../src/runtime/model-session.ts';

const opened = vi.hoisted(() => [] as Array<ModelSessionOptions | undefined>);
vi.mock('../../src/runtime/model-session.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/runtime/model-session.ts')>();
  return {
    ...original,
    openModelSession: (...args: Parameters<typeof original.openModelSession>) => {
      opened.push(args[1]);
      return original.openModelSession(...args);
    },
  };
});

describe('the training session', () => {
  it('spin-waits during runs only, and steps', async () => {
    const teacher = tinyBert({ numLayers: 1, hiddenSize: 16, numHeads: 2, intermediateSize: 32, vocabSize: 40, maxPositions: 16 });
    const student = scratchStudent(teacherShape(teacher), 'bert:layers=1,hidden=16,heads=2,intermediate=32', 1);
    const stepper = await createStepper({ student, loss: [{ kind: 'hard-ce', weight: 1 }], settings: { ...DEFAULT_TRAIN_SETTINGS, threads: 2 } });
    try {
      // (the last session createStepper opens: the shape probe's comes before it)
      expect(opened.at(-1)?.spinning).toBe('during runs');
      const loss = await stepper.step(
        {
          size: 2,
          seq: 4,
          inputIds: BigInt64Array.from([1n, 5n, 7n, 2n, 1n, 9n, 3n, 2n]),
          attentionMask: new BigInt64Array(8).fill(1n),
          tokenTypeIds: new BigInt64Array(8),
          labels: Float32Array.from([0, 1]),
          indices: Int32Array.from([0, 1]),
        },
        0,
        1e-3,
      );
      expect(Number.isFinite(loss)).toBe(true);
    } finally {
      await stepper.release();
    }
  });
});
