/**
 * TinyBERT's workflow with students that have no classifier for the task, on a self-contained tiny world (a word
 * vocabulary, a GLUE-like folder with MNLI and RTE, tiny teachers): general distillation from a teacher without a
 * classifier (a bare encoder; the shared MLM fixture when present) writes an encoder-only student (BertModel's
 * outputs, no labels), and the task stage gives a student with none for the task (none at all, another width,
 * another task's labels) a new one seeded as a from-scratch student's, says so and records it; a student whose
 * classifier fits is trained as before, and one whose labels are misspelt is refused as eval refuses it. The general
 * stage with --task writes a config.json that names the classifier it sized; every-other takes a teacher without one.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTraining } from '../../src/train/run.ts';
import { SettingsError } from '../../src/errors.ts';
import { exportBilstm, parseBilstmSpec, randomBilstmWeights, resolveBilstmConfig } from '../../src/train/students/bilstm.ts';
import { pooledOutput } from '../../src/bert/classifier.ts';
import { encoderOnly, newClassifier, withClassifier } from '../../src/train/students/classifier.ts';
import { bertStudent, makeStudent } from '../../src/train/students/index.ts';
import { initialParameters } from '../../src/train/student.ts';
import { canonicalBert } from '../../src/bert/canonical.ts';
import { findBert } from '../../src/bert/discover.ts';
import { randomBertWeights } from '../../src/bert/build-weights.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { cloneModel, type Model } from '../../src/onnx/graph.ts';
import { removeDeadNodes, removeUnusedInitializers } from '../../src/onnx/analysis.ts';
import { loadModel } from '../../src/onnx/load.ts';
import { saveModel } from '../../src/onnx/save.ts';
import { outputsOf, sampleFeeds } from '../helpers/run-model.ts';
import { tinyBert } from '../helpers/models.ts';
import { PRETRAINING_CHECKPOINT, writePretrainingFolder } from '../helpers/model-folder.ts';
import { fixture } from '../helpers/paths.ts';

const work = mkdtempSync(join(tmpdir(), 'bert-compress-classifier-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const WORDS = Array.from({ length: 60 }, (_, i) => `w${i}`);
const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS];
const sentence = (i: number) => Array.from({ length: 4 + (i % 3) }, (_, k) => WORDS[(i * 7 + k * 11) % WORDS.length]).join(' ');

/** A GLUE-like folder: MNLI (3 labels) and RTE (2) train and dev files of a few made-up pairs. */
const glueDir = join(work, 'glue');
function writeGlue(): void {
  const mnli = ['entailment', 'neutral', 'contradiction'];
  const rte = ['entailment', 'not_entailment'];
  const rows = (n: number, label: (i: number) => string) => Array.from({ length: n }, (_, i) => `${i}\t${sentence(i)}\t${sentence(i + 5)}\t${label(i)}`);
  mkdirSync(join(glueDir, 'MNLI'), { recursive: true });
  mkdirSync(join(glueDir, 'RTE'), { recursive: true });
  const mnliHeader = 'index\tsentence1\tsentence2\tgold_label';
  writeFileSync(join(glueDir, 'MNLI', 'train.tsv'), [mnliHeader, ...rows(24, (i) => mnli[i % 3]!)].join('\n') + '\n');
  writeFileSync(join(glueDir, 'MNLI', 'dev_matched.tsv'), [mnliHeader, ...rows(9, (i) => mnli[(i + 1) % 3]!)].join('\n') + '\n');
  const rteHeader = 'index\tsentence1\tsentence2\tlabel';
  writeFileSync(join(glueDir, 'RTE', 'train.tsv'), [rteHeader, ...rows(16, (i) => rte[i % 2]!)].join('\n') + '\n');
  writeFileSync(join(glueDir, 'RTE', 'dev.tsv'), [rteHeader, ...rows(6, (i) => rte[(i + 1) % 2]!)].join('\n') + '\n');
}
writeGlue();
const corpus = join(work, 'corpus.txt');
writeFileSync(corpus, Array.from({ length: 32 }, (_, i) => sentence(i)).join('\n') + '\n');

/** A model folder: the graph, the word vocabulary, config.json. */
function folder(name: string, model: Model, config: Record<string, unknown>): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  saveModel(model, join(dir, 'model.onnx'));
  writeFileSync(join(dir, 'vocab.txt'), VOCAB.join('\n') + '\n');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ max_length: 24, ...config }));
  return dir;
}

const tiny = (numLabels: number, seed: number) => tinyBert({ vocabSize: VOCAB.length, numLabels }, { seed });

/** A bare encoder as an exporter writes BertModel: outputs the last hidden states and the pooled vector, no head. */
function bareEncoder(seed: number): Model {
  const m = cloneModel(tiny(2, seed));
  const s = findBert(m);
  const pooled = m.graph.nodes.find((n) => n.opType === 'Tanh')!.outputs[0]!;
  m.graph.outputs = [
    { name: s.layers.at(-1)!.output, elemType: 1 },
    { name: pooled, elemType: 1 },
  ];
  removeDeadNodes(m.graph);
  removeUnusedInitializers(m.graph);
  return m;
}

