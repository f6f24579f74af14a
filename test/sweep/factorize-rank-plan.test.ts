/**
 * A sweep's factorize-embeddings step whose rank the model's word embedding cannot take (at or above its width, or so
 * large that the two factors hold more values than the table): the plan refuses it in the pass's words before any
 * point runs (Pass.checkModel reads the table's dims), where --dry-run listed the point and it failed when it ran.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
