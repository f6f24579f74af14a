import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getTask } from '../../src/glue/index.ts';
import { saveModel } from '../../src/onnx/index.ts';
import { loadTrainingSet, type TrainingSet } from '../../src/train/data.ts';
import { teacherCacheFile, teacherCacheKey, teacherLogits } from '../../src/train/teacher-cache.ts';
import { externalDataFiles } from '../../src/onnx/identity.ts';
import { bitIdentical, maxAbsDiff } from '../helpers/feeds.ts';
import { FIXTURES, GLUE_DIR, TEACHERS, fixtureTokenizer, hasFixtures } from '../helpers/paths.ts';
import { tinyBert, withUnshapedOutputs } from '../helpers/models.ts';
import { syntheticSst2Set } from '../helpers/synthetic-set.ts';

const TEACHER = join(TEACHERS, 'sst2-L2H256');
const ready = existsSync(join(GLUE_DIR, 'SST-2', 'dev.tsv')) && existsSync(join(TEACHER, 'model.onnx'));

const tmp = mkdtempSync(join(tmpdir(), 'bert-compress-teacher-cache-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!ready)('teacherLogits (needs ../shared/glue and ../shared/teachers/sst2-L2H256)', () => {
  const cacheDir = join(tmp, 'cache');
  const set = ready ? loadTrainingSet({ task: 'SST-2', split: 'dev', glueDir: GLUE_DIR, tokenizer: TEACHER, modelConfig: TEACHER }) : undefined!;
  /** Runs teacherLogits and counts the batches the teacher ran. */
  async function run(teacherPath = TEACHER, s: TrainingSet = set) {
    let batches = 0;
    const logs: string[] = [];
    const logits = await teacherLogits({ teacherPath, set: s, cacheDir, batchSize: 64, threads: 1, onBatch: () => batches++, log: (l) => logs.push(l) });
    return { logits, batches, logs };
  }
  let first: Float32Array;

  it('computes the teacher logits of every example, in example order, equal to the reference logits', async () => {
    const { logits, batches, logs } = await run();
    first = logits;
    // a cold cache: said to be computed, then cached; never "(cached)" before it is
    expect(logs[0]).toBe('teacher outputs on 872 examples: computing (not in the cache)');
    expect(logs.join('\n')).not.toMatch(/\(cached\)|from the cache|read from/);
    expect(logs.at(-1)).toMatch(/^teacher outputs computed and cached in .*\.bin$/);
    expect(batches).toBe(Math.ceil(872 / 64));
    expect(logits.length).toBe(872 * 2);
    // dev_logits.json: the teacher's logits on SST-2 dev in file order, computed by the trainers' own torch run.
    const reference = Float32Array.from((JSON.parse(readFileSync(join(TEACHER, 'dev_logits.json'), 'utf8')) as number[][]).flat());
    expect(maxAbsDiff(logits, reference)).toBeLessThan(1e-4);
  });

  it('reads them back from the cache without running the teacher', async () => {
    const { logits, batches, logs } = await run();
    expect(batches).toBe(0);
    expect(bitIdentical(logits, first)).toBe(true);
    expect(logs).toEqual([
      `teacher outputs on 872 examples (cached): read from ${teacherCacheFile(cacheDir, await teacherCacheKey(join(TEACHER, 'model.onnx'), set))}`,
    ]);
  });

  it('recomputes a corrupt, truncated or foreign cache file, and rewrites it', async () => {
    const small = loadTrainingSet({ task: 'SST-2', split: 'dev', glueDir: GLUE_DIR, tokenizer: TEACHER, modelConfig: TEACHER, maxExamples: 64, seed: 9 });
    const expected = (await run(TEACHER, small)).logits;
    const file = teacherCacheFile(cacheDir, await teacherCacheKey(join(TEACHER, 'model.onnx'), small));
    const good = readFileSync(file);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 5]! ^= 0x40;
    for (const bad of [flipped, good.subarray(0, good.length - 8), Buffer.from('not a cache file'), Buffer.alloc(0)]) {
      writeFileSync(file, bad);
      const { logits, batches, logs } = await run(TEACHER, small);
      expect(batches).toBe(1);
      expect(logs.join('\n')).toMatch(/recomputing/);
      expect(bitIdentical(logits, expected)).toBe(true);
      expect(readFileSync(file).equals(good)).toBe(true);
    }
  });

  it('keys the cache on the data and the max length', async () => {
    const onnx = join(TEACHER, 'model.onnx');
    const short = loadTrainingSet({ task: 'SST-2', split: 'dev', glueDir: GLUE_DIR, tokenizer: TEACHER, modelConfig: TEACHER, maxLength: 16, maxExamples: 40 });
    const subset = loadTrainingSet({ task: 'SST-2', split: 'dev', glueDir: GLUE_DIR, tokenizer: TEACHER, modelConfig: TEACHER, maxExamples: 40 });
    const keys = new Set([await teacherCacheKey(onnx, set), await teacherCacheKey(onnx, short), await teacherCacheKey(onnx, subset)]);
    expect(keys.size).toBe(3);
    const { logits, batches } = await run(TEACHER, subset);
    expect(batches).toBe(1);
    // The subset's rows are rows of the full dev set: same logits (up to batch composition effects).
    const full = Array.from(subset.sourceRows).flatMap((r) => [first[2 * r]!, first[2 * r + 1]!]);
    expect(maxAbsDiff(logits, full)).toBeLessThan(1e-4);
  });

  it('puts a teacher with another class order into the set’s output order (raw rows cached, mapped after reading)', async () => {
    const dir = join(tmp, 'swapped-teacher');
    mkdirSync(dir);
    symlinkSync(join(TEACHER, 'model.onnx'), join(dir, 'model.onnx'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ num_labels: 2, id2label: { 0: 'positive', 1: 'negative' } }));
    const { logits, batches } = await run(dir);
    expect(batches).toBe(0); // same model bytes, same data: the cache of the first test
    for (let i = 0; i < 872; i++) {
      expect(logits[2 * i]).toBe(first[2 * i + 1]);
      expect(logits[2 * i + 1]).toBe(first[2 * i]);
    }
  });
  it('refuses a teacher whose config.json does not fit the task, before running it', async () => {
    const dir = join(tmp, 'mnli-teacher');
    mkdirSync(dir);
    symlinkSync(join(TEACHER, 'model.onnx'), join(dir, 'model.onnx'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ num_labels: 3 }));
    let batches = 0;
    await expect(teacherLogits({ teacherPath: dir, set, cacheDir: join(tmp, 'unused'), onBatch: () => batches++ })).rejects.toThrow(
      /^teacher: SST-2 has 2 labels/,
    );
    expect(batches).toBe(0);
  });
});