const MNLI_LABELS = { id2label: { 0: 'entailment', 1: 'neutral', 2: 'contradiction' } };
const bareTeacher = folder('bare-teacher', bareEncoder(11), { model_type: 'bert', architectures: ['BertModel'] });
const mnliTeacher = folder('mnli-teacher', tiny(3, 12), MNLI_LABELS);
const rteTeacher = folder('rte-teacher', tiny(2, 13), { id2label: { 0: 'entailment', 1: 'not_entailment' } });
const settings = { epochs: 1, batchSize: 8, threads: 1, lr: 1e-3, seed: 5 };
const common = { glueDir, cacheDir: join(work, 'cache'), maxLength: 24, settings };
const SPEC = 'bert:layers=1,hidden=16,heads=2,intermediate=32';
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

describe('classifier surgery', () => {
  it('encoderOnly writes BertModel: last_hidden_state and pooler_output, the classifier gone, the values those of the source', async () => {
    const source = tiny(2, 3);
    const bare = encoderOnly(source);
    expect(bare.graph.outputs.map((o) => [o.name, o.shape])).toEqual([
      ['last_hidden_state', ['batch_size', 'sequence_length', 32]],
      ['pooler_output', ['batch_size', 32]],
    ]);
    expect([...bare.graph.initializers.keys()].some((k) => k.startsWith('classifier'))).toBe(false);
    const s = findBert(bare);
    expect(s.head).toBeUndefined();
    expect(s.pooler?.activation).toBe('tanh');
    // its pooled output is what the source's classifier reads: the source's logits from it
    const feeds = sampleFeeds(source, findBert(source), 1, 6);
    const pooled = (await outputsOf(bare, feeds)).pooler_output!;
    const logits = (await outputsOf(source, feeds)).logits!;
    const w = initialParameters(source).get('classifier.weight')!;
    const b = initialParameters(source).get('classifier.bias')!;
    for (let j = 0; j < 2; j++) {
      let z = b[j]!;
      for (let i = 0; i < 32; i++) z += w[j * 32 + i]! * pooled[i]!;
      expect(z).toBeCloseTo(logits[j]!, 5);
    }
  });

  it("a new classifier is seeded as a from-scratch student's; the encoder and pooler are the source's", () => {
    const source = tiny(2, 3);
    const canon = newClassifier(canonicalBert(withClassifier(bareEncoder(3), 3, 'student')), 3, 9);
    const scratch = randomBertWeights({ ...canon.config, numLabels: 3 }, { seed: 9 });
    expect(canon.config.numLabels).toBe(3);
    expect(canon.weights.get('classifier.weight')).toEqual(scratch.get('classifier.weight'));
    expect(canon.weights.get('classifier.bias')).toEqual(new Float32Array(3));
    const original = canonicalBert(source).weights;
    for (const [name, v] of original) if (!name.startsWith('classifier.')) expect(canon.weights.get(name), name).toEqual(v);
  });

  it('a student model whose classifier fits is the canonical rebuild it was before (same parameters, no new classifier)', () => {
    const dir = folder('fits', tiny(3, 4), MNLI_LABELS);
    const model = loadModel(join(dir, 'model.onnx'));
    const { student } = makeStudent({ spec: dir, maxLength: 24, seed: 1, numLabels: 3 });
    const before = bertStudent(canonicalBert(model), `canonical rebuild of ${dir}`);
    expect(student.description).toBe(before.description);
    expect(initialParameters(student.forward(false))).toEqual(initialParameters(before.forward(false)));
  });

  it('a bare encoder without a pooler is refused in one line', () => {
    const m = bareEncoder(6);
    const s = findBert(m);
    m.graph.outputs = [{ name: s.layers.at(-1)!.output, elemType: 1 }];
    removeDeadNodes(m.graph);
    expect(() => withClassifier(m, 3, 'student x')).toThrow(
      /^student x has no classifier, and it has no pooler \(dense \+ tanh on the first token\) to put one on: give a BERT or ALBERT encoder with its pooler, or a sequence classifier$/,
    );
  });
});

