/**
 * The output of `distill --stage general` from a teacher without a classifier is encoder-only (BertModel's
 * `last_hidden_state` and `pooler_output`). Listed as a model of a sweep, every point would fail (eval has no class
 * scores to read; bench finds nothing comparable), so the sweep refuses it before any point runs (and before a store
 * is created), in one line saying where it goes: the `student` of a distill step, whose task stage gives it a
 * classifier. That way works: the point trains it, evaluates and benchmarks it. The hint for a general-stage setting
 * in a sweep step gives the same advice.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { saveModel } from '../../src/onnx/index.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { encoderOnly } from '../../src/train/students/classifier.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

let t: TinySweep;
let general: string;
beforeAll(() => {
  t = writeTinySweep({ rows: 16 });
  general = join(t.root, 'models', 'general');
  mkdirSync(general, { recursive: true });
  saveModel(encoderOnly(tinyBert({ numLayers: 1 }, { seed: 9 })), join(general, 'model.onnx'));
  writeFileSync(join(general, 'config.json'), JSON.stringify({ model_type: 'bert', architectures: ['BertModel'], max_length: 16 }));
  // the tiny sweep's vocabulary, as general distillation copies the teacher's tokenizer beside its student
  writeFileSync(join(general, 'vocab.txt'), readVocab());
});
afterAll(() => t?.cleanup());

const readVocab = () => readFileSync(join(t.root, 'models', 'tiny-sst2', 'vocab.txt'));

const ADVICE =
  'the student of a distill step that starts a pipeline, {pass: distill, settings: {student: DIR, …}} (the task stage gives it a classifier; see examples/tinybert-sst2.yaml)';

function writeSweep(name: string, body: string): string {
  const file = join(t.root, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}
glueDir: glue
${body}
bench: {batch: [1], seq: [8], repeats: 2, warmup: 1, threads: 1}
eval: {threads: 1}
`,
  );
  return file;
}

describe('an encoder-only model in a sweep', () => {
  it('listed as a model: refused in one line before any point runs, and no store is created', async () => {
    const file = writeSweep(
      'listed',
      `models:
  - {path: models/tiny-sst2, tasks: [SST-2]}
  - {path: models/general, tasks: [SST-2]}
pipelines:
  - baseline
  - name: ffn
    steps: [{pass: prune-ffn, settings: {ratio: 0.5}}]`,
    );
    const line = `${file}: models[1] 'general' is encoder-only (outputs last_hidden_state, pooler_output; no classifier): a sweep's model needs a classifier (every point evaluates it); give it as ${ADVICE}`;
    const store = join(t.root, 'listed.sqlite');
    const events: string[] = [];
    const run = runSweep({ file, store, onEvent: (e) => events.push(e.type) });
    await expect(run).rejects.toThrow(SettingsError);
    await expect(runSweep({ file, store })).rejects.toThrow(line);
    expect(existsSync(store)).toBe(false);
    expect(events).toEqual([]);
  });

  it("as a distill step's student (the advice): the point gives it a classifier, then evaluates and benchmarks it", async () => {
    const file = writeSweep(
      'student',
      `models:
  - {path: models/tiny-sst2, tasks: [SST-2]}
calibration: false
pipelines:
  - name: task-stage
    steps:
      - {pass: distill, settings: {student: models/general, epochs: 1, batchSize: 8, maxExamples: 16, maxLength: 16, intermediate: tinybert, intermediateEpochs: 1}}`,
    );
    const summary = await runSweep({ file, store: join(t.root, 'student.sqlite') });
    expect(summary.failed).toEqual([]);
    expect(summary.ran).toBe(2);
  }, 120_000);

  it('the hint for a general-stage setting in a sweep step gives the same advice', () => {
    const at = (settings: Record<string, unknown>) => {
      try {
        parseSweep(
          { models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'] }], pipelines: [{ name: 'g', steps: [{ pass: 'distill', settings }] }] },
          t.sweepFile,
          'tiny.yaml',
        );
      } catch (e) {
        expect(e).toBeInstanceOf(SettingsError);
        return (e as Error).message;
      }
      throw new Error('expected a refusal');
    };
    for (const key of ['stage', 'corpus']) {
      const message = at({ [key]: 'general' });
      expect(message).toContain(
        `settings.${key}: unknown distill setting (the general stage (intermediate KD on a corpus) is not a sweep step: run compress distill --stage general first and give its output as ${ADVICE}; known: `,
      );
      expect(message).not.toContain('as a model');
    }
  });

  it('planSweep refuses it too (the queue coordinator plans the same way)', async () => {
    const spec = parseSweep({ models: [{ path: 'models/general', tasks: ['SST-2'] }], pipelines: ['baseline'] }, t.sweepFile, 'g.yaml');
    await expect(planSweep(spec, { glueDir: t.glueDir, workDir: join(t.root, 'w') })).rejects.toThrow(/^g\.yaml: models\[0\] 'general' is encoder-only/);
  });
});
