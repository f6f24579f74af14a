/**
 * runPipeline's share-layers after prune-heads by ratio where no choice of the ratio's leaves the layers of each group
 * as many heads: refused before any pass runs (the check a sweep's plan makes), where the pruning, an ablation of
 * hours, ran first and share-layers refused its result; a ratio whose choices may leave them even runs.
 */
import { describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();
// (3 layers of 3 heads)
const model = tinyBert({ numLayers: 3, hiddenSize: 24, numHeads: 3, intermediateSize: 40 });
const steps = (ratio: number, between: Array<{ pass: string; settings: Record<string, unknown> }> = []) => [
  { pass: 'prune-heads', settings: { ratio, importance: 'magnitude' } },
  ...between,
  { pass: 'share-layers', settings: { share: 'all' } },
];

describe('runPipeline: share-layers after prune-heads by ratio', () => {
  it('refuses, before any pass runs, a ratio whose heads left cannot be spread evenly (7 of 9 over 3 layers)', async () => {
    for (const between of [[], [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }]]) {
      const log: string[] = [];
      await expect(runPipeline(model, steps(0.25, between), { log: (l) => log.push(l) })).rejects.toThrow(
        new SettingsError(
          "share-layers: prune-heads by ratio before it (step 1) leaves 7 of the model's 9 heads (those of layers sharing their attention weights counted once), which cannot be spread so that the layers of each group share-layers joins (layers 0-2) have as many heads, as layers sharing weights must: choose a ratio that can, share layers before pruning heads, or list the heads to prune",
        ),
      );
      expect(log).toEqual([]);
    }
  });

  it('runs a ratio whose heads left can be spread evenly (6 of 9), sharing the layers', async () => {
    const r = await runPipeline(model, steps(0.34));
    expect(r.reports.map((x) => x.summary)).toHaveLength(2);
    expect(r.structure.layers.map((l) => l.attention?.numHeads)).toEqual([2, 2, 2]);
  });
});
