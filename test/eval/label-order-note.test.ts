/**
 * An MNLI model whose config.json names no classes (LABEL_0…, or no id2label) is scored in GLUE's order, as Hugging
 * Face's glue order is the only one known; MNLI models come in other orders, so eval says which order it assumed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/eval/evaluate.ts';
import { saveModel } from '../../src/onnx/index.ts';
import { tinyBert } from '../helpers/models.ts';

const root = mkdtempSync(join(tmpdir(), 'label-order-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const WORDS = ['a', 'cat', 'sat', 'not'];
const glueDir = join(root, 'glue');
mkdirSync(join(glueDir, 'MNLI'), { recursive: true });
const labels = ['entailment', 'neutral', 'contradiction'];
for (const name of ['dev_matched', 'dev_mismatched']) {
  const rows = Array.from({ length: 6 }, (_, i) => `${i}\ta cat sat\ta cat ${i % 2 ? 'not ' : ''}sat\t${labels[i % 3]}`);
  writeFileSync(join(glueDir, 'MNLI', `${name}.tsv`), ['index\tsentence1\tsentence2\tgold_label', ...rows].join('\n') + '\n');
}

/** The warnings but those about the data (these files are not GLUE's, so their row counts are noted). */
const about = (warnings: readonly string[] | undefined) => (warnings ?? []).filter((w) => !/examples where GLUE's has/.test(w));

function model(name: string, config: object): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  saveModel(tinyBert({ numLabels: 3 }), join(dir, 'model.onnx'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ max_length: 16, ...config }));
  writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS].join('\n') + '\n');
  return dir;
}

describe('MNLI with a model that names no classes', () => {
  it('warns once, naming the tasks, the config and the order assumed', async () => {
    const dir = model('generic', { id2label: { 0: 'LABEL_0', 1: 'LABEL_1', 2: 'LABEL_2' } });
    const r = await evaluate({ model: dir, tasks: ['MNLI'], glueDir, threads: 1 });
    expect(about(r.warnings)).toEqual([
      `MNLI-m, MNLI-mm: ${join(dir, 'config.json')}'s id2label names no classes (LABEL_0…), so the model's 3 outputs were read in GLUE's order entailment, neutral, contradiction; models are trained in other orders too: if the scores are near chance, name the classes in id2label`,
    ]);
    const bare = model('bare', { num_labels: 3 });
    expect(about((await evaluate({ model: bare, tasks: ['MNLI-m'], glueDir, threads: 1 })).warnings)[0]).toMatch(/^MNLI-m: .*config\.json has no id2label, so/);
  });

  it('reads generic names out of order by their numbers (LABEL_k: GLUE label k), as the classes they number', async () => {
    const generic = model('generic-reordered', { id2label: { 0: 'LABEL_2', 1: 'LABEL_0', 2: 'LABEL_1' } });
    const named = model('named-reordered', { id2label: { 0: 'contradiction', 1: 'entailment', 2: 'neutral' } });
    const r = await evaluate({ model: generic, tasks: ['MNLI-m'], glueDir, threads: 1 });
    const byName = await evaluate({ model: named, tasks: ['MNLI-m'], glueDir, threads: 1 });
    expect(r.tasks[0]!.labelMapping.outputToLabel).toEqual([2, 0, 1]);
    expect(r.tasks[0]!.metrics).toEqual(byName.tasks[0]!.metrics);
    expect(about(r.warnings)).toEqual([
      `MNLI-m: ${join(generic, 'config.json')}'s id2label names no classes (LABEL_0…), so the model's 3 outputs were read by their LABEL_k numbers in GLUE's order entailment, neutral, contradiction, as contradiction, entailment, neutral; models are trained in other orders too: if the scores are near chance, name the classes in id2label`,
    ]);
  });

  it('says nothing when id2label names the classes, in any order', async () => {
    const dir = model('named', { id2label: { 0: 'CONTRADICTION', 1: 'NEUTRAL', 2: 'ENTAILMENT' } });
    expect(about((await evaluate({ model: dir, tasks: ['MNLI'], glueDir, threads: 1 })).warnings)).toEqual([]);
  });
});
