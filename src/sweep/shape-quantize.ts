// What a sweep's quantize steps store quantized on a model the plan no longer reads (after a step it does not
// follow: prune-heads, prune-ffn, share-layers, factorize-embeddings), told from the widths it knows there.

import { SettingsError } from '../errors.ts';
import type { PassShape } from '../pass/pass.ts';
import { int4StoresLess } from '../quantize/int4-blocks.ts';
import { EMBEDDINGS_KEPT, INT4_ATTENTION_KEPT, int4FloatReason, keptAllLine, STATIC_ATTENTION_KEPT } from '../quantize/pass.ts';
import { modeName, type QuantizeOptions } from '../quantize/settings.ts';

/**
 * The widths of a model the plan knows where it no longer reads it (PassShape's, with `outside`: the input widths of
 * the projections outside the layers, pooler and head, by id, as read; no step the plan does not follow changes them), and
 * its heads by layer, known (`heads`) or at most (`headsAtMost`: a prune-heads by ratio chooses them when it runs).
 */
export interface KnownShape extends Pick<PassShape, 'hidden' | 'ffn' | 'attention' | 'embedding' | 'factorized' | 'fusedEmbedding'> {
  outside?: readonly { id: string; input: number }[];
  heads?: readonly number[];
  headsAtMost?: readonly number[];
}

/** A projection quantize targets, by its id (quantizationTargets'), and its input width: its least and its most. */
interface Projection {
  id: string;
  inputs: readonly [number, number];
}

/**
 * The weights quantize targets that a model so far stores float, as the quantize steps on it left them where the plan
 * no longer reads it (SoFar.shapeLeft): `projections`; `fused`, whether fused Attentions' packed weights are float;
 * `tables`, the embedding tables a Gather reads ('float': some, all float; 'none': none float, or none such; 'maybe':
 * float where a Gather reads any, which the plan cannot tell). `by`: the mode of the quantize step that left them
 * (modeName's), where one did.
 */
export interface ShapeLeft {
  by?: string;
  projections: readonly Projection[];
  fused: boolean;
  tables: 'float' | 'none' | 'maybe';
}

/**
 * The weights quantize targets of a model of `shape`, every one float (ShapeLeft's); undefined where the widths the
 * plan knows do not say them (a layer's heads, its FFN's width, whether its Q, K and V are fused).
 */
export function floatWeights(shape: KnownShape): ShapeLeft | undefined {
  const { hidden, ffn, attention, outside } = shape;
  const heads = shape.heads ?? shape.headsAtMost;
  if (hidden === undefined || !ffn || !attention?.fused || !heads || !outside || heads.length !== ffn.length) return undefined;
  const projections: Projection[] = [];
  let fused = false;
  ffn.forEach((width, l) => {
    const most = heads[l]!;
    // (a prune-heads by ratio leaves a layer one head at least, or none, which then has no attention weights)
    const least = shape.heads ? most : Math.min(1, most);
    if (most > 0) {
      if (attention.fused![l]) fused = true;
      else for (const p of ['q', 'k', 'v']) projections.push({ id: `layer${l}.attention.${p}`, inputs: [hidden, hidden] });
      projections.push({ id: `layer${l}.attention.output`, inputs: [least * attention.headSize, most * attention.headSize] });
    }
    projections.push({ id: `layer${l}.ffn.in`, inputs: [hidden, hidden] }, { id: `layer${l}.ffn.out`, inputs: [width, width] });
  });
  for (const p of outside) projections.push({ id: p.id, inputs: [p.input, p.input] });
  const tables = shape.embedding || shape.factorized ? 'float' : shape.fusedEmbedding !== undefined ? 'none' : 'maybe';
  return { projections, fused, tables };
}

