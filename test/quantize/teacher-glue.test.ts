/**
 * The bar for int8: per-channel weights with int8 embeddings lose at most 1 GLUE point on each shared
 * teacher (dev split, the teacher's own task), measured by the evaluation harness on the full dev set.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadModel, encodeModel, modelSize } from '../../src/onnx/index.ts';
import { findBert } from '../../src/bert/discover.ts';
import { quantizePass } from '../../src/quantize/index.ts';
import { evaluate } from '../../src/eval/index.ts';
import { GLUE_DIR, TEACHERS, hasGlue, hasTeachers } from '../helpers/paths.ts';

const CASES = [
  { dir: 'sst2-L4H256', task: 'SST-2' },
  { dir: 'stsb-L4H256', task: 'STS-B' },
];

describe.skipIf(!hasTeachers || !hasGlue)('int8 per-channel with embeddings on the shared teachers (needs ../shared/teachers and ../shared/glue)', () => {
  for (const c of CASES) {
    it(`${c.task}: at most 1 point lost, at most 30% of the bytes`, async () => {
      const dir = join(TEACHERS, c.dir);
      const model = loadModel(join(dir, 'model.onnx'));
      const s = findBert(model);
      const q = await quantizePass.run(model, s, quantizePass.parse({ mode: 'int8', perChannel: true, embeddings: true }), {});
      expect(modelSize(q.model).bytes).toBeLessThanOrEqual(0.3 * modelSize(model).bytes);
      const score = async (bytes: Uint8Array) => {
        const r = await evaluate({ model: bytes, tasks: [c.task], glueDir: GLUE_DIR, tokenizer: dir, modelConfig: dir });
        const m = Object.values(r.tasks[0].metrics as Record<string, number>);
        return (100 * m.reduce((a, b) => a + b, 0)) / m.length;
      };
      const [before, after] = [await score(encodeModel(model)), await score(encodeModel(q.model))];
      expect(before - after).toBeLessThanOrEqual(1);
    });
  }
});
