/**
 * Errors raised while a sweep point runs name the sweep file's settings (distill.teacher, eval.maxLength), not the
 * flags of the commands (--teacher, --max-length), which the CLI keeps naming.
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { shellWord } from '../../src/shell-word.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { EVAL_SETTING_NAMES } from '../../src/sweep/setting-names.ts';
import { namingSettings, renameFlags } from '../../src/flag-names.ts';
import { trainingSettingNames } from '../../src/sweep/train-step.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

let t: TinySweep;
beforeAll(() => {
  t = writeTinySweep({ rows: 8 });
});
afterAll(() => t?.cleanup());

describe('setting names in errors of sweep points', () => {
  it('renames the flags a step sets to its settings, and leaves other text alone', () => {
    const names = trainingSettingNames('distill');
    expect(names['--teacher']).toBe('distill.teacher');
    expect(names['--alpha']).toBe('distill.alpha');
    expect(names['--max-examples']).toBe('distill.maxExamples');
    expect(trainingSettingNames('train')['--teacher']).toBeUndefined(); // not a train setting
    expect(trainingSettingNames('train')['--epochs']).toBe('train.epochs');
    expect(renameFlags("--teacher t: its labels are RTE's; --stage general, x--alpha", names)).toBe(
      "distill.teacher t: its labels are RTE's; --stage general, x--alpha",
    );
  });

  it('leaves the flags of a command the error gives to run, in parentheses, as the command takes them', () => {
    const names = trainingSettingNames('distill');
    expect(renameFlags('--teacher t: give it (compress train t --task SST-2 --new-head -o OUT) and --task (--task x)', names)).toBe(
      'distill.teacher t: give it (compress train t --task SST-2 --new-head -o OUT) and distill.task (distill.task x)',
    );
  });

  it('leaves such a command whole where its words are quoted for the shell (a path with parentheses, a quote, a line break)', () => {
    const names = trainingSettingNames('distill');
    for (const path of ['/m/bert (v2)/model.onnx', "/m/it's (old)/model.onnx", '/m/a\nb (c)/model.onnx']) {
      const command = `(compress train ${shellWord(path)} --task SST-2 --new-head -o OUT)`;
      expect(renameFlags(`--teacher t: give it ${command}; --task x`, names)).toBe(`distill.teacher t: give it ${command}; distill.task x`);
    }
  });

  it("renames the flags of a message whose '(compress' is never closed, read in one pass whatever its $'…' words", () => {
    const names = trainingSettingNames('distill');
    // (30 such words took 2^30 readings, over a minute, where a '$' read alone or opening $'…' were two ways of each:
    // past this test's 10 s, which one reading takes a millionth of)
    const words = "$'a\\tb' ".repeat(30);
    expect(renameFlags(`--teacher t: see (compress train ${words}--task x`, names)).toBe(`distill.teacher t: see (compress train ${words}distill.task x`);
  }, 10_000);

  it('keeps the error class and renames only user errors', async () => {
    const thrown = namingSettings(EVAL_SETTING_NAMES, async () => {
      throw new SettingsError('--max-length 1 leaves no room for text after 2 special tokens');
    });
    await expect(thrown).rejects.toThrow(new SettingsError('eval.maxLength 1 leaves no room for text after 2 special tokens'));
    await expect(thrown).rejects.toBeInstanceOf(SettingsError);
    await expect(namingSettings(EVAL_SETTING_NAMES, async () => Promise.reject(new Error('--max-length bug')))).rejects.toThrow('--max-length bug');
  });

  it("a distill step whose teacher is another task's is refused naming distill.teacher, not --teacher", async () => {
    cpSync(join(t.root, 'models', 'tiny-sst2'), join(t.root, 'models', 'rte-teacher'), { recursive: true });
    writeFileSync(
      join(t.root, 'models', 'rte-teacher', 'config.json'),
      JSON.stringify({ model_type: 'bert', num_labels: 2, id2label: { 0: 'entailment', 1: 'not_entailment' }, max_length: 16 }),
    );
    const file = join(t.root, 'teacher.yaml');
    writeFileSync(
      file,
      `name: teacher
glueDir: glue
models:
  - {path: models/tiny-sst2, tasks: [SST-2]}
calibration: false
pipelines:
  - name: kd
    steps:
      - {pass: distill, settings: {teacher: models/rte-teacher, epochs: 1, batchSize: 8, maxExamples: 8, maxLength: 16}}
`,
    );
    // (refused by the plan, before any point runs, in the words the point failed with)
    const error = await runSweep({ file, store: join(t.root, 'teacher.sqlite') }).then(
      () => '',
      (e: unknown) => (e as Error).message,
    );
    expect(error).toMatch(
      /: pipeline 'kd' on model 'tiny-sst2', step 1 \(distill\): distill\.teacher .*rte-teacher\/model\.onnx: its labels \(.*\) are QNLI's, RTE's and WNLI's, not SST-2's/,
    );
    expect(error).not.toContain('--teacher');
  }, 120_000);
});
