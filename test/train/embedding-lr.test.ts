import { describe, expect, it } from 'vitest';
import { embeddingLrScales, parseEmbeddingLr, type EmbeddingLr } from '../../src/train/embedding-lr.ts';
import { checkSettings } from '../../src/train/run.ts';
import { weightMatrices, type Student } from '../../src/train/student.ts';
import { createStepper, DEFAULT_TRAIN_SETTINGS } from '../../src/train/trainer.ts';
import { bertStudent } from '../../src/train/students/index.ts';
import { canonicalBert } from '../../src/bert/canonical.ts';
import { readFloat32 } from '../../src/onnx/tensor.ts';
import type { Batch } from '../../src/train/data.ts';
import { tinyBert } from '../helpers/models.ts';
import { refusal } from '../helpers/refusal.ts';
import { SettingsError } from '../../src/errors.ts';

describe('--embedding-lr', () => {
  it('parses a positive number (or its text) or scaled; refuses the rest in one line naming the flag', () => {
    expect(parseEmbeddingLr('scaled')).toBe('scaled');
    expect(parseEmbeddingLr(' Scaled ')).toBe('scaled'); // read as every word value is: letter case and spaces do not matter
    expect(parseEmbeddingLr('3e-3')).toBe(0.003);
    expect(parseEmbeddingLr(0.001)).toBe(0.001);
    for (const bad of ['abc', '', '0', '-1', 'Infinity', '0x1', 0, Number.NaN, null, 'scale']) {
      expect(() => parseEmbeddingLr(bad)).toThrow(/^--embedding-lr .+: expected a number greater than 0 or 'scaled'$/);
    }
    // (an infinite one is greater than 0: refused as not finite, as --lr 1e400 is)
    for (const bad of ['1e400', ' 1e400', Number.POSITIVE_INFINITY]) {
      expect(() => parseEmbeddingLr(bad)).toThrow(
        /^--embedding-lr (1e400|Infinity \(infinite: \.inf, or a number too large to hold\)): expected a finite number greater than 0 or 'scaled'$/,
      );
    }
    // (a number too small to hold reads as 0: refused saying so, as --lr 1e-400 is, not as if 1e-400 were not above 0)
    expect(() => parseEmbeddingLr(' 1e-400')).toThrow(
      new SettingsError("--embedding-lr 1e-400: too small for a number to hold (it reads as 0); expected a number greater than 0 or 'scaled'"),
    );
  });

  it('a number whose ratio to --lr is not a finite number > 0 is refused in one line with the settings, naming both', () => {
    expect(refusal(() => checkSettings({ lr: 1e-300, embeddingLr: 1e300 }, undefined))).toBe(
      "--embedding-lr 1e+300: its ratio to --lr 1e-300 is Infinity (the tables' lr factor), not a finite number greater than 0: give rates nearer each other",
    );
    expect(refusal(() => checkSettings({ lr: 1e300, embeddingLr: 1e-300 }, undefined))).toBe(
      "--embedding-lr 1e-300: its ratio to --lr 1e+300 is 0 (the tables' lr factor), not a finite number greater than 0: give rates nearer each other",
    );
    expect(checkSettings({ lr: 1e-4, embeddingLr: 3e-3 }, undefined).settings.embeddingLr).toBe(3e-3);
  });

  it("a number: each table's factor is that lr over the schedule's; unset: no factor", () => {
    const params = new Map([['t', Float32Array.of(1, -1)]]);
    expect(embeddingLrScales(1e-4, 3e-3, ['t'], [], params).get('t')).toBeCloseTo(30, 10);
    expect(embeddingLrScales(1e-4, undefined, ['t'], [], params).size).toBe(0);
  });

  it("scaled: the table's RMS over the RMS of all the matrices' values together", () => {
    const params = new Map([
      ['table', Float32Array.of(3, -3, 3, -3)], // RMS 3
      ['m1', Float32Array.of(0.1, -0.1)], // pooled with m2: √((0.01·2 + 0.04·2) / 4) = √0.025
      ['m2', Float32Array.of(0.2, 0.2)],
      ['zeros', new Float32Array(2)],
    ]);
    const scales = embeddingLrScales(1e-4, 'scaled', ['table', 'zeros'], ['m1', 'm2'], params);
    expect(scales.get('table')).toBeCloseTo(3 / Math.sqrt(0.025), 4);
    expect(scales.get('zeros')).toBe(1); // nothing to scale by: the schedule's lr
    expect(() => embeddingLrScales(1e-4, 'scaled', ['table'], ['zeros'], params)).toThrow(/no non-zero weight matrix/);
  });

  it('the reference matrices of a BERT leave out every table it looks rows up in (word, position, type)', () => {
    const model = tinyBert();
    const matrices = weightMatrices(model);
    const gathered = model.graph.nodes.filter((n) => n.opType === 'Gather').map((n) => n.inputs[0]);
    expect(gathered.filter((t) => model.graph.initializers.get(t)?.dims.length === 2).length).toBeGreaterThanOrEqual(3);
    for (const t of gathered) expect(matrices).not.toContain(t);
    expect(matrices.length).toBeGreaterThanOrEqual(6); // q, k, v, o, ffn in/out (+ pooler, classifier)
    for (const m of matrices) expect(model.graph.initializers.get(m)!.dims.length).toBe(2);
  });
});

