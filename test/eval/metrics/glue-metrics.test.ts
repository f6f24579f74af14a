import { describe, expect, it } from 'vitest';
import { computeTaskMetrics } from '../../../src/eval/metrics/index.ts';
import { COLA, MRPC, STSB, SST2 } from '../../../src/glue/tasks.ts';

describe('glue metric set per task', () => {
  it('computes only the metrics of the task, keyed as Hugging Face evaluate', () => {
    expect(Object.keys(computeTaskMetrics(COLA, [1, 0, 1], [1, 0, 0]))).toEqual(['matthews_correlation']);
    expect(Object.keys(computeTaskMetrics(SST2, [1, 0, 1], [1, 0, 0]))).toEqual(['accuracy']);
    expect(computeTaskMetrics(MRPC, [1, 1, 0, 0], [1, 0, 1, 0])).toEqual({ accuracy: 0.5, f1: 0.5 });
    const stsb = computeTaskMetrics(STSB, [1, 2, 3, 4], [1, 3, 2, 4]);
    expect(Object.keys(stsb)).toEqual(['pearson', 'spearmanr']);
    expect(stsb.pearson).toBeCloseTo(0.8, 15);
    expect(stsb.spearmanr).toBeCloseTo(0.8, 15);
  });
});
