/** The benchmark on small built models: what it records, not how fast anything is (speed is for npm run bench). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { benchShapes, benchSubject, formatBench } from '../../src/bench/index.ts';
// (benchModels of run.ts, as compress bench runs it, its refusals naming the flags; the package's names its options)
import { benchModels } from '../../src/bench/run.ts';
import { subjectOf } from '../../src/bench/inputs.ts';
import { DataType } from '../../src/onnx/dtype.ts';
import { describeSessionMemory } from '../../src/bench/format.ts';
import { geometricMean } from '../../src/bench/stats.ts';
import { SettingsError, UserError } from '../../src/errors.ts';
import { defaultThreads } from '../../src/runtime/threads.ts';
import { saveModel, totalInitializerBytes } from '../../src/onnx/save.ts';
import { exportBilstm, parseBilstmSpec, randomBilstmWeights, resolveBilstmConfig } from '../../src/train/students/bilstm.ts';
import { tableClassifier, tinyBert, writeTinyBert } from '../helpers/models.ts';
import { castFloat16Weights } from '../helpers/float16.ts';
import { compressFile } from '../../src/export/compress.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { FIXTURES, hasFixtures } from '../helpers/paths.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { runMain } from '../helpers/cli.ts';

const a = writeTinyBert({}, { seed: 1 });
const b = writeTinyBert({ numLayers: 1 }, { seed: 2 });
afterAll(() => {
  a.cleanup();
  b.cleanup();
});

describe('benchModels', () => {
  it('a graph fixing its sizes without --seq / --batch given names the default sizes it did not use, not the flags', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bert-compress-bench-fixed-'));
    try {
      const fixedSeq = join(dir, 'seq16.onnx');
      const model = tinyBert({}, { seed: 3 }); // (64 positions: default lengths 32 and 64)
      for (const input of model.graph.inputs) input.shape = ['batch', 16];
      saveModel(model, fixedSeq);
      const quick = { repeats: 1, warmup: 0, threads: 1 };
      const notes = (r: Awaited<ReturnType<typeof benchModels>>) => formatBench(r).filter((l) => l.startsWith('note:'));
      const defaults = await benchModels({ model: fixedSeq, batches: [1], ...quick });
      expect(defaults.fixed).toEqual({ seq: { size: 16, asked: [32, 64], defaults: true } });
      expect(notes(defaults)).toEqual(['note: the graph fixes the sequence length at 16, so every shape runs at 16: the default lengths 32,64 were not used']);
      // (a 10-position table caps both default lengths at 10: one length, said in the singular)
      const short = join(dir, 'seq7-positions10.onnx');
      const small = tinyBert({ maxPositions: 10 }, { seed: 3 });
      for (const input of small.graph.inputs) input.shape = ['batch', 7];
      saveModel(small, short);
      expect(notes(await benchModels({ model: short, batches: [1], ...quick }))).toEqual([
        'note: the graph fixes the sequence length at 7, so every shape runs at 7: the default length 10 was not used',
      ]);
      expect(notes(await benchModels({ model: fixedSeq, batches: [1], seqs: [32], ...quick }))).toEqual([
        'note: the graph fixes the sequence length at 16, so every shape runs at 16: --seq 32 was not used',
      ]);
      const fixedBatch = join(dir, 'batch2.onnx');
      for (const input of model.graph.inputs) input.shape = [2, 'sequence'];
      saveModel(model, fixedBatch);
      expect(notes(await benchModels({ model: fixedBatch, seqs: [8], ...quick }))).toEqual([
        'note: the graph fixes the batch size at 2, so every shape runs at 2: the default batch sizes 1,8,32 were not used',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('records latency percentiles and throughput per shape, the speed-up over the baseline, memory and the machine', async () => {
    const seen: string[] = [];
    const r = await benchModels({
      model: b.dir,
      baseline: a.path,
      batches: [1, 4],
      seqs: [8, 16],
      repeats: 5,
      warmup: 1,
      threads: 1,
      onShape: (s, i, n) => seen.push(`${i + 1}/${n} ${s.batch}x${s.seq}`),
    });
    expect(seen).toEqual(['1/4 1x8', '2/4 1x16', '3/4 4x8', '4/4 4x16']);
    expect(r.shapes.map((s) => [s.batch, s.seq])).toEqual([
      [1, 8],
      [1, 16],
      [4, 8],
      [4, 16],
    ]);
    for (const s of r.shapes) {
      for (const st of [s.model, s.baseline!]) {
        expect(st.runs).toBe(5);
        expect(st.minMs).toBeGreaterThan(0);
        expect(st.p50Ms).toBeLessThanOrEqual(st.p90Ms);
        expect(st.p90Ms).toBeLessThanOrEqual(st.p99Ms);
        expect(st.throughput).toBeCloseTo((1000 * s.batch) / st.p50Ms, 9);
      }
      // The median of 5 paired ratios B_i/A_i: at least 3 ratios lie on each side of it, which bounds it by the medians and minima.
      expect(s.speedup).toBeGreaterThanOrEqual(s.baseline!.minMs / s.model.p50Ms);
      expect(s.speedup).toBeLessThanOrEqual(s.baseline!.p50Ms / s.model.minMs);
    }
    expect(r.speedup).toBeCloseTo(geometricMean(r.shapes.map((s) => s.speedup!)), 12);
    expect(formatBench(r)[0]).toBe(`model: ${b.path}; baseline: ${a.path}`); // the files timed, a folder resolved to its .onnx
    expect(formatBench(r).join('\n')).toMatch(
      /median over rounds of the baseline's time ÷ the model's in the same round[^\n]*can differ from base p50 ÷ p50$/m,
    );
    expect(r.model).toBe(b.path);
    expect(r.baseline).toBe(a.path);
    expect(r.machine.threads).toBe(1);
    // The two sessions alternate: their threads do not spin-wait, which would slow the other's next run.
    expect(r.spinning).toBe(false);
    expect(r.machine.onnxruntime).toMatch(/^\d+\.\d+/);
    expect(typeof r.machine.cpu.flags.avx2).toBe('boolean');
    // Session memory is measured only when asked for (it takes a process per model).
    expect(r.memory.model).toBeUndefined();
    expect(r.memory.baseline).toBeUndefined();
    expect(r.memory.peakRssBytes).toBeGreaterThan(0);
    expect(r.memory.peakRssScope).toBe(process.platform === 'linux' ? 'bench' : 'process');
  });

  it("session memory, each model's in a fresh process: the same file gives the same figure as model and as baseline", async () => {
    // Large enough that the resident-memory noise of a fresh process (about ±0.5 MB here) stays well under 20%: with a
    // 4096-word table (5 MB in all) two measures of one file differed by 24% on a loaded machine.
    const big = writeTinyBert({ hiddenSize: 128, intermediateSize: 512, vocabSize: 16384 }, { seed: 3 });
    try {
      const r = await benchModels({ model: big.path, baseline: big.path, batches: [2], seqs: [8], repeats: 1, warmup: 0, threads: 1, sessionMemory: true });
      const [m, base] = [r.memory.model!.sessionRssBytes, r.memory.baseline!.sessionRssBytes];
      // the session holds the weights (16384 × 128 floats of embeddings alone: 8.4 MB)
      expect(Math.min(m, base)).toBeGreaterThan(8e6);
      expect(Math.abs(m - base)).toBeLessThanOrEqual(0.2 * Math.max(m, base));
    } finally {
      big.cleanup();
    }
  });

  it("session memory says what RSS counts: a model's weights, and those onnxruntime memory-maps from an external data file", async () => {
    const model = tinyBert({ hiddenSize: 64, intermediateSize: 128, vocabSize: 8192 }, { seed: 4 });
    const dir = mkdtempSync(join(tmpdir(), 'bench-mapped-'));
    try {
      const inline = join(dir, 'inline', 'model.onnx');
      const external = join(dir, 'external', 'model.onnx');
      saveModel(model, inline);
      saveModel(model, external, { externalData: true });
      const r = await benchModels({ model: external, baseline: inline, batches: [2], seqs: [8], repeats: 1, warmup: 0, threads: 1, sessionMemory: true });
      const [m, base] = [r.memory.model!, r.memory.baseline!];
      expect(m.weightBytes).toBe(totalInitializerBytes(model));
      expect(base.weightBytes).toBe(totalInitializerBytes(model));
      // the 8192 × 64 word embeddings (2.1 MB) stay mapped from the data file
      expect(m.mappedWeightBytes).toBeGreaterThan(2e6);
      expect(m.mappedResidentBytes).toBeLessThanOrEqual(m.mappedWeightBytes!);
      expect(base.mappedWeightBytes).toBe(0); // read into memory: RSS counts them all
      const text = formatBench(r).join('\n');
      expect(text).toMatch(
        /model session (?:< 1|[\d.]+) MB RSS \(weights [\d.]+ MB; [\d.]+ MB of them memory-mapped from their file and counted only as touched: [\d.]+ MB\)/,
      );
      expect(text).toMatch(/baseline session [\d.]+ MB RSS \(weights [\d.]+ MB\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says a session that grew RSS by less than 1 MB (within the noise of the measuring process) did so, not "0 B"', () => {
    expect(describeSessionMemory({ sessionRssBytes: 0, weightBytes: 3752 })).toBe('< 1 MB RSS (weights 0.004 MB)');
    expect(describeSessionMemory({ sessionRssBytes: 393_216 })).toBe('< 1 MB RSS');
    expect(describeSessionMemory({ sessionRssBytes: 1e6 })).toBe('1.0 MB RSS');
    expect(describeSessionMemory({ sessionRssBytes: 2.2e6 })).toBe('2.2 MB RSS');
  });

  it('without a baseline records no speed-up', async () => {
    const r = await benchModels({ model: a.path, batches: [2], seqs: [8], repeats: 2, warmup: 0 });
    expect(r.shapes).toHaveLength(1);
    expect(r.shapes[0]!.speedup).toBeUndefined();
    expect(r.speedup).toBeUndefined();
    expect(r.baseline).toBeUndefined();
    // One session alone keeps onnxruntime's default, and the number of threads used is recorded (default: one per
    // physical core).
    expect(r.spinning).toBe(true);
    expect(r.machine.threads).toBe(defaultThreads());
  });

  it("without seqs, times 32 and 128 tokens each capped at the models' shortest position table (refusing no length it was not given)", async () => {
    const short = writeTinyBert({ maxPositions: 24 }, { seed: 3 });
    try {
      // a's table has 64 rows: 32 and 64; with a 24-row model: 24 once
      const alone = await benchModels({ model: a.path, batches: [1], repeats: 1, warmup: 0, threads: 1 });
      expect(alone.shapes.map((s) => s.seq)).toEqual([32, 64]);
      const both = await benchModels({ model: short.path, baseline: a.path, batches: [1], repeats: 1, warmup: 0, threads: 1 });
      expect(both.shapes.map((s) => s.seq)).toEqual([24]);
      // a length asked for is refused as before
      await expect(benchModels({ model: short.path, batches: [1], seqs: [32], repeats: 1, warmup: 0 })).rejects.toThrow(
        `${short.path}: --seq 32 is beyond the model's position table (24 tokens at most)`,
      );
    } finally {
      short.cleanup();
    }
  });

  it('refuses bad shapes and counts', async () => {
    await expect(benchModels({ model: a.path, batches: [0] })).rejects.toThrow(SettingsError);
    await expect(benchModels({ model: a.path, seqs: [1] })).rejects.toThrow(/--seq 1: expected an integer from 2 to 2\^53 − 1/);
    await expect(benchModels({ model: a.path, repeats: 0 })).rejects.toThrow(/--repeats/);
    await expect(benchModels({ model: join(a.dir, 'none.onnx') })).rejects.toThrow(/no such file/);
  });

  it("refuses in one line, with onnxruntime's detail, a model (or baseline) onnxruntime cannot run at a shape asked", async () => {
    // attention_mask fixed at [1, 16] while input_ids take any shape: the shapes pass the input checks, and onnxruntime refuses them
    const fixedMask = join(a.dir, 'fixed-mask.onnx');
    const model = tinyBert({}, { seed: 1 });
    for (const v of model.graph.inputs) if (v.name === 'attention_mask') v.shape = [1, 16];
    saveModel(model, fixedMask);
    const detail = 'Got invalid dimensions for input: attention_mask for the following indices; index: 1 Got: 8 Expected: 16';
    const message = `${fixedMask}: onnxruntime cannot run the model on a batch of [1, 8] tokens: ${detail}`;
    for (const opts of [{ model: fixedMask }, { model: a.path, baseline: fixedMask }]) {
      const e = await benchModels({ ...opts, batches: [1], seqs: [8], repeats: 1, warmup: 0, threads: 1 }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(UserError);
      expect((e as Error).message).toBe(message);
    }
  });
});

describe('benchSubject of a BiLSTM student', () => {
  it('borrows the structure of its baseline (its teacher) where one is given', () => {
    const config = resolveBilstmConfig(parseBilstmSpec('bilstm:hidden=8,embedding=8'), { vocabSize: 128, numLabels: 2, maxLength: 16 });
    const path = join(b.dir, 'bilstm.onnx');
    saveModel(exportBilstm(config, randomBilstmWeights(config, 1)), path);
    const subject = benchSubject(path, benchSubject(join(a.dir, 'model.onnx')).structure);
    expect(subject.structure?.vocabSize).toBe(128);
    expect(benchShapes([1], [8], [subject])).toEqual([{ batch: 1, seq: 8 }]);
  });

  it('feeds it by name, float or int8, without a lineage to follow (a student copied alone, or one whose lineage names its input relative to another folder), where it refused it', async () => {
    const config = resolveBilstmConfig(parseBilstmSpec('bilstm:hidden=8,embedding=8'), { vocabSize: 128, numLabels: 2, maxLength: 16 });
    registerAllPasses();
    const dir = mkdtempSync(join(tmpdir(), 'bench-bilstm-alone-'));
    try {
      const float = join(dir, 'bilstm.onnx');
      saveModel(exportBilstm(config, randomBilstmWeights(config, 1)), float);
      const int8 = join(dir, 'q', 'bilstm.onnx');
      await compressFile({ input: float, output: int8, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] });
      // (its lineage names its input as given: 'bilstm.onnx' from the folder compress ran in, not found from here)
      writeFileSync(`${int8}.json`, JSON.stringify({ input: { path: 'bilstm.onnx' } }));
      for (const path of [float, int8]) {
        const subject = benchSubject(path);
        expect(subject.structure).toBeUndefined();
        expect(benchShapes([1], [8], [subject])).toEqual([{ batch: 1, seq: 8 }]);
        const result = await benchModels({ model: path, batches: [1, 2], seqs: [8], repeats: 1, warmup: 0, threads: 1 });
        expect(result.shapes.map((r) => [r.batch, r.seq])).toEqual([
          [1, 8],
          [2, 8],
        ]);
      }
      const compared = await benchModels({ model: int8, baseline: float, batches: [1], seqs: [8], repeats: 1, warmup: 0, threads: 1 });
      expect(compared.shapes).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("bench of a BiLSTM student whose word table is not its baseline's vocabulary", () => {
  it("is refused in one line naming both sizes, float or int8, where the baseline's ids stopped it in onnxruntime's Gather", async () => {
    registerAllPasses();
    const dir = mkdtempSync(join(tmpdir(), 'bench-bilstm-vocab-'));
    try {
      const baseline = join(a.dir, 'model.onnx'); // (128 tokens)
      const float = join(dir, 'bilstm.onnx');
      const int8 = join(dir, 'q', 'bilstm.onnx');
      for (const vocabSize of [64, 200]) {
        const config = resolveBilstmConfig(parseBilstmSpec('bilstm:hidden=8,embedding=8'), { vocabSize, numLabels: 2, maxLength: 16 });
        saveModel(exportBilstm(config, randomBilstmWeights(config, 1)), float);
        await compressFile({ input: float, output: int8, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] });
        for (const model of [float, int8]) {
          await expect(benchModels({ model, baseline, batches: [1], seqs: [8], repeats: 1, warmup: 0, threads: 1 })).rejects.toThrow(
            new SettingsError(
              `--baseline ${baseline} is not comparable with ${model}: the model's vocabulary has ${vocabSize} tokens, the baseline's 128; a speed-up compares a model with the one it was compressed or distilled from`,
            ),
          );
        }
      }
      // (the same table: compared)
      const config = resolveBilstmConfig(parseBilstmSpec('bilstm:hidden=8,embedding=8'), { vocabSize: 128, numLabels: 2, maxLength: 16 });
      saveModel(exportBilstm(config, randomBilstmWeights(config, 1)), float);
      expect((await benchModels({ model: float, baseline, batches: [1], seqs: [8], repeats: 1, warmup: 0, threads: 1 })).shapes).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("bench of a model whose word table has other rows than its baseline's, beside their tokenizer", () => {
  it('compares them where each holds every id of the tokenizer (a teacher padded past its vocabulary), a BiLSTM fed below its own rows; refuses, naming the table, one that does not', async () => {
    registerAllPasses();
    const dir = mkdtempSync(join(tmpdir(), 'bench-padded-'));
    try {
      // (vocab.txt beside each: 23 tokens)
      const baseline = join(writeModelFolder(join(dir, 'teacher'), tinyBert({}, { seed: 1 })), 'model.onnx'); // (128 rows)
      const bert = join(writeModelFolder(join(dir, 'bert-100'), tinyBert({ vocabSize: 100, numLayers: 1 }, { seed: 2 })), 'model.onnx');
      const bilstm = (vocabSize: number) => {
        const config = resolveBilstmConfig(parseBilstmSpec('bilstm:hidden=8,embedding=8'), { vocabSize, numLabels: 2, maxLength: 16 });
        return join(writeModelFolder(join(dir, `bilstm-${vocabSize}`), exportBilstm(config, randomBilstmWeights(config, 1))), 'model.onnx');
      };
      const quick = { batches: [2], seqs: [16], repeats: 1, warmup: 0, threads: 1 };
      for (const model of [bert, bilstm(100)]) expect((await benchModels({ model, baseline, ...quick })).shapes).toHaveLength(1);
      expect((await benchModels({ model: baseline, baseline: bert, ...quick })).shapes).toHaveLength(1);
      const short = bilstm(12);
      await expect(benchModels({ model: short, baseline, ...quick })).rejects.toThrow(
        new SettingsError(
          `--baseline ${baseline} is not comparable with ${short}: the model's vocabulary has 12 tokens, the baseline's 128, and ${join(dir, 'teacher', 'vocab.txt')} gives token ids up to 22, past the model's 12 rows; a speed-up compares a model with the one it was compressed or distilled from`,
        ),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bench of a graph discovery does not read, fed as its baseline is', () => {
  it("is refused in one line where its token-type table has fewer rows than the baseline's token types, or its word table other rows than the baseline's vocabulary, where onnxruntime's Gather error stopped it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-table-classifier-'));
    try {
      const baseline = join(a.dir, 'model.onnx'); // (128 tokens, 2 token types)
      const model = join(dir, 'model.onnx');
      const run = () => benchModels({ model, baseline, batches: [1], seqs: [8], repeats: 1, warmup: 0, threads: 1 });
      const refusal = (why: string) =>
        new SettingsError(
          `--baseline ${baseline} is not comparable with ${model}: ${why}; a speed-up compares a model with the one it was compressed or distilled from`,
        );
      saveModel(tableClassifier(128, { typeRows: 1 }), model);
      await expect(run()).rejects.toThrow(refusal('the model has 1 token type, the baseline 2'));
      saveModel(tableClassifier(100, { typeRows: 2 }), model);
      await expect(run()).rejects.toThrow(refusal("the model's vocabulary has 100 tokens, the baseline's 128"));
      saveModel(tableClassifier(128, { typeRows: 2 }), model);
      expect((await run()).shapes).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bench of float16 weights read through a Cast to float32 (float32 compute over float16 storage)', () => {
  it('runs alone and as its own baseline, its default lengths capped at its position table, as a float32 model does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-cast-weights-'));
    try {
      const model = join(dir, 'model.onnx');
      saveModel(castFloat16Weights(tinyBert({ maxPositions: 40 }, { seed: 3 })), model);
      const quick = { batches: [1], repeats: 1, warmup: 0, threads: 1 };
      expect(benchSubject(model).structure?.maxPositions).toBe(40);
      const alone = await benchModels({ model, ...quick });
      expect(alone.shapes.map((s) => s.seq)).toEqual([32, 40]);
      const self = await benchModels({ model, baseline: model, seqs: [8], ...quick });
      expect(self.shapes).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds its inputs without reading the float16 weights (a sweep plan reads a model without them; a large model has hundreds of MB)', () => {
    const model = castFloat16Weights(tinyBert({ maxPositions: 40 }, { seed: 3 }));
    const unread = new Set<string>();
    for (const t of model.graph.initializers.values()) {
      if (t.dataType !== DataType.FLOAT16) continue;
      unread.add(t.name);
      Object.defineProperty(t, 'data', {
        get: () => {
          throw new Error(`${t.name} read`);
        },
      });
    }
    expect(unread.size).toBeGreaterThan(10);
    expect(subjectOf('model.onnx', model).structure?.maxPositions).toBe(40);
  });
});

describe('bench --max-time', () => {
  it('stops each shape once its share of the budget is spent, after one round at least, and says how many runs each took', async () => {
    // --repeats was the only bound: a large one ran until done; a budget spent at once leaves each shape one round
    // (the warm-up stops too: --warmup 1e9 would not end)
    const r = await benchModels({ model: b.path, baseline: a.path, batches: [1, 2], seqs: [8], repeats: 1000, warmup: 1e9, threads: 1, maxSeconds: 1e-9 });
    expect(r.maxSeconds).toBe(1e-9);
    expect(r.shapes.map((s) => [s.model.runs, s.baseline!.runs])).toEqual([
      [1, 1],
      [1, 1],
    ]);
    const text = formatBench(r);
    expect(text[1]).toMatch(/^batch {2}seq {2}runs {2}p50 ms/);
    expect(text[3]).toMatch(/^ +1 +8 +1 +\d/);
    expect(text.join('\n')).toMatch(
      /^runs: at most 1,000 timed per model and shape after at most 1,000,000,000 warm-up, .*; --max-time 1e-9 s: a shape's runs stopped once its share was spent \(runs column\)$/m,
    );
    // without a budget: no runs column, no note
    const plain = formatBench({ ...r, maxSeconds: undefined });
    expect(plain[1]).not.toContain('runs');
    expect(plain.join('\n')).not.toContain('--max-time');
  });

  it('refuses a budget that is not a positive number of seconds', async () => {
    for (const maxSeconds of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(benchModels({ model: b.path, batches: [1], seqs: [8], repeats: 2, warmup: 0, maxSeconds })).rejects.toThrow(
        new SettingsError(
          `--max-time ${maxSeconds}: expected a ${Number.isFinite(maxSeconds) || Number.isNaN(maxSeconds) ? '' : 'finite '}number of seconds greater than 0`,
        ),
      );
    }
    const r = await runMain(['bench', b.dir, '--max-time', '0']);
    expect(r.code).toBe(2); // (a usage mistake)
    expect(r.stderr).toBe('compress: --max-time 0: expected a number of seconds greater than 0\n');
  });
});

describe('compress bench', () => {
  it('prints the result as JSON with --json, and refuses a bad --batch in one line', async () => {
    const r = await runMain([
      'bench',
      b.dir,
      '--baseline',
      a.dir,
      '--batch',
      '1,2',
      '--seq',
      '8',
      '--repeats',
      '2',
      '--warmup',
      '0',
      '--threads',
      '1',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.shapes.map((s: { batch: number }) => s.batch)).toEqual([1, 2]);
    expect(json.speedup).toBeCloseTo(geometricMean(json.shapes.map((s: { speedup: number }) => s.speedup)), 12);
    const bad = await runMain(['bench', b.dir, '--batch', '1,x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("compress: --batch '1,x': the batch size 'x': expected an integer from 1 to 2^53 − 1\n");
  });
});

describe.skipIf(!hasFixtures)('bench shapes (needs ../shared/fixtures/onnx)', () => {
  it('a keras export with a fixed sequence length is run at that length only', () => {
    const keras = benchSubject(join(FIXTURES, 'bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx'));
    expect(benchShapes([1, 8], [32, 128], [keras])).toEqual([
      { batch: 1, seq: 7 },
      { batch: 8, seq: 7 },
    ]);
    const torch = benchSubject(a.path);
    expect(benchShapes([1], [32, 128], [torch])).toEqual([
      { batch: 1, seq: 32 },
      { batch: 1, seq: 128 },
    ]);
  });

  it("says so when the graph's fixed length replaced the --seq asked (the table alone showed seq 7 for --seq 32,128)", async () => {
    const keras = join(FIXTURES, 'bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx');
    const quick = { batches: [1], repeats: 1, warmup: 0, threads: 1 };
    const r = await benchModels({ model: keras, seqs: [32, 128], ...quick });
    expect(r.shapes.map((s) => s.seq)).toEqual([7]);
    expect(r.fixed).toEqual({ seq: { size: 7, asked: [32, 128] } });
    expect(formatBench(r)).toContain('note: the graph fixes the sequence length at 7, so every shape runs at 7: --seq 32,128 was not used');
    const asked = await benchModels({ model: keras, seqs: [7], ...quick });
    expect(asked.fixed).toBeUndefined();
    expect(formatBench(asked).join('\n')).not.toContain('note:');
  });
});
