import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError, ModelLoadError } from '../../src/errors.ts';
import { evaluate, predictionsFromRows, type ProgressEvent } from '../../src/eval/evaluate.ts';
import { predictRows } from '../../src/eval/predict.ts';
import { submissionText } from '../../src/eval/submission.ts';
import { formatTable } from '../../src/eval/report.ts';
import { loadSplit } from '../../src/glue/dataset.ts';
import { MNLI_M, QNLI, RTE, STSB, SST2 } from '../../src/glue/tasks.ts';
import { openSession } from '../../src/runtime/session.ts';
import { FIXTURES, GLUE_DIR, TEACHERS, fixtureTokenizer, glueSubset, hasFixtures, hasGlue, hasTeachers } from '../helpers/paths.ts';
import { WORDS, sentence, writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { SPECIALS, templateSequence, templateSpecial, tokenizerJson } from '../helpers/tokenizer-json.ts';

const DISTILBERT = join(FIXTURES, 'distilbert-seqcls-tiny-torch110-op11.onnx');
const XLMR = join(FIXTURES, 'xlmroberta-crossencoder-tiny-torch27-op14.onnx');

describe('predictionsFromRows', () => {
  it('takes the argmax and maps it through id2label order (MNLI contradiction/entailment/neutral model)', () => {
    // Model outputs are [contradiction, entailment, neutral]; the task order is [entailment, neutral, contradiction].
    const rows = { values: new Float32Array([5, 1, 0, 0, 3, 1, 0, 1, 2]), width: 3, count: 3 };
    expect(Array.from(predictionsFromRows(MNLI_M, rows, { outputToLabel: [2, 0, 1], from: 'id2label' }))).toEqual([2, 0, 1]);
  });
  it('passes regression scores through', () => {
    const rows = { values: new Float32Array([4.5, 0.25]), width: 1, count: 2 };
    expect(Array.from(predictionsFromRows(STSB, rows, { outputToLabel: [0], from: 'canonical' }))).toEqual([4.5, 0.25]);
  });
});

describe('submission files', () => {
  it('write index\\tprediction in the format the GLUE server expects per task', () => {
    expect(submissionText({ task: SST2, ids: ['0', '1'], predictions: [1, 0] })).toBe('index\tprediction\n0\t1\n1\t0\n');
    expect(submissionText({ task: QNLI, ids: ['0', '1'], predictions: [1, 0] })).toBe('index\tprediction\n0\tnot_entailment\n1\tentailment\n');
    expect(submissionText({ task: MNLI_M, ids: ['7'], predictions: [2] })).toBe('index\tprediction\n7\tcontradiction\n');
    expect(submissionText({ task: STSB, ids: ['0'], predictions: [3.14159] })).toBe('index\tprediction\n0\t3.142\n');
  });

  it("clip STS-B scores to the task's range [0, 5], which the server requires (a regressor may score past it)", () => {
    const [lo, hi] = STSB.scoreRange!;
    const text = submissionText({ task: STSB, ids: ['0', '1', '2', '3'], predictions: [-0.4, -0.0004, 5.2, 4.9996] });
    expect(text).toBe(`index\tprediction\n0\t${lo.toFixed(3)}\n1\t${lo.toFixed(3)}\n2\t${hi.toFixed(3)}\n3\t${hi.toFixed(3)}\n`);
  });
});

describe('evaluate: argument checks', () => {
  it('needs --split test for --submission', async () => {
    await expect(evaluate({ model: 'x.onnx', tasks: ['sst2'], split: 'dev', submissionDir: '/tmp/x' })).rejects.toThrow(/add --split test/);
  });
  it('suggests names for an unknown task', async () => {
    await expect(evaluate({ model: 'x.onnx', tasks: ['sst-3'], glueDir: GLUE_DIR })).rejects.toThrow(/Did you mean 'SST-2'/);
  });
  it('names a missing GLUE file before loading the model (a model file there, bytes no ONNX reader takes: located, not read)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'glue-'));
    const model = join(empty, 'x.onnx');
    writeFileSync(model, 'not an onnx model');
    await expect(evaluate({ model, tasks: ['rte'], glueDir: empty })).rejects.toThrow(DataError);
    await expect(evaluate({ model, tasks: ['rte'], glueDir: empty })).rejects.toThrow(/RTE\/dev\.tsv: file not found/);
    // (a path holding no model is the model's refusal, before the data: see 'the model before the data')
    await expect(evaluate({ model: join(empty, 'absent.onnx'), tasks: ['rte'], glueDir: empty })).rejects.toThrow(ModelLoadError);
  });
  it.skipIf(!hasGlue)('reports a missing model (needs ../shared/glue)', async () => {
    await expect(evaluate({ model: '/nonexistent/model.onnx', tasks: ['rte'], glueDir: GLUE_DIR })).rejects.toThrow(ModelLoadError);
  });
  it.skipIf(!hasGlue)('needs a tokenizer for model bytes (needs ../shared/glue)', async () => {
    await expect(evaluate({ model: new Uint8Array([1, 2, 3]), tasks: ['rte'], glueDir: GLUE_DIR })).rejects.toThrow(/needs a tokenizer/);
  });
});