describe('teacher files', () => {
  it('hashes external data files too', async () => {
    const dir = join(tmp, 'external');
    const path = join(dir, 'model.onnx');
    saveModel(tinyBert(), path, { externalData: true });
    const data = join(dir, 'model.onnx.data');
    expect(externalDataFiles(path)).toEqual([data]);
    const set = { sha256: 'x', maxLength: 8 } as TrainingSet;
    const before = await teacherCacheKey(path, set);
    const bytes = readFileSync(data);
    bytes[bytes.length - 1]! ^= 1;
    writeFileSync(data, bytes);
    expect(await teacherCacheKey(path, set)).not.toBe(before);
    const inline = join(tmp, 'inline.onnx');
    saveModel(tinyBert(), inline);
    expect(externalDataFiles(inline)).toEqual([]);
    expect(basename(teacherCacheFile('/c', before))).toBe(`teacher-logits-${before}.bin`);
  });
});

describe('a teacher exported with static shapes', () => {
  it('is fed batches of the batch size and sequence length its inputs fix, and gives the logits of the same model with dynamic axes', async () => {
    const set = syntheticSst2Set([5, 9, 12], 'synthetic-static');
    const dynamic = join(tmp, 'dynamic.onnx');
    saveModel(tinyBert({}, { std: 0.2 }), dynamic);
    const fixed = join(tmp, 'fixed-1x16.onnx');
    const model = tinyBert({}, { std: 0.2 });
    for (const input of model.graph.inputs) input.shape = [1, 16];
    saveModel(model, fixed);
    let batches = 0;
    const expected = await teacherLogits({ teacherPath: dynamic, set, cacheDir: join(tmp, 'dynamic'), batchSize: 8 });
    const logits = await teacherLogits({ teacherPath: fixed, set, cacheDir: join(tmp, 'static'), batchSize: 8, onBatch: () => batches++ });
    expect(batches).toBe(3);
    expect(maxAbsDiff(logits, expected)).toBeLessThan(1e-5);
  });
});

