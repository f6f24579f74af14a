/**
 * `--format transformers.js`: the folders `compress` and `compress export` write are loaded by
 * @huggingface/transformers' `pipeline('text-classification', FOLDER)` in Node (remote models off), and its labels
 * and scores on the first 200 SST-2 dev sentences match the project's own predictions: the softmax of the logits
 * `compress eval` computes (predictRows over loadTokenizer's encodings, truncated to config.json's max_length).
 *
 * Tolerance: both sides run the same graph on the same token ids with the same onnxruntime (one sentence per call,
 * so dynamic int8 sees the same activation ranges; fp32 is checked in one padded batch on transformers.js's side);
 * they differ only in session options (graph fusions, threads), which move float32 probabilities by rounding: at
 * most 4e-8 measured, for fp32, int8 and int4 alike. 1e-5 leaves 250× room for that and still catches a wrong
 * tokenizer, label order, mask or model file: the int8 and fp32 files of the same pruned model differ by 1.4e-2 and
 * disagree on 2 of 200 labels.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AutoModelForSequenceClassification, AutoTokenizer, env, pipeline, type TextClassificationPipeline } from '@huggingface/transformers';
import { writeHuggingFaceFolder } from '../../src/bert/build-hf.ts';
import { randomBertWeights } from '../../src/bert/build-weights.ts';
import { compressToTransformersJs, exportToTransformersJs, transformersJsConfig } from '../../src/export/transformers-js.ts';
import { compressFile } from '../../src/export/compress.ts';
import { configFromHuggingFace } from '../../src/bert/config.ts';
import { FAMILY_JSONS, writeFamilyFolder } from '../helpers/family-folders.ts';
import { predictRows } from '../../src/eval/predict.ts';
import { readModelConfig } from '../../src/eval/model-files.ts';
import { classifierArchitecture } from '../../src/eval/output-config.ts';
import { loadTokenizer, vocabTokenizerJson } from '../../src/eval/tokenizer.ts';
import { loadSplit } from '../../src/glue/dataset.ts';
import { getTask } from '../../src/glue/registry.ts';
import { renameValue } from '../../src/onnx/analysis.ts';
import { cloneModel, loadModel } from '../../src/onnx/index.ts';
import { saveModel } from '../../src/onnx/save.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { openSession } from '../../src/runtime/session.ts';
import { FIXTURES, GLUE_DIR, TEACHERS, hasGlue } from '../helpers/paths.ts';
import { WORDS, sentence, writeModelFolder } from '../helpers/model-folder.ts';
import { perturbedWeights, tinyBert, tinyBertConfig } from '../helpers/models.ts';
import { refusal } from '../helpers/refusal.ts';
import { runMain } from '../helpers/cli.ts';
import { toFloat16 } from '../helpers/float16.ts';
import { DataType } from '../../src/onnx/dtype.ts';

registerAllPasses();
env.allowRemoteModels = false;

const TEACHER = join(TEACHERS, 'sst2-L2H256');
const TOLERANCE = 1e-5;
/**
 * The limit of a test that compresses the SST-2 teacher and scores 200 sentences in both runtimes: a guard against a
 * hang, nothing is timed. The first takes about 14 s alone (9 s of CPU in the compress process, 5 s of scoring); beside
 * a loaded machine's other work (CI's two workers, load ~20 on 2 cores) they took 71-122 s, past the 60 s and 120 s
 * they were given.
 */