describe('general distillation from a teacher without a classifier, then the task stage onto MNLI (3 labels)', () => {
  const general = join(work, 'general', 'model.onnx');

  it('the general stage needs no --task: the student is written encoder-only, its config.json names no labels', async () => {
    const r = await runTraining({
      ...common,
      teacher: bareTeacher,
      student: SPEC,
      output: general,
      distill: { stage: 'general', intermediate: 'tinybert', corpus },
    });
    const l = r.lineage!;
    expect(l.task).toBeUndefined();
    expect(l.output.encoderOnly).toBe(true);
    expect(l.student.description).toMatch(/from scratch, encoder only$/);
    const written = loadModel(general);
    expect(written.graph.outputs.map((o) => o.name)).toEqual(['last_hidden_state', 'pooler_output']);
    expect(findBert(written).head).toBeUndefined();
    const config = readJson(join(work, 'general', 'config.json'));
    expect(config.architectures).toEqual(['BertModel']);
    for (const k of ['id2label', 'label2id', 'num_labels', 'finetuning_task']) expect(config[k], k).toBeUndefined();
    expect(config).toMatchObject({ num_hidden_layers: 1, hidden_size: 16 });
  });

  it("the general stage's --intermediate-epochs replaces --epochs: the lineage's settings.epochs records the epochs that ran", async () => {
    const r = await runTraining({
      ...common,
      teacher: bareTeacher,
      student: SPEC,
      output: join(work, 'general-epochs', 'model.onnx'),
      distill: { stage: 'general', intermediate: 'tinybert', corpus, intermediateEpochs: 2 },
    });
    const l = r.lineage!;
    expect(common.settings.epochs).toBe(1);
    expect(l.epochs).toHaveLength(2);
    expect(l.settings.epochs).toBe(2);
    expect(l.distill?.intermediateEpochs).toBe(2);
  });

  it('the task stage gives it a new classifier (said, recorded in the lineage), and the written model evaluates on MNLI', async () => {
    const logs: string[] = [];
    const out = join(work, 'task', 'model.onnx');
    const r = await runTraining({
      ...common,
      task: 'MNLI-m',
      teacher: mnliTeacher,
      student: join(work, 'general'),
      output: out,
      distill: { intermediate: 'tinybert', alpha: 0 },
      log: (line) => logs.push(line),
    });
    expect(logs).toContain('the student has no classifier for MNLI-m: a new one (3 labels) is initialised (seed 5)');
    const l = r.lineage!;
    expect(l.student.newClassifier).toEqual({ outputs: 3, seed: 5, reason: 'it has none' });
    expect(l.student.description).toMatch(/with a new classifier \(3 outputs\)$/);
    expect(l.output.encoderOnly).toBeUndefined();
    expect(findBert(loadModel(out)).head).toMatchObject({ kind: 'sequence-classification', numLabels: 3 });
    const config = readJson(join(work, 'task', 'config.json'));
    expect(config).toMatchObject({ finetuning_task: 'mnli', architectures: ['BertForSequenceClassification'] });
    expect(config.id2label).toEqual({ 0: 'entailment', 1: 'neutral', 2: 'contradiction' });
    const result = await evaluate({ model: out, tasks: ['MNLI-m'], glueDir, maxLength: 24 });
    expect(result.tasks[0]!.examples).toBe(9);
    expect(result.tasks[0]!.metrics.accuracy).toBeGreaterThanOrEqual(0);
    expect(l.epochs[0]!.metrics!.accuracy).toBe(result.tasks[0]!.metrics.accuracy);
  });

  it('a student sized for another task (2 outputs) gets a new classifier for MNLI: the reason said', async () => {
    const logs: string[] = [];
    const sst2 = folder('sst2-width', tiny(2, 7), { id2label: { 0: 'negative', 1: 'positive' } });
    const r = await runTraining({
      ...common,
      task: 'MNLI-m',
      teacher: mnliTeacher,
      student: sst2,
      output: join(work, 'task-from-2', 'model.onnx'),
      distill: { alpha: 0 },
      log: (line) => logs.push(line),
    });
    expect(logs).toContain('the student has no classifier for MNLI-m (its classifier has 2 outputs): a new one (3 labels) is initialised (seed 5)');
    expect(r.lineage!.student.newClassifier).toEqual({ outputs: 3, seed: 5, reason: 'its classifier has 2 outputs' });
  });

  it("a student of the same width with another task's labels gets a new one; one whose labels fit keeps its own", async () => {
    const sst2 = folder('sst2-labels', tiny(2, 8), { id2label: { 0: 'negative', 1: 'positive' } });
    const logs: string[] = [];
    const r = await runTraining({
      ...common,
      task: 'RTE',
      teacher: rteTeacher,
      student: sst2,
      output: join(work, 'rte-from-sst2', 'model.onnx'),
      distill: { alpha: 0 },
      log: (line) => logs.push(line),
    });
    expect(logs).toContain('the student has no classifier for RTE (its labels are negative, positive): a new one (2 labels) is initialised (seed 5)');
    expect(r.lineage!.student.newClassifier?.reason).toBe('its labels are negative, positive');
    expect(readJson(join(work, 'rte-from-sst2', 'config.json')).id2label).toEqual({ 0: 'entailment', 1: 'not_entailment' });

    const fits = folder('rte-student', tiny(2, 8), { id2label: { 0: 'not_entailment', 1: 'entailment' } });
    const kept: string[] = [];
    const k = await runTraining({
      ...common,
      task: 'RTE',
      teacher: rteTeacher,
      student: fits,
      output: join(work, 'rte-kept', 'model.onnx'),
      distill: { alpha: 0 },
      log: (line) => kept.push(line),
    });
    expect(kept.filter((line) => /no classifier/.test(line))).toEqual([]);
    expect(k.lineage!.student.newClassifier).toBeUndefined();
    // its own label order is kept
    expect(readJson(join(work, 'rte-kept', 'config.json')).id2label).toEqual({ 0: 'not_entailment', 1: 'entailment' });
  });
});

