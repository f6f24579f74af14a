/**
 * Pruning slices weights, which it can only do on float tensors: a projection stored quantized (int8 dynamic, QDQ,
 * MatMulNBits blocks, QAttention) is refused with a SettingsError that says to prune before quantizing.
 */
import type { EncoderLayer, Linear, Quantization } from '../bert/structure.ts';
import { SettingsError } from '../errors.ts';

/** The quantization of the first quantized weight among `linears` (and a fused attention's packed weight). */
function firstQuantized(linears: Array<Linear | undefined>, extra?: Quantization): Quantization | undefined {
  return extra ?? linears.find((l) => l?.quantization)?.quantization;
}

/** The quantization of a layer's attention weights (Q, K, V or packed QKV, output projection), if any is quantized. */
export function attentionQuantization(layer: EncoderLayer): Quantization | undefined {
  const a = layer.attention;
  return a && firstQuantized([a.q, a.k, a.v, a.output], a.fused?.quantization);
}

/** The quantization of a layer's feed-forward weights, if any is quantized. */
export function feedForwardQuantization(layer: EncoderLayer): Quantization | undefined {
  return firstQuantized([layer.ffn.in, layer.ffn.out]);
}

/** Throws a SettingsError when `q` is set: `<pass>: layer N's <what> weights are quantized (<kind>); <advice>`. */
export function refuseQuantized(pass: string, layer: number, what: string, q: Quantization | undefined, advice: string): void {
  if (q) throw new SettingsError(`${pass}: layer ${layer}'s ${what} weights are quantized (${q.kind}, ${q.bits}-bit) and cannot be sliced; ${advice}`);
}
