/**
 * A config.json whose `num_labels` disagrees with its `id2label` (real hub configs do: kobart's num_labels 3 with two
 * labels) reads as transformers' PretrainedConfig reads it: id2label's size, with one warning line on stderr (once per
 * file); it was refused. Every reader takes that one count (eval's parseModelConfig, the Hugging Face folder build's
 * configFromHuggingFace), and the model itself is still the truth: a graph or checkpoint classifier whose output
 * count is not id2label's is refused.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { configFromHuggingFace } from '../../src/bert/config.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { parseModelConfig } from '../../src/eval/model-files.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';

const work = mkdtempSync(join(tmpdir(), 'bc-label-count-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 6);
const two = { 0: 'negative', 1: 'positive' };

/** stderr written while `f` runs, and its result. */
function stderrOf<T>(f: () => T): { stderr: string; value: T } {
  let stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
  const value = f();
  vi.restoreAllMocks();
  return { stderr, value };
}

describe('num_labels disagreeing with id2label', () => {
  it("reads id2label's size with one warning line per disagreement, in eval's reading and the Hugging Face folder build's", () => {
    const json = { num_labels: 3, id2label: two };
    const first = stderrOf(() => parseModelConfig(json, 'a/config.json').numLabels);
    expect(first).toEqual({ value: 2, stderr: 'warning: a/config.json: num_labels is 3 but id2label has 2 labels: reading 2, as transformers does\n' });
    expect(stderrOf(() => parseModelConfig(json, 'a/config.json').numLabels)).toEqual({ value: 2, stderr: '' }); // once
    // (nor again for a copy of it: a sweep point's folder, which holds its model's config.json)
    expect(stderrOf(() => parseModelConfig(json, 'a-copy/config.json').numLabels)).toEqual({ value: 2, stderr: '' });
    const built = stderrOf(() => configFromHuggingFace({ num_labels: 4, id2label: two }, 'b/config.json'));
    expect(built.value).toMatchObject({ numLabels: 2, id2label: ['negative', 'positive'] });
    expect(built.stderr).toBe('warning: b/config.json: num_labels is 4 but id2label has 2 labels: reading 2, as transformers does\n');
    // agreeing, or one of them only: no warning
    for (const j of [{ num_labels: 2, id2label: two }, { num_labels: 3 }, { id2label: two }]) {
      expect(stderrOf(() => parseModelConfig(j, 'c/config.json').numLabels).stderr).toBe('');
    }
  });

  it('evaluates a model whose graph gives as many scores as id2label has labels; refuses one whose graph gives more', async () => {
    const dir = writeModelFolder(join(work, 'kobart-like'), tinyBert({}, { seed: 3 }));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', num_labels: 3, id2label: two, max_length: 16 }));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const r = await evaluate({ model: dir, tasks: ['SST-2'], glueDir });
    expect(r.tasks[0]!.predictions).toHaveLength(6);
    // the graph is the truth: 3 scores per example, id2label's 2 labels (num_labels 3 agrees with the graph, not read)
    const wide = writeModelFolder(join(work, 'wide'), tinyBert({ numLabels: 3 }, { seed: 3 }));
    writeFileSync(join(wide, 'config.json'), JSON.stringify({ model_type: 'bert', num_labels: 3, id2label: two, max_length: 16 }));
    await expect(evaluate({ model: wide, tasks: ['SST-2'], glueDir })).rejects.toThrow(
      `${join(wide, 'config.json')}: says 2 labels (its id2label's size, as transformers reads it), but ${join(wide, 'model.onnx')} gives 3 scores per example: fix config.json`,
    );
    // without id2label, the count is num_labels', and the message says so
    writeFileSync(join(wide, 'config.json'), JSON.stringify({ model_type: 'bert', num_labels: 2, max_length: 16 }));
    await expect(evaluate({ model: wide, tasks: ['SST-2'], glueDir })).rejects.toThrow(
      `${join(wide, 'config.json')}: says 2 labels (its num_labels, as transformers reads it without an id2label), but ${join(wide, 'model.onnx')} gives 3 scores per example: fix config.json`,
    );
  });
});

