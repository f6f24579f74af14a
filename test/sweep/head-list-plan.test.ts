/**
 * A sweep's prune-heads step whose list of heads the model cannot take (a layer it lacks, a head a layer lacks, lists
 * that differ between layers sharing their weights), or whose ratio rounds to every head: the plan refuses it in the pass's words before any point runs
 * (Pass.checkModel reads the structure), where --dry-run listed the point and it failed when it ran.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { planRefusal } from './plan-refusal.ts';
import { compressFile } from '../../src/export/compress.ts';
import { registerAllPasses } from '../../src/passes.ts';

let root: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'head-list-plan-'));
  // (2 layers of 4 heads; `shared`: the same, its layers reading one set of weights)
  writeModelFolder(join(root, 'models', 'tiny'), tinyBert());
  writeModelFolder(join(root, 'models', 'one-head'), tinyBert({ numHeads: 1, hiddenSize: 16 }));
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
  registerAllPasses();
  const input = join(root, 'models', 'tiny', 'model.onnx');
  await compressFile({ input, output: join(root, 'models', 'shared', 'model.onnx'), steps: [{ pass: 'share-layers', settings: { share: 'all' } }] });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const prune = (model: string, heads: string) => planRefusal(root, 'h', [model], 'p', [{ pass: 'prune-heads', settings: { heads } }]);
const at = (model: string) => `${join(root, 'h.yaml')}: pipeline 'p' on model '${model}', step 1 (prune-heads): `;

describe("a sweep's plan checks prune-heads' list of heads against the model", () => {
  it('refuses a layer the model lacks and a head a layer lacks, as the point would', async () => {
    expect(await prune('tiny', '5:0')).toBe(`${at('tiny')}prune-heads: layer 5 does not exist: the model has layers 0-1`);
    expect(await prune('tiny', '0:9')).toBe(`${at('tiny')}prune-heads: layer 0 has heads 0-3; cannot remove head 9`);
    expect(await prune('tiny', '0:1;1:9')).toBe(`${at('tiny')}prune-heads: layer 1 has heads 0-3; cannot remove head 9`);
  });

  it('refuses a list after prune-heads by ratio, whose heads the plan cannot tell, where the point fails on a head it chose to remove', async () => {
    const steps = [
      { pass: 'prune-heads', settings: { ratio: 0.5 } },
      { pass: 'drop-layers', settings: { keep: '1' } },
      { pass: 'prune-heads', settings: { heads: '0:2,3' } },
    ];
    expect(await planRefusal(root, 'h', ['tiny'], 'p', steps)).toBe(
      `${join(root, 'h.yaml')}: pipeline 'p' on model 'tiny', step 3 (prune-heads): prune-heads: it lists heads of layer 0 (2, 3) after prune-heads by ratio, which chooses the heads it removes when it runs and numbers those it keeps anew, so the plan cannot tell which heads layer 0 has there (at most 4): list the heads before pruning by ratio, or prune by ratio alone`,
    );
    const input = join(root, 'models', 'tiny', 'model.onnx');
    await expect(compressFile({ input, output: join(root, 'out', 'ratio-list', 'model.onnx'), steps })).rejects.toThrow(/^prune-heads: layer 0 has /);
  });

  it('refuses lists that differ between layers sharing their weights', async () => {
    expect(await prune('shared', '0:1')).toMatch(/^.*step 1 \(prune-heads\): prune-heads: /);
    // (after a step the plan does not follow, their sharing followed from the model as read)
    const after = [
      { pass: 'prune-ffn', settings: { ratio: 0.5 } },
      { pass: 'prune-heads', settings: { heads: '0:1' } },
    ];
    expect(await planRefusal(root, 'h', ['shared'], 'p', after)).toBe(
      `${join(root, 'h.yaml')}: pipeline 'p' on model 'shared', step 2 (prune-heads): prune-heads: layers 0, 1 share their weights: list the same heads for each of them (layer 0: [1], layer 1: []), as shared layers are pruned alike; only layers that a share-layers step shares (not those of an ALBERT, shared as read) can be pruned apart, before that step`,
    );
  });

  it('refuses a ratio that rounds to every head of the model, as the point would', async () => {
    const ratio = (r: number) => planRefusal(root, 'h', ['one-head'], 'p', [{ pass: 'prune-heads', settings: { ratio: r } }]);
    expect(await ratio(0.8)).toBe(
      `${at('one-head')}prune-heads: ratio 0.8 rounds to every head of the model (2 of 2), leaving no attention in any layer, where a ratio (below 1) keeps some: give one below 0.75, or list the heads to remove them all`,
    );
    expect(await ratio(0.5)).toBeUndefined();
  });

  it('plans the lists the model takes', async () => {
    expect(await prune('tiny', '0:0,1,2;1:3')).toBeUndefined();
    expect(await prune('shared', '0:1;1:1')).toBeUndefined();
  });
});
