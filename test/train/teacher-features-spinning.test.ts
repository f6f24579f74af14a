/**
 * The intermediate-KD teacher's session takes turns with the training graph's, one run each step: it is opened with
 * intra-op threads that do not spin-wait after a run (which would take a core from the training graph's threads).
 */
import { describe, expect, it, vi } from 'vitest';
import { presetMatches } from '../../src/train/intermediate.ts';
import { intermediatePlan, TeacherFeatures } from '../../src/train/teacher-features.ts';
import { scratchStudent, teacherShape } from '../../src/train/students/index.ts';
import { tinyBert } from '../helpers/models.ts';
import { lcg } from '../helpers/feeds.ts';
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

describe('the intermediate-KD teacher session', () => {
  it('opens without spin-waiting threads, and computes the features', async () => {
    const teacher = tinyBert({ numLayers: 2, hiddenSize: 32, numHeads: 4, intermediateSize: 64, vocabSize: 60, maxPositions: 16 });
    const student = scratchStudent(teacherShape(teacher), 'bert:layers=1,hidden=16,heads=2,intermediate=32', 1);
    const plan = intermediatePlan(presetMatches('tinybert', 2, 1), teacher, student.forward(false));
    const features = await TeacherFeatures.open(teacher, plan.requests, 2);
    try {
      expect(opened.map((o) => o?.spinning)).toEqual([false]);
      expect(opened[0]?.threads).toBe(2);
      const r = lcg(3);
      const got = await features.run({
        size: 2,
        seq: 5,
        inputIds: BigInt64Array.from({ length: 10 }, () => BigInt(1 + Math.floor(r() * 59))),
        attentionMask: new BigInt64Array(10).fill(1n),
        tokenTypeIds: new BigInt64Array(10),
        labels: new Float32Array(2),
        indices: Int32Array.from([0, 1]),
      });
      expect(Object.keys(got).sort()).toEqual(plan.requests.map((q) => q.input).sort());
    } finally {
      await features.release();
    }
  });
});