describe('the general stage with --task, misspelt labels in the task stage, every-other from a teacher without a classifier', () => {
  const general = (name: string, teacher: string, student: string, task?: string, log?: (line: string) => void) =>
    runTraining({
      ...common,
      ...(task ? { task } : {}),
      teacher,
      student,
      output: join(work, name, 'model.onnx'),
      distill: { stage: 'general', intermediate: 'tinybert', corpus },
      ...(log ? { log } : {}),
    });

  it("from a teacher without a classifier, --task gives the student one, and config.json names it (the class, the task's labels; no finetuning_task)", async () => {
    await general('general-rte', bareTeacher, SPEC, 'RTE');
    expect(findBert(loadModel(join(work, 'general-rte', 'model.onnx'))).head).toMatchObject({ kind: 'sequence-classification', numLabels: 2 });
    const config = readJson(join(work, 'general-rte', 'config.json'));
    expect(config).toMatchObject({
      architectures: ['BertForSequenceClassification'],
      num_labels: 2,
      id2label: { 0: 'entailment', 1: 'not_entailment' },
      label2id: { entailment: 0, not_entailment: 1 },
      problem_type: 'single_label_classification',
    });
    expect(config.finetuning_task).toBeUndefined();
    await general('general-stsb', bareTeacher, SPEC, 'STS-B');
    expect(findBert(loadModel(join(work, 'general-stsb', 'model.onnx'))).head).toMatchObject({ numLabels: 1 });
    expect(readJson(join(work, 'general-stsb', 'config.json'))).toMatchObject({
      architectures: ['BertForSequenceClassification'],
      num_labels: 1,
      id2label: { 0: 'LABEL_0' },
      problem_type: 'regression',
    });
  });

  it("--task with a teacher whose labels are another task's is refused in one line naming its config.json and the way through; without --task the task stage gives the student a new classifier", async () => {
    const sst2Teacher = folder('sst2-teacher', tiny(2, 14), { id2label: { 0: 'negative', 1: 'positive' } });
    for (const task of ['RTE', 'MNLI-m']) {
      await expect(general(`general-sst2-${task}`, sst2Teacher, SPEC, task)).rejects.toThrow(
        new SettingsError(
          `--stage general --task ${task}: the teacher's labels (${join(sst2Teacher, 'config.json')}: negative, positive) are SST-2's, and the general stage writes the teacher's labels beside the student's classifier; leave out --task (the student keeps the teacher's classifier, and the task stage on ${task} gives it a new one)`,
        ),
      );
      expect(existsSync(join(work, `general-sst2-${task}`))).toBe(false);
    }
    await general('general-sst2', sst2Teacher, SPEC);
    const logs: string[] = [];
    await runTraining({
      ...common,
      task: 'RTE',
      teacher: rteTeacher,
      student: join(work, 'general-sst2'),
      output: join(work, 'general-sst2-rte', 'model.onnx'),
      distill: { alpha: 0 },
      log: (line) => logs.push(line),
    });
    expect(logs).toContain('the student has no classifier for RTE (its labels are negative, positive): a new one (2 labels) is initialised (seed 5)');
  });

  it("a task-stage teacher fine-tuned on another task is refused in one line naming it, before any data is read; one whose labels fit the task (WNLI's names for RTE) is taken", async () => {
    const sst2Teacher = folder('sst2-teacher-task', tiny(2, 15), { id2label: { 0: 'negative', 1: 'positive' } });
    const out = join(work, 'rte-from-sst2-teacher', 'model.onnx');
    await expect(runTraining({ ...common, task: 'RTE', teacher: sst2Teacher, student: SPEC, output: out, distill: { alpha: 0 } })).rejects.toThrow(
      new SettingsError(
        `--teacher ${sst2Teacher}: its labels (${join(sst2Teacher, 'config.json')}: negative, positive) are SST-2's, not RTE's: distil RTE from a teacher fine-tuned on it`,
      ),
    );
    expect(existsSync(join(work, 'rte-from-sst2-teacher'))).toBe(false);
    const wnliTeacher = folder('wnli-teacher', tiny(2, 16), { id2label: { 0: 'not_entailment', 1: 'entailment' } });
    const r = await runTraining({
      ...common,
      task: 'RTE',
      teacher: wnliTeacher,
      student: SPEC,
      output: join(work, 'rte-from-wnli', 'model.onnx'),
      distill: { alpha: 0 },
    });
    expect(r.lineage!.task).toBe('RTE');
  });

  it("a task-stage student whose id2label names none of the task's labels keeps its classifier, read in the task's order as compress eval reads it, said in one warning line; written with the task's names", async () => {
    const misspelt = folder('misspelt', tiny(2, 8), { id2label: { 0: 'ent', 1: 'not_ent' } });
    const warning = `RTE: ${join(misspelt, 'config.json')}'s id2label names ent, not_ent, not RTE's labels, so the model's 2 outputs are read in GLUE's order entailment, not_entailment, as transformers' run_glue ignores labels that do not match the task's; if the scores are near chance, name the classes in id2label`;
    const evaluated = await evaluate({ model: misspelt, tasks: ['RTE'], glueDir, maxLength: 24 });
    expect(evaluated.warnings?.filter((w) => w.includes('id2label'))).toEqual([warning]);
    const logs: string[] = [];
    const out = join(work, 'rte-misspelt', 'model.onnx');
    await runTraining({ ...common, task: 'RTE', teacher: rteTeacher, student: misspelt, output: out, distill: { alpha: 0 }, log: (line) => logs.push(line) });
    expect(logs.filter((l) => l.startsWith('warning:'))).toEqual([`warning: ${warning}`]);
    expect(logs.some((l) => l.includes('no classifier'))).toBe(false);
    expect(JSON.parse(readFileSync(join(work, 'rte-misspelt', 'config.json'), 'utf8')).id2label).toEqual({ 0: 'entailment', 1: 'not_entailment' });
    expect((await evaluate({ model: out, tasks: ['RTE'], glueDir, maxLength: 24 })).warnings?.filter((w) => w.includes('id2label'))).toEqual([]);
  });

  it("a task-stage student whose id2label contradicts the task's order (a task label on another output) is refused in one line, as compress eval refuses it; nothing written", async () => {
    const crossed = folder('crossed', tiny(2, 8), { id2label: { 0: 'not_entailment', 1: 'yes' } });
    const message = `${join(crossed, 'config.json')} id2label {0: not_entailment, 1: yes} does not name RTE's labels (entailment, not_entailment); fix id2label or use LABEL_0… for the canonical order`;
    await expect(evaluate({ model: crossed, tasks: ['RTE'], glueDir, maxLength: 24 })).rejects.toThrow(message);
    const logs: string[] = [];
    const out = join(work, 'rte-crossed', 'model.onnx');
    await expect(
      runTraining({ ...common, task: 'RTE', teacher: rteTeacher, student: crossed, output: out, distill: { alpha: 0 }, log: (line) => logs.push(line) }),
    ).rejects.toThrow(message);
    expect(logs).toEqual([]);
    expect(existsSync(join(work, 'rte-crossed'))).toBe(false);
  });

  it("a saved BiLSTM student whose classifier is another task's (labels, width) gets a new one, as a BERT student does (said, in the lineage, config.json), where it was refused", async () => {
    const config = resolveBilstmConfig(parseBilstmSpec('bilstm:hidden=4,embedding=4'), { vocabSize: VOCAB.length, numLabels: 2, maxLength: 24 });
    const lstm = folder('bilstm-sst2', exportBilstm(config, randomBilstmWeights(config, 3)), {
      model_type: 'bilstm',
      id2label: { 0: 'negative', 1: 'positive' },
    });
    const renewed = async (task: string, teacher: string, why: string, labels: string[]) => {
      const logs: string[] = [];
      const out = join(work, `bilstm-${task}`, 'model.onnx');
      const r = await runTraining({ ...common, task, teacher, student: lstm, output: out, distill: { alpha: 0 }, log: (line) => logs.push(line) });
      const n = labels.length;
      expect(logs).toContain(`the student has no classifier for ${task} (${why}): a new one (${n} labels) is initialised (seed 5)`);
      expect(r.lineage!.student.newClassifier).toEqual({ outputs: n, seed: 5, reason: why });
      expect(r.lineage!.student.description).toBe('BiLSTM hidden 4, embedding 4, MLP 4');
      expect(loadModel(out).graph.initializers.get('mlp.2.weight')?.dims).toEqual([4, n]);
      expect(readJson(join(work, `bilstm-${task}`, 'config.json'))).toMatchObject({
        model_type: 'bilstm',
        num_labels: n,
        id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
      });
    };
    await renewed('RTE', rteTeacher, 'its labels are negative, positive', ['entailment', 'not_entailment']);
    await renewed('MNLI-m', mnliTeacher, 'its classifier has 2 outputs', ['entailment', 'neutral', 'contradiction']);
  });

  it("every-other from a teacher without a classifier: the teacher's even layers, encoder-only; with --task a new classifier", async () => {
    const r = await general('every-other-bare', bareTeacher, 'every-other');
    expect(r.lineage!.student.description).toBe('every-other layer of the teacher (1 of 2), encoder only');
    expect(r.lineage!.output.encoderOnly).toBe(true);
    const written = loadModel(join(work, 'every-other-bare', 'model.onnx'));
    expect(written.graph.outputs.map((o) => o.name)).toEqual(['last_hidden_state', 'pooler_output']);
    expect([findBert(written).numLayers, findBert(written).head]).toEqual([1, undefined]);
    expect(readJson(join(work, 'every-other-bare', 'config.json'))).toMatchObject({ architectures: ['BertModel'], num_hidden_layers: 1 });
    // (an untrained student: --epochs 0 is not a setting, so compare the step-0 student, the teacher's layer 0)
    const { student } = makeStudent({ spec: 'every-other', teacher: loadModel(join(bareTeacher, 'model.onnx')), maxLength: 24, seed: 1 });
    const params = initialParameters(student.forward(false));
    const teacher = canonicalBert(withClassifier(loadModel(join(bareTeacher, 'model.onnx')), 1, 'teacher')).weights;
    const layer0 = [...params.keys()].filter((k) => /layer\.0\./.test(k));
    expect(layer0.length).toBeGreaterThan(0);
    for (const k of layer0) expect(params.get(k), k).toEqual(teacher.get(k));

    const t = await general('every-other-bare-rte', bareTeacher, 'every-other', 'RTE');
    expect(t.lineage!.student.description).toBe('every-other layer of the teacher (1 of 2), with a new classifier (2 outputs)');
    expect(findBert(loadModel(join(work, 'every-other-bare-rte', 'model.onnx'))).head).toMatchObject({ kind: 'sequence-classification', numLabels: 2 });
    expect(readJson(join(work, 'every-other-bare-rte', 'config.json'))).toMatchObject({ architectures: ['BertForSequenceClassification'], num_labels: 2 });
  });

  it('every-other from a teacher with neither a classifier nor a pooler is refused in one line naming the alternative', async () => {
    const m = bareEncoder(14);
    m.graph.outputs = [{ name: findBert(m).layers.at(-1)!.output, elemType: 1 }];
    removeDeadNodes(m.graph);
    removeUnusedInitializers(m.graph);
    const teacher = folder('poolerless-teacher', m, { model_type: 'bert' });
    await expect(general('every-other-poolerless', teacher, 'every-other')).rejects.toThrow(
      /^--student every-other: the teacher has no classifier, and it has no pooler \(dense \+ tanh on the first token\) to put one on; give a student from scratch \(bert:layers=L,hidden=H,…\) or a student model$/,
    );
    expect(existsSync(join(work, 'every-other-poolerless'))).toBe(false);
  });

  it('the general stage with --task STS-B gives a student of 2 outputs a new 1-output classifier, as the task stage does (said, recorded)', async () => {
    const two = folder('two-outputs', tiny(2, 9), { id2label: { 0: 'entailment', 1: 'not_entailment' } });
    const logs: string[] = [];
    const r = await general('general-stsb-from-2', bareTeacher, two, 'STS-B', (line) => logs.push(line));
    expect(logs).toContain('the student has no classifier for STS-B (its classifier has 2 outputs): a new one (1 output) is initialised (seed 5)');
    expect(r.lineage!.student.newClassifier).toEqual({ outputs: 1, seed: 5, reason: 'its classifier has 2 outputs' });
    expect(findBert(loadModel(join(work, 'general-stsb-from-2', 'model.onnx'))).head).toMatchObject({ numLabels: 1 });
    expect(readJson(join(work, 'general-stsb-from-2', 'config.json'))).toMatchObject({ num_labels: 1, problem_type: 'regression' });
    // every-other of a 2-label teacher, the same
    const e = await general('general-stsb-every-other', rteTeacher, 'every-other', 'STS-B');
    expect(e.lineage!.student.description).toBe('every-other layer of the teacher (1 of 2), with a new classifier (1 output)');
    const config = readJson(join(work, 'general-stsb-every-other', 'config.json'));
    expect(config).toMatchObject({ architectures: ['BertForSequenceClassification'], num_labels: 1, id2label: { 0: 'LABEL_0' }, problem_type: 'regression' });
  });
});