const TEACHER_TEST_MS = 300_000;
const dir = mkdtempSync(join(tmpdir(), 'bc-tjs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sentences = (): string[] =>
  hasGlue
    ? loadSplit(getTask('SST-2'), 'dev', GLUE_DIR)
        .examples.slice(0, 200)
        .map((e) => e.textA)
    : [];

/** Per sentence: label name → probability. */
type Scores = Array<Map<string, number>>;

/** The project's scores: softmax of the logits evaluation computes for `onnx`, tokenized from `sideDir` (one per batch). */
async function projectScores(onnx: string, sideDir: string, texts: readonly string[]): Promise<Scores> {
  const tokenizer = loadTokenizer(sideDir);
  const config = readModelConfig(sideDir);
  const encodings = texts.map((t) => tokenizer.encode(t, null, config.maxLength ?? 128));
  const session = await openSession(onnx);
  try {
    const rows = await predictRows(session, encodings, { batchSize: 1, padId: tokenizer.padId });
    return texts.map((_, i) => {
      const logits = Array.from(rows.values.subarray(i * rows.width, (i + 1) * rows.width));
      const max = Math.max(...logits);
      const exp = logits.map((l) => Math.exp(l - max));
      const sum = exp.reduce((a, b) => a + b, 0);
      return new Map(exp.map((e, j) => [config.id2label?.get(j) ?? `LABEL_${j}`, e / sum]));
    });
  } finally {
    await session.release();
  }
}

/** transformers.js's scores for each text (one call per text, or one batched call), and the dtype it loaded. */
async function pipelineScores(folder: string, texts: readonly string[], opts: { dtype?: 'fp32' | 'fp16' | 'q8' | 'q4'; batched?: boolean } = {}) {
  const p = (await pipeline('text-classification', folder, opts.dtype ? { dtype: opts.dtype } : {})) as TextClassificationPipeline;
  try {
    type Out = Array<{ label: string; score: number }>;
    const results: Out[] = opts.batched
      ? ((await p([...texts], { top_k: null })) as unknown as Out[])
      : await texts.reduce<Promise<Out[]>>(async (acc, t) => [...(await acc), (await p(t, { top_k: null })) as unknown as Out], Promise.resolve([]));
    const loaded = (p.model.sessions.model as unknown as { config: { dtype: string } }).config.dtype;
    return { loaded, scores: results.map((r): Map<string, number> => new Map(r.map((x) => [x.label, x.score]))), top: results.map((r) => r[0]!.label) };
  } finally {
    await p.dispose();
  }
}

/** Largest score difference, and the examples whose top label differs (ties within 2·tolerance excepted). */
function compare(ours: Scores, theirs: { scores: Scores; top: string[] }): { maxDiff: number; labelMismatches: number[] } {
  let maxDiff = 0;
  const labelMismatches: number[] = [];
  ours.forEach((row, i) => {
    expect([...theirs.scores[i]!.keys()].sort()).toEqual([...row.keys()].sort());
    for (const [label, p] of row) maxDiff = Math.max(maxDiff, Math.abs(p - theirs.scores[i]!.get(label)!));
    const sorted = [...row].sort((a, b) => b[1] - a[1]);
    if (sorted[0]![0] !== theirs.top[i] && sorted[0]![1] - sorted[1]![1] > 2 * TOLERANCE) labelMismatches.push(i);
  });
  return { maxDiff, labelMismatches };
}

const listFiles = (d: string, prefix = ''): string[] =>
  readdirSync(join(d, prefix), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(d, join(prefix, e.name)) : [join(prefix, e.name)]))
    .sort();

const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'));

describe.skipIf(!hasGlue || !existsSync(join(TEACHER, 'model.onnx')))('--format transformers.js on the SST-2 teacher', () => {
  const texts = sentences();

  it(
    'compress --prune-heads 0.5 --quantize int8: model_quantized.onnx by default, model.onnx for fp32, both match the project',
    async () => {
      const out = join(dir, 'pruned-int8');
      const r = await runMain([join(TEACHER, 'model.onnx'), '--prune-heads', '0.5', '--quantize', 'int8', '--format', 'transformers.js', '-o', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/wrote .*pruned-int8: config\.json, onnx\/model\.onnx/);
      expect(listFiles(out)).toEqual([
        'config.json',
        'onnx/model.onnx',
        'onnx/model.onnx.json',
        'onnx/model_quantized.onnx',
        'onnx/model_quantized.onnx.json',
        'special_tokens_map.json',
        'tokenizer.json',
        'tokenizer_config.json',
      ]);
      const config = readJson(join(out, 'config.json'));
      expect(config.id2label).toEqual({ 0: 'negative', 1: 'positive' });
      expect(config['transformers.js_config']).toEqual({ dtype: 'q8' });
      expect(readJson(join(out, 'tokenizer_config.json')).model_max_length).toBe(64); // config.json's max_length
      const q8Lineage = readJson(join(out, 'onnx/model_quantized.onnx.json'));
      expect(q8Lineage.passes.map((p: { step: { pass: string } }) => p.step.pass)).toEqual(['prune-heads', 'quantize']);
      expect(q8Lineage.output.path).toBe(join(out, 'onnx/model_quantized.onnx'));
      expect(readJson(join(out, 'onnx/model.onnx.json')).passes.map((p: { step: { pass: string } }) => p.step.pass)).toEqual(['prune-heads']);

      const q8 = await pipelineScores(out, texts);
      expect(q8.loaded).toBe('q8');
      const q8Ours = await projectScores(join(out, 'onnx/model_quantized.onnx'), TEACHER, texts);
      const q8Cmp = compare(q8Ours, q8);
      expect(q8Cmp.labelMismatches).toEqual([]);
      expect(q8Cmp.maxDiff).toBeLessThan(TOLERANCE);
      expect(new Set(q8.top)).toEqual(new Set(['negative', 'positive']));

      // fp32 in one padded batch of all 200 (float32 has no activation ranges to keep per sentence): the pipeline loads
      // model.onnx, and the attention mask reaches the model
      const fp32 = await pipelineScores(out, texts, { dtype: 'fp32', batched: true });
      expect(fp32.loaded).toBe('fp32');
      const fpOurs = await projectScores(join(out, 'onnx/model.onnx'), TEACHER, texts);
      const fpCmp = compare(fpOurs, fp32);
      expect(fpCmp.labelMismatches).toEqual([]);
      expect(fpCmp.maxDiff).toBeLessThan(TOLERANCE);
      // The two files are different models: the fp32 pipeline did load model.onnx, not the int8 one.
      expect(compare(fpOurs, q8).maxDiff).toBeGreaterThan(10 * TOLERANCE);
      // (the compress process takes about 9 s of CPU, 4 s of it loading the CLI's sources through tsx, and 600
      // single-sentence runs and one batch of 200 about 5 s)
    },
    TEACHER_TEST_MS,
  );

  it(
    '--quantize int4-block:32 writes onnx/model_q4.onnx, loaded with dtype q4',
    async () => {
      const out = join(dir, 'int4');
      const res = await compressToTransformersJs({
        input: join(TEACHER, 'model.onnx'),
        output: out,
        steps: [{ pass: 'quantize', settings: { mode: 'int4-block:32' } }],
      });
      expect(res.models).toEqual([
        { dtype: 'fp32', file: 'onnx/model.onnx' },
        { dtype: 'q4', file: 'onnx/model_q4.onnx' },
      ]);
      expect(existsSync(join(out, 'onnx/model_q4.onnx'))).toBe(true);
      expect(existsSync(join(out, 'onnx/model_quantized.onnx'))).toBe(false);
      expect(loadModel(join(out, 'onnx/model_q4.onnx')).graph.nodes.some((n) => n.opType === 'MatMulNBits')).toBe(true);
      expect(readJson(join(out, 'config.json'))['transformers.js_config']).toEqual({ dtype: 'q4' });
      const q4 = await pipelineScores(out, texts, { dtype: 'q4' });
      expect(q4.loaded).toBe('q4');
      const cmp = compare(await projectScores(join(out, 'onnx/model_q4.onnx'), TEACHER, texts), q4);
      expect(cmp.labelMismatches).toEqual([]);
      expect(cmp.maxDiff).toBeLessThan(TOLERANCE);
    },
    TEACHER_TEST_MS,
  );

  it(
    '--quantize float16 writes onnx/model_fp16.onnx, loaded by default (dtype fp16) with float32 logits, and matches the project',
    async () => {
      const out = join(dir, 'float16');
      const res = await compressToTransformersJs({
        input: join(TEACHER, 'model.onnx'),
        output: out,
        steps: [{ pass: 'quantize', settings: { mode: 'float16' } }],
      });
      expect(res.models).toEqual([
        { dtype: 'fp32', file: 'onnx/model.onnx' },
        { dtype: 'fp16', file: 'onnx/model_fp16.onnx' },
      ]);
      expect(existsSync(join(out, 'onnx/model_quantized.onnx'))).toBe(false);
      expect(readJson(join(out, 'config.json'))['transformers.js_config']).toEqual({ dtype: 'fp16' });
      const fp16 = await pipelineScores(out, texts);
      expect(fp16.loaded).toBe('fp16');
      const cmp = compare(await projectScores(join(out, 'onnx/model_fp16.onnx'), TEACHER, texts), fp16);
      expect(cmp.labelMismatches).toEqual([]);
      expect(cmp.maxDiff).toBeLessThan(TOLERANCE);
    },
    TEACHER_TEST_MS,
  );

  it(
    'a transformers.js folder compressed to a plain .onnx: its config.json and tokenizer (above onnx/) go beside OUT, and the CLI names them',
    async () => {
      const out = join(dir, 'from-folder', 'm.onnx');
      const r = await runMain([join(dir, 'int4'), '--prune-ffn', '0.25', '-o', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(readdirSync(join(dir, 'from-folder')).sort()).toEqual(
        ['config.json', 'm.onnx', 'm.onnx.json', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json'].filter(
          (f) => f.startsWith('m.') || existsSync(join(dir, 'int4', f)),
        ),
      );
      expect(existsSync(join(dir, 'from-folder', 'tokenizer.json')) || existsSync(join(dir, 'from-folder', 'vocab.txt'))).toBe(true);
      expect(r.stdout).toMatch(
        /^wrote .*m\.onnx and .*m\.onnx\.json \(and beside them: config\.json with this model's shape; from the input's folder: [^)]*\)$/m,
      );
    },
    TEACHER_TEST_MS,
  );

  it('refuses a non-empty or file destination before any work, leaving it as it was', async () => {
    // (in a folder of its own: what another test's compress left beside its output is not this refusal's)
    const parent = join(dir, 'refused-destination');
    const full = join(parent, 'full');
    mkdirSync(full, { recursive: true });
    writeFileSync(join(full, 'keep.txt'), 'x');
    const input = join(TEACHER, 'model.onnx');
    const steps = [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }];
    const msg = await refusalAsync(() => compressToTransformersJs({ input, output: full, steps }));
    expect(msg).toMatch(/not empty and not a transformers\.js folder compress wrote \(keep\.txt is none of its files\); give a new or empty folder$/);
    expect(readdirSync(full)).toEqual(['keep.txt']);
    expect(await refusalAsync(() => compressToTransformersJs({ input, output: join(full, 'keep.txt'), steps }))).toMatch(/is a file; .*-o is the folder/);
    expect(readdirSync(parent)).toEqual(['full']); // (no staged .compress-* folder beside it)
  });
});

describe('--format transformers.js from other sources', () => {
  it('compress export of a safetensors folder with only vocab.txt: tokenizer.json built, LABEL_i, matches the project', async () => {
    const words = hasGlue ? frequentWords(sentences(), 123) : ['the', 'a', 'film', 'good', 'bad'];
    const texts = hasGlue ? sentences() : words.map((_, i) => words.slice(i, i + 4).join(' '));
    const config = tinyBertConfig();
    const hf = join(dir, 'hf');
    writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 3, std: 0.5 }));
    const hfConfig = readJson(join(hf, 'config.json'));
    delete hfConfig.id2label;
    delete hfConfig.label2id;
    writeFileSync(join(hf, 'config.json'), JSON.stringify(hfConfig));
    writeFileSync(join(hf, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words].join('\n') + '\n');
    const out = join(dir, 'exported');
    const r = await runMain(['export', hf, '--format', 'transformers.js', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(listFiles(out)).toEqual(['config.json', 'onnx/model.onnx', 'onnx/model.onnx.json', 'tokenizer.json', 'tokenizer_config.json']);
    const written = readJson(join(out, 'config.json'));
    expect(written.id2label).toEqual({ 0: 'LABEL_0', 1: 'LABEL_1' });
    expect(written.label2id).toEqual({ LABEL_0: 0, LABEL_1: 1 });
    expect(written['transformers.js_config']).toEqual({ dtype: 'fp32' });
    expect(readJson(join(out, 'tokenizer_config.json'))).toMatchObject({ pad_token: '[PAD]', model_max_length: 64 });
    const theirs = await pipelineScores(out, texts);
    expect(theirs.loaded).toBe('fp32');
    const cmp = compare(await projectScores(join(out, 'onnx/model.onnx'), hf, texts), theirs);
    expect(cmp.labelMismatches).toEqual([]);
    expect(cmp.maxDiff).toBeLessThan(TOLERANCE);
    expect(new Set(theirs.top)).toEqual(new Set(['LABEL_0', 'LABEL_1']));
  });

  it("a sentence pair's second segment gets token type 1 in transformers.js as in eval, the tokenizer's class named from config.json's model_type when its tokenizer_config.json names none, where transformers.js's base tokenizer returned no token_type_ids and the model read type 0", async () => {
    const config = tinyBertConfig();
    const hf = join(dir, 'hf-pair');
    writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 5, std: 0.5 }));
    writeFileSync(join(hf, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS].join('\n') + '\n');
    writeFileSync(join(hf, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true })); // as bert-base-uncased's
    const out = join(dir, 'exported-pair');
    await exportToTransformersJs(hf, out);
    expect(readJson(join(out, 'tokenizer_config.json')).tokenizer_class).toBe('BertTokenizer');
    const tokenizer = await AutoTokenizer.from_pretrained(out);
    const model = await AutoModelForSequenceClassification.from_pretrained(out, { dtype: 'fp32' });
    const ours = loadTokenizer(hf);
    const session = await openSession(join(out, 'onnx/model.onnx'));
    try {
      for (let i = 0; i < 6; i++) {
        const [a, b] = [sentence(2 * i), sentence(2 * i + 1)];
        const encoding = ours.encode(a, b, 64);
        const inputs = tokenizer(a, { text_pair: b });
        const theirs = Array.from((await model(inputs)).logits.data as Float32Array);
        const rows = await predictRows(session, [encoding], { batchSize: 1, padId: ours.padId });
        theirs.forEach((v, j) => expect(v).toBeCloseTo(rows.values[j]!, 5));
        expect(inputs.token_type_ids && Array.from(inputs.token_type_ids.data as BigInt64Array, Number)).toEqual(encoding.typeIds);
      }
    } finally {
      await session.release();
      await model.dispose();
    }
  });

  it("each model file's lineage has the fields a compress output's has, and no copiedFiles (nothing is copied beside a folder's model file), where it carried an always-empty copiedFiles: []", async () => {
    const src = writeModelFolder(join(dir, 'copied-src'), tinyBert({}, { std: 0.3 }));
    const out = join(dir, 'copied');
    const res = await compressToTransformersJs({ input: join(src, 'model.onnx'), output: out, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] });
    expect(res.lineage).not.toHaveProperty('copiedFiles');
    for (const file of ['onnx/model.onnx.json', 'onnx/model_quantized.onnx.json']) expect(readJson(join(out, file))).not.toHaveProperty('copiedFiles');
  });

  it('runs the steps before the first quantize once for both models, each the same as its own compress run', async () => {
    const src = writeModelFolder(join(dir, 'shared-src'), tinyBert({}, { std: 0.3 }));
    const input = join(src, 'model.onnx');
    const steps = [
      { pass: 'prune-ffn', settings: { ratio: 0.5 } },
      { pass: 'prune-heads', settings: { ratio: 0.5 } },
      { pass: 'quantize', settings: { mode: 'int8' } },
      { pass: 'drop-layers', settings: { keep: 'every-other' } },
    ];
    const lines: string[] = [];
    const out = join(dir, 'shared');
    const res = await compressToTransformersJs({ input, output: out, steps, context: { log: (l) => lines.push(l) } });
    expect(res.models.map((m) => m.dtype)).toEqual(['fp32', 'q8']);
    expect(lines.filter((l) => l === 'prune-ffn: running')).toHaveLength(1);
    expect(lines.filter((l) => l === 'prune-heads: running')).toHaveLength(1);
    expect(lines.filter((l) => l === 'drop-layers: running')).toHaveLength(2);
    expect(lines).toContain('reusing the first 2 step(s) of the previous run');
    // Each file is what compressing with its own steps writes, and its lineage lists every pass.
    const alone = async (name: string, s: typeof steps) => (await compressFile({ input, output: join(dir, name, 'model.onnx'), steps: s })).output.sha256;
    const fp = readJson(join(out, 'onnx/model.onnx.json'));
    const q8 = readJson(join(out, 'onnx/model_quantized.onnx.json'));
    expect(fp.output.sha256).toBe(
      await alone(
        'shared-fp',
        steps.filter((x) => x.pass !== 'quantize'),
      ),
    );
    expect(q8.output.sha256).toBe(await alone('shared-q8', steps));
    expect(q8.passes.map((x: { step: { pass: string } }) => x.step.pass)).toEqual(['prune-ffn', 'prune-heads', 'quantize', 'drop-layers']);
  });

  it('inputs and scores output under other names are renamed to input_ids, attention_mask, token_type_ids, logits', async () => {
    const model = cloneModel(tinyBert({}, { std: 0.3 }));
    const names: Record<string, string> = { input_ids: 'ids', attention_mask: 'mask', token_type_ids: 'segment_ids', logits: 'scores' };
    for (const [from, to] of Object.entries(names)) renameValue(model.graph, from, to);
    const src = writeModelFolder(join(dir, 'renamed-src'), model);
    const out = join(dir, 'renamed');
    const res = await compressToTransformersJs({ input: join(src, 'model.onnx'), output: out, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] });
    expect(res.renamed).toEqual({ ids: 'input_ids', mask: 'attention_mask', segment_ids: 'token_type_ids', scores: 'logits' });
    const graph = loadModel(join(out, 'onnx/model.onnx')).graph;
    expect(graph.inputs.map((i) => i.name).sort()).toEqual(['attention_mask', 'input_ids', 'token_type_ids']);
    expect(graph.outputs.map((o) => o.name)).toContain('logits');
    const lineage = readJson(join(out, 'onnx/model.onnx.json'));
    expect(lineage.input.path).toBe(join(src, 'model.onnx'));
    expect(lineage.renamedForTransformersJs).toEqual(res.renamed);
    const texts = Array.from({ length: 20 }, (_, i) => sentence(i));
    const cmp = compare(await projectScores(join(out, 'onnx/model.onnx'), src, texts), await pipelineScores(out, texts));
    expect(cmp.labelMismatches).toEqual([]);
    expect(cmp.maxDiff).toBeLessThan(TOLERANCE);
  });

  it('int32 token inputs are taken as int64, as transformers.js feeds them, and cast to int32 inside: the logits of the int32 original, in onnxruntime and transformers.js', async () => {
    // (transformers.js's tokenizer gives BigInt64Array tensors, which sessionRun feeds as they are; an int32 graph
    // failed in onnxruntime on them, and was refused as "input 'input_ids' is int32; transformers.js feeds int64")
    const model = cloneModel(tinyBert({}, { std: 0.3 }));
    for (const v of model.graph.inputs) v.elemType = DataType.INT32;
    const src = writeModelFolder(join(dir, 'int32-src'), model);
    const out = join(dir, 'int32');
    const res = await compressToTransformersJs({ input: join(src, 'model.onnx'), output: out, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] });
    expect(res.models.map((m) => m.file)).toEqual(['onnx/model.onnx', 'onnx/model_quantized.onnx']);
    for (const file of res.models.map((m) => m.file)) {
      const graph = loadModel(join(out, file)).graph;
      expect(graph.inputs.map((i) => [i.name, i.elemType])).toEqual([
        ['input_ids', DataType.INT64],
        ['attention_mask', DataType.INT64],
        ['token_type_ids', DataType.INT64],
      ]);
      // each read once, by its Cast to int32
      for (const input of graph.inputs) {
        const readers = graph.nodes.filter((n) => n.inputs.includes(input.name));
        expect(
          readers.map((n) => [n.opType, n.attributes.to]),
          input.name,
        ).toEqual([['Cast', { type: 'int', value: DataType.INT32 }]]);
      }
    }
    const texts = Array.from({ length: 20 }, (_, i) => sentence(i));
    // the float file gives the int32 original's logits, fed int64 by onnxruntime and by transformers.js
    const original = await projectScores(join(src, 'model.onnx'), src, texts);
    expect(await projectScores(join(out, 'onnx/model.onnx'), out, texts)).toEqual(original);
    const fp32 = compare(original, await pipelineScores(out, texts, { dtype: 'fp32' }));
    expect(fp32.labelMismatches).toEqual([]);
    expect(fp32.maxDiff).toBeLessThan(TOLERANCE);
    const q8 = await pipelineScores(out, texts);
    expect(q8.loaded).toBe('q8');
    const cmp = compare(await projectScores(join(out, 'onnx/model_quantized.onnx'), out, texts), q8);
    expect(cmp.labelMismatches).toEqual([]);
    expect(cmp.maxDiff).toBeLessThan(TOLERANCE);
  });

  it('a float model past the external-data threshold (2 GiB) keeps its weights in onnx/model.onnx_data, named in config.json, which transformers.js loads', async () => {
    const src = writeModelFolder(join(dir, 'external-src'), tinyBert({}, { std: 0.3 }));
    const out = join(dir, 'external');
    const steps = [
      { pass: 'prune-ffn', settings: { ratio: 0.5 } },
      { pass: 'quantize', settings: { mode: 'int8' } },
    ];
    // a threshold the fp32 model passes and its int8 one does not, as a 2.2 GB float model and its 0.6 GB int8 one do
    const fpBytes = (await compressFile({ input: join(src, 'model.onnx'), output: join(dir, 'external-fp', 'model.onnx'), steps: steps.slice(0, 1) })).after
      .bytes;
    const res = await compressToTransformersJs({ input: join(src, 'model.onnx'), output: out, steps, externalDataThreshold: fpBytes / 2 });
    expect(res.models.map((m) => m.file)).toEqual(['onnx/model.onnx', 'onnx/model_quantized.onnx']);
    expect(
      readdirSync(join(out, 'onnx'))
        .filter((f) => !f.endsWith('.json'))
        .sort(),
    ).toEqual(['model.onnx', 'model.onnx_data', 'model_quantized.onnx']);
    expect(readJson(join(out, 'config.json'))['transformers.js_config']).toEqual({ dtype: 'q8', use_external_data_format: { 'model.onnx': true } });
    expect(readJson(join(out, 'onnx/model.onnx.json')).output.dataFile).toBe(join(out, 'onnx/model.onnx_data'));
    const texts = Array.from({ length: 20 }, (_, i) => sentence(i));
    const fp32 = await pipelineScores(out, texts, { dtype: 'fp32' });
    expect(fp32.loaded).toBe('fp32');
    const cmp = compare(await projectScores(join(out, 'onnx/model.onnx'), src, texts), fp32);
    expect(cmp.labelMismatches).toEqual([]);
    expect(cmp.maxDiff).toBeLessThan(TOLERANCE);
    expect((await pipelineScores(out, texts)).loaded).toBe('q8');
  });

  it('a quantized model past the threshold too keeps its weights in onnx/model_quantized.onnx_data: the files saveModel writes for it, no staged file left', async () => {
    const src = writeModelFolder(join(dir, 'external-q-src'), tinyBert({}, { std: 0.3 }));
    const out = join(dir, 'external-q');
    const steps = [{ pass: 'quantize', settings: { mode: 'int8' } }];
    const res = await compressToTransformersJs({ input: join(src, 'model.onnx'), output: out, steps, externalDataThreshold: 1 });
    expect(res.models.map((m) => m.file)).toEqual(['onnx/model.onnx', 'onnx/model_quantized.onnx']);
    expect(readdirSync(join(out, 'onnx')).sort()).toEqual([
      'model.onnx',
      'model.onnx.json',
      'model.onnx_data',
      'model_quantized.onnx',
      'model_quantized.onnx.json',
      'model_quantized.onnx_data',
    ]);
    const lineage = readJson(join(out, 'onnx/model_quantized.onnx.json'));
    expect(lineage.output.dataFile).toBe(join(out, 'onnx/model_quantized.onnx_data'));
    expect(lineage.output.sha256).toBe(
      createHash('sha256')
        .update(readFileSync(join(out, 'onnx/model_quantized.onnx')))
        .digest('hex'),
    );
    // (byte for byte what saving the model there writes: the data file renamed, its .onnx naming it)
    const again = join(dir, 'external-q-again');
    mkdirSync(again);
    saveModel(loadModel(join(out, 'onnx/model_quantized.onnx')), join(again, 'model_quantized.onnx'), {
      externalData: true,
      dataFile: 'model_quantized.onnx_data',
    });
    for (const f of ['model_quantized.onnx', 'model_quantized.onnx_data'])
      expect(readFileSync(join(out, 'onnx', f)).equals(readFileSync(join(again, f)))).toBe(true);
    expect(readJson(join(out, 'config.json'))['transformers.js_config'].use_external_data_format).toEqual({ 'model.onnx': true, 'model_quantized.onnx': true });
    expect(
      (
        await pipelineScores(
          out,
          Array.from({ length: 4 }, (_, i) => sentence(i)),
        )
      ).loaded,
    ).toBe('q8');
  });
});

