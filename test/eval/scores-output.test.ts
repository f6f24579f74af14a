/**
 * Eval reads the class scores from the output that holds them: `logits`, else the first output shaped [batch] or
 * [batch, k] not named as hidden states or the pooler's output. A graph exported with outputs [last_hidden_state,
 * output_1] failed on the hidden states' shape, and one with [pooler_output, output_1] blamed config.json ('says 2
 * labels … gives 32 scores per example: fix config.json'); a graph none of whose outputs holds scores is one line
 * naming them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { scoresOutput } from '../../src/eval/graph-checks.ts';
import { scoresOutputName } from '../../src/eval/predict.ts';
import { renameValue } from '../../src/onnx/analysis.ts';
import { DataType } from '../../src/onnx/dtype.ts';
import { cloneModel, type Model } from '../../src/onnx/graph.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';

const work = mkdtempSync(join(tmpdir(), 'bc-eval-scores-output-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 6);

const base = tinyBert({}, { seed: 2 });
const s = findBert(base);
const hidden = { name: s.layers.at(-1)!.output, elemType: DataType.FLOAT, shape: ['batch', 'seq', s.hiddenSize] };
const pooled = { name: s.pooler!.dense.output, elemType: DataType.FLOAT, shape: ['batch', s.hiddenSize] };

/** `base` with its scores output renamed `scores` and `before` listed ahead of it (renamed as `names` says). */
function withOutputs(scores: string, before: (typeof hidden)[], names: Record<string, string> = {}): Model {
  const m = cloneModel(base);
  const logits = m.graph.outputs[0]!;
  renameValue(m.graph, logits.name, scores);
  for (const [from, to] of Object.entries(names)) renameValue(m.graph, from, to);
  m.graph.outputs = [...before.map((o) => ({ ...o, name: names[o.name] ?? o.name })), { ...logits, name: scores }];
  return m;
}

/** The SST-2 predictions and metrics of `model`. */
async function score(model: Model, label: string): Promise<unknown> {
  const r = await evaluate({ model: writeModelFolder(join(work, label), model), tasks: ['SST-2'], glueDir });
  const t = r.tasks[0]!;
  return { predictions: Array.from(t.predictions), metrics: t.metrics };
}

describe('the scores output eval reads', () => {
  it('is found behind hidden states or the pooler output, and scores as the model with logits alone', async () => {
    const expected = await score(base, 'alone');
    expect(expected).toMatchObject({ predictions: expect.arrayContaining([expect.any(Number)]) });
    const renames = { [hidden.name]: 'last_hidden_state', [pooled.name]: 'pooler_output' };
    expect(await score(withOutputs('output_1', [hidden], renames), 'hidden-first')).toEqual(expected);
    expect(await score(withOutputs('output_1', [pooled], renames), 'pooler-first')).toEqual(expected);
    expect(await score(withOutputs('logits', [hidden, pooled], renames), 'logits-last')).toEqual(expected);
  });

  it('is none where no output can hold scores (the evaluation says so in one line naming the outputs)', () => {
    const m = withOutputs('output_1', [hidden, pooled], { [hidden.name]: 'last_hidden_state', [pooled.name]: 'pooler_output' });
    expect(scoresOutput(m)).toMatchObject({ name: 'output_1', width: 2 });
    m.graph.outputs = m.graph.outputs.slice(0, 2);
    expect(scoresOutput(m).name).toBeNull();
    // a scores output whose name only starts like a pooler's is scores
    const pooledLogits = withOutputs('pooled_logits', [pooled], { [pooled.name]: 'pooler_output' });
    expect(scoresOutput(pooledLogits)).toMatchObject({ name: 'pooled_logits', width: 2 });
  });

  it('is the same output by names alone, for a session whose graph was not read', () => {
    const renames = { [hidden.name]: 'last_hidden_state', [pooled.name]: 'pooler_output' };
    for (const m of [
      base,
      withOutputs('output_1', [hidden], renames),
      withOutputs('output_1', [hidden, pooled], renames),
      withOutputs('logits', [hidden, pooled], renames),
      withOutputs('pooled_logits', [pooled], renames),
    ]) {
      expect(scoresOutputName({ outputNames: m.graph.outputs.map((o) => o.name) })).toBe(scoresOutput(m).name);
    }
    // no output named otherwise: the first, as before
    expect(scoresOutputName({ outputNames: ['last_hidden_state', 'pooler_output'] })).toBe('last_hidden_state');
  });
});