describe.skipIf(!existsSync(PRETRAINING_CHECKPOINT))('general distillation from a pretraining (MLM + NSP) teacher (needs ../shared/fixtures/onnx)', () => {
  it('runs without --task and writes an encoder-only student', async () => {
    const dir = writePretrainingFolder(join(work, 'mlm-teacher'));
    const r = await runTraining({
      ...common,
      teacher: dir,
      student: SPEC,
      output: join(work, 'mlm-general', 'model.onnx'),
      distill: { stage: 'general', intermediate: 'tinybert', corpus },
    });
    expect(r.lineage!.output.encoderOnly).toBe(true);
    const s = findBert(loadModel(join(work, 'mlm-general', 'model.onnx')));
    expect([s.head, s.vocabSize, s.numLayers]).toEqual([undefined, 99, 1]);
  });

  it("--student every-other runs without --task and writes the teacher's even layers, encoder-only", async () => {
    const teacher = join(work, 'mlm-teacher'); // (written by the test before)
    const teacherLayers = findBert(loadModel(join(teacher, 'model.onnx'))).numLayers;
    const r = await runTraining({
      ...common,
      teacher,
      student: 'every-other',
      output: join(work, 'mlm-every-other', 'model.onnx'),
      // (the toy teacher's 5 layers are no multiple of the student's 3: pkd-last maps the last ones)
      distill: { stage: 'general', intermediate: 'pkd-last', corpus },
    });
    expect(r.lineage!.output.encoderOnly).toBe(true);
    const written = loadModel(join(work, 'mlm-every-other', 'model.onnx'));
    expect(written.graph.outputs.map((o) => o.name)).toEqual(['last_hidden_state', 'pooler_output']);
    const s = findBert(written);
    expect([s.head, s.vocabSize, s.numLayers]).toEqual([undefined, 99, Math.ceil(teacherLayers / 2)]);
  });
});

