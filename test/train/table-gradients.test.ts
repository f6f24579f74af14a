/**
 * Embedding tables' gradients are summed in TypeScript from the rows the training graph outputs, not by
 * onnxruntime's ScatterND (reduction 'add'), which adds repeated ids concurrently with more than one thread and
 * loses updates (a token-type table, every id 0, got gradients off by up to 1.8). The sum is the one ScatterND makes
 * on one thread, bit for bit, so a step gives the same weights at any thread count and as before the change.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalBert } from '../../src/bert/canonical.ts';
import { at } from '../../src/gradients/context.ts';
import { createModel } from '../../src/onnx/graph.ts';
import { DataType } from '../../src/onnx/dtype.ts';
import { loadModel, encodeModel } from '../../src/onnx/index.ts';
import { openSession, Tensor } from '../../src/runtime/session.ts';
import { bertStudent } from '../../src/train/students/index.ts';
import { createStepper, DEFAULT_TRAIN_SETTINGS, gatheredTables } from '../../src/train/trainer.ts';
import { scatterAddRows } from '../../src/train/optimizer.ts';
import { initialParameters } from '../../src/train/student.ts';
import { bitIdentical, lcg } from '../helpers/feeds.ts';
import { TEACHERS } from '../helpers/paths.ts';

const TEACHER = join(TEACHERS, 'sst2-L2H256', 'model.onnx');

/** ScatterND(zeros [rows, width], ids, updates, reduction 'add') as onnxruntime computes it with `threads`. */
async function ortScatterAdd(rows: number, width: number, ids: BigInt64Array, updates: Float32Array, threads: number): Promise<Float32Array> {
  const model = createModel(
    {
      name: 'scatter',
      nodes: [{ name: 's', opType: 'ScatterND', domain: '', inputs: ['zeros', 'ids', 'updates'], outputs: ['out'], attributes: { reduction: at.str('add') } }],
      inputs: [
        { name: 'zeros', elemType: DataType.FLOAT, shape: [rows, width] },
        { name: 'ids', elemType: DataType.INT64, shape: [ids.length, 1] },
        { name: 'updates', elemType: DataType.FLOAT, shape: [ids.length, width] },
      ],
      outputs: [{ name: 'out', elemType: DataType.FLOAT, shape: [rows, width] }],
      initializers: new Map(),
      valueInfo: [],
    },
    [{ domain: '', version: 17 }],
  );
  const s = await openSession(encodeModel(model), { threads });
  try {
    const out = await s.run({
      zeros: new Tensor('float32', new Float32Array(rows * width), [rows, width]),
      ids: new Tensor('int64', ids, [ids.length, 1]),
      updates: new Tensor('float32', updates, [ids.length, width]),
    });
    return out.out!.data as Float32Array;
  } finally {
    await s.release();
  }
}

describe('embedding table gradients', () => {
  it('scatterAddRows gives the bits of onnxruntime ScatterND-add on one thread, and refuses ids out of range', async () => {
    const r = lcg(5);
    const [rows, width, n] = [7, 33, 500];
    const ids = BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * rows)));
    const updates = Float32Array.from({ length: n * width }, () => (r() - 0.5) * 10 ** Math.floor(r() * 6 - 3));
    const mine = new Float32Array(rows * width);
    scatterAddRows(mine, ids, updates, width);
    expect(bitIdentical(mine, await ortScatterAdd(rows, width, ids, updates, 1))).toBe(true);
    expect(() => scatterAddRows(mine, BigInt64Array.of(7n), new Float32Array(width), width)).toThrow(/index 7 at position 0 is outside \[0, 7\)/);
    expect(() => scatterAddRows(mine, BigInt64Array.of(0n), new Float32Array(width - 1), width)).toThrow(/'rowGrads' has 32 values/);
  });

  it.skipIf(!existsSync(TEACHER))(
    'a training step gives the same weights with 1 and 2 threads and either update kernel, dense or lazy word table (needs ../shared/teachers)',
    async () => {
      const student = bertStudent(canonicalBert(loadModel(TEACHER)), 'sst2-L2H256');
      const forward = student.forward(true);
      expect(gatheredTables(forward, [...forward.graph.initializers.keys()]).sort()).toEqual([
        'bert.embeddings.position_embeddings.weight',
        'bert.embeddings.token_type_embeddings.weight',
        'bert.embeddings.word_embeddings.weight',
      ]);
      // 32 × 32 tokens, every token type 0: the size at which ScatterND lost updates with 2 threads.
      const [size, seq] = [32, 32];
      const r = lcg(9);
      const batch = {
        size,
        seq,
        inputIds: BigInt64Array.from({ length: size * seq }, () => BigInt(1 + Math.floor(r() * 3000))),
        attentionMask: new BigInt64Array(size * seq).fill(1n),
        tokenTypeIds: new BigInt64Array(size * seq),
        labels: Float32Array.from({ length: size }, (_, i) => i % 2),
        indices: Int32Array.from({ length: size }, (_, i) => i),
      };
      for (const sparseEmbeddings of [true, false]) {
        const after: Array<Map<string, Float32Array>> = [];
        // the wasm kernel hosts parameters and gradients in its memory; the js kernel keeps ordinary arrays
        for (const [threads, kernel] of [
          [1, 'wasm'],
          [2, 'wasm'],
          [1, 'js'],
        ] as const) {
          const stepper = await createStepper(
            {
              student,
              settings: { ...DEFAULT_TRAIN_SETTINGS, threads, sparseEmbeddings },
              loss: [{ kind: 'hard-ce', weight: 1 }],
            },
            kernel,
          );
          const buffers = new Set([...stepper.params.values()].map((v) => v.buffer));
          expect(buffers.size === 1, `${kernel}: parameters in one memory`).toBe(kernel === 'wasm');
          await stepper.step(batch, 0, 1e-3);
          await stepper.step(batch, 1, 1e-3);
          after.push(new Map([...stepper.params].map(([k, v]) => [k, v.slice()])));
          await stepper.release();
        }
        for (const [name, v] of after[0]!) {
          expect(bitIdentical(v, after[1]!.get(name)!), `${name} (sparse ${sparseEmbeddings})`).toBe(true);
          expect(bitIdentical(v, after[2]!.get(name)!), `${name} (sparse ${sparseEmbeddings}, js kernel)`).toBe(true);
        }
        // The token-type table did move (its gradient is not lost).
        const types = 'bert.embeddings.token_type_embeddings.weight';
        expect(bitIdentical(after[0]!.get(types)!, initialParameters(student.forward(false)).get(types)!)).toBe(false);
      }
    },
  );
});