describe.skipIf(!hasGlue || !hasTeachers)('evaluate: teacher model folders (needs ../shared/glue and ../shared/teachers)', () => {
  it('refuses a task the model cannot do, from config.json, before running', async () => {
    // (a task's run says its start first: a refusal after it would be this error, whatever the machine's speed)
    const onProgress = (e: ProgressEvent) => {
      throw new Error(`ran ${e.task.name} before the refusal`);
    };
    await expect(evaluate({ model: join(TEACHERS, 'sst2-L4H256'), tasks: ['mnli'], glueDir: GLUE_DIR, onProgress })).rejects.toThrow(
      /MNLI-m has 3 labels \(entailment, neutral, contradiction\) but .*sst2-L4H256\/config\.json says 2 labels \(its id2label's size, as transformers reads it\)/,
    );
  });

  it('writes a GLUE server submission for the test split (no metrics, no GLUE score)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'submission-'));
    // the first 200 test examples of SST-2 (7 batches, the last one partial), where the whole split (1821) took
    // most of this file's time
    const glue = glueSubset(dir, ['SST-2/test.tsv'], 200);
    const result = await evaluate({ model: join(TEACHERS, 'sst2-L4H256'), tasks: ['SST-2'], split: 'test', glueDir: glue, submissionDir: dir });
    expect(result.tasks[0]!.metrics).toEqual({});
    expect(result.glue.score).toBeNull();
    expect(result.submissionFiles).toEqual([join(dir, 'SST-2.tsv')]);
    const lines = readFileSync(join(dir, 'SST-2.tsv'), 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('index\tprediction');
    expect(lines).toHaveLength(201);
    expect(lines[1]).toMatch(/^0\t[01]$/);
    expect(lines.slice(1).every((l, i) => l.startsWith(`${i}\t`))).toBe(true);
  });

  it('--tasks all scores every task the model can be scored on, and names the others with the reason', async () => {
    // (the first 64 dev examples of each task, where SST-2's whole split took a third of this file's time)
    const devFiles = ['CoLA', 'SST-2', 'MRPC', 'STS-B', 'QQP', 'QNLI', 'RTE', 'WNLI'].map((task) => `${task}/dev.tsv`);
    const glue = glueSubset(mkdtempSync(join(tmpdir(), 'all-tasks-')), [...devFiles, 'MNLI/dev_matched.tsv', 'MNLI/dev_mismatched.tsv'], 64);
    const result = await evaluate({ model: join(TEACHERS, 'sst2-L2H256'), tasks: ['all'], glueDir: glue });
    expect(result.tasks.map((t) => t.task.name)).toEqual(['SST-2']);
    expect(result.glue.score).toBe(result.tasks[0]!.metrics.accuracy);
    const reasons = Object.fromEntries(result.skipped.map((s) => [s.task, s.reason]));
    expect(Object.keys(reasons)).toEqual(['CoLA', 'MRPC', 'STS-B', 'QQP', 'MNLI-m', 'MNLI-mm', 'QNLI', 'RTE', 'WNLI']);
    expect(reasons.CoLA).toMatch(/id2label \{0: negative, 1: positive\} does not name CoLA's labels/);
    expect(reasons['STS-B']).toMatch(/STS-B is a regression task/);
    expect(reasons['MNLI-m']).toMatch(/MNLI-m has 3 labels/);
    expect(formatTable(result).join('\n')).toContain('skipped 9 tasks of all that this model cannot be scored on:\n  CoLA: ');
    // A task named is refused, not skipped, with `all` beside it too.
    for (const tasks of [['SST-2', 'CoLA'], ['all', 'CoLA'], ['all,CoLA']])
      await expect(evaluate({ model: join(TEACHERS, 'sst2-L2H256'), tasks, glueDir: glue }), tasks.join(' ')).rejects.toThrow(/does not name CoLA's labels/);
  });

  it("--tasks all scores a model whose config.json names its finetuning_task on that task only, though its head fits others' labels", async () => {
    // an SST-2 model whose config.json names no classes (LABEL_0, LABEL_1), as run_glue writes it, with finetuning_task
    const dir = mkdtempSync(join(tmpdir(), 'finetuned-'));
    const teacher = join(TEACHERS, 'sst2-L2H256');
    for (const f of ['model.onnx', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'])
      copyFileSync(join(teacher, f), join(dir, f));
    const config = JSON.parse(readFileSync(join(teacher, 'config.json'), 'utf8'));
    const generic = { ...config, id2label: { 0: 'LABEL_0', 1: 'LABEL_1' }, label2id: { LABEL_0: 0, LABEL_1: 1 }, finetuning_task: 'sst2' };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(generic));
    // a small GLUE folder: the first 8 dev examples of SST-2, CoLA and RTE
    const glue = glueSubset(dir, ['SST-2/dev.tsv', 'CoLA/dev.tsv', 'RTE/dev.tsv'], 8);
    try {
      const result = await evaluate({ model: dir, tasks: ['all'], glueDir: glue });
      expect(result.tasks.map((t) => t.task.name)).toEqual(['SST-2']);
      expect(result.glue.score).toBe(result.tasks[0]!.metrics.accuracy);
      const reasons = Object.fromEntries(result.skipped.map((s) => [s.task, s.reason]));
      expect(reasons.CoLA).toBe(
        `${join(dir, 'config.json')}: finetuning_task 'sst2': the model was fine-tuned on SST-2, not CoLA (name CoLA to score it anyway)`,
      );
      expect(reasons.RTE).toMatch(/finetuning_task 'sst2': the model was fine-tuned on SST-2, not RTE/);
      // a task named beside all is scored
      const named = await evaluate({ model: dir, tasks: ['all', 'CoLA'], glueDir: glue });
      expect(named.tasks.map((t) => t.task.name)).toEqual(['CoLA', 'SST-2']);
      // no finetuning_task: every task whose labels the head fits, as before
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...generic, finetuning_task: undefined }));
      expect((await evaluate({ model: dir, tasks: ['all'], glueDir: glue })).tasks.map((t) => t.task.name)).toEqual(['CoLA', 'SST-2', 'RTE']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--tasks all without a GLUE folder says so in one short line', async () => {
    const missing = join(GLUE_DIR, 'no-such-folder');
    await expect(evaluate({ model: join(TEACHERS, 'sst2-L2H256'), tasks: ['all'], glueDir: missing })).rejects.toThrow(
      new RegExp(
        `^GLUE folder ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} not found: set --glue-dir or GLUE_DIR \\(compress data download fetches the data\\)$`,
      ),
    );
  });

  it('refuses AX with a model that is not an MNLI model, advising to train on MNLI (AX has no train split)', async () => {
    const refusal = evaluate({ model: join(TEACHERS, 'sst2-L4H256'), tasks: ['AX'], split: 'test', glueDir: GLUE_DIR });
    await expect(refusal).rejects.toThrow(/AX needs an MNLI model/);
    await expect(refusal).rejects.toThrow(/its labels are SST-2's: give it MNLI-m's classifier first \(compress train \S+ --task MNLI-m --new-head -o OUT\)$/);
  });
});

describe.skipIf(!hasGlue || !hasFixtures)(
  'evaluate: other exporters (random weights: checks plumbing, not accuracy) (needs ../shared/glue and ../shared/fixtures/onnx)',
  () => {
    it('runs DistilBERT (no token_type_ids input) from model bytes, reporting progress', async () => {
      const events: ProgressEvent[] = [];
      const result = await evaluate({
        model: new Uint8Array(readFileSync(DISTILBERT)),
        tokenizer: fixtureTokenizer('distilbert-base-uncased'),
        tasks: ['rte'],
        glueDir: GLUE_DIR,
        maxLength: 64,
        batchSize: 64,
        onProgress: (e) => events.push(e),
      });
      expect(result.model).toBe('<in-memory model>');
      const rte = result.tasks[0]!;
      expect(rte.examples).toBe(277);
      const labels = loadSplit(RTE, 'dev', GLUE_DIR).examples.map((e) => e.label);
      expect(rte.metrics.accuracy).toBe(labels.filter((l, i) => l === rte.predictions[i]).length / labels.length);
      expect(events[0]).toMatchObject({ done: 0, total: 277 });
      expect(events.at(-1)).toMatchObject({ done: 277, total: 277 });
      expect(events.length).toBe(1 + Math.ceil(277 / 64));
    });

    it('refuses question-answering and pretraining heads in one line, naming the head, before any work', async () => {
      for (const [file, head] of [
        ['bert-large-qa-squad-tiny-keras2onnx-op11.onnx', 'question-answering'],
        ['bert-toy-pretraining-torch11-op12.onnx', 'pretraining'],
      ] as const) {
        await expect(
          evaluate({ model: join(FIXTURES, file), tokenizer: fixtureTokenizer('distilbert-base-uncased'), tasks: ['SST-2'], glueDir: GLUE_DIR }),
        ).rejects.toThrow(new RegExp(`${file.replace(/\./g, '\\.')}: a ${head} head; GLUE tasks need a sequence classifier`));
      }
    });

    it('runs an XLM-R cross-encoder (1 output) on STS-B through an opened session, which it leaves open', async () => {
      const session = await openSession(XLMR);
      const result = await evaluate({ model: session, tokenizer: fixtureTokenizer('tiny-xlm-roberta-ce'), tasks: ['STS-B'], glueDir: GLUE_DIR, maxLength: 48 });
      expect(Number.isFinite(result.tasks[0]!.metrics.pearson)).toBe(true);
      await expect(
        evaluate({ model: session, tokenizer: fixtureTokenizer('tiny-xlm-roberta-ce'), tasks: ['SST-2'], glueDir: GLUE_DIR, maxLength: 48 }),
      ).rejects.toThrow(/SST-2 has 2 labels \(negative, positive\) but the model has 1 output$/);
      await session.release();
    });

    it('feeds an int32 model (keras2onnx BERT, inputs in its own order) in int32', async () => {
      const session = await openSession(join(FIXTURES, 'bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx'));
      try {
        // This graph has a fixed sequence length of 7 and a 20-token vocabulary, so the ids are made up.
        const encodings = [0, 1, 2].map((k) => ({ ids: [1, 2 + k, 3, 4, 5, 6, 7], typeIds: [0, 0, 0, 0, 1, 1, 1] }));
        const rows = await predictRows(session, encodings, { batchSize: 2, padId: 0 });
        expect(rows.width).toBe(2);
        expect(rows.count).toBe(3);
        expect(Array.from(rows.values).every(Number.isFinite)).toBe(true);
      } finally {
        await session.release();
      }
    });

    it('gives the same predictions whatever the batch size (bucketing restores file order)', async () => {
      const opts = { model: DISTILBERT, tokenizer: fixtureTokenizer('distilbert-base-uncased'), tasks: ['mrpc'], glueDir: GLUE_DIR, maxLength: 64 } as const;
      const a = await evaluate({ ...opts, batchSize: 1 });
      const b = await evaluate({ ...opts, batchSize: 50 });
      expect(Array.from(b.tasks[0]!.predictions)).toEqual(Array.from(a.tasks[0]!.predictions));
    });
  },
);

describe('evaluate: a sentence pair on a model of one token type', () => {
  it('--tasks all skips the pair tasks, saying why, and scores the rest; named, a pair task is refused before any task is scored', async () => {
    // a BERT of one token type (type_vocab_size 1) whose vocab.txt's BERT template gives a pair's second text type 1;
    // config.json names no classes, so every two-class task's labels fit its head
    const dir = mkdtempSync(join(tmpdir(), 'one-type-'));
    try {
      const model = writeModelFolder(join(dir, 'model'), tinyBert({ typeVocabSize: 1, vocabSize: 5 + WORDS.length }));
      writeFileSync(join(model, 'config.json'), JSON.stringify({ model_type: 'bert', num_labels: 2, max_length: 16 }));
      const glue = join(dir, 'glue');
      writeGlueTask(glue, 'SST-2', 8);
      mkdirSync(join(glue, 'RTE'));
      const rows = Array.from({ length: 8 }, (_, i) => `${i}\t${sentence(i)}\t${sentence(i + 1)}\t${i % 2 ? 'entailment' : 'not_entailment'}`);
      writeFileSync(join(glue, 'RTE', 'dev.tsv'), ['index\tsentence1\tsentence2\tlabel', ...rows].join('\n') + '\n');
      const refusal = `${join(model, 'vocab.txt')} gives token type 1, but ${join(model, 'model.onnx')} has 1 token type: the tokenizer's template is not the model's`;
      const result = await evaluate({ model, tasks: ['all'], glueDir: glue, threads: 1 });
      expect(result.tasks.map((t) => t.task.name)).toEqual(['SST-2']);
      expect(result.skipped.find((s) => s.task === 'RTE')?.reason).toBe(refusal);
      const events: ProgressEvent[] = [];
      const e = await evaluate({ model, tasks: ['SST-2', 'RTE'], glueDir: glue, threads: 1, onProgress: (p) => events.push(p) }).catch((e: unknown) => e);
      expect(e).toBeInstanceOf(DataError);
      expect((e as Error).message).toBe(refusal);
      expect(events).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('evaluate: a tokenizer whose single or pair template tokenizers fails on', () => {
  it.each([
    ['pair', 'SST-2', 'RTE', 'sentence pair (single texts read)'],
    ['single', 'RTE', 'SST-2', 'single text (sentence pairs read)'],
  ] as const)(
    '--tasks all skips the tasks of a broken %s template, saying why, at any length; named, one is refused before any task is scored',
    async (broken, scored, refused, texts) => {
      // (tokenizers reads the file and fails on every text of the template that names a special token special_tokens
      // lacks; the other template's texts read)
      const dir = mkdtempSync(join(tmpdir(), `broken-${broken}-`));
      try {
        const model = writeModelFolder(join(dir, 'model'), tinyBert({ vocabSize: 5 + WORDS.length }));
        writeFileSync(join(model, 'config.json'), JSON.stringify({ model_type: 'bert', num_labels: 2, max_length: 16 }));
        const [cls, sep, missing] = [templateSpecial('[CLS]', 0), templateSpecial('[SEP]', 0), templateSpecial('[X]', 0)];
        const post_processor = {
          type: 'TemplateProcessing',
          single: [cls, templateSequence('A', 0), broken === 'single' ? missing : sep],
          pair: [cls, templateSequence('A', 0), sep, templateSequence('B', 1), broken === 'pair' ? missing : sep],
          special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
        };
        const tokenizer = join(model, 'tokenizer.json');
        writeFileSync(
          tokenizer,
          JSON.stringify({ ...tokenizerJson([...SPECIALS, ...WORDS], { pre_tokenizer: { type: 'BertPreTokenizer' } }), post_processor }),
        );
        const glue = join(dir, 'glue');
        writeGlueTask(glue, 'SST-2', 8);
        mkdirSync(join(glue, 'RTE'));
        const rows = Array.from({ length: 8 }, (_, i) => `${i}\t${sentence(i)}\t${sentence(i + 1)}\t${i % 2 ? 'entailment' : 'not_entailment'}`);
        writeFileSync(join(glue, 'RTE', 'dev.tsv'), ['index\tsentence1\tsentence2\tlabel', ...rows].join('\n') + '\n');
        const refusal = `${tokenizer}: post_processor (TemplateProcessing): ${broken}: the special token '[X]' is not in special_tokens, so tokenizers fails on every ${texts}`;
        // (config.json's max_length, or a --max-length: the same skip)
        for (const maxLength of [undefined, 16]) {
          const result = await evaluate({ model, tasks: ['all'], glueDir: glue, threads: 1, maxLength });
          expect(result.tasks.map((t) => t.task.name)).toEqual([scored]);
          expect(result.skipped.find((s) => s.task === refused)?.reason).toBe(refusal);
          const events: ProgressEvent[] = [];
          const e = await evaluate({ model, tasks: [scored, refused], glueDir: glue, threads: 1, maxLength, onProgress: (p) => events.push(p) }).catch(
            (e: unknown) => e,
          );
          expect(e).toBeInstanceOf(DataError);
          expect((e as Error).message).toBe(refusal);
          expect(events).toEqual([]);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('evaluate: --tasks all on a model fine-tuned on one task, under a GLUE folder of that task alone', () => {
  it("skips each other task for the model's reason (its finetuning_task, its labels), not for its missing data; a task named is refused for its data", async () => {
    // config.json names no classes (num_labels 2): only finetuning_task keeps it off CoLA's, RTE's … two labels
    const dir = mkdtempSync(join(tmpdir(), 'finetuned-alone-'));
    try {
      const model = writeModelFolder(join(dir, 'model'), tinyBert());
      const config = join(model, 'config.json');
      writeFileSync(config, JSON.stringify({ model_type: 'bert', num_labels: 2, max_length: 16, finetuning_task: 'sst2' }));
      const glue = join(dir, 'glue');
      writeGlueTask(glue, 'SST-2', 8);
      const result = await evaluate({ model, tasks: ['all'], glueDir: glue, threads: 1 });
      expect(result.tasks.map((t) => t.task.name)).toEqual(['SST-2']);
      const reasons = Object.fromEntries(result.skipped.map((s) => [s.task, s.reason]));
      expect(Object.keys(reasons)).toEqual(['CoLA', 'MRPC', 'STS-B', 'QQP', 'MNLI-m', 'MNLI-mm', 'QNLI', 'RTE', 'WNLI']);
      for (const task of ['CoLA', 'MRPC', 'QQP', 'QNLI', 'RTE', 'WNLI'])
        expect(reasons[task]).toBe(`${config}: finetuning_task 'sst2': the model was fine-tuned on SST-2, not ${task} (name ${task} to score it anyway)`);
      expect(reasons['STS-B']).toMatch(/^STS-B is a regression task \(1 output\) but .*config\.json says 2 labels/);
      expect(reasons['MNLI-m']).toMatch(/^MNLI-m has 3 labels/);
      // named beside all, CoLA is refused for its data
      await expect(evaluate({ model, tasks: ['all', 'CoLA'], glueDir: glue, threads: 1 })).rejects.toThrow(
        new DataError(`${join(glue, 'CoLA', 'dev.tsv')}: file not found (GLUE CoLA dev; set --glue-dir or GLUE_DIR)`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('evaluate: the model before the data', () => {
  it("a folder holding a safetensors checkpoint and no ONNX model is refused in its one line ('export it first'), where a missing GLUE file came first", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eval-model-first-'));
    try {
      const model = join(dir, 'bert');
      mkdirSync(model);
      writeFileSync(join(model, 'config.json'), JSON.stringify({ model_type: 'bert', num_labels: 2 }));
      writeFileSync(join(model, 'model.safetensors'), '');
      const exportFirst = `${model}: folder has no model.onnx (nor onnx/model.onnx); it holds a safetensors checkpoint: export it to ONNX first (compress export ${model} -o OUT/model.onnx)`;
      // (no GLUE folder at all, and one without the task's file; named tasks and `all`)
      const glue = join(dir, 'glue');
      mkdirSync(glue);
      for (const tasks of [['SST-2'], ['all']]) {
        await expect(evaluate({ model, tasks, glueDir: join(dir, 'absent') })).rejects.toThrow(new ModelLoadError(exportFirst));
        await expect(evaluate({ model, tasks, glueDir: glue })).rejects.toThrow(new ModelLoadError(exportFirst));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
