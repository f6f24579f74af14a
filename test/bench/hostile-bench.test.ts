/**
 * Benchmarks a hostile user runs: a baseline unrelated to the model (other labels, another vocabulary) is refused
 * instead of reporting a speed-up, a --seq beyond the position table is one line, and two benchmarks on one machine
 * do not time each other: timing holds a machine-wide lock, and a benchmark that could not get it says so.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireTimingLock, formatBench } from '../../src/bench/index.ts';
// (benchModels of run.ts, as compress bench runs it, its refusals naming the flags; the package's names its options)
import { benchModels } from '../../src/bench/run.ts';
import { benchSubject, checkComparable, checkRepeats, checkShapesFit, incomparable } from '../../src/bench/inputs.ts';
import { cloneModel, renameValue, saveModel } from '../../src/onnx/index.ts';
import { encoderOnly } from '../../src/train/students/classifier.ts';
import { baselineRelation, sourceHashes } from '../../src/bench/lineage.ts';
import { compressFile } from '../../src/export/compress.ts';
import { sha256File } from '../../src/files.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { MemoryRefusal, SettingsError } from '../../src/errors.ts';
import { tinyBert, tinyBertConfig, writeTinyBert } from '../helpers/models.ts';
import { buildBert } from '../../src/bert/build.ts';
import { FIXTURES, TEACHERS, hasFixtures, hasTeachers } from '../helpers/paths.ts';
import { runMain } from '../helpers/cli.ts';

const model = writeTinyBert({ numLayers: 1 }, { seed: 2 });
const baseline = writeTinyBert({}, { seed: 1 });
const threeLabels = writeTinyBert({ numLabels: 3 }, { seed: 1 });
const otherVocab = writeTinyBert({ vocabSize: 96 }, { seed: 1 });
afterAll(() => [model, baseline, threeLabels, otherVocab].forEach((m) => m.cleanup()));
const lockFile = () => join(mkdtempSync(join(tmpdir(), 'timing-lock-')), 'timing.lock');
const quick = { batches: [1], seqs: [8], repeats: 2, warmup: 0, threads: 1 };

/** A process that stays alive until killed, and its pid. */
function liveProcess() {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
  return { pid: child.pid!, kill: () => child.kill('SIGKILL') };
}

