/**
 * The pieces of the plain TypeScript forward passes (float64) the tests check built graphs against
 * (referenceBertLogits, referenceFamilyLogits, referenceAlbertLogits): written from transformers' modeling files,
 * independent of the builder, one copy of each.
 */

/** erf with |error| < 1.2e-7 (Numerical Recipes' Chebyshev fit of erfc). */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

/** transformers' ACT2FN by name: 'gelu' (erf), 'gelu_new' (tanh approximation), 'relu'. */
export function activation(name: string, x: number): number {
  switch (name) {
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_new':
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case 'relu':
      return Math.max(0, x);
    case 'silu':
    case 'swish':
      return x / (1 + Math.exp(-x));
    case 'tanh':
      return Math.tanh(x);
    case 'quick_gelu':
      return x / (1 + Math.exp(-1.702 * x));
    default:
      throw new Error(`reference: activation '${name}' not written`);
  }
}

/** nn.Linear: y = W x + b, W [out, in]. */
export function linear(w: Float32Array, b: Float32Array, x: Float64Array): Float64Array {
  const y = new Float64Array(b.length);
  for (let o = 0; o < b.length; o++) {
    let s = b[o];
    const row = o * x.length;
    for (let i = 0; i < x.length; i++) s += w[row + i] * x[i];
    y[o] = s;
  }
  return y;
}

/** nn.LayerNorm over the whole vector. */
export function layerNorm(x: Float64Array, gamma: Float32Array, beta: Float32Array, eps: number): Float64Array {
  const mean = x.reduce((a, v) => a + v, 0) / x.length;
  const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length;
  const inv = 1 / Math.sqrt(variance + eps);
  return x.map((v, i) => (v - mean) * inv * gamma[i] + beta[i]);
}

/** The module names (without .weight / .bias) of one post-LayerNorm encoder layer. */
export interface ReferenceLayerNames {
  query: string;
  key: string;
  value: string;
  attentionOutput: string;
  attentionNorm: string;
  intermediate: string;
  output: string;
  outputNorm: string;
}

/** What an encoder layer needs besides its input. */
export interface ReferenceLayer {
  names: ReferenceLayerNames;
  weight: (name: string) => Float32Array;
  numHeads: number;
  /** The feed-forward activation's transformers name (see activation). */
  act: string;
  eps: number;
}

/**
 * One BERT encoder layer on a sequence (rows of width hidden): multi-head self-attention over the positions the mask
 * keeps (scores / √headSize), output projection, residual + LayerNorm, feed-forward, residual + LayerNorm.
 */
export function encoderLayer(x: Float64Array[], mask: readonly number[], l: ReferenceLayer): Float64Array[] {
  const lin = (name: string, v: Float64Array) => linear(l.weight(`${name}.weight`), l.weight(`${name}.bias`), v);
  const norm = (name: string, v: Float64Array) => layerNorm(v, l.weight(`${name}.weight`), l.weight(`${name}.bias`), l.eps);
  const n = l.names;
  const seq = x.length;
  const q = x.map((v) => lin(n.query, v));
  const k = x.map((v) => lin(n.key, v));
  const val = x.map((v) => lin(n.value, v));
  const width = q[0].length;
  const hs = width / l.numHeads;
  const context = x.map(() => new Float64Array(width));
  for (let head = 0; head < l.numHeads; head++) {
    const off = head * hs;
    for (let i = 0; i < seq; i++) {
      const scores = new Float64Array(seq);
      let max = -Infinity;
      for (let j = 0; j < seq; j++) {
        let s = 0;
        for (let d = 0; d < hs; d++) s += q[i][off + d] * k[j][off + d];
        scores[j] = mask[j] ? s / Math.sqrt(hs) : -Infinity;
        max = Math.max(max, scores[j]);
      }
      let sum = 0;
      for (let j = 0; j < seq; j++) sum += scores[j] = Math.exp(scores[j] - max);
      for (let j = 0; j < seq; j++) for (let d = 0; d < hs; d++) context[i][off + d] += (scores[j] / sum) * val[j][off + d];
    }
  }
  return x.map((v, i) => {
    const o = lin(n.attentionOutput, context[i]);
    const attended = norm(
      n.attentionNorm,
      v.map((e, j) => e + o[j]),
    );
    const down = lin(
      n.output,
      lin(n.intermediate, attended).map((e) => activation(l.act, e)),
    );
    return norm(
      n.outputNorm,
      attended.map((e, j) => e + down[j]),
    );
  });
}
