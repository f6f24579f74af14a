/**
 * The compress command's note on int8 weights and this CPU: onnxruntime's x86 uint8 × int8 kernels without AVX-512
 * VNNI / AVX-VNNI add pairs of products in 16 bits, which full-range int8 weights can saturate; a quantize step that
 * stores int8 products without reduceRange on such a CPU gets one line pointing at --quantize-reduce-range.
 */
import { int8Saturates, type CpuFlags } from '../bench/machine.ts';
import type { PassStep } from '../pass/pass.ts';
import { fullRangeInt8Products } from '../quantize/settings.ts';

/** The note for `steps` on a CPU with `flags`, or undefined (no int8 product, reduceRange given, VNNI, or not x86). */
export function reduceRangeNote(steps: readonly PassStep[], flags: CpuFlags): string | undefined {
  if (!int8Saturates(flags) || !fullRangeInt8Products(steps)) return undefined;
  return "note: this CPU has no AVX-512 VNNI / AVX-VNNI: onnxruntime's int8 products can saturate here with full-range int8 weights; for CPUs like it, add --quantize-reduce-range (7-bit weights, onnxruntime's reduce_range)";
}
