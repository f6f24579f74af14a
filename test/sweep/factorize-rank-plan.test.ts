/**
 * A sweep's factorize-embeddings step whose rank the model's word embedding cannot take (at or above its width, or so
 * large that the two factors hold more values than the table): the plan refuses it in the pass's words before any
 * point runs (Pass.checkModel reads the table's dims), where --dry-run listed the point and it failed when it ran.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBert } from '../../src/bert/build.ts';
import { configFromHuggingFace } from '../../src/bert/config.ts';
import { compressFile } from '../../src/export/compress.ts';
import { FAMILY_JSONS } from '../helpers/family-folders.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { planRefusal, writeTinyPlanFolder } from './plan-refusal.ts';

let root: string;
beforeAll(() => {
  // (the tiny model's word embedding: 128 × 32)
  root = writeTinyPlanFolder('factorize-rank-plan-');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const factorize = (rank: number) => planRefusal(root, 'f', ['tiny'], 'p', [{ pass: 'factorize-embeddings', settings: { rank } }]);

describe("a sweep's plan checks factorize-embeddings' rank against the model's word embedding", () => {
  it('refuses a rank at or above the hidden size, as the point would', async () => {
    expect(await factorize(32)).toBe(
      `${join(root, 'f.yaml')}: pipeline 'p' on model 'tiny', step 1 (factorize-embeddings): factorize-embeddings: rank 32 is at or above hidden 32: the rank must be below the embedding width to shrink the table`,
    );
    expect(await factorize(1000)).toMatch(/step 1 \(factorize-embeddings\): factorize-embeddings: rank 1000 is at or above hidden 32:/);
  });

  it('refuses a rank whose factors would hold more values than the table', async () => {
    expect(await factorize(31)).toMatch(
      /step 1 \(factorize-embeddings\): factorize-embeddings: rank 31 would make the embedding larger \(128×31 \+ 31×32 = 4,960 values against 128×32 = 4,096\); the rank must be at most 25 for this table$/,
    );
  });

  it('plans a rank that shrinks the table', async () => {
    expect(await factorize(25)).toBeUndefined();
    expect(await factorize(4)).toBeUndefined();
  });
});

describe("a sweep's plan knows embeddings mapped to the encoder's width (ELECTRA, ALBERT) after steps it does not follow", () => {
  it('refuses factorize-embeddings after them in the words compress refuses it with', async () => {
    // (ELECTRA's 16-wide embeddings mapped to the hidden 32)
    const config = configFromHuggingFace(FAMILY_JSONS['electra E<H']!);
    writeModelFolder(join(root, 'models', 'electra'), buildBert(config, { kind: 'random', seed: 3 }));
    const factorize = { pass: 'factorize-embeddings', settings: { rank: 8 } };
    for (const steps of [
      [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }, factorize],
      [{ pass: 'prune-heads', settings: { heads: '0:1' } }, { pass: 'optimize', settings: { rewrites: 'all' } }, factorize],
    ]) {
      const words = await compressFile({
        input: join(root, 'models', 'electra', 'model.onnx'),
        output: join(root, 'out', `${steps.length}`, 'model.onnx'),
        steps,
      }).then(
        () => undefined,
        (e: Error) => e.message,
      );
      expect(words).toMatch(/^factorize-embeddings: the embeddings are already factorized \(16-wide tables and LayerNorm mapped to the hidden width 32/);
      expect(await planRefusal(root, 'f', ['electra'], 'p', steps)).toBe(
        `${join(root, 'f.yaml')}: pipeline 'p' on model 'electra', step ${steps.length} (factorize-embeddings): ${words}`,
      );
    }
  });
});