describe.skipIf(!existsSync(PRETRAINING_CHECKPOINT))('compress train of a pretraining (MLM + NSP) checkpoint (needs ../shared/fixtures/onnx)', () => {
  it('is refused naming --new-head; with it, the MLM and NSP heads are replaced by a seeded classifier on the pooler; distill gives it one', async () => {
    const dir = writePretrainingFolder(join(work, 'mlm-checkpoint'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', architectures: ['BertForPreTraining'], max_length: 24 }));
    const out = join(work, 'mlm-rte', 'model.onnx');
    await expect(runTraining({ ...common, task: 'RTE', student: dir, output: out })).rejects.toThrow(
      new SettingsError(
        '--task RTE: the model has a pretraining head, not a classifier: give --new-head to replace it by a new classifier for RTE on its pooler',
      ),
    );
    expect(existsSync(join(work, 'mlm-rte'))).toBe(false);

    const logs: string[] = [];
    const r = await runTraining({ ...common, task: 'RTE', student: dir, output: out, newHead: true, log: (line) => logs.push(line) });
    expect(logs).toContain("--new-head: the model's pretraining head is replaced by a classifier for RTE: a new one (2 labels) is initialised (seed 5)");
    expect(r.lineage!.student.newClassifier).toEqual({ outputs: 2, seed: 5, reason: '--new-head' });
    const written = loadModel(out);
    expect(written.graph.outputs.map((o) => o.name)).toEqual(['logits']);
    expect(findBert(written).head).toMatchObject({ kind: 'sequence-classification', numLabels: 2 });
    const config = readJson(join(work, 'mlm-rte', 'config.json'));
    expect(config).toMatchObject({ finetuning_task: 'rte', num_labels: 2, architectures: ['BertForSequenceClassification'] });
    expect(config.id2label).toEqual({ 0: 'entailment', 1: 'not_entailment' });

    // distillation's task stage gives it a classifier, as it gives a bare encoder one (the model above its teacher)
    const distilled: string[] = [];
    const kd = join(work, 'mlm-rte-kd', 'model.onnx');
    await runTraining({ ...common, task: 'RTE', teacher: join(work, 'mlm-rte'), student: dir, output: kd, log: (line) => distilled.push(line) });
    expect(distilled).toContain('the student has no classifier for RTE (it has a pretraining head): a new one (2 labels) is initialised (seed 5)');
    expect(findBert(loadModel(kd)).head).toMatchObject({ kind: 'sequence-classification', numLabels: 2 });
  });
});

/** The pretraining checkpoint as onnxruntime's optimizer saved it: its pooler a FusedGemm that applies the Tanh itself. */
const FUSED_CHECKPOINT = fixture('bert-toy-pretraining-ort-fused.onnx');

describe.skipIf(!existsSync(FUSED_CHECKPOINT))('an onnxruntime-fused pretraining checkpoint (needs ../shared/fixtures/onnx)', () => {
  it("its pooled vector is the FusedGemm's output, the torch export's pooled vector", async () => {
    const pooled = async (file: string) => {
      const m = loadModel(file);
      const s = findBert(m);
      const name = pooledOutput(m, s);
      expect(name, file).toBeDefined();
      m.graph.outputs = [{ name: name!, elemType: 1 }];
      removeDeadNodes(m.graph);
      removeUnusedInitializers(m.graph);
      return (await outputsOf(m, sampleFeeds(m, s, 2, 9)))[name!]!;
    };
    const [fused, torch] = [await pooled(FUSED_CHECKPOINT), await pooled(PRETRAINING_CHECKPOINT)];
    expect(fused.length).toBe(torch.length);
    for (let i = 0; i < torch.length; i++) expect(Math.abs(fused[i]! - torch[i]!)).toBeLessThan(1e-5);
  });

  it('takes --new-head and gives an every-other student, as the torch export does, where both were refused as having no pooler', async () => {
    const dir = writePretrainingFolder(join(work, 'fused-checkpoint'));
    copyFileSync(FUSED_CHECKPOINT, join(dir, 'model.onnx'));
    const out = join(work, 'fused-rte', 'model.onnx');
    await runTraining({ ...common, task: 'RTE', student: dir, output: out, newHead: true });
    expect(findBert(loadModel(out)).head).toMatchObject({ kind: 'sequence-classification', numLabels: 2 });

    const general = join(work, 'fused-every-other', 'model.onnx');
    const r = await runTraining({
      ...common,
      teacher: dir,
      student: 'every-other',
      output: general,
      distill: { stage: 'general', intermediate: 'pkd-last', corpus },
    });
    expect(r.lineage!.output.encoderOnly).toBe(true);
    expect(findBert(loadModel(general)).numLayers).toBe(3);
  });
});

describe('compress train --new-head: a checkpoint fine-tuned on another task (an MNLI model on RTE, on STS-B)', () => {
  const mnliModel = folder('mnli-model', tiny(3, 21), { ...MNLI_LABELS, finetuning_task: 'mnli', architectures: ['BertForSequenceClassification'] });
  // (STS-B: GLUE's columns, a score in [0, 5])
  const stsbHeader = 'index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore';
  const stsbRows = (n: number) =>
    Array.from({ length: n }, (_, i) => `${i}\tmain\tx\t2012\t${i}\tnone\tnone\t${sentence(i)}\t${sentence(i + 3)}\t${(i % 6).toFixed(3)}`);
  mkdirSync(join(glueDir, 'STS-B'), { recursive: true });
  writeFileSync(join(glueDir, 'STS-B', 'train.tsv'), [stsbHeader, ...stsbRows(16)].join('\n') + '\n');
  writeFileSync(join(glueDir, 'STS-B', 'dev.tsv'), [stsbHeader, ...stsbRows(7)].join('\n') + '\n');

  it('without it, a classifier of another width is refused in one line naming the flag; nothing is written', async () => {
    for (const [task, want] of [
      ['RTE', 'RTE needs 2 outputs; the model has 3: give --new-head to replace its classifier by a new one of 2 outputs'],
      ['STS-B', 'STS-B needs 1 output; the model has 3: give --new-head to replace its classifier by a new one of 1 output'],
    ] as const) {
      const out = join(work, `refused-${task}`, 'model.onnx');
      await expect(runTraining({ ...common, task, student: mnliModel, output: out })).rejects.toThrow(new SettingsError(want));
      expect(existsSync(join(work, `refused-${task}`))).toBe(false);
    }
  });

  it('with it, the classifier is replaced by a seeded one of the task: said, in the lineage, config.json names the task and its labels, eval scores it', async () => {
    const logs: string[] = [];
    const out = join(work, 'rte-new-head', 'model.onnx');
    const r = await runTraining({ ...common, task: 'RTE', student: mnliModel, output: out, newHead: true, log: (line) => logs.push(line) });
    expect(logs).toContain("--new-head: the model's classifier is replaced for RTE: a new one (2 labels) is initialised (seed 5)");
    const l = r.lineage!;
    expect(l.student.newClassifier).toEqual({ outputs: 2, seed: 5, reason: '--new-head' });
    expect(l.student.description).toMatch(/with a new classifier \(2 outputs\)$/);
    expect(findBert(loadModel(out)).head).toMatchObject({ kind: 'sequence-classification', numLabels: 2 });
    const config = readJson(join(work, 'rte-new-head', 'config.json'));
    expect(config).toMatchObject({ finetuning_task: 'rte', num_labels: 2, architectures: ['BertForSequenceClassification'] });
    expect(config.id2label).toEqual({ 0: 'entailment', 1: 'not_entailment' });
    const result = await evaluate({ model: out, tasks: ['RTE'], glueDir, maxLength: 24 });
    expect(result.tasks[0]!.examples).toBe(6);
    expect(l.epochs[0]!.metrics!.accuracy).toBe(result.tasks[0]!.metrics.accuracy);
  });

  it('a regression head from a classifier: one output, config.json says regression with no class names', async () => {
    const out = join(work, 'stsb-new-head', 'model.onnx');
    const r = await runTraining({ ...common, task: 'STS-B', student: mnliModel, output: out, newHead: true });
    expect(r.lineage!.student.newClassifier).toEqual({ outputs: 1, seed: 5, reason: '--new-head' });
    expect(findBert(loadModel(out)).head).toMatchObject({ numLabels: 1 });
    const config = readJson(join(work, 'stsb-new-head', 'config.json'));
    expect(config).toMatchObject({ finetuning_task: 'sts-b', num_labels: 1, problem_type: 'regression' });
    expect(Object.values((config.id2label ?? {}) as Record<string, string>)).not.toContain('entailment');
    const result = await evaluate({ model: out, tasks: ['STS-B'], glueDir, maxLength: 24 });
    expect(result.tasks[0]!.examples).toBe(7);
  });

  it("a classifier of the task's width with another task's labels (SST-2's on RTE): refused naming the flag; with it, trained for RTE", async () => {
    const sst2 = folder('sst2-for-rte', tiny(2, 22), { id2label: { 0: 'negative', 1: 'positive' } });
    const out = join(work, 'rte-from-sst2-train', 'model.onnx');
    await expect(runTraining({ ...common, task: 'RTE', student: sst2, output: out })).rejects.toThrow(
      new SettingsError(
        `--task RTE: the model's classifier is another task's (its labels are negative, positive, in ${join(sst2, 'config.json')}): give --new-head to replace it by a new one for RTE`,
      ),
    );
    expect(existsSync(join(work, 'rte-from-sst2-train'))).toBe(false);
    const r = await runTraining({ ...common, task: 'RTE', student: sst2, output: out, newHead: true });
    expect(r.lineage!.student.newClassifier).toEqual({ outputs: 2, seed: 5, reason: '--new-head' });
    expect(readJson(join(work, 'rte-from-sst2-train', 'config.json')).id2label).toEqual({ 0: 'entailment', 1: 'not_entailment' });
  });

  it("a saved Distilled BiLSTM student: its last MLP layer replaced for RTE (3 → 2 outputs) and STS-B; an SST-2 one's labels refused on RTE naming the flag", async () => {
    const mnli = resolveBilstmConfig(parseBilstmSpec('bilstm:hidden=4,embedding=4'), { vocabSize: VOCAB.length, numLabels: 3, maxLength: 24 });
    const lstm = folder('bilstm-mnli', exportBilstm(mnli, randomBilstmWeights(mnli, 4)), { model_type: 'bilstm', ...MNLI_LABELS });
    const refusedOut = join(work, 'bilstm-rte-refused', 'model.onnx');
    await expect(runTraining({ ...common, task: 'RTE', student: lstm, output: refusedOut })).rejects.toThrow(
      new SettingsError('RTE needs 2 outputs; the model has 3: give --new-head to replace its classifier by a new one of 2 outputs'),
    );
    for (const [task, outputs] of [
      ['RTE', 2],
      ['STS-B', 1],
    ] as const) {
      const out = join(work, `bilstm-${task}-new-head`, 'model.onnx');
      const r = await runTraining({ ...common, task, student: lstm, output: out, newHead: true });
      expect(r.lineage!.student.newClassifier).toEqual({ outputs, seed: 5, reason: '--new-head' });
      const written = loadModel(out);
      expect(written.graph.initializers.get('mlp.2.weight')!.dims).toEqual([4, outputs]);
      // (the LSTM and the embedding are the saved student's, trained on)
      expect(written.graph.initializers.get('embedding.weight')!.dims).toEqual([VOCAB.length, 4]);
      const result = await evaluate({ model: out, tasks: [task], glueDir, maxLength: 24 });
      expect(result.tasks[0]!.examples).toBe(task === 'RTE' ? 6 : 7);
    }
    const sst2 = resolveBilstmConfig(parseBilstmSpec('bilstm:hidden=4,embedding=4'), { vocabSize: VOCAB.length, numLabels: 2, maxLength: 24 });
    const sst2Lstm = folder('bilstm-sst2-train', exportBilstm(sst2, randomBilstmWeights(sst2, 5)), {
      model_type: 'bilstm',
      id2label: { 0: 'negative', 1: 'positive' },
    });
    await expect(runTraining({ ...common, task: 'RTE', student: sst2Lstm, output: refusedOut })).rejects.toThrow(
      /^--task RTE: the model's classifier is another task's .*give --new-head/,
    );
    expect(existsSync(join(work, 'bilstm-rte-refused'))).toBe(false);
  });

  it('distillation refuses it (a student model gets a new classifier where its own is not for the task)', async () => {
    const out = join(work, 'distill-new-head', 'model.onnx');
    await expect(runTraining({ ...common, task: 'RTE', teacher: rteTeacher, student: mnliModel, output: out, newHead: true })).rejects.toThrow(
      /^--new-head is for compress train: /,
    );
  });
});