describe("teacherLogits' lines", () => {
  it('count one example as one, computed and cached alike', async () => {
    const set = syntheticSst2Set([5], 'synthetic-one');
    const teacherPath = join(tmp, 'one-example.onnx');
    saveModel(tinyBert({}, { std: 0.2 }), teacherPath);
    const cacheDir = join(tmp, 'one-example');
    const logs: string[] = [];
    await teacherLogits({ teacherPath, set, cacheDir, batchSize: 8, log: (l) => logs.push(l) });
    await teacherLogits({ teacherPath, set, cacheDir, batchSize: 8, log: (l) => logs.push(l) });
    expect(logs[0]).toBe('teacher outputs on 1 example: computing (not in the cache)');
    expect(logs.at(-1)).toMatch(/^teacher outputs on 1 example \(cached\): read from /);
  });
});

describe('a teacher whose outputs declare no shapes and have generic names ([output_0: hidden states, output_1: logits])', () => {
  it("gives the logits of the output discovery finds its classifier writing, as evaluation reads them, where it read output_0's hidden states and was refused", async () => {
    const set = syntheticSst2Set([5, 9, 12], 'synthetic-unshaped');
    const model = tinyBert({}, { std: 0.2 });
    const named = join(tmp, 'named-logits.onnx');
    saveModel(model, named);
    // (its inputs named as exporters name them: the teacher is fed by names, read without its weights where it can be)
    const unshaped = join(tmp, 'unshaped-outputs.onnx');
    saveModel(withUnshapedOutputs(model), unshaped);
    const expected = await teacherLogits({ teacherPath: named, set, cacheDir: join(tmp, 'named-logits'), batchSize: 8 });
    const logits = await teacherLogits({ teacherPath: unshaped, set, cacheDir: join(tmp, 'unshaped-outputs'), batchSize: 8 });
    expect(logits.length).toBe(3 * 2);
    expect(bitIdentical(logits, expected)).toBe(true);
  });
});

describe.skipIf(!hasFixtures || !existsSync(join(GLUE_DIR, 'SST-2', 'train.tsv')))(
  'teachers of other exporters (needs ../shared/fixtures/onnx and ../shared/glue)',
  () => {
    it('feeds a model without token_type_ids (DistilBERT)', async () => {
      const set = loadTrainingSet({ task: 'SST-2', glueDir: GLUE_DIR, tokenizer: fixtureTokenizer('distilbert-base-uncased'), maxLength: 32, maxExamples: 20 });
      const logits = await teacherLogits({
        teacherPath: join(FIXTURES, 'distilbert-seqcls-tiny-torch110-op11.onnx'),
        set,
        cacheDir: join(tmp, 'distil'),
        batchSize: 8,
      });
      expect(logits.length).toBe(40);
      expect(Array.from(logits).every(Number.isFinite)).toBe(true);
    });

    it('feeds an int32 model (keras2onnx BERT, fixed length 7, vocabulary 20)', async () => {
      const ids = [0, 1, 2].map((k) => Int32Array.of(1, 2 + k, 3, 4, 5, 6, 7));
      const set: TrainingSet = {
        task: getTask('MRPC'),
        split: 'train',
        file: 'synthetic',
        regression: false,
        numLabels: 2,
        labelMapping: { outputToLabel: [0, 1], from: 'canonical' },
        maxLength: 7,
        padId: 0,
        examples: ids.map((i) => ({ ids: i, typeIds: Int32Array.of(0, 0, 0, 0, 1, 1, 1), label: 0 })),
        sourceRows: Int32Array.of(0, 1, 2),
        sha256: 'synthetic-int32',
      };
      const logits = await teacherLogits({
        teacherPath: join(FIXTURES, 'bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx'),
        set,
        cacheDir: join(tmp, 'int32'),
        batchSize: 2,
      });
      expect(logits.length).toBe(6);
      expect(Array.from(logits).every(Number.isFinite)).toBe(true);
    });
  },
);
