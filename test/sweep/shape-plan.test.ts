/**
 * A sweep's step whose settings the model cannot take for its depth or heads, after a step the plan does not follow
 * (prune-ffn, prune-heads, share-layers, quantize…: the model as read is gone, its depth and heads are still known):
 * the plan refuses it in the pass's words (Pass.checkShape), as the point refuses it when it runs, where --dry-run
 * listed the point and it failed at every point.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRefusal, writeTinyPlanFolder } from './plan-refusal.ts';
import { compressFile } from '../../src/export/compress.ts';
import { namingSettings } from '../../src/flag-names.ts';
import { refusingStep } from '../../src/pass/option-names.ts';
import { passStepNames } from '../../src/sweep/setting-names.ts';
import { buildBert } from '../../src/bert/build.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBertConfig } from '../helpers/models.ts';

let root: string;
beforeAll(() => {
  // (2 layers of 4 heads)
  root = writeTinyPlanFolder('shape-plan-');
  // (the tiny BERT but for its layer 1's FFN, 48 neurons wide)
  const layers = [
    { numHeads: 4, intermediateSize: 64 },
    { numHeads: 4, intermediateSize: 48 },
  ];
  writeModelFolder(join(root, 'models', 'uneven'), buildBert({ ...tinyBertConfig(), layers }, { kind: 'random', seed: 1 }));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Step = { pass: string; settings: Record<string, unknown> };
const step = (pass: string, settings: Record<string, unknown> = {}): Step => ({ pass, settings });
const ffn = step('prune-ffn', { ratio: 0.5 });
const heads = (list: string) => step('prune-heads', { heads: list });
const share = (groups: string) => step('share-layers', { share: groups });
// (64 FFN neurons of 64 leave 48)
const ffn25 = step('prune-ffn', { ratio: 0.25 });
const group = (size: number) => step('quantize', { mode: `int8-group:${size}` });

/** What a point of `steps` on the model says (compress's refusal in the file's words), and the plan's line for them. */
async function refusals(steps: Step[], model = 'tiny'): Promise<{ point: string; plan: string | undefined }> {
  const output = join(root, 'out', `${Math.random().toString(36).slice(2)}`, 'model.onnx');
  const point = await namingSettings(
    (e) => passStepNames(steps, refusingStep(e)),
    () => compressFile({ input: join(root, 'models', model, 'model.onnx'), output, steps }),
  ).then(
    () => 'ran',
    (e: Error) => e.message,
  );
  return { point, plan: await planRefusal(root, 's', [model], 'p', steps) };
}

// (factorize-embeddings' refusal of the tiny BERT's word embedding factorized to rank 8)
const FACTORIZED =
  "factorize-embeddings: the word embedding is already factorized ('bert.embeddings.word_embeddings.weight_factor_a' then the projection 'bert.embeddings.word_embeddings.weight_factor_b', rank 8); factorize the unfactorized model to the rank you want instead";

const at = (i: number, pass: string, model = 'tiny') => `${join(root, 's.yaml')}: pipeline 'p' on model '${model}', step ${i} (${pass}): `;