describe('bench --baseline must be comparable', () => {
  it('refuses a baseline with another number of labels, or another vocabulary', async () => {
    const labels = benchModels({ model: model.path, baseline: threeLabels.path, ...quick });
    await expect(labels).rejects.toThrow(SettingsError);
    await expect(labels).rejects.toThrow(/is not comparable with .*: the model gives 2 scores per example, the baseline 3/);
    await expect(benchModels({ model: model.path, baseline: otherVocab.path, ...quick })).rejects.toThrow(
      /the model's vocabulary has 128 tokens, the baseline's 96/,
    );
    // (a regression head's one score against a classifier's two: counted as one)
    const oneScore = writeTinyBert({ numLabels: 1 }, { seed: 1 });
    try {
      expect(incomparable(benchSubject(oneScore.path), benchSubject(baseline.path))).toBe('the model gives 1 score per example, the baseline 2');
    } finally {
      oneScore.cleanup();
    }
  });

  it("refuses an encoder-only model against a classifier (either way round) in one line saying what the encoder-only one outputs, where it said the scores output 'is null'", () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-encoder-only-'));
    try {
      const encoder = join(dir, 'model.onnx');
      saveModel(encoderOnly(tinyBert({}, { seed: 1 })), encoder);
      const refusal = (m: string, b: string, why: string) =>
        `--baseline ${b} is not comparable with ${m}: ${why}; a speed-up compares a model with the one it was compressed or distilled from`;
      const note = 'encoder-only (outputs last_hidden_state, pooler_output; no classifier)';
      expect(() => checkComparable(benchSubject(encoder), benchSubject(baseline.path))).toThrow(
        new SettingsError(refusal(encoder, baseline.path, `the model is ${note}, the baseline gives class scores ('logits')`)),
      );
      expect(() => checkComparable(benchSubject(baseline.path), benchSubject(encoder))).toThrow(
        new SettingsError(refusal(baseline.path, encoder, `the model gives class scores ('logits'), the baseline is ${note}`)),
      );
      // (two encoder-only models compare)
      expect(incomparable(benchSubject(encoder), benchSubject(encoder))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('warns when the lineage files show the baseline is not a model the subject was made from (or the two are swapped)', async () => {
    registerAllPasses();
    const out = join(mkdtempSync(join(tmpdir(), 'bench-lineage-')), 'cut', 'model.onnx');
    await compressFile({ input: baseline.path, output: out, steps: [{ pass: 'drop-layers', settings: { layers: '1' } }] });
    const twin = writeTinyBert({}, { seed: 7 }); // same shape as the baseline, other weights: not what `out` was cut from
    try {
      expect(sourceHashes(baseline.path)).toBeUndefined();
      expect([...sourceHashes(out)!]).toEqual([await sha256File(baseline.path)]);
      const cases = [
        [out, baseline.path, 'ancestor', undefined],
        [
          out,
          twin.path,
          'unrelated',
          /^warning: [^\n]* is not among the models [^\n]* was compressed or distilled from \(by its lineage file\): the speed-up compares unrelated models$/m,
        ],
        [
          baseline.path,
          out,
          'descendant',
          /^warning: [^\n]* was made from [^\n]*, not the other way round: the speed-up is inverted \(swap --baseline and the model\?\)$/m,
        ],
        [model.path, baseline.path, 'unknown', undefined],
      ] as const;
      for (const [m, b, relation, warning] of cases) {
        const r = await benchModels({ model: m, baseline: b, ...quick });
        expect(r.baselineRelation, relation).toBe(relation);
        const text = formatBench(r).join('\n');
        if (warning) expect(text).toMatch(warning);
        else expect(text).not.toContain('warning');
      }
    } finally {
      twin.cleanup();
    }
  });

  it("takes an output of the same input through a part of the model's passes for what it was made from (a transformers.js folder's fp32 file beside its q8)", async () => {
    // compress --format transformers.js writes onnx/model.onnx and onnx/model_quantized.onnx from one input, the fp32
    // one without the quantize steps: benchmarking q8 against fp32 warned 'the speed-up compares unrelated models'
    registerAllPasses();
    const dir = mkdtempSync(join(tmpdir(), 'bench-siblings-'));
    const prune = { pass: 'prune-ffn', settings: { ratio: 0.5 } };
    const fp32 = join(dir, 'fp32', 'model.onnx');
    const q8 = join(dir, 'q8', 'model.onnx');
    const other = join(dir, 'other', 'model.onnx');
    try {
      await compressFile({ input: baseline.path, output: fp32, steps: [prune] });
      await compressFile({ input: baseline.path, output: q8, steps: [prune, { pass: 'quantize', settings: { mode: 'int8' } }] });
      await compressFile({ input: baseline.path, output: other, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.25 } }] });
      expect(await baselineRelation(q8, fp32)).toBe('ancestor');
      expect(await baselineRelation(fp32, q8)).toBe('descendant');
      expect(await baselineRelation(q8, other)).toBe('unrelated');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!hasFixtures || !hasTeachers)('names both element types of an input the baseline declares otherwise (a keras export reads int32 ids)', () => {
    const keras = benchSubject(join(FIXTURES, 'bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx'));
    const teacher = benchSubject(join(TEACHERS, 'sst2-L2H256', 'model.onnx'));
    expect(() => checkComparable(keras, teacher)).toThrow(/: input '\w+' is int32 in the model and int64 in the baseline; a speed-up compares /);
  });

  it('refuses a --seq beyond the position table', async () => {
    await expect(benchModels({ model: model.path, ...quick, seqs: [8, 65] })).rejects.toThrow(
      /--seq 65 is beyond the model's position table \(64 tokens at most\)/,
    );
  });

  it('refuses, before building any input, a shape one of whose activations alone is larger than the memory', async () => {
    // (a --batch of 100000000 ran until killed, building its inputs; 2^29 × 8 ids fit in a typed array, its FFN activation 1.1 TB)
    const large = benchModels({ model: model.path, ...quick, batches: [1, 2 ** 29] });
    await expect(large).rejects.toThrow(MemoryRefusal);
    await expect(large).rejects.toThrow(
      /^--batch 536870912 --seq 8: one activation of .*model\.onnx would take [\d,]+ GB, more than this machine's [\d.,]+ GB of memory; give a smaller --batch or --seq$/,
    );
    const subject = benchSubject(model.path);
    const { intermediateSize } = subject.structure!;
    // at the memory's edge: the FFN activation of batch 4 × seq 8 is 32 × intermediate × 4 bytes
    const edge = 32 * intermediateSize * 4;
    expect(() => checkShapesFit([{ batch: 4, seq: 8 }], [subject], edge)).not.toThrow();
    expect(() => checkShapesFit([{ batch: 4, seq: 8 }], [subject], edge - 1)).toThrow(SettingsError);
  });

  it('refuses a shape whose inputs hold more ids each than the longest typed array (2^32), whatever the memory: a SettingsError, no MemoryRefusal', async () => {
    const huge = benchModels({ model: model.path, ...quick, batches: [1, 1e12] });
    await expect(huge).rejects.toThrow(
      /^--batch 1000000000000 --seq 8: the inputs of .*model\.onnx would hold 8,000,000,000,000 ids each, more than the longest typed array Node\.js 20 makes \(4,294,967,296\), on any machine; give a smaller --batch or --seq$/,
    );
    await expect(huge).rejects.not.toThrow(MemoryRefusal);
    const subject = benchSubject(model.path);
    expect(() => checkShapesFit([{ batch: 2 ** 29, seq: 8 }], [subject], Infinity)).not.toThrow();
    expect(() => checkShapesFit([{ batch: 2 ** 29 + 1, seq: 8 }], [subject], Infinity)).toThrow(/would hold 4,294,967,304 ids each/);
  });

  it("compress bench exits 2 on such a shape (a --batch or --seq value no machine runs, as a --repeats no machine keeps the latencies of), where it exited 1; a --seq past the model's position table, the model's limit, exits 1", async () => {
    const huge = await runMain(['bench', model.path, '--batch', '1,100000000', '--seq', '64']);
    expect(huge.stderr).toMatch(
      /^compress: --batch 100000000 --seq 64: the inputs of .*model\.onnx would hold 6,400,000,000 ids each, more than the longest typed array Node\.js 20 makes \(4,294,967,296\), on any machine; give a smaller --batch or --seq\n$/,
    );
    expect([huge.code, huge.stdout]).toEqual([2, '']);
    const beyond = await runMain(['bench', model.path, '--batch', '1', '--seq', '65']);
    expect(beyond.stderr).toMatch(/^compress: .*model\.onnx: --seq 65 is beyond the model's position table \(64 tokens at most\)/);
    expect([beyond.code, beyond.stdout]).toEqual([1, '']);
  });

  it('quotes each size of a refused shape as typed, as --repeats is (--batch 1e8, not 100000000)', async () => {
    const huge = await runMain(['bench', model.path, '--batch', '1, 1e8', '--seq', '6.4e1']);
    expect(huge.stderr).toMatch(/^compress: --batch 1e8 --seq 6\.4e1: the inputs of .*model\.onnx would hold 6,400,000,000 ids each, /);
    expect(huge.code).toBe(2);
    const beyond = await runMain(['bench', model.path, '--batch', '1', '--seq', '8,6.5e1']);
    expect(beyond.stderr).toMatch(/^compress: .*model\.onnx: --seq 6\.5e1 is beyond the model's position table \(64 tokens at most\)/);
    expect(beyond.code).toBe(1);
  });

  it('refuses, before taking the timing lock, --repeats whose latencies could not be kept (it ran for ever holding the lock)', async () => {
    await expect(benchModels({ model: model.path, ...quick, repeats: 1e12 })).rejects.toThrow(
      /^--repeats 1000000000000: the latencies of that many runs could not be kept \(at most 4,294,967,296, the longest Float64Array Node\.js 20 makes, which the statistics sort\); give a smaller --repeats, or a --max-time$/,
    );
    // one float64 per run and model timed and one for the sorted copy, and never beyond the longest Float64Array
    expect(() => checkRepeats({ repeats: 1000, maxSeconds: undefined }, 2, 24_000)).not.toThrow();
    expect(() => checkRepeats({ repeats: 1001, maxSeconds: undefined }, 2, 24_000)).toThrow(/^--repeats 1001: .*\(at most 1,000 with /);
    expect(() => checkRepeats({ repeats: 2 ** 32 + 1, maxSeconds: undefined }, 1, 1e15)).toThrow(
      /at most 4,294,967,296, the longest Float64Array Node\.js 20 makes, which the statistics sort\)/,
    );
    // beyond the memory, a MemoryRefusal (a queued point goes back for a worker with more); beyond the longest
    // Float64Array, which no machine holds, a plain refusal (2^32 itself fits)
    expect(() => checkRepeats({ repeats: 2 ** 32, maxSeconds: undefined }, 1, 1e15)).not.toThrow();
    expect(() => checkRepeats({ repeats: 1001, maxSeconds: undefined }, 2, 24_000)).toThrow(MemoryRefusal);
    expect(() => checkRepeats({ repeats: 2 ** 32 + 1, maxSeconds: undefined }, 1, 1e15)).toThrow(SettingsError);
    expect(() => checkRepeats({ repeats: 2 ** 32 + 1, maxSeconds: undefined }, 1, 1e15)).not.toThrow(MemoryRefusal);
  });
});

describe('the machine-wide timing lock', () => {
  it('is exclusive: a second taker waits until the first releases it', async () => {
    const file = lockFile();
    const first = await acquireTimingLock({ file });
    expect(first.record.exclusive).toBe(true);
    let second: Awaited<ReturnType<typeof acquireTimingLock>> | undefined;
    const waiting = acquireTimingLock({ file, waitSeconds: 30 }).then((l) => (second = l));
    await new Promise((r) => setTimeout(r, 600));
    expect(second).toBeUndefined();
    first.release();
    await waiting;
    expect(second!.record.exclusive).toBe(true);
    expect(second!.record.waitedSeconds).toBeGreaterThan(0);
    second!.release();
    expect(existsSync(file)).toBe(false);
  });

  it('records and shows a benchmark timed while another process held the lock', async () => {
    const file = lockFile();
    const holder = liveProcess();
    try {
      writeFileSync(file, `${holder.pid}\n`);
      const waits: Array<number | undefined> = [];
      const r = await benchModels({
        model: model.path,
        baseline: baseline.path,
        ...quick,
        timingLock: { file, waitSeconds: 0.5 },
        onLockWait: (pid) => waits.push(pid),
      });
      expect(waits).toEqual([holder.pid]);
      expect(r.timing).toMatchObject({ exclusive: false, heldBy: holder.pid, reason: 'busy' });
      expect(formatBench(r).join('\n')).toMatch(
        new RegExp(`warning: timed without the machine-wide timing lock \\(another benchmark \\(pid ${holder.pid}\\) was timing`),
      );
      expect(existsSync(file)).toBe(true); // not ours to remove
    } finally {
      holder.kill();
    }
  });

  it('takes over a lock whose process is gone, and releases it after timing', async () => {
    const file = lockFile();
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    writeFileSync(file, `${dead}\n`);
    const r = await benchModels({ model: model.path, ...quick, timingLock: { file, waitSeconds: 0.5 } });
    expect(r.timing).toEqual({ exclusive: true, waitedSeconds: expect.any(Number) });
    expect(formatBench(r).join('\n')).not.toContain('warning');
    expect(existsSync(file)).toBe(false);
  });
});

describe('compress bench flags', () => {
  it('refuses an integer flag that is not a number in one line', async () => {
    const r = await runMain(['bench', model.path, '--repeats', 'abc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("compress: --repeats 'abc': expected an integer from 1 to 2^53 − 1\n");
  });

  it('refuses a --repeats no machine keeps the latencies of as a bad value (exit 2), before the model is read', async () => {
    // (beyond the longest Float64Array, whatever the memory: it exited 1 after loading the model)
    const r = await runMain(['bench', join(tmpdir(), 'no-such-model.onnx'), '--repeats', '5e9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'compress: --repeats 5e9: the latencies of that many runs could not be kept (at most 4,294,967,296, the longest Float64Array Node.js 20 makes, which the statistics sort); give a smaller --repeats, or a --max-time\n',
    );
    // (the value as typed, as every refusal of a number flag shows it: '--repeats 1e308: expected an integer …')
    const plain = await runMain(['bench', join(tmpdir(), 'no-such-model.onnx'), '--repeats', ' 4294967297 ']);
    expect(plain.stderr).toMatch(/^compress: --repeats 4294967297: the latencies of that many runs could not be kept /);
    // with --max-time it is a ceiling, not refused at the command line
    const timed = await runMain(['bench', join(tmpdir(), 'no-such-model.onnx'), '--repeats', '5e9', '--max-time', '1']);
    expect(timed.code).toBe(1);
  });
});

describe("bench's baseline refusals", () => {
  it("quote an input's name as a shell takes it (quotedText), where plain quotes showed a quote in it as it is", () => {
    const baseline = tinyBert();
    const model = cloneModel(baseline);
    model.graph.inputs.push({ name: "it's", elemType: 7, shape: [1] });
    const names = baseline.graph.inputs.filter((v) => !baseline.graph.initializers.has(v.name)).map((v) => v.name);
    expect(incomparable({ path: 'm.onnx', model }, { path: 'b.onnx', model: baseline })).toBe(
      `the model reads input 'it'\\''s', which the baseline does not have (${names.join(', ')})`,
    );
  });
});

describe("bench of a model whose inputs have other names than its baseline's", () => {
  it('compares the inputs by role, as each model is fed by its own names (a student exported with ids, input_mask, segment_ids)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-renamed-'));
    try {
      const renamed = cloneModel(tinyBert({ numLayers: 1 }, { seed: 3 }));
      for (const [from, to] of [
        ['input_ids', 'ids'],
        ['attention_mask', 'input_mask'],
        ['token_type_ids', 'segment_ids'],
      ] as const)
        renameValue(renamed.graph, from, to);
      saveModel(renamed, join(dir, 'renamed.onnx'));
      const r = await benchModels({ model: join(dir, 'renamed.onnx'), baseline: baseline.path, ...quick });
      expect(r.shapes).toHaveLength(1);
      // (a role the baseline is not fed: token types beside a baseline that computes them)
      const noTypes = buildBert({ ...tinyBertConfig(), zeroTokenTypes: true }, { kind: 'random', seed: 1 });
      saveModel(noTypes, join(dir, 'no-types.onnx'));
      expect(incomparable(benchSubject(join(dir, 'renamed.onnx')), benchSubject(join(dir, 'no-types.onnx')))).toBe(
        "the model reads token types (input 'segment_ids'), which the baseline does not (its inputs: input_ids, attention_mask)",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
