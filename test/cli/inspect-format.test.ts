/** `compress inspect`'s summary line: sizes that differ between layers are shown as their range. */
import { describe, expect, it } from 'vitest';
import { inspectModel } from '../../src/bert/inspect.ts';
import { formatInspect } from '../../src/cli/commands/inspect.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { tinyBert } from '../helpers/models.ts';

describe('inspect summary', () => {
  it('one count when the layers agree, the range when heads were pruned unevenly', async () => {
    registerAllPasses();
    const model = tinyBert();
    expect(formatInspect(inspectModel(model, 'tiny'))).toMatch(/^ {2}2 layers × 4 heads, hidden 32, FFN 64,/m);
    const pruned = (await runPipeline(model, [{ pass: 'prune-heads', settings: { heads: { 0: [0, 1, 2] } } }])).model;
    expect(formatInspect(inspectModel(pruned, 'pruned'))).toMatch(/^ {2}2 layers × 1–4 heads, hidden 32, FFN 64,/m);
  });
});