describe('--format transformers.js for every checkpoint family', () => {
  const albert = {
    model_type: 'albert',
    architectures: ['AlbertForSequenceClassification'],
    vocab_size: 128,
    embedding_size: 16,
    hidden_size: 32,
    num_hidden_layers: 4,
    num_hidden_groups: 2,
    num_attention_heads: 4,
    intermediate_size: 48,
    inner_group_num: 1,
    hidden_act: 'gelu_new',
    max_position_embeddings: 64,
    type_vocab_size: 2,
    num_labels: 2,
  };
  const families: Array<[string, Record<string, unknown>]> = [
    ['distilbert', FAMILY_JSONS.distilbert!],
    ['roberta', FAMILY_JSONS.roberta!],
    ['electra (E < H)', FAMILY_JSONS['electra E<H']!],
    ['albert (2 shared groups)', albert],
  ];
  it.each(families)('%s: compress export --format transformers.js loads in pipeline() and matches the project', async (name, json) => {
    const config = configFromHuggingFace(json);
    const hf = writeFamilyFolder(dir, json, perturbedWeights(config, 13), config);
    writeFileSync(join(hf, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS].join('\n') + '\n');
    const out = join(dir, `family-${name.split(' ')[0]}`);
    await exportToTransformersJs(hf, out);
    const written = readJson(join(out, 'config.json'));
    expect(written.model_type).toBe(json.model_type);
    const texts = Array.from({ length: 24 }, (_, i) => sentence(i));
    const theirs = await pipelineScores(out, texts);
    const cmp = compare(await projectScores(join(out, 'onnx/model.onnx'), hf, texts), theirs);
    expect(cmp.labelMismatches).toEqual([]);
    expect(cmp.maxDiff).toBeLessThan(TOLERANCE);
    // the labels are the config's (DistilBERT's config names three)
    const labels = json.id2label ? Object.values(json.id2label as Record<string, string>) : ['LABEL_0', 'LABEL_1'];
    expect([...theirs.scores[0]!.keys()].sort()).toEqual([...labels].sort());
  });

  it('a pretraining checkpoint (ElectraForPreTraining, no classifier): the head seeded, config.json names the classifier, pipeline() loads it', async () => {
    const json = { ...FAMILY_JSONS['electra E<H']!, architectures: ['ElectraForPreTraining'] };
    const config = configFromHuggingFace(json);
    const hf = writeFamilyFolder(dir, json, perturbedWeights(config, 14), config, new Map(), (k) => (k.startsWith('classifier.') ? undefined : k));
    writeFileSync(join(hf, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS].join('\n') + '\n');
    const out = join(dir, 'electra-pretraining');
    const notices: string[] = [];
    await exportToTransformersJs(hf, out, { log: (l) => notices.push(l) });
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/no classification head: classifier\.dense\.weight, .* newly initialized \(seed 0\)/);
    expect(readJson(join(out, 'config.json')).architectures).toEqual(['ElectraForSequenceClassification']);
    expect((await pipelineScores(out, [sentence(1)])).scores).toHaveLength(1);
  });
});

