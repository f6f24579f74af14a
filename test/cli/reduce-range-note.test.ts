/** compress's one-line note on a CPU without VNNI, where full-range int8 weights can saturate onnxruntime's int8 products. */
import { describe, expect, it } from 'vitest';
import { reduceRangeNote } from '../../src/cli/reduce-range-note.ts';
import { parseCpuInfo } from '../../src/bench/machine.ts';

const AVX2 = parseCpuInfo('model name\t: Intel(R) Core(TM) i7-8700\nflags\t\t: fpu sse2 avx avx2 fma\n').flags;
const VNNI = parseCpuInfo('model name\t: Intel(R) Xeon(R) Gold 6338\nflags\t\t: fpu avx2 avx512f avx512_vnni\n').flags;
const AVX_VNNI = parseCpuInfo('flags\t\t: fpu avx2 avx_vnni\n').flags;
const ARM = parseCpuInfo('Features\t: fp asimd asimddp\n').flags;
const quantize = (settings: Record<string, unknown>) => [
  { pass: 'prune-ffn', settings: { ratio: 0.2 } },
  { pass: 'quantize', settings },
];

describe('the reduce-range note', () => {
  it.each([[{ mode: 'int8' }], [{ mode: 'int8-static' }], [{ mode: 'int8-group:64' }], [{ mode: 'mixed:0.3' }], [{ mode: 'int8', reduceRange: false }]])(
    'is one line for %j on an AVX2 CPU without VNNI',
    (settings) => {
      const note = reduceRangeNote(quantize(settings), AVX2);
      expect(note).toBe(
        "note: this CPU has no AVX-512 VNNI / AVX-VNNI: onnxruntime's int8 products can saturate here with full-range int8 weights; for CPUs like it, add --quantize-reduce-range (7-bit weights, onnxruntime's reduce_range)",
      );
    },
  );

  it('is silent with --quantize-reduce-range, with int4-block or float16 (no int8 product), without quantize, with VNNI, and off x86', () => {
    expect(reduceRangeNote(quantize({ mode: 'int8', reduceRange: true }), AVX2)).toBeUndefined();
    expect(reduceRangeNote(quantize({ mode: 'int4-block:32' }), AVX2)).toBeUndefined();
    expect(reduceRangeNote(quantize({ mode: 'float16' }), AVX2)).toBeUndefined();
    expect(reduceRangeNote([{ pass: 'prune-ffn', settings: { ratio: 0.2 } }], AVX2)).toBeUndefined();
    for (const flags of [VNNI, AVX_VNNI, ARM]) expect(reduceRangeNote(quantize({ mode: 'int8' }), flags)).toBeUndefined();
  });
});
