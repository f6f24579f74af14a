/**
 * A graph step on a sweep model that discovery refuses (not a BERT-family encoder, and not a Distilled BiLSTM) fails
 * at its point with discovery's line, each run again, where the plan knew it: the plan refuses it before any point
 * runs, in that line after the file, the pipeline, the model and the step.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tableClassifier } from '../helpers/models.ts';
import { planRefusal } from './plan-refusal.ts';
import { NotBertError } from '../../src/errors.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { registerAllPasses } from '../../src/passes.ts';

/** A bag-of-embeddings classifier (the mean of its ids' rows, one product): it runs, and has no encoder to find. */
const bag = tableClassifier(128);

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'not-bert-plan-'));
  writeModelFolder(join(root, 'models', 'bag'), bag);
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
  registerAllPasses();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("a sweep's plan on a model discovery refuses", () => {
  it("refuses its graph steps in the point's own line", async () => {
    const steps = [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }];
    const point = await runPipeline(bag, steps).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(point).toBeInstanceOf(NotBertError);
    expect(point!.message).toMatch(/not a BERT-family encoder/);
    expect(await planRefusal(root, 'b', ['bag'], 'p', steps, NotBertError)).toBe(
      `${join(root, 'b.yaml')}: pipeline 'p' on model 'bag', step 1 (prune-ffn): ${point!.message}`,
    );
    expect(await planRefusal(root, 'b', ['bag'], 'p', [{ pass: 'quantize', settings: { mode: 'int8' } }], NotBertError)).toMatch(
      /step 1 \(quantize\): .*not a BERT-family encoder$/,
    );
  });
});
