/**
 * Rounding as onnxruntime's quantizers round: numpy's (halves to even) in its Python quantizers (quant_utils.py
 * compute_scale_zp, quantize_nparray), C's roundf (halves away from zero) in MLAS's block quantizer (q4_dq.cpp).
 */

/** The smallest normal float32 (numpy.finfo(float32).tiny): compute_scale_zp takes a scale below it as 1. */
export const FLOAT32_TINY = 2 ** -126;

/** numpy.round of a number to a whole number: halves to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** C's roundf: halves away from zero. */
export function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.floor(Math.abs(x) + 0.5);
}