describe("config.json's labels read by eval and by the Hugging Face folder build alike, as transformers reads them", () => {
  /** What eval's reading and the folder build's make of `json`: the label count, or the one-line refusal (the file named). */
  const both = (json: Record<string, unknown>) => {
    const read = (f: () => number | null) => {
      try {
        return stderrOf(f).value;
      } catch (e) {
        return (e as Error).message;
      }
    };
    return [read(() => parseModelConfig(json, 'e/config.json').numLabels ?? 2), read(() => configFromHuggingFace(json, 'e/config.json').numLabels)];
  };
  const refused = (msg: string) => [`e/config.json: ${msg}`, `e/config.json: ${msg}`];

  it.each([
    // transformers: an id2label of no labels is a classifier of no outputs (eval read 2, the build refused)
    [
      { id2label: {} },
      refused("id2label is empty: transformers reads it as no labels (a classifier of no outputs); give it the classifier's labels, or remove it"),
    ],
    [
      { id2label: {}, num_labels: 2 },
      refused("id2label is empty: transformers reads it as no labels (a classifier of no outputs); give it the classifier's labels, or remove it"),
    ],
    // id2label null is none: num_labels counts (eval refused it)
    [{ id2label: null, num_labels: 3 }, [3, 3]],
    // id2label wins over any num_labels, with a warning (both refused a string, eval a 0)
    [{ id2label: two, num_labels: '2' }, [2, 2]],
    [{ id2label: two, num_labels: 0 }, [2, 2]],
    // without id2label, num_labels must be a count (transformers fails on '2': range('2'))
    [{ num_labels: '2' }, refused('num_labels: expected an integer from 1 to 2^53 − 1, got string "2"')],
    // keys read as Python's int() reads them (the build refused ' 1' and '01'; eval took '0x1', '' and '1.0')
    [{ id2label: { 0: 'negative', ' 1': 'positive' } }, [2, 2]],
    [{ id2label: { 0: 'negative', '01': 'positive' } }, [2, 2]],
    [{ id2label: { 0: 'negative', '0x1': 'positive' } }, refused("id2label key '0x1' is not a label id (a whole number from 0)")],
    [{ id2label: { '': 'negative', 1: 'positive' } }, refused("id2label key '' is not a label id (a whole number from 0)")],
    [{ id2label: { 0: 'negative', '1.0': 'positive' } }, refused("id2label key '1.0' is not a label id (a whole number from 0)")],
    // (Python's int(), as the GLUE labels read: Unicode digits are digits; U+FEFF is no whitespace to it, as it is to JS's trim)
    [{ id2label: { 0: 'negative', '\uff11': 'positive' } }, [2, 2]],
    [{ id2label: { 0: 'negative', '\ufeff1': 'positive' } }, refused("id2label key '\ufeff1' is not a label id (a whole number from 0)")],
    // problem_type: one of transformers' three, or none (None); any other value refused, as transformers refuses it (eval read any)
    [{ problem_type: 'foo' }, refused('problem_type: expected one of regression, single_label_classification, multi_label_classification, got string "foo"')],
    [{ problem_type: 1 }, refused('problem_type: expected one of regression, single_label_classification, multi_label_classification, got number 1')],
    [{ problem_type: null, num_labels: 3 }, [3, 3]],
  ])('%j', (json, expected) => {
    expect(both(json)).toEqual(expected);
  });

  it('warns of a num_labels that is not a number as it is written', () => {
    expect(stderrOf(() => parseModelConfig({ id2label: two, num_labels: '3' }, 's/config.json')).stderr).toBe(
      'warning: s/config.json: num_labels is string "3" but id2label has 2 labels: reading 2, as transformers does\n',
    );
  });

  it("quotes a label name holding a quote as a shell takes it (quotedText), where plain quotes showed 'it's'", () => {
    const quoted = { id2label: { 0: "it's", 1: 'b' }, label2id: { "it's": 1, b: 0 } };
    expect(stderrOf(() => parseModelConfig(quoted, 'q/config.json')).stderr).toBe(
      "warning: q/config.json: label2id gives 'it'\\''s' id 1 but id2label[1] is 'b': reading id2label, as transformers' pipelines do (its run_glue maps a task's label names by label2id)\n",
    );
  });

  it('warns once of a label2id that disagrees with id2label, which it reads; an agreeing one says nothing', () => {
    const crossed = { id2label: two, label2id: { negative: 1, positive: 0 } };
    const read = stderrOf(() => parseModelConfig(crossed, 'x/config.json').id2label);
    expect(read.stderr).toBe(
      "warning: x/config.json: label2id gives 'negative' id 1 but id2label[1] is 'positive': reading id2label, as transformers' pipelines do (its run_glue maps a task's label names by label2id)\n",
    );
    expect([...read.value!]).toEqual([
      [0, 'negative'],
      [1, 'positive'],
    ]);
    expect(stderrOf(() => parseModelConfig(crossed, 'x/config.json')).stderr).toBe('');
    // (nor for the copy a sweep point's folder holds, with its own fields added)
    expect(stderrOf(() => configFromHuggingFace({ ...crossed, pruned_heads: { 0: [1] } }, 'x-point/config.json')).stderr).toBe('');
    expect(stderrOf(() => configFromHuggingFace({ id2label: two, label2id: { negative: '0', positive: 2 } }, 'y/config.json')).stderr).toBe(
      "warning: y/config.json: label2id gives 'positive' id 2 but id2label has no 2: reading id2label, as transformers' pipelines do (its run_glue maps a task's label names by label2id)\n",
    );
    expect(stderrOf(() => parseModelConfig({ id2label: two, label2id: { negative: 0, positive: 1 } }, 'z/config.json')).stderr).toBe('');
  });
});