describe("a sweep's plan checks a step's layers and heads after a step it does not follow", () => {
  it.each([
    [
      'drop-layers of a layer the model lacks, after prune-ffn',
      [ffn, step('drop-layers', { layers: '5' })],
      2,
      'drop-layers: layer 5 does not exist: the model has layers 0-1',
    ],
    [
      'share-layers in more groups than its layers, after prune-ffn',
      [ffn, share('groups:3')],
      2,
      "share-layers: share 'groups:3': 3 groups are more than the model's 2 layers (step 2's settings.share)",
    ],
    ['prune-heads of a layer it lacks, after prune-ffn', [ffn, heads('5:0')], 2, 'prune-heads: layer 5 does not exist: the model has layers 0-1'],
    ['prune-heads of a head it lacks, after prune-ffn', [ffn, heads('0:9')], 2, 'prune-heads: layer 0 has heads 0-3; cannot remove head 9'],
    [
      'prune-heads of a head an earlier prune-heads left it without',
      [heads('0:0'), heads('0:5')],
      2,
      'prune-heads: layer 0 has heads 0-2; cannot remove head 5',
    ],
    ['prune-heads of a head a layer left with one lacks', [heads('0:0,1,2'), heads('0:1')], 2, 'prune-heads: layer 0 has 1 head (0); cannot remove head 1'],
    [
      'prune-heads of a layer an earlier prune-heads left without attention',
      [heads('1:0,1,2,3'), heads('1:0')],
      2,
      'prune-heads: layer 1 has no attention heads left (all were pruned); cannot remove head 0',
    ],
    [
      'prune-heads of a layer an earlier prune-heads left without attention, with every other head of the model',
      [heads('0:0,1,2,3;1:0,1,2,3'), heads('0:0')],
      2,
      'prune-heads: layer 0 has no attention heads left (all were pruned); cannot remove head 0',
    ],
    [
      'share-layers of layers with other heads, after prune-heads',
      [heads('1:1'), share('all')],
      2,
      'share-layers: layers 0 and 1 cannot share weights: layer 0 has 4 attention heads and layer 1 has 3 (pruned differently); layers of a group must have the same shapes (choose groups that keep them apart, or prune heads alike)',
    ],
    [
      'share-layers of layers with and without attention, after prune-heads',
      [heads('0:0,1,2,3'), share('all')],
      2,
      'share-layers: group 0 mixes layer 0 without attention (every head pruned) and layer 1 with attention; layers of a group must have the same structure (choose groups that keep them apart, or prune heads alike)',
    ],
    [
      'prune-heads listing heads of one layer of two that share-layers made share their weights',
      [share('all'), heads('0:1')],
      2,
      'prune-heads: layers 0, 1 share their weights: list the same heads for each of them (layer 0: [1], layer 1: []), as shared layers are pruned alike; only layers that a share-layers step shares (not those of an ALBERT, shared as read) can be pruned apart, before that step',
    ],
    [
      'prune-heads listing heads of one layer of two sharing their weights, after prune-ffn',
      [share('all'), ffn, heads('1:2')],
      3,
      'prune-heads: layers 0, 1 share their weights: list the same heads for each of them (layer 0: [], layer 1: [2]), as shared layers are pruned alike; only layers that a share-layers step shares (not those of an ALBERT, shared as read) can be pruned apart, before that step',
    ],
    [
      'prune-heads listing heads of one layer of two sharing their weights, after optimize fused their attention',
      [share('all'), step('optimize', { rewrites: 'attention' }), heads('0:0')],
      3,
      'prune-heads: layers 0, 1 share their weights: list the same heads for each of them (layer 0: [0], layer 1: []), as shared layers are pruned alike; only layers that a share-layers step shares (not those of an ALBERT, shared as read) can be pruned apart, before that step',
    ],
    [
      'drop-layers of a layer an earlier drop-layers removed, after quantize',
      [step('drop-layers', { layers: '1' }), step('quantize', { mode: 'int8' }), step('drop-layers', { layers: '1' })],
      3,
      'drop-layers: layer 1 does not exist: the model has layer 0',
    ],
    [
      'int8-group of a size that does not divide the FFN prune-ffn left',
      [ffn25, group(32)],
      2,
      'quantize int8-group:32: the group size 32 does not divide the 48 outputs of layer0.ffn.in (the largest group size below it that divides every projection here: 16)',
    ],
    [
      'int8-group of a size that does not divide the Q, K and V of the heads prune-heads left',
      [heads('1:0'), group(32)],
      2,
      'quantize int8-group:32: the group size 32 does not divide the 24 outputs of layer1.attention.q (the largest group size below it that divides every projection here: 8)',
    ],
    [
      "int8-group of a size that does not divide a fused Attention's packed Q, K and V after prune-heads",
      [step('optimize', { rewrites: 'attention' }), heads('0:1'), group(16)],
      3,
      'quantize int8-group:16: the group size 16 does not divide the 72 outputs of layer0.attention.qkv (the largest group size below it that divides every projection here: 8)',
    ],
    [
      'int8-group of a size that does not divide the encoder width, after a layer left without attention',
      [heads('0:0,1,2,3;1:0,1,2,3'), group(64)],
      2,
      'quantize int8-group:64: the group size 64 does not divide the 32 outputs of layer0.ffn.out (the largest group size below it that divides every projection here: 32)',
    ],
    [
      'int8-group of a size that does not divide the encoder width, after optimize (its fusion of Q, K and V not followed)',
      [step('prune-ffn', { ratio: 0.9 }), step('optimize', { rewrites: 'attention' }), group(6)],
      3,
      'quantize int8-group:6: the group size 6 does not divide the 32 outputs of layer0.attention.output (the largest group size below it that divides every projection here: 2)',
    ],
    [
      'factorize-embeddings to a rank at or above the word embedding width, after prune-ffn',
      [ffn, step('factorize-embeddings', { rank: 100 })],
      2,
      'factorize-embeddings: rank 100 is at or above hidden 32: the rank must be below the embedding width to shrink the table',
    ],
    [
      'factorize-embeddings to a rank that would grow the word embedding, after prune-heads',
      [heads('0:1'), step('factorize-embeddings', { rank: 30 })],
      2,
      'factorize-embeddings: rank 30 would make the embedding larger (128×30 + 30×32 = 4,800 values against 128×32 = 4,096); the rank must be at most 25 for this table',
    ],
    [
      'factorize-embeddings of a word embedding factorize-embeddings factorized, right after it',
      [step('factorize-embeddings', { rank: 8 }), step('factorize-embeddings', { rank: 4 })],
      2,
      FACTORIZED,
    ],
    [
      'factorize-embeddings of a word embedding factorize-embeddings factorized, after prune-ffn',
      [step('factorize-embeddings', { rank: 8 }), ffn, step('factorize-embeddings', { rank: 4 })],
      3,
      FACTORIZED,
    ],
    [
      'factorize-embeddings to a rank at or above the width, after quantize float16',
      [step('quantize', { mode: 'float16' }), ffn, step('factorize-embeddings', { rank: 100 })],
      3,
      'factorize-embeddings: rank 100 is at or above hidden 32: the rank must be below the embedding width to shrink the table',
    ],
    [
      'factorize-embeddings of a factorized word embedding, after quantize with its tables float',
      [step('factorize-embeddings', { rank: 8 }), step('quantize', { mode: 'int8', embeddings: false }), step('factorize-embeddings', { rank: 4 })],
      3,
      FACTORIZED,
    ],
    [
      'int8-group of a size that does not divide the FFN prune-ffn left, after quantize int4-block with its tables float',
      [ffn25, step('quantize', { mode: 'int4-block:16', embeddings: false }), group(32)],
      3,
      'quantize int8-group:32: the group size 32 does not divide the 48 outputs of layer0.ffn.in (the largest group size below it that divides every projection here: 16)',
    ],
    [
      // (the point's optimize fuses Q, K and V, 96 outputs, which 64 does not divide either: both name the attention
      // output, whose width the fusion leaves as it is)
      'int8-group of a size that divides neither the encoder width nor the packed Q, K and V, after [prune-ffn, optimize]',
      [ffn, step('optimize', { rewrites: 'attention' }), group(64)],
      3,
      'quantize int8-group:64: the group size 64 does not divide the 32 outputs of layer0.attention.output (the largest group size below it that divides every projection here: 32)',
    ],
    [
      // (an optimize without its attention rewrite leaves Q, K and V unfused: layer 0's Q keeps 2 heads of 8)
      'int8-group of a size that does not divide the Q that prune-heads left, after optimize without the attention rewrite',
      [heads('0:0,1'), step('optimize', { rewrites: 'default' }), group(32)],
      3,
      'quantize int8-group:32: the group size 32 does not divide the 16 outputs of layer0.attention.q (the largest group size below it that divides every projection here: 16)',
    ],
  ] as const)('refuses %s, as the point does', async (_, steps, i, why) => {
    const { point, plan } = await refusals([...steps]);
    expect(point).toContain(why);
    expect(plan).toBe(`${at(i, steps[i - 1]!.pass)}${why}`);
  });

  it('refuses int8-group of a size that does not divide the FFN prune-ffn left after prune-heads by ratio (heads not known), naming a projection sure to refuse', async () => {
    // (the point names the first it refuses for whose width does not hang on fusion, layer 0's attention output: 32 outputs; the plan, which
    // does not know the heads, the FFN's 32; Q, K and V are a multiple of the head size, 8, which 4 divides)
    const { point, plan } = await refusals([step('prune-heads', { ratio: 0.5 }), ffn, group(6)]);
    expect(point).toMatch(/^quantize int8-group:6: the group size 6 does not divide the 32 outputs of layer0\.attention\.output /);
    expect(plan).toBe(
      `${at(3, 'quantize')}quantize int8-group:6: the group size 6 does not divide the 32 outputs of layer0.ffn.in (the largest group size below it that divides every projection here: 4)`,
    );
  });

  it('refuses share-layers of layers whose FFN widths differ, after prune-ffn, as the point does', async () => {
    const why =
      'share-layers: layers 0 and 1 cannot share weights: layer 0 has 32 FFN neurons and layer 1 has 24 (pruned differently); layers of a group must have the same shapes (choose groups that keep them apart, or prune FFN neurons alike)';
    const { point, plan } = await refusals([ffn, share('all')], 'uneven');
    expect(point).toContain(why);
    expect(plan).toBe(`${at(2, 'share-layers', 'uneven')}${why}`);
  });

  // (a train step rebuilds the model it trains keeping layers that share every weight matrix shared, and its widths:
  // the point refuses after one what compress refuses before)
  const train = step('train', { epochs: 1, maxExamples: 4 });
  it.each([
    [
      'prune-heads listing heads of one layer of two that share-layers made share their weights, after a train step',
      [share('all'), train, heads('0:1')],
      'prune-heads: layers 0, 1 share their weights: list the same heads for each of them (layer 0: [1], layer 1: []), as shared layers are pruned alike; only layers that a share-layers step shares (not those of an ALBERT, shared as read) can be pruned apart, before that step',
    ],
    [
      'int8-group of a size that does not divide the FFN prune-ffn left, after a train step',
      [ffn25, train, group(32)],
      'quantize int8-group:32: the group size 32 does not divide the 48 outputs of layer0.ffn.in (the largest group size below it that divides every projection here: 16)',
    ],
  ] as const)('refuses %s', async (_, steps, why) => {
    expect(await planRefusal(root, 's', ['tiny'], 'p', [...steps])).toBe(`${at(steps.length, steps.at(-1)!.pass)}${why}`);
  });

  it('plans prune-heads listing the same heads of layers sharing their weights, after a train step', async () => {
    expect(await planRefusal(root, 's', ['tiny'], 'p', [share('all'), train, heads('0:1;1:1'), group(8)])).toBeUndefined();
  });

  it.each([
    ['drop-layers after prune-ffn', [ffn, step('drop-layers', { layers: '1' })]],
    ['share-layers after prune-ffn', [ffn, share('all')]],
    ['prune-heads after prune-ffn', [ffn, heads('1:3')]],
    ['prune-heads after prune-heads', [heads('0:0'), heads('0:2')]],
    ['share-layers of layers pruned alike', [heads('0:1;1:1'), share('all')]],
    ['share-layers in groups of one layer', [heads('0:0,1,2,3'), share('groups:2')]],
    ['prune-heads of layers sharing their weights alike', [share('all'), ffn, heads('0:2;1:2')]],
    ['prune-heads of layers sharing their weights alike, after optimize', [share('all'), step('optimize', {}), heads('0:0;1:0')]],
    ['prune-heads of one layer left of two sharing their weights', [share('all'), step('drop-layers', { layers: '0' }), heads('0:2')]],
    ['share-layers of layers left without attention', [heads('0:0,1,2,3;1:0,1,2,3'), share('all'), ffn]],
    ['drop-layers after quantize', [step('quantize', { mode: 'int8' }), step('drop-layers', { keep: '1' })]],
    ['int8-group of a size that divides every projection left', [ffn25, heads('1:0,1'), group(16)]],
    ['int8-group of a size that divides every width known, after prune-heads by ratio', [step('prune-heads', { ratio: 0.5 }), ffn25, group(8)]],
    ['int8-group of a size that divides every width known, after optimize', [ffn25, step('optimize', {}), group(16)]],
    ['factorize-embeddings to a rank that shrinks the word embedding, after prune-ffn', [ffn, step('factorize-embeddings', { rank: 25 })]],
  ])('plans %s where the model has those layers and heads', async (_, steps) => {
    expect(await refusals(steps)).toEqual({ point: 'ran', plan: undefined });
  });
});
