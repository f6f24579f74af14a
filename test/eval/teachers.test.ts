/**
 * The harness against independently computed results: the shared teachers' oracle.json dev metrics (BERT uncased
 * tokenization, truncation to config.json's max_length, Hugging Face `evaluate` metrics) and their dev logits.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluate, prepareTask } from '../../src/eval/evaluate.ts';
import { readModelConfig } from '../../src/eval/model-files.ts';
import { predictRows } from '../../src/eval/predict.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { getTask } from '../../src/glue/registry.ts';
import { openSession } from '../../src/runtime/session.ts';
import { GLUE_DIR, TEACHERS, hasGlue, hasTeachers } from '../helpers/paths.ts';

interface Oracle {
  task: string;
  metrics: Record<string, number>;
  max_len: number;
}

const teacher = (name: string) => join(TEACHERS, name);
const oracle = (name: string): Oracle => JSON.parse(readFileSync(join(teacher(name), 'oracle.json'), 'utf8'));
const devLogits = (name: string): number[][] => JSON.parse(readFileSync(join(teacher(name), 'dev_logits.json'), 'utf8'));

describe.skipIf(!hasGlue || !hasTeachers)('teachers reproduce oracle.json on dev (needs ../shared/glue and ../shared/teachers)', () => {
  it('sst2-L4H256: SST-2 dev accuracy within 0.002 of the oracle, at config.json max_length', async () => {
    const expected = oracle('sst2-L4H256');
    const result = await evaluate({ model: teacher('sst2-L4H256'), tasks: ['SST-2'], glueDir: GLUE_DIR });
    expect(result.maxLength).toBe(expected.max_len);
    const sst2 = result.tasks[0]!;
    expect(sst2.examples).toBe(872);
    expect(Math.abs(sst2.metrics.accuracy! - expected.metrics.accuracy!)).toBeLessThanOrEqual(0.002);
  });

  it('stsb-L4H256: STS-B dev Pearson and Spearman within 0.002 of the oracle', async () => {
    const expected = oracle('stsb-L4H256');
    const result = await evaluate({ model: teacher('stsb-L4H256'), tasks: ['sts-b'], glueDir: GLUE_DIR });
    expect(result.maxLength).toBe(expected.max_len);
    const stsb = result.tasks[0]!;
    expect(stsb.examples).toBe(1500);
    expect(Math.abs(stsb.metrics.pearson! - expected.metrics.pearson!)).toBeLessThanOrEqual(0.002);
    expect(Math.abs(stsb.metrics.spearmanr! - expected.metrics.spearmanr!)).toBeLessThanOrEqual(0.002);
  });

  it('sst2-L4H256: every dev logit matches dev_logits.json (file order restored after bucketing)', async () => {
    const dir = teacher('sst2-L4H256');
    const config = readModelConfig(dir);
    const prepared = prepareTask(getTask('SST-2'), 'dev', GLUE_DIR, loadTokenizer(dir), config.maxLength!);
    const session = await openSession(join(dir, 'model.onnx'));
    try {
      const rows = await predictRows(session, prepared.encodings, { batchSize: 64, padId: prepared.padId });
      const reference = devLogits('sst2-L4H256');
      expect(rows.count).toBe(reference.length);
      let maxDiff = 0;
      reference.forEach((row, i) => row.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - rows.values[i * rows.width + j]!)))));
      expect(maxDiff).toBeLessThan(1e-3);
    } finally {
      await session.release();
    }
  });
});