/**
 * The weights a quantize step of options `o` leaves float of those `left` (ShapeLeft's), as the point plans them
 * (quantize/pass.ts): int8, int8-group and int8-static store every projection in integers, int4-block those its blocks
 * store in fewer bytes than float (int4StoresLess, which grows with the input width); int8 and int8-group a fused
 * Attention's packed weight too; the tables a Gather reads with embeddings. Refuses the step where it would quantize
 * none of them (the point's refusal, quantizesNoWeight). Undefined where the plan cannot tell: a mode that decides on
 * the weights (mixed) or converts them (float16), an input width whose least and most int4-block stores apart, or
 * where the step quantizes no weight but a table a Gather may not read.
 */
export function quantizedOnShape(left: ShapeLeft, o: QuantizeOptions): ShapeLeft | undefined {
  const mode = o.mode;
  if (mode.kind === 'mixed' || mode.kind === 'float16') return undefined;
  const stored = (p: Projection): boolean | undefined => {
    if (mode.kind !== 'int4-block') return true;
    const [least, most] = p.inputs.map((K) => int4StoresLess(K, 1, mode.blockSize, o.symmetric));
    return least === most ? least : undefined;
  };
  const storedBy = left.projections.map(stored);
  if (storedBy.includes(undefined)) return undefined;
  const projections = left.projections.filter((_, i) => !storedBy[i]);
  const fused = left.fused && mode.kind !== 'int8' && mode.kind !== 'int8-group';
  const tables = o.embeddings ? 'none' : left.tables;
  const some = projections.length < left.projections.length || fused !== left.fused || (o.embeddings && left.tables === 'float');
  if (!some && !(o.embeddings && left.tables === 'maybe')) throw new SettingsError(noWeightLine(left, o));
  return some ? { by: modeName(mode), projections, fused, tables } : undefined;
}

/**
 * The refusal of quantize with options `o` that would store none of the weights `left` float quantized: the point's
 * (keptAllLine), each weight it keeps with the point's reason, by the words the plan knows it by where it knows no id
 * (the embedding tables, fused Attention weights), and every other weight as quantized by the step before, where one did.
 */
function noWeightLine(left: ShapeLeft, o: QuantizeOptions): string {
  const mode = o.mode;
  const kept: { target: string; reason: string }[] = [];
  // (tables float where the step quantizes none: embeddings: false; else, without a quantize step before, no Gather reads them)
  if (left.tables === 'float' || left.tables === 'maybe') kept.push({ target: 'the embedding tables', reason: EMBEDDINGS_KEPT });
  else if (!left.by) kept.push({ target: 'the embedding tables', reason: 'no Gather reads them, and quantize leaves such tables float' });
  if (left.fused) kept.push({ target: 'the fused Attention weights', reason: mode.kind === 'int4-block' ? INT4_ATTENTION_KEPT : STATIC_ATTENTION_KEPT });
  // (projections left float: int4-block's, which quantizedOnShape alone keeps so)
  if (mode.kind === 'int4-block') for (const p of left.projections) kept.push({ target: p.id, reason: int4FloatReason(p.inputs, mode.blockSize, o.symmetric) });
  return keptAllLine(o, kept, left.by);
}

/** Whether `left` holds no weight a quantize step would find float: every weight it targets stored quantized. */
export function noneLeft(left: ShapeLeft): boolean {
  return left.projections.length === 0 && !left.fused && left.tables === 'none';
}

/**
 * `left` (ShapeLeft's) after graph step `pass` where it left only embedding tables float: drop-layers keeps them;
 * optimize's embed-layernorm fuses them where `tablesFused` (after it, a node other than a Gather reads them, and
 * quantize leaves them float in every mode: none left that a quantize step finds float), keeps them where not, and
 * where the plan cannot tell (undefined), leaves them float where a Gather reads them. Undefined after another step, or
 * where `left` holds projections or fused Attention weights (which those steps renumber or fuse anew).
 */
export function tablesLeftAfter(pass: string, left: ShapeLeft, tablesFused: boolean | undefined): ShapeLeft | undefined {
  if (left.projections.length > 0 || left.fused) return undefined;
  if (pass === 'drop-layers') return left;
  if (pass !== 'optimize') return undefined;
  return { ...left, tables: tablesFused ? 'none' : tablesFused === false || left.tables === 'none' ? left.tables : 'maybe' };
}
