/** A synthetic SST-2 training set for teacher tests: one example of each length in `lengths`, ids in 1..100. */
import { getTask } from '../../src/glue/index.ts';
import type { TrainingSet } from '../../src/train/data.ts';

export function syntheticSst2Set(lengths: readonly number[], sha256: string): TrainingSet {
  return {
    task: getTask('SST-2'),
    split: 'train',
    file: 'synthetic',
    regression: false,
    numLabels: 2,
    labelMapping: { outputToLabel: [0, 1], from: 'canonical' },
    maxLength: 16,
    padId: 0,
    examples: lengths.map((n, k) => ({
      ids: Int32Array.from({ length: n }, (_, t) => 1 + ((t * 7 + k * 13) % 100)),
      typeIds: new Int32Array(n),
      label: k % 2,
    })),
    sourceRows: Int32Array.from(lengths, (_, k) => k),
    sha256,
  };
}