describe("transformers.js config.json's architectures", () => {
  const model = tinyBert();
  const config = (architectures?: string[]) => ({ model_type: 'bert', id2label: { 0: 'a', 1: 'b' }, ...(architectures ? { architectures } : {}) });
  const written = (architectures: string[] | undefined, head: 'sequence-classification' | 'token-classification') =>
    transformersJsConfig(config(architectures), 'config.json', model, 'bert', 'fp32', 'm', head).architectures;
  it('a sequence classifier is named as one; a class the source names for another head is kept', () => {
    expect(written(undefined, 'sequence-classification')).toEqual(['BertForSequenceClassification']);
    expect(written(['BertForPreTraining'], 'sequence-classification')).toEqual(['BertForSequenceClassification']);
    expect(written(['MyBertForSequenceClassification'], 'sequence-classification')).toEqual(['MyBertForSequenceClassification']);
    expect(written(['BertForTokenClassification'], 'token-classification')).toEqual(['BertForTokenClassification']);
  });
  it("a model_type named like a JavaScript built-in ('constructor') is one the project does not read: the graph's family names the class, and the folder is refused naming the key (transformers.js loads no such type)", () => {
    for (const modelType of ['constructor', 'toString', '__proto__']) {
      expect(classifierArchitecture(modelType, 'bert')).toBe('BertForSequenceClassification');
      const source = { model_type: modelType, id2label: { 0: 'a', 1: 'b' } };
      for (const head of ['sequence-classification', undefined] as const)
        expect(() => transformersJsConfig(source, 'config.json', model, 'bert', 'fp32', 'm', head)).toThrow(
          `--format transformers.js: config.json: model_type: expected one of bert, distilbert, roberta, xlm-roberta, camembert, electra, albert (those a transformers.js folder is written of), got string "${modelType}"`,
        );
    }
  });
});

