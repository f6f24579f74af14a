/**
 * `--format transformers.js` of a model whose config.json's `architectures` names another head (BertForMultipleChoice,
 * whose graph looks like a one-label classifier, its scores [batch, choices]) is refused before anything is written:
 * the folder's config.json would name it BertForSequenceClassification, as a seeded head's is. A stale class name
 * beside a graph that shows a sequence classifier by itself is not read.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { writeHeadFolder, writePretrainingFolder } from '../helpers/model-folder.ts';
import { hasFixtures } from '../helpers/paths.ts';

registerAllPasses();
const work = mkdtempSync(join(tmpdir(), 'bc-tjs-architectures-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A one-label model folder (scores declared `scores`) whose config.json names `architectures`. */
function folder(name: string, architectures: string[], scores: Array<string | number>): string {
  return writeHeadFolder(join(work, name), architectures, scores, { problemType: false });
}

describe('--format transformers.js of a model whose config.json names another head', () => {
  it('BertForMultipleChoice with scores [batch, choices]: refused in one line, no folder written', async () => {
    const dir = folder('choice', ['BertForMultipleChoice'], ['batch', 'num_choices']);
    const output = join(work, 'out-choice');
    const run = compressToTransformersJs({ input: join(dir, 'model.onnx'), output, steps: [] });
    await expect(run).rejects.toThrow(
      new SettingsError(
        `--format transformers.js: ${join(dir, 'config.json')}: architectures names BertForMultipleChoice, a multiple-choice head (one score per choice), not a sequence classifier; the folder's config.json would name it one, and transformers.js read its scores as a sequence classifier's`,
      ),
    );
    expect(existsSync(output)).toBe(false);
  });

  it('a stale BertForMaskedLM beside a graph that shows a sequence classifier: written, naming the classifier', async () => {
    const dir = folder('stale', ['BertForMaskedLM'], ['batch', 1]);
    const output = join(work, 'out-stale');
    await compressToTransformersJs({ input: join(dir, 'model.onnx'), output, steps: [] });
    expect(JSON.parse(readFileSync(join(output, 'config.json'), 'utf8')).architectures).toEqual(['BertForSequenceClassification']);
  });
});

describe('--format transformers.js of a graph that shows another head', () => {
  it.skipIf(!hasFixtures)(
    'a pretraining head (MLM + NSP, the shared toy checkpoint): refused naming it, where it said its MLM scores were not [batch, labels] (needs ../shared/fixtures/onnx)',
    async () => {
      const input = join(writePretrainingFolder(join(work, 'pretraining')), 'model.onnx');
      for (const [steps, output] of [
        [[], join(work, 'out-pretraining')],
        [[{ pass: 'drop-layers', settings: { layers: '0' } }], join(work, 'out-pretraining-dropped')],
      ] as const) {
        await expect(compressToTransformersJs({ input, output, steps: [...steps] })).rejects.toThrow(
          new SettingsError(
            `--format transformers.js: ${input}: the model has a pretraining head (MLM + NSP), not a sequence classifier; the folder's config.json would name it one, and transformers.js read its scores as a sequence classifier's`,
          ),
        );
        expect(existsSync(output)).toBe(false);
      }
    },
  );
});
