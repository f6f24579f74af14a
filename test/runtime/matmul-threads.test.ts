/**
 * Why training's bytes can change with the onnxruntime thread count (README, Training: Reproducible): onnxruntime's
 * float MatMul (MLAS SGEMM) splits a product [M × K]·[K × N] between threads by columns when N > M (in blocks of
 * 16), else by rows, and a thread whose share is 64 columns or fewer sums K in blocks of 256 instead of 128 (as MLAS's
 * source reads; the groups below are what onnxruntime-node 1.30 gives on x86-64): other rounding where K > 128. Split
 * by rows, or with K ≤ 128, every thread count gives the same bits. In a training graph
 * (weights fed as inputs, as here) the first such product is the pooler's [batch × H]·[H × H], once a thread's share of
 * its H columns is 64 or fewer (from 4 threads at H = 256, 5 at H = 384), or a product on a batch of fewer tokens than
 * its output's width (an FFN's [tokens × I]·[I × H] at 2 threads already where H = 128).
 * This pins onnxruntime's behaviour that README states: a failure here means README's sentence needs changing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DataType } from '../../src/onnx/dtype.ts';
import { createModel } from '../../src/onnx/graph.ts';
import { encodeModel } from '../../src/onnx/save.ts';
import { openSession, type Session, Tensor } from '../../src/runtime/session.ts';
import { onnxNode } from '../helpers/models.ts';

const matmul = encodeModel(
  createModel(
    {
      name: 'matmul',
      nodes: [onnxNode('product', 'MatMul', ['a', 'b'], ['c'])],
      inputs: [
        { name: 'a', elemType: DataType.FLOAT, shape: ['m', 'k'] },
        { name: 'b', elemType: DataType.FLOAT, shape: ['k', 'n'] },
      ],
      outputs: [{ name: 'c', elemType: DataType.FLOAT, shape: ['m', 'n'] }],
      initializers: new Map(),
      valueInfo: [],
    },
    [{ domain: '', version: 13 }],
  ),
);

const sessions = new Map<number, Session>();
afterAll(async () => {
  for (const s of sessions.values()) await s.release();
});

async function session(threads: number): Promise<Session> {
  let s = sessions.get(threads);
  if (!s) {
    s = await openSession(matmul, { threads, spinning: false });
    sessions.set(threads, s);
  }
  return s;
}

/** Values in [-1, 1) of a fixed sequence. */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31 - 1);
}

/** The product's bits at `threads` onnxruntime threads, as hex. */
async function product(m: number, k: number, n: number, threads: number): Promise<string> {
  const feeds = { a: new Tensor('float32', values(m * k, 1), [m, k]), b: new Tensor('float32', values(k * n, 2), [k, n]) };
  const c = (await (await session(threads)).run(feeds)).c!.data as Float32Array;
  return Buffer.from(c.buffer, c.byteOffset, c.byteLength).toString('hex');
}

/** The thread counts of `threads` grouped by the bits they give. */
async function groups(m: number, k: number, n: number, threads: readonly number[]): Promise<number[][]> {
  const by = new Map<string, number[]>();
  for (const t of threads) {
    const bits = await product(m, k, n, t);
    by.set(bits, [...(by.get(bits) ?? []), t]);
  }
  return [...by.values()];
}

describe("onnxruntime's MatMul bits by thread count", () => {
  it('are the same at 1 to 8 threads with an inner dimension of 128 or less, or split by rows', async () => {
    expect(await groups(32, 128, 256, [1, 2, 3, 4, 6, 8])).toEqual([[1, 2, 3, 4, 6, 8]]);
    expect(await groups(256, 512, 256, [1, 2, 3, 4, 6, 8])).toEqual([[1, 2, 3, 4, 6, 8]]);
  });

  // (MLAS's strides as its x86-64 kernels have them)
  it.runIf(process.arch === 'x64')('split by columns with an inner dimension over 128: change once a thread has 64 columns or fewer', async () => {
    // the 256-wide pooler at batch 32: 256, 128, 96 columns a thread, then 64
    expect(await groups(32, 256, 256, [1, 2, 3, 4, 6, 8])).toEqual([
      [1, 2, 3],
      [4, 6, 8],
    ]);
    // a 128-wide output of a 512-wide product on 32 tokens: 64 columns a thread at 2 threads already
    expect(await groups(32, 512, 128, [1, 2])).toEqual([[1], [2]]);
  });
});