describe('--format transformers.js of a float16 model', () => {
  it('is refused in one line, nothing written: transformers.js reads float32 logits (float16 ones failed in its softmax)', async () => {
    const input = join(writeModelFolder(join(dir, 'float16-source'), toFloat16(tinyBert())), 'model.onnx');
    const out = join(dir, 'float16-refused');
    const steps = [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }];
    expect(await refusalAsync(() => compressToTransformersJs({ input, output: out, steps }))).toMatch(
      /output 'logits' is float16, and transformers\.js reads float32 logits: write the float32 model \(the one converted to float16\) instead$/,
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe('--format transformers.js of a model stored quantized', () => {
  it('is refused in one line naming the float model it was quantized from, nothing written, where its int8 weights were written as onnx/model.onnx (dtype fp32)', async () => {
    const src = writeModelFolder(join(dir, 'stored-int8-source'), tinyBert({}, { std: 0.3 }));
    const int8 = join(dir, 'stored-int8', 'model.onnx');
    await compressFile({ input: join(src, 'model.onnx'), output: int8, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] });
    // passes that take an int8 model (--optimize, drop-layers), with or without another quantize step after them
    for (const steps of [[{ pass: 'optimize', settings: {} }], [{ pass: 'drop-layers', settings: { layers: [1] } }], []]) {
      const out = join(dir, 'stored-int8-out');
      // (the way out a command to run, with the quantize mode of the lineage: compress export, which takes no --quantize, refuses the same)
      expect(await refusalAsync(() => compressToTransformersJs({ input: int8, output: out, steps }))).toBe(
        `--format transformers.js: ${int8}: the word embedding is stored quantized (gather-scale), and the folder's onnx/model.onnx is its float model (dtype fp32): write the folder from the float model, whose --quantize writes both: compress ${join(src, 'model.onnx')}${steps.length ? ' …' : ''} --quantize int8 --format transformers.js -o ${out}`,
      );
      expect(existsSync(out)).toBe(false);
    }
  });
});

describe('--format transformers.js --tokenizer of another model', () => {
  it('a vocabulary past the word embedding is refused in one line, nothing written, where the folder was written and transformers.js fed ids the embedding has no row for; one of as many ids is taken', async () => {
    const input = join(writeModelFolder(join(dir, 'vocab-rows-source'), tinyBert()), 'model.onnx'); // 128 rows
    const tokenizerOf = (name: string, ids: number) => {
      const folder = join(dir, name);
      mkdirSync(folder, { recursive: true });
      const words = Array.from({ length: ids - 5 }, (_, i) => `w${i}`);
      writeFileSync(join(folder, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words].join('\n') + '\n');
      return folder;
    };
    const larger = tokenizerOf('vocab-rows-129', 129);
    const out = join(dir, 'vocab-rows-out');
    expect(await refusalAsync(() => compressToTransformersJs({ input, output: out, steps: [], tokenizerDir: larger }))).toBe(
      `--tokenizer ${larger}: its vocabulary has token ids up to 128, but ${input} has 128 rows in its word embedding: the tokenizer's vocabulary is not the model's`,
    );
    expect(existsSync(out)).toBe(false);
    await compressToTransformersJs({ input, output: out, steps: [], tokenizerDir: tokenizerOf('vocab-rows-128', 128) });
    expect(existsSync(join(out, 'tokenizer.json'))).toBe(true);
  });
});

describe('--format transformers.js of a model converted by --quantize float16 (float16 weights, float32 inputs and logits)', () => {
  it('is refused in one line naming the float model it was converted from, nothing written, where its float16 weights were written as onnx/model.onnx (dtype fp32)', async () => {
    const src = writeModelFolder(join(dir, 'stored-fp16-source'), tinyBert({}, { std: 0.3 }));
    const fp16 = join(dir, 'stored-fp16', 'model.onnx');
    await compressFile({ input: join(src, 'model.onnx'), output: fp16, steps: [{ pass: 'quantize', settings: { mode: 'float16' } }] });
    // as it is (compress export --format transformers.js of an ONNX model), and through a pass that takes a float16 model
    for (const steps of [[], [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }]]) {
      const out = join(dir, 'stored-fp16-out');
      expect(await refusalAsync(() => compressToTransformersJs({ input: fp16, output: out, steps }))).toBe(
        `--format transformers.js: ${fp16}: its weights are stored in float16, and the folder's onnx/model.onnx is its float model (dtype fp32): write the folder from the float model, whose --quantize writes both: compress ${join(src, 'model.onnx')}${steps.length ? ' …' : ''} --quantize float16 --format transformers.js -o ${out}`,
      );
      expect(existsSync(out)).toBe(false);
    }
  });
});

describe.skipIf(!existsSync(join(FIXTURES, 'bert-toy-pretraining-ort-fused.onnx')))('--format transformers.js refusals', () => {
  it('a fixed sequence length and a pretraining head (MLM + NSP, its MLM scores not [batch, labels]) are refused in one line, nothing written', async () => {
    const steps = [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }];
    // (its int32 ids would be taken as int64; its length is fixed at 7)
    const keras = join(FIXTURES, 'bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx');
    const out = join(dir, 'refused');
    expect(await refusalAsync(() => compressToTransformersJs({ input: keras, output: out, steps }))).toMatch(
      /the graph fixes the sequence length to 7; transformers\.js pads each batch to its longest text$/,
    );
    const mlm = join(FIXTURES, 'bert-toy-pretraining-ort-fused.onnx');
    expect(await refusalAsync(() => compressToTransformersJs({ input: mlm, output: out, steps }))).toMatch(
      /: the model has a pretraining head \(MLM \+ NSP\), not a sequence classifier; /,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('a bare .onnx without a tokenizer beside it: refused with the way out (--tokenizer), which then gives the folder its tokenizer', async () => {
    const model = join(FIXTURES, 'distilbert-seqcls-tiny-torch110-op11.onnx');
    const tokenizer = join(FIXTURES, 'tokenizers', 'distilbert-base-uncased');
    const steps = [{ pass: 'quantize', settings: { mode: 'int8' } }];
    expect(await refusalAsync(() => compressToTransformersJs({ input: model, output: join(dir, 'no-tokenizer'), steps }))).toMatch(
      /no tokenizer\.json, vocab\.txt, vocab\.json with merges\.txt or SentencePiece model; transformers\.js needs the tokenizer \(give its folder with --tokenizer\)$/,
    );
    const out = join(dir, 'given-tokenizer');
    await compressToTransformersJs({ input: model, output: out, steps, tokenizerDir: tokenizer });
    const written = readJson(join(out, 'tokenizer.json'));
    const source = existsSync(join(tokenizer, 'tokenizer.json')) ? readJson(join(tokenizer, 'tokenizer.json')) : undefined;
    // (its normalizer and pre-tokenizer written as transformers.js reads them alike: transformers-js-normalizer.test.ts)
    if (source) expect({ ...written, normalizer: source.normalizer, pre_tokenizer: source.pre_tokenizer }).toEqual(source);
    expect(Object.keys(written)).toContain('model');
  });

  it("special tokens written as {content, lstrip, …} (special_tokens_map.json as transformers saves it) are written by name, which transformers.js loads, where it threw 'Unknown token: [object Object]'", async () => {
    const model = join(FIXTURES, 'distilbert-seqcls-tiny-torch110-op11.onnx');
    const tokenizer = join(dir, 'dict-specials');
    mkdirSync(tokenizer, { recursive: true });
    writeFileSync(join(tokenizer, 'vocab.txt'), readFileSync(join(FIXTURES, 'tokenizers', 'distilbert-base-uncased', 'vocab.txt')));
    const token = (content: string) => ({ content, lstrip: false, normalized: false, rstrip: false, single_word: false });
    const specials = { cls_token: '[CLS]', sep_token: '[SEP]', unk_token: token('[UNK]'), pad_token: token('[PAD]'), mask_token: token('[MASK]') };
    writeFileSync(join(tokenizer, 'special_tokens_map.json'), JSON.stringify({ ...specials, additional_special_tokens: [token('[unused1]')] }));
    const out = join(dir, 'dict-specials-out');
    await compressToTransformersJs({ input: model, output: out, steps: [], tokenizerDir: tokenizer });
    const config = readJson(join(out, 'tokenizer_config.json'));
    expect([config.mask_token, config.pad_token, config.unk_token, config.additional_special_tokens]).toEqual(['[MASK]', '[PAD]', '[UNK]', ['[unused1]']]);
    const classify = (await pipeline('text-classification', out)) as TextClassificationPipeline;
    try {
      expect([classify.tokenizer.mask_token_id, classify.tokenizer.pad_token_id]).toEqual([103, 0]);
      expect(classify.tokenizer('a [MASK] film').input_ids.tolist()).toEqual([[101n, 1037n, 103n, 2143n, 102n]]);
    } finally {
      await classify.dispose();
    }
  });

  it("tokenizer.json's BertNormalizer is written as tokenizer_config.json says (do_lower_case false), which transformers.js alone would not read", async () => {
    const model = join(FIXTURES, 'distilbert-seqcls-tiny-torch110-op11.onnx');
    const tokenizer = join(dir, 'cased-tokenizer');
    mkdirSync(tokenizer, { recursive: true });
    writeFileSync(join(tokenizer, 'vocab.txt'), readFileSync(join(FIXTURES, 'tokenizers', 'distilbert-base-uncased', 'vocab.txt')));
    writeFileSync(join(tokenizer, 'tokenizer.json'), JSON.stringify(vocabTokenizerJson(join(tokenizer, 'vocab.txt'), {})));
    writeFileSync(join(tokenizer, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false }));
    const out = join(dir, 'cased-tokenizer-out');
    await compressToTransformersJs({ input: model, output: out, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }], tokenizerDir: tokenizer });
    expect((readJson(join(out, 'tokenizer.json')) as { normalizer: { lowercase: boolean } }).normalizer.lowercase).toBe(false);
    expect(loadTokenizer(out).encode('Hello', null, 8).ids).toEqual(loadTokenizer(tokenizer).encode('Hello', null, 8).ids);
  });
});

/** The message of the error `run` rejects with. */
async function refusalAsync(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (e) {
    return refusal(() => {
      throw e;
    });
  }
  throw new Error('expected a refusal');
}

/** The `n` most frequent lower-cased words of `texts`: a vocabulary that tokenizes them mostly without [UNK]. */
function frequentWords(texts: readonly string[], n: number): string[] {
  const counts = new Map<string, number>();
  for (const t of texts) for (const w of t.toLowerCase().match(/[a-z]+|[^\sa-z]/g) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, n)
    .map(([w]) => w);
}

/**
 * The model file transformers.js 4.3 loads from `folder` in a browser when no dtype is asked: its getSession
 * (src/models/session.js) overlays config.json's `transformers.js_config.device_config` entry of the device (wasm, the
 * default outside Node: src/utils/devices.js) and picks the dtype by selectDtype, whose fallback for that device is q8.
 */
async function browserModelFile(folder: string): Promise<string> {
  // (transformers.js's own source, whose node bundle exports neither: a browser's choice is not reachable from Node)
  const dtypes = resolve(__dirname, '../../node_modules/@huggingface/transformers/src/utils/dtypes.js');
  const { DEFAULT_DTYPE_SUFFIX_MAPPING, selectDtype } = (await import(dtypes)) as {
    DEFAULT_DTYPE_SUFFIX_MAPPING: Record<string, string>;
    selectDtype: (dtype: unknown, fileName: string, device: string, opts: { configDtype?: unknown }) => string;
  };
  const section = (readJson(join(folder, 'config.json'))['transformers.js_config'] ?? {}) as Record<string, unknown>;
  const custom = { ...section, ...((section.device_config as Record<string, object> | undefined)?.wasm ?? {}) } as { dtype?: string };
  return `onnx/model${DEFAULT_DTYPE_SUFFIX_MAPPING[selectDtype(custom.dtype, 'model', 'wasm', { configDtype: custom.dtype })]}.onnx`;
}

describe("a browser's pipeline() (device wasm) without a dtype", () => {
  it("loads a file the folder has: the float folder's onnx/model.onnx (its config names fp32), a quantized folder's file of its dtype", async () => {
    const src = writeModelFolder(join(dir, 'browser-source'), tinyBert());
    const input = join(src, 'model.onnx');
    const float = join(dir, 'browser-fp32');
    await compressToTransformersJs({ input, output: float, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] });
    const hf = join(dir, 'browser-hf');
    writeHuggingFaceFolder(hf, tinyBertConfig(), randomBertWeights(tinyBertConfig(), { seed: 3 }));
    writeFileSync(join(hf, 'vocab.txt'), readFileSync(join(src, 'vocab.txt')));
    const exported = join(dir, 'browser-export');
    await exportToTransformersJs(hf, exported);
    const q8 = join(dir, 'browser-q8');
    await compressToTransformersJs({ input, output: q8, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] });
    for (const [folder, file] of [
      [float, 'onnx/model.onnx'],
      [exported, 'onnx/model.onnx'],
      [q8, 'onnx/model_quantized.onnx'],
    ]) {
      expect(await browserModelFile(folder!), folder).toBe(file);
      expect(existsSync(join(folder!, file!)), folder).toBe(true);
    }
  });
});