describe('--embedding-lr in the trainer', () => {
  /** A tiny BERT student whose word table is 50× its initialisation (as torch's N(0, 1) next to 0.02 matrices). */
  function bigTableStudent(): Student {
    const c = canonicalBert(tinyBert({ vocabSize: 40 }));
    const word = bertStudent(c, 'probe').sparse[0]!;
    const weights = new Map(c.weights);
    weights.set(
      word,
      weights.get(word)!.map((x) => x * 50),
    );
    return bertStudent({ config: c.config, weights }, 'big table');
  }
  const batch: Batch = {
    size: 2,
    seq: 4,
    inputIds: BigInt64Array.of(1n, 5n, 7n, 2n, 1n, 9n, 3n, 2n),
    attentionMask: new BigInt64Array(8).fill(1n),
    tokenTypeIds: new BigInt64Array(8),
    labels: Float32Array.of(0, 1),
    indices: Int32Array.of(0, 1),
  };

  it("scaled: the word table's factor is its RMS over the matrices' (computed here), and its rows move that much faster", async () => {
    const student = bigTableStudent();
    const word = student.sparse[0]!;
    const forward = student.forward(false);
    const value = (name: string) => readFloat32(forward.graph.initializers.get(name)!);
    const rms = (names: string[]) => {
      let s = 0;
      let n = 0;
      for (const v of names.map(value)) for (const x of v) (s += x * x), n++;
      return Math.sqrt(s / n);
    };
    const matrices = [...forward.graph.initializers].filter(([k, t]) => t.dims.length === 2 && !/embeddings/.test(k)).map(([k]) => k);
    const expected = rms([word]) / rms(matrices);
    expect(expected).toBeGreaterThan(10);
    const moved = async (embeddingLr: EmbeddingLr | undefined) => {
      const stepper = await createStepper({
        student,
        loss: [{ kind: 'hard-ce', weight: 1 }],
        settings: { ...DEFAULT_TRAIN_SETTINGS, dropout: 0, threads: 1, weightDecay: 0, embeddingLr },
      });
      const before = Float32Array.from(stepper.params.get(word)!);
      const started = performance.now();
      await stepper.step(batch, 0, 1e-4);
      const elapsed = performance.now() - started;
      await stepper.release();
      // The benchmark's split of the step: three parts, each measured, together within the step's time.
      const { feeds, graph, update } = stepper.lastTimings;
      for (const part of [feeds, graph, update]) expect(part).toBeGreaterThan(0);
      expect(feeds + graph + update).toBeLessThanOrEqual(elapsed);
      const after = stepper.params.get(word)!;
      let most = 0;
      for (let i = 0; i < after.length; i++) most = Math.max(most, Math.abs(after[i] - before[i]));
      return { factor: stepper.optimizer.lrScale.get(word), most };
    };
    const scaled = await moved('scaled');
    const plain = await moved(undefined);
    expect(scaled.factor).toBeCloseTo(expected, 3);
    expect(plain.factor).toBeUndefined();
    // Adam's first step moves each touched value by ~lr: here by ~lr × factor
    expect(plain.most).toBeCloseTo(1e-4, 6);
    expect(scaled.most / plain.most).toBeCloseTo(expected, 1);
  });
});
