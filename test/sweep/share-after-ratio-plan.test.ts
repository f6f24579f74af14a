/**
 * A sweep's share-layers after prune-heads by ratio, which chooses the heads it removes when it runs: the plan refuses
 * it where no choice leaves the layers of each group as many heads (the point fails whatever the scores), warns where
 * the point fails unless the scores choose so, and says nothing where every choice does.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { planRefusal, writeTinyPlanFolder } from './plan-refusal.ts';
import { compressFile } from '../../src/export/compress.ts';
import { loadModel } from '../../src/onnx/load.ts';
import { shareAfterRatioWarning } from '../../src/pass/pipeline.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { parseSweep } from '../../src/sweep/spec.ts';

let root: string;
beforeAll(() => {
  // (tiny: 2 layers of 4 heads; tiny3: 3 layers of 3 heads)
  root = writeTinyPlanFolder('share-after-ratio-');
  writeModelFolder(join(root, 'models', 'tiny3'), tinyBert({ numLayers: 3, hiddenSize: 24, numHeads: 3, intermediateSize: 40 }));
  writeModelFolder(join(root, 'models', 'tiny4'), tinyBert({ numLayers: 4, hiddenSize: 24, numHeads: 3, intermediateSize: 40 }));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ratio = (settings: Record<string, unknown>, share = 'all') => [
  { pass: 'prune-heads', settings: { importance: 'magnitude', ...settings } },
  { pass: 'share-layers', settings: { share } },
];

/** The warning lines planSweep logs for one pipeline of `steps` on model folder `model` (it plans). */
async function warnings(model: string, steps: unknown[]): Promise<string[]> {
  const spec = parseSweep(
    { name: 'w', models: [{ path: `models/${model}`, tasks: ['SST-2'] }], calibration: false, pipelines: [{ name: 'p', steps }] },
    join(root, 'w.yaml'),
    'w.yaml',
  );
  const lines: string[] = [];
  await planSweep(spec, { glueDir: join(root, 'glue'), workDir: join(root, 'work'), log: (l) => lines.push(l) });
  return lines.filter((l) => l.startsWith('warning:'));
}

describe('share-layers after prune-heads by ratio', () => {
  it('is refused where the heads the ratio leaves cannot be spread evenly over the layers sharing, where the point fails', async () => {
    // (9 heads, 2 removed: 7 left, which 3 layers sharing one copy cannot have alike)
    const steps = ratio({ ratio: 0.25 });
    expect(await planRefusal(root, 'h', ['tiny3'], 'p', steps)).toBe(
      `${join(root, 'h.yaml')}: pipeline 'p' on model 'tiny3', step 2 (share-layers): share-layers: prune-heads by ratio before it (step 1) leaves 7 of the model's 9 heads (those of layers sharing their attention weights counted once), which cannot be spread so that the layers of each group share-layers joins (layers 0-2) have as many heads, as layers sharing weights must: choose a ratio that can, share layers before pruning heads, or list the heads to prune`,
    );
    const input = join(root, 'models', 'tiny3', 'model.onnx');
    // (compress itself, before any pass runs, in the same words: runPipeline's check)
    await expect(compressFile({ input, output: join(root, 'out', 'uneven', 'model.onnx'), steps })).rejects.toThrow(
      /^share-layers: prune-heads by ratio before it \(step 1\) leaves 7 of the model's 9 heads/,
    );
    expect(existsSync(join(root, 'out', 'uneven'))).toBe(false);
    // (through a step that keeps the heads, alike)
    const ffn = [steps[0]!, { pass: 'prune-ffn', settings: { ratio: 0.5 } }, steps[1]!];
    expect(await planRefusal(root, 'h', ['tiny3'], 'p', ffn)).toMatch(
      /step 3 \(share-layers\): share-layers: prune-heads by ratio before it \(step 1\) leaves 7 of/,
    );
  });

  it('plans with a warning where the point fails unless the scores leave the layers as many heads', async () => {
    // (8 heads, 6 removed: 1 and 1 left, or 2 and 0, which share-layers refuses)
    const steps = ratio({ ratio: 0.75 });
    expect(await warnings('tiny', steps)).toEqual([
      `warning: w.yaml: pipeline 'p' on model 'tiny', step 2 (share-layers): prune-heads by ratio before it (step 1) chooses the heads it removes when it runs, and the point fails unless it leaves the layers of each group share-layers joins (layers 0-1) as many heads, as layers sharing weights must: share layers before pruning heads, or list the heads to prune`,
    ]);
    // (the plan cannot tell the heads after drop-layers, which drops heads it cannot tell of: a warning, not a refusal)
    const dropped = [
      { pass: 'prune-heads', settings: { ratio: 0.25 } },
      { pass: 'drop-layers', settings: { layers: [2] } },
      { pass: 'share-layers', settings: {} },
    ];
    expect(await planRefusal(root, 'h', ['tiny3'], 'p', dropped)).toBeUndefined();
    expect(await warnings('tiny3', dropped)).toHaveLength(1);
  });

  it('says nothing where every choice leaves the layers as many heads, and the point runs', async () => {
    // (8 heads, 4 removed, 2 kept in each layer at least: 2 and 2)
    const even = ratio({ ratio: 0.5, minHeadsPerLayer: 2 });
    expect(await warnings('tiny', even)).toEqual([]);
    const input = join(root, 'models', 'tiny', 'model.onnx');
    await compressFile({ input, output: join(root, 'out', 'even', 'model.onnx'), steps: even });
    // (groups of one layer each share nothing across layers)
    expect(await warnings('tiny', ratio({ ratio: 0.25 }, 'groups:2'))).toEqual([]);
  });
});

// (where compress followed the heads through the passes that keep every layer and its heads alone: a drop-layers step
// between prune-heads by ratio and share-layers, one before the ratio, or a second ratio, and compress said nothing
// where the plan warned or refused)
describe('compress and the plan follow the model alike', () => {
  const ratioStep = (r: number) => ({ pass: 'prune-heads', settings: { ratio: r, importance: 'magnitude' } });
  const drop = { pass: 'drop-layers', settings: { layers: [3] } };
  const share = { pass: 'share-layers', settings: { share: 'all' } };
  it.each([
    ['drop-layers between', [ratioStep(0.25), drop, share], 'warns'],
    ['drop-layers before the ratio, no even choice', [drop, ratioStep(0.25), share], 'refuses'],
    ['drop-layers before the ratio, some even choices', [drop, ratioStep(0.34), share], 'warns'],
    ['a second ratio', [ratioStep(0.25), ratioStep(0.25), share], 'warns'],
  ])('%s: the plan and compress (shareAfterRatioWarning) say the same', async (_, steps, says) => {
    const model = loadModel(join(root, 'models', 'tiny4', 'model.onnx'));
    const asked = () => shareAfterRatioWarning(model, steps);
    if (says === 'refuses') {
      const planned = await planRefusal(root, 'h', ['tiny4'], 'p', steps);
      expect(() => asked()).toThrow(planned!.replace(/^.*step 3 \(share-layers\): /, ''));
    } else {
      const warned = await warnings('tiny4', steps);
      expect(warned).toHaveLength(1);
      // (compress's warning names the step as the plan's does: the plan's line is the file, the pipeline and the model, then compress's)
      expect(warned[0]).toBe(`warning: w.yaml: pipeline 'p' on model 'tiny4', ${asked()!.replace('the run fails', 'the point fails')}`);
      expect(asked()!.startsWith('step 3 (share-layers): ')).toBe(true);
    }
  });
});