describe('--format transformers.js from a transformers.js folder', () => {
  it("names no dtype nor external data of the source's files: a float output names its own, fp32, as transformers.js reads its config", async () => {
    const src = writeModelFolder(join(dir, 'tjs-source-model'), tinyBert());
    const q8 = join(dir, 'tjs-source');
    await compressToTransformersJs({ input: join(src, 'model.onnx'), output: q8, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] });
    // (a source whose weights were external, and which names a dtype per device too, as a hand-edited config may)
    const config = readJson(join(q8, 'config.json'));
    config['transformers.js_config'] = {
      ...config['transformers.js_config'],
      use_external_data_format: { 'model.onnx': true },
      device_config: { cpu: { dtype: 'q8' } },
    };
    writeFileSync(join(q8, 'config.json'), JSON.stringify(config));

    const fp = join(dir, 'tjs-from-tjs-fp32');
    await compressToTransformersJs({ input: join(q8, 'onnx/model.onnx'), output: fp, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] });
    expect(listFiles(join(fp, 'onnx')).filter((f) => f.endsWith('.onnx'))).toEqual(['model.onnx']);
    expect(readJson(join(fp, 'config.json'))['transformers.js_config']).toEqual({ dtype: 'fp32' });
    expect((await pipelineScores(fp, [sentence(0)])).loaded).toBe('fp32');

    const fp16 = join(dir, 'tjs-from-tjs-fp16');
    await compressToTransformersJs({ input: join(q8, 'onnx/model.onnx'), output: fp16, steps: [{ pass: 'quantize', settings: { mode: 'float16' } }] });
    expect(readJson(join(fp16, 'config.json'))['transformers.js_config']).toEqual({ dtype: 'fp16' });
    expect((await pipelineScores(fp16, [sentence(0)])).loaded).toBe('fp16');
  });
});

