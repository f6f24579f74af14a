/**
 * runPipeline's share-layers after prune-heads by ratio where no choice of the ratio's leaves the layers of each group
 * as many heads: refused before any pass runs (the check a sweep's plan makes), where the pruning, an ablation of
 * hours, ran first and share-layers refused its result; a ratio whose choices may leave them even runs.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { runPipeline, type SharedPrefix, shareAfterRatioWarning } from '../../src/pass/pipeline.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runMain } from '../helpers/cli.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
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

  it("gives a library caller the warning where only some choices leave the layers even, through the context's warn, before any pass runs", async () => {
    // (2 layers of 4 heads, 0.75: 2 heads left, even only as one a layer)
    const lines: string[] = [];
    const context = { log: (l: string) => lines.push(`log: ${l}`), warn: (l: string) => lines.push(`warn: ${l}`) };
    const two = tinyBert({}, { seed: 3 });
    const shared: SharedPrefix = { length: 1 };
    await runPipeline(two, steps(0.75), context, shared).catch(() => undefined);
    expect(lines[0]).toBe(`warn: ${shareAfterRatioWarning(two, steps(0.75))}`);
    expect(lines[1]).toBe('log: prune-heads: running');
    expect(lines.filter((l) => l.startsWith('warn: '))).toHaveLength(1);
    // (a run reusing its steps (a transformers.js folder's quantized model) does not say it again)
    expect(shared.result).toBeDefined();
    lines.length = 0;
    await runPipeline(two, steps(0.75), context, shared).catch(() => undefined);
    expect(lines[0]).toBe('log: reusing the first 1 step(s) of the previous run');
    expect(lines.filter((l) => l.startsWith('warn: '))).toEqual([]);
  });

  it('runs a ratio whose heads left can be spread evenly (6 of 9), sharing the layers', async () => {
    const r = await runPipeline(model, steps(0.34));
    expect(r.reports.map((x) => x.summary)).toHaveLength(2);
    expect(r.structure.layers.map((l) => l.attention?.numHeads)).toEqual([2, 2, 2]);
  });
});

describe('compress: share-layers after prune-heads by ratio, before its calibration data is read and any pass runs', () => {
  const work = mkdtempSync(join(tmpdir(), 'share-after-ratio-cli-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const folder = writeModelFolder(join(work, 'l3h3'), model);
  // (2 layers of 4 heads, 0.75: 2 heads left, even only as one a layer)
  const two = writeModelFolder(join(work, 'l2h4'), tinyBert({}, { seed: 3 }));
  const warning =
    'warning: step 2 (share-layers): prune-heads by ratio before it (step 1) chooses the heads it removes when it runs, and the run fails unless it leaves the layers of each group share-layers joins (layers 0-1) as many heads, as layers sharing weights must: share layers before pruning heads, or list the heads to prune';

  it('refuses a ratio no choice of which leaves the layers even, writing nothing, with --calibrate named too', async () => {
    const output = join(work, 'out-none', 'model.onnx');
    const r = await runMain([
      folder,
      '--prune-heads',
      '0.25',
      '--importance',
      'ablation',
      '--calibrate',
      'SST-2',
      '--glue-dir',
      join(work, 'no-glue'),
      '--share-layers',
      'all',
      '-o',
      output,
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^compress: share-layers: prune-heads by ratio before it \(step 1\) leaves 7 of the model's 9 heads/);
    expect(existsSync(join(work, 'out-none'))).toBe(false);
  });

  it('warns in one line where only some choices leave them even (the library: shareAfterRatioWarning)', async () => {
    const output = join(work, 'out-some', 'model.onnx');
    const r = await runMain([two, '--prune-heads', '0.75', '--share-layers', 'all', '-o', output]);
    expect(r.stderr.split('\n')[0]).toBe(warning);
    expect(r.stderr.split(warning)).toHaveLength(2); // (once)
    expect(shareAfterRatioWarning(tinyBert({}, { seed: 3 }), steps(0.75))).toBe(warning.slice('warning: '.length));
    // (nothing where every choice does: 0.5 of 2 layers of 4 heads keeping 2 in each leaves 2 in each)
    const forced = [
      { pass: 'prune-heads', settings: { ratio: 0.5, minHeadsPerLayer: 2 } },
      { pass: 'share-layers', settings: { share: 'all' } },
    ];
    expect(shareAfterRatioWarning(tinyBert({}, { seed: 3 }), forced)).toBeUndefined();
  });
});