describe('--format transformers.js of a model whose scores output does not declare its label count', () => {
  it("names as many labels as its classifier scores, as eval reads it (where it said 'cannot tell how many labels the model scores'), and checks config.json's against them before any pass runs", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tjs-dynamic-labels-'));
    try {
      const graph = tinyBert();
      for (const o of graph.graph.outputs) o.shape = ['batch', 'labels'];
      const model = writeModelFolder(join(dir, 'model'), graph);
      const config = join(model, 'config.json');
      writeFileSync(config, JSON.stringify({ model_type: 'bert', max_length: 16 }));
      const output = join(dir, 'out');
      await compressToTransformersJs({ input: join(model, 'model.onnx'), output, steps: [] });
      expect(readJson(join(output, 'config.json')).id2label).toEqual({ 0: 'LABEL_0', 1: 'LABEL_1' });
      // (a step that fails once it runs, on a model of 2 layers: the labels' refusal comes first)
      writeFileSync(config, JSON.stringify({ model_type: 'bert', num_labels: 3, max_length: 16 }));
      const steps = [{ pass: 'drop-layers', settings: { layers: [7] } }];
      await expect(compressToTransformersJs({ input: join(model, 'model.onnx'), output: join(dir, 'out-3'), steps })).rejects.toThrow(
        `${config}: says 3 labels (its num_labels, as transformers reads it without an id2label), but ${join(model, 'model.onnx')} gives 2 scores per example: fix config.json`,
      );
      expect(existsSync(join(dir, 'out-3'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('compress … --format transformers.js refuses a folder it cannot write before any pass runs', () => {
  it("config.json's labels against the model's scores, which no pass changes: refused in one line, not after the passes", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tjs-labels-early-'));
    try {
      const model = writeModelFolder(join(dir, 'model'), tinyBert());
      const config = join(model, 'config.json');
      writeFileSync(config, JSON.stringify({ model_type: 'bert', num_labels: 3, max_length: 16 }));
      const output = join(dir, 'out');
      // (a step that fails once it runs, on a model of 2 layers: the labels' refusal comes first)
      const steps = [{ pass: 'drop-layers', settings: { layers: [7] } }];
      await expect(compressToTransformersJs({ input: join(model, 'model.onnx'), output, steps })).rejects.toThrow(
        `${config}: says 3 labels (its num_labels, as transformers reads it without an id2label), but ${join(model, 'model.onnx')} gives 2 scores per example: fix config.json`,
      );
      expect(existsSync(output)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a tokenizer.json transformers.js cannot be written to read (a ByteLevel normalizer): refused in one line, not after the passes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tjs-byte-level-early-'));
    try {
      const model = writeModelFolder(join(dir, 'model'), tinyBert());
      const tokenizer = { ...vocabTokenizerJson(join(model, 'vocab.txt'), {}), normalizer: { type: 'ByteLevel' } };
      writeFileSync(join(model, 'tokenizer.json'), JSON.stringify(tokenizer));
      const output = join(dir, 'out');
      // (a step that fails once it runs, on a model of 2 layers: the tokenizer's refusal comes first)
      const steps = [{ pass: 'drop-layers', settings: { layers: [7] } }];
      await expect(compressToTransformersJs({ input: join(model, 'model.onnx'), output, steps })).rejects.toThrow(
        /^[^\n]*tokenizer\.json: its normalizer's ByteLevel, which @huggingface\/tokenizers \(transformers\.js\) fails to load, [^\n]*: not exported$/,
      );
      expect(existsSync(output)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
