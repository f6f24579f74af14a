/**
 * The quantize pass. Each mode builds a plan (target → node format and weight scheme, or float with a reason) and
 * applies it with the per-op quantizer tables:
 * - int8:          dynamic int8 (DynamicQuantizeMatMul or DynamicQuantizeLinear + MatMulInteger), QAttention;
 * - int8-group:G:  the same with one scale per G output channels;
 * - int8-static:   QDQ with calibrated activation ranges (needs calibration data; opset raised to 13 for per-channel);
 * - int4-block:B:  MatMulNBits 4-bit block-wise weights;
 * - mixed:BUDGET:  per encoder layer 4 / 8 / 32 bits by measured sensitivity under a size budget.
 * Embedding tables are stored int8 in every mode unless `embeddings: false`. With `reduceRange`, every int8
 * projection weight is stored in [-64, 64] (7 bits); tables keep [-127, 127] unless a decoder multiplies with one.
 */
import { opsetVersion, type Model } from '../onnx/graph.ts';
import { modelBytesFromShapes } from '../onnx/size.ts';
import { someNames } from '../some-names.ts';
import type { BertStructure } from '../bert/structure.ts';
import type { CalibrationSource, Pass, PassContext, PassResult, PassShape } from '../pass/pass.ts';
import { CalibrationRunner, requireCalibration, requireClassifier, requireLabels } from '../pass/measure.ts';
import { ModelLoadError, NonFiniteInputError, SettingsError, nonFiniteText, counted, groupedDigits, isAre, plural, quotedText } from '../errors.ts';
import { nonFiniteFloat32 } from '../onnx/tensor.ts';
import { DataType, dataTypeName } from '../onnx/dtype.ts';
import { ALREADY, alreadyQuantized, applyPlan, keptByPlan, plannedBytes, storedBy, tableWithoutGather, type PlanResult } from './apply.ts';
import { collectRanges, type ActivationRange } from './calibrate.ts';
import { GraphEditor } from './graph-edit.ts';
import { allocateBits, fourBitsPay, layerCost, layerWeights, type LayerBits } from './mixed.ts';
import { opsetRaiseBlocker, raiseOpset, type OpsetRaise } from './opset.ts';
import { PER_AXIS_OPSET } from './ops/qdq-matmul.ts';
import type { Assignment, TensorRecord, WeightScheme } from './registry.ts';
import { quantizeReport, settingsRecord } from './report.ts';
import { convertToFloat16 } from './float16.ts';
import { BLOCK_SIZES, QUANTIZE, int8Granularity, mixedNeed, modeName, type QuantizeOptions, type SizeBudget } from './settings.ts';
import { int4StoresLess } from './int4-blocks.ts';
import { quantizationTargets, targetNode, targetWeight, type Target } from './targets.ts';
import { checkRecurrent, quantizeRecurrent } from './bilstm.ts';

export type Plan = Map<string, Assignment>;

/** int8 per output channel, in the range the options ask for (mixed mode's 8-bit layers, int8-group's fallback). */
function int8Channel(o: QuantizeOptions): WeightScheme {
  return { kind: 'int8', granularity: { kind: 'channel' }, reduceRange: o.reduceRange };
}

/** Embedding tables: int8 per row (per table without perChannel), or float; full range (see applyPlan for tied ones). */
function planEmbeddings(plan: Plan, targets: readonly Target[], o: QuantizeOptions): void {
  for (const t of targets) {
    if (t.kind !== 'embedding') continue;
    plan.set(
      t.id,
      o.embeddings
        ? { format: 'integer', scheme: { kind: 'int8', granularity: o.perChannel ? { kind: 'channel' } : { kind: 'tensor' }, reduceRange: false } }
        : { format: 'float', reason: EMBEDDINGS_KEPT },
    );
  }
}

/** Why quantize leaves the embedding tables float with the setting embeddings: false. */
export const EMBEDDINGS_KEPT = 'kept float by the setting embeddings: false, flag --no-quantize-embeddings';

/** Why int8-static leaves a fused Attention's packed weight float. */
export const STATIC_ATTENTION_KEPT = 'int8-static: a fused Attention has no QDQ form here (use mode int8 for QAttention)';

/** Why int4-block leaves a fused Attention's packed weight float. */
export const INT4_ATTENTION_KEPT = 'MatMulNBits replaces MatMul / Gemm only: the fused Attention weight stays float';

/** The largest d ≤ limit dividing every one of `widths` (1 at worst). */
function largestDivisor(widths: readonly number[], limit: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const common = widths.reduce(gcd, 0);
  for (let d = Math.min(limit, common); d > 1; d--) if (common % d === 0) return d;
  return 1;
}

/** A projection quantize targets (its id, as quantizationTargets names it) and the number of its outputs. */
interface ProjectionWidth {
  id: string;
  /**
   * Its outputs; undefined where a shape does not say them (shapeProjections), a multiple of `multipleOf` then (0
   * where the projection is gone: a layer left without attention) where the shape says that much.
   */
  width: number | undefined;
  multipleOf?: number;
  /** Q, K or V, or their packed weight: a width optimize's fusion of Q, K and V changes (3 × that when packed). */
  qkv?: true;
}

/**
 * Refuses int8-group:`size` where the size does not divide the outputs of one of an encoder layer's projections,
 * `projections` (quantizationTargets' order): names the first whose width optimize's fusion of Q, K and V leaves as it
 * is (an attention output or FFN projection), else the first, so that a sweep's plan, which does not follow that
 * fusion through optimize, names the projection the point names; and the largest group size below it that divides
 * them all. (A projection outside the layers, the pooler's or the head's, is quantized per channel instead: planDynamic.)
 * Where some widths are not known (a sweep plan's shape: shapeProjections), names one sure to refuse, and the largest
 * size only where it divides those too.
 */
function checkGroupSize(o: QuantizeOptions, size: number, projections: readonly ProjectionWidth[]): void {
  const refuses = (p: ProjectionWidth) => p.width !== undefined && p.width % size !== 0;
  const bad = projections.find((p) => refuses(p) && !p.qkv) ?? projections.find(refuses);
  if (!bad) return;
  const known = projections.flatMap((p) => (p.width === undefined ? [] : [p.width]));
  const fits = largestDivisor(known, size);
  // (with widths not known, the largest size is said only where it divides them too, whatever they are: a shape's
  // projection named is one that is sure to refuse, not always the first the model refuses for)
  const sure = fits === 1 || projections.every((p) => p.width !== undefined || (p.multipleOf !== undefined && p.multipleOf % fits === 0));
  // (a scale per channel: int8, or with perChannel false int8-group:1, where int8 would take one per tensor)
  const perChannel = o.perChannel ? 'int8' : 'int8-group:1, a scale per channel (int8 with perChannel false takes one per tensor)';
  const largest =
    fits > 1
      ? `the largest group size below it that divides every projection here: ${fits}`
      : `no group size above 1 divides every projection here: use ${perChannel}`;
  throw new SettingsError(
    `quantize ${modeName(o.mode)}: the group size ${size} does not divide the ${counted(bad.width!, 'output')} of ${bad.id}${sure ? ` (${largest})` : ''}`,
  );
}

/**
 * The encoder layers' projections quantize targets in a model of `shape`, as quantizationTargets names and orders
 * them, with their outputs: by layer, where it has heads, Q, K and V (heads × head size each) or their fused packed
 * weight (3 × that) and the attention output (hidden), then the FFN's in (its width) and out (hidden). Undefined where
 * the shape does not say the hidden or FFN widths; a projection whose width it does not say (heads not known, after
 * prune-heads by ratio; the head size or fusion not known, after optimize) has none, but what it is a multiple of.
 */
function shapeProjections(shape: PassShape): ProjectionWidth[] | undefined {
  const { heads, hidden, ffn, attention } = shape;
  if (hidden === undefined || !ffn) return undefined;
  return ffn.flatMap((inner, l) => {
    const p = `layer${l}`;
    const h = heads?.[l];
    const headSize = attention?.headSize;
    const fused = attention?.fused?.[l];
    const ffnWidths = [
      { id: `${p}.ffn.in`, width: inner },
      { id: `${p}.ffn.out`, width: hidden },
    ];
    if (h === 0) return ffnWidths;
    // (heads or head size not known: Q, K and V, or their packed weight, are a multiple of what is; the attention output
    // is the hidden width, or gone with every head)
    if (h === undefined || headSize === undefined || fused === undefined) {
      const multipleOf = headSize === undefined ? undefined : (h ?? 1) * headSize;
      const output = h === undefined ? { width: undefined, multipleOf: hidden } : { width: hidden };
      return [{ id: `${p}.attention.qkv`, width: undefined, multipleOf, qkv: true as const }, { id: `${p}.attention.output`, ...output }, ...ffnWidths];
    }
    const width = h * headSize;
    const qkv = fused
      ? [{ id: `${p}.attention.qkv`, width: 3 * width, qkv: true as const }]
      : ['q', 'k', 'v'].map((x) => ({ id: `${p}.attention.${x}`, width, qkv: true as const }));
    return [...qkv, { id: `${p}.attention.output`, width: hidden }, ...ffnWidths];
  });
}

/** int8 and int8-group: dynamic int8 everywhere (group size checked against every encoder projection). */
function planDynamic(targets: readonly Target[], s: BertStructure, o: QuantizeOptions, notes: string[]): Plan {
  const plan: Plan = new Map();
  const g = int8Granularity(o);
  const widthOf = (t: Target) =>
    t.kind === 'linear' ? t.linear.outFeatures : t.kind === 'attention' ? 3 * s.layers[t.layer].attention!.numHeads * s.layers[t.layer].attention!.headSize : 0;
  const inLayer = (t: Target) => t.kind === 'attention' || (t.kind === 'linear' && t.layer !== undefined);
  // (Q, K and V: the fused Attention's packed weight, or a layer's own q, k or v)
  const qkv = (t: Target) => {
    const a = t.kind === 'linear' && t.layer !== undefined ? s.layers[t.layer].attention : undefined;
    return t.kind === 'attention' || (t.kind === 'linear' && a !== undefined && [a.q, a.k, a.v].includes(t.linear));
  };
  if (g.kind === 'group')
    checkGroupSize(
      o,
      g.size,
      targets.filter(inLayer).map((t) => ({ id: t.id, width: widthOf(t), ...(qkv(t) ? { qkv: true as const } : {}) })),
    );
  for (const t of targets) {
    if (t.kind === 'embedding') continue;
    let scheme: WeightScheme = { kind: 'int8', granularity: g, reduceRange: o.reduceRange };
    // (a projection outside the layers: checkGroupSize took those inside)
    if (g.kind === 'group' && widthOf(t) % g.size !== 0) {
      const width = widthOf(t);
      notes.push(`${t.id}: ${g.size} does not divide its ${counted(width, 'output')}: quantized per channel`);
      scheme = int8Channel(o);
    }
    plan.set(t.id, { format: 'integer', scheme });
  }
  planEmbeddings(plan, targets, o);
  return plan;
}

function planStatic(targets: readonly Target[], o: QuantizeOptions): Plan {
  const plan: Plan = new Map();
  for (const t of targets) {
    if (t.kind === 'linear') plan.set(t.id, { format: 'qdq', scheme: { kind: 'int8', granularity: int8Granularity(o), reduceRange: o.reduceRange } });
    else if (t.kind === 'attention') plan.set(t.id, { format: 'float', reason: STATIC_ATTENTION_KEPT });
  }
  planEmbeddings(plan, targets, o);
  return plan;
}

/**
 * int4-block: MatMulNBits for every projection its 4-bit blocks store in fewer bytes than float (int4StoresLess: a
 * block wider than a narrow model's input pads every column, and past some point the blocks hold more bytes than the
 * floats), the others left float naming the largest block size that would store them in fewer bytes, if any does. An
 * MLM decoder tied to an embedding table stores no weight of its own: applyPlan reads it from the table as the table is
 * stored (tiedAssignment: int8 with the table's scales, or float with a float table), whatever its blocks would store.
 */
function planInt4(targets: readonly Target[], o: QuantizeOptions, blockSize: number): Plan {
  const plan: Plan = new Map();
  const tables = new Set(targets.filter((t) => t.kind === 'embedding').map((t) => targetWeight(t)));
  for (const t of targets) {
    if (t.kind === 'linear')
      plan.set(
        t.id,
        tables.has(t.linear.weight)
          ? { format: 'nbits', scheme: { kind: 'int4', blockSize, symmetric: o.symmetric } }
          : int4Assignment(t.linear.inFeatures, t.linear.outFeatures, blockSize, o.symmetric),
      );
    else if (t.kind === 'attention') plan.set(t.id, { format: 'float', reason: INT4_ATTENTION_KEPT });
  }
  planEmbeddings(plan, targets, o);
  return plan;
}

/** A K×N projection's int4-block assignment (planInt4's). */
function int4Assignment(K: number, N: number, blockSize: number, symmetric: boolean): Assignment {
  if (int4StoresLess(K, N, blockSize, symmetric)) return { format: 'nbits', scheme: { kind: 'int4', blockSize, symmetric } };
  return { format: 'float', reason: int4FloatReason([K, K], blockSize, symmetric) };
}

/**
 * Why int4-block with blocks of `blockSize` leaves float a projection of input width `inputs` (its least and its most,
 * equal where known; a sweep's plan knows some only so), whose blocks would store more bytes than float: naming the
 * largest block size that stores every such width in fewer bytes, if any does.
 */
export function int4FloatReason(inputs: readonly [number, number], blockSize: number, symmetric: boolean): string {
  const [least, most] = inputs;
  // (the largest block size MatMulNBits takes that stores fewer bytes: every smaller one does too, and on any wider
  // input; the bytes grow with the outputs as the floats do, so one output tells)
  const fits = BLOCK_SIZES.filter((b) => int4StoresLess(least, 1, b, symmetric)).at(-1);
  const instead = fits ? `use a block of at most ${fits}` : `so would every block size MatMulNBits takes, ${BLOCK_SIZES[0]} the smallest`;
  const width = least === most ? `${least}` : `${least} to ${most}`;
  return `4-bit blocks of ${blockSize} on its input width ${width} would store more bytes than float (${instead})`;
}

/**
 * Mixed precision: `bitsOf(layer)` for the projections of each encoder layer, `bitsOf(undefined)` for pooler and
 * head (undefined: left float). 4 bits means MatMulNBits; a fused Attention of a 4-bit layer gets int8 (QAttention), and
 * so does a projection whose 4-bit blocks would store more bytes than int8 (an input narrower than the blocks).
 */
function planMixed(targets: readonly Target[], o: QuantizeOptions, bitsOf: (layer: number | undefined) => LayerBits | undefined): Plan {
  const plan: Plan = new Map();
  for (const t of targets) {
    if (t.kind === 'embedding') continue;
    const b = bitsOf(t.layer);
    if (b === undefined || b === 32) {
      plan.set(t.id, { format: 'float', reason: b === 32 ? `mixed: layer ${t.layer} kept at 32 bits` : 'mixed: not quantized in this probe' });
    } else if (b === 4 && t.kind === 'linear' && fourBitsPay(t.linear.inFeatures, t.linear.outFeatures, o.mixedBlockSize, o.symmetric)) {
      plan.set(t.id, { format: 'nbits', scheme: { kind: 'int4', blockSize: o.mixedBlockSize, symmetric: o.symmetric } });
    } else {
      plan.set(t.id, { format: 'integer', scheme: int8Channel(o) });
    }
  }
  return plan;
}

/** int8-static: opset 13 for per-channel weights (raised when safe), calibrated ranges of every projection input. */
async function runStatic(model: Model, s: BertStructure, o: QuantizeOptions, ctx: PassContext, targets: readonly Target[]): Promise<PassResult> {
  const calibration = requireCalibration(ctx.calibration, 'quantize int8-static', 'activation ranges', true);
  let input = model;
  let raised: OpsetRaise | undefined;
  const opset = s.opset || (opsetVersion(model) ?? 0);
  const need = o.perChannel ? PER_AXIS_OPSET : 10;
  if (opset < need) {
    const softmaxes = new Set(s.layers.map((l) => l.attention?.softmax).filter((n): n is string => !!n));
    const blocker = opsetRaiseBlocker(model, need, softmaxes);
    if (blocker) {
      throw new SettingsError(
        `quantize int8-static: ${o.perChannel ? 'per-channel weights need' : 'QDQ needs'} opset ${need}, the model has ${opset}, and it cannot be raised: ${blocker}` +
          (o.perChannel ? ' (perChannel: false needs only opset 10)' : ''),
      );
    }
    const edit = new GraphEditor(model);
    raised = raiseOpset(edit, need);
    input = edit.model;
  }
  const byName = new Map(input.graph.nodes.map((n) => [n.name, n]));
  const values = targets
    .filter((t) => t.kind === 'linear' && !t.linear.quantization) // the inputs of projections quantized already are not float
    .map((t) => byName.get(targetNode(t)!)?.inputs[0])
    .filter((v): v is string => !!v);
  let ranges = new Map<string, ActivationRange>(); // none when every projection is quantized already (only tables left)
  if (values.length) {
    ctx.log?.(`quantize: calibrating ${new Set(values).size} activation ranges on ${calibration.batches.length} batches`);
    ranges = await collectRanges(model, s, calibration, values, o.calibration, ctx);
  }
  const result = applyPlan(input, targets, planStatic(targets, o), o, ranges);
  requireQuantized(o, result);
  if (raised)
    result.notes.push(
      `opset raised from ${raised.from} to ${raised.to} for per-axis DequantizeLinear${raised.converted.length ? ` (${raised.converted.length} nodes had attributes turned into inputs)` : ''}`,
    );
  return {
    model: result.model,
    report: quantizeReport(o, model, result, {
      activationRanges: Object.fromEntries([...ranges].map(([k, r]) => [k, [r.min, r.max]])),
      calibrationBatches: calibration.batches.length,
    }),
  };
}

/**
 * The layers mixed precision chooses bits for together: each layer alone, or layers that read the same weights
 * (share-layers) as one unit. Layers sharing some weights but not all cannot take one precision per layer or per
 * unit: refused.
 */
function sharingUnits(targets: readonly Target[], s: BertStructure): number[][] {
  const names = s.layers.map((_, l) => targets.filter((t) => t.kind !== 'embedding' && t.layer === l).map((t) => targetWeight(t)));
  const units = new Map<string, number[]>();
  for (const [l, n] of names.entries()) {
    const key = [...n].sort().join('\0');
    units.set(key, [...(units.get(key) ?? []), l]);
  }
  const groups = [...units.values()];
  const owner = new Map<string, number>();
  for (const [u, g] of groups.entries()) {
    for (const w of names[g[0]]) {
      const other = owner.get(w);
      if (other !== undefined && other !== u)
        throw new SettingsError(
          `quantize mixed: layers ${groups[other][0]} and ${g[0]} share the weight ${quotedText(w)} but not all their weights; mixed precision gives each layer (or each group of layers sharing all their weights) one precision`,
        );
      owner.set(w, u);
    }
  }
  return groups;
}

/**
 * Refuses a model mixed cannot take: a weight quantized already, or no sequence classifier to measure a loss on (nor
 * one whose config.json names another head, where the calibration read it: requireClassifier).
 */
function requireMixedInput(
  original: Model,
  s: BertStructure,
  o: QuantizeOptions,
  targets: readonly Target[],
  calibration: CalibrationSource | undefined,
): void {
  const quantized = targets.filter((t) => alreadyQuantized(t, original.graph) !== undefined);
  if (quantized.length)
    throw new SettingsError(
      `quantize ${modeName(o.mode)}: ${counted(quantized.length, 'weight')} ${isAre(quantized.length)} quantized already (${quantized[0].id}); mixed precision chooses the bits of every layer of a float model: quantize the float model instead`,
    );
  requireClassifier(original, s, 'quantize', mixedNeed(modeName(o.mode)), calibration);
}

/**
 * Mixed's sizes from dims and data types alone: the units of layers that get one precision, their weight bytes at
 * each precision, the budget in bytes, and the bytes of everything else (`fixed`: tables int8 unless embeddings:
 * false, the projections outside the layers int8, as the plan stores them). Refuses a budget below the smallest
 * size the model reaches (every layer 4-bit), in the run's words and in a sweep's plan (checkModel).
 */
function mixedSizes(original: Model, s: BertStructure, o: QuantizeOptions, targets: readonly Target[]) {
  if (o.mode.kind !== 'mixed') throw new Error('mixedSizes: not a mixed mode');
  // the int8 layers of format standard need opset 11, as plain int8 does: raised here (or refused) before measuring
  const { input: model, raised } = standardOpset(original, s, o);
  // layers that share their weights (share-layers) get one precision: a unit per group, its weights counted once
  const units = sharingUnits(targets, s);
  // each weight as applyPlan would store it at 8 and at 4 bits (a fused Attention QAttention does not take stays float)
  const storedAt = (bits: 4 | 8) =>
    storedBy(
      model,
      targets,
      planMixed(targets, o, () => bits),
      o,
    );
  const stored = { 8: storedAt(8), 4: storedAt(4) };
  const weights = layerWeights(targets, s, model, (t, bits) => stored[bits].get(t.id)!.stored);
  const costs = units.map((g, u) => layerCost(u, weights[g[0]], o.mixedBlockSize, o.symmetric));
  const fp32Bytes = modelBytesFromShapes(original);
  const budget = o.mode.budget.kind === 'fraction' ? Math.floor(o.mode.budget.fraction * fp32Bytes) : o.mode.budget.bytes;
  const allFloat = plannedBytes(
    model,
    targets,
    withEmbeddings(
      planMixed(targets, o, (layer) => (layer === undefined ? 8 : 32)),
      targets,
      o,
    ),
    o,
  );
  const fixed = allFloat.bytes - costs.reduce((t, c) => t + c.bytes[32], 0);
  const least = fixed + costs.reduce((t, c) => t + c.bytes[4], 0);
  if (least > budget) {
    // tables that stay float whatever the plan (inside --optimize's EmbedLayerNormalization) are said so, with why:
    // 'embeddings int8' would hide what keeps the floor high
    const floatTables = allFloat.kept.filter((k) => k.target.startsWith('embeddings.') && !k.reason.startsWith(ALREADY));
    const tables = !o.embeddings ? '' : floatTables.length ? `, embeddings float: ${floatTables[0].reason}` : ', embeddings int8';
    // and so is a layer weight that stays float at 4 bits
    const floatWeight = targets.find((t) => t.kind !== 'embedding' && t.layer !== undefined && stored[4].get(t.id)?.stored === 'float');
    const layerFloat = floatWeight ? `, ${floatWeight.id} float: ${stored[4].get(floatWeight.id)!.reason}` : '';
    throw new SettingsError(
      `quantize ${modeName(o.mode)}: ${budgetText(o.mode.budget, budget, fp32Bytes)} is below the smallest this model reaches (${groupedDigits(least)} bytes: every layer 4-bit${layerFloat}${tables})`,
    );
  }
  return { model, raised, units, costs, budget, fixed };
}

/**
 * Mixed's budget, `bytes` on this model, as a refusal says it: a fraction as the share of the float weights' bytes it
 * is ('the budget, 1% of the float weights' 38,366,216 bytes (383,662 bytes),'), which the mode's name writes as a
 * fraction (mixed:0.01) whether it was typed so or as a percentage (mixed:1%); a size as its bytes ('the budget of
 * 1,000,000 bytes', which mixed:1000kb is named by as mixed:1mb).
 */
function budgetText(given: SizeBudget, bytes: number, fp32Bytes: number): string {
  if (given.kind === 'bytes') return `the budget of ${groupedDigits(bytes)} bytes`;
  // (a fraction times 100 is off in its last digits: 0.011 × 100 is 1.0999999999999999)
  const share = Number((given.fraction * 100).toPrecision(12));
  return `the budget, ${share}% of the float weights' ${groupedDigits(fp32Bytes)} bytes (${groupedDigits(bytes)} bytes),`;
}

/**
 * `loss` (the calibration loss of `model`: the float model, or a probe with some layers at 4 bits) where it is finite;
 * else refuses it in one line: a NaN or Infinity ranks no layer's sensitivity, so the bits would be chosen blindly.
 * The float model's (`probe` false): the pass's input model's refusal (NonFiniteInputError); a probe's, the pass made it.
 */
function requireFiniteLoss(o: QuantizeOptions, loss: number, model: string, probe: boolean): number {
  if (Number.isFinite(loss)) return loss;
  throw new (probe ? ModelLoadError : NonFiniteInputError)(
    `quantize ${modeName(o.mode)}: the calibration loss of ${model} is ${loss} (it computes NaN or Infinity on the calibration examples), which ranks no layer's sensitivity; fix or retrain the model before quantizing it`,
  );
}

/** Mixed precision: per-layer 4-bit sensitivity, then greedy bits under the budget. */
async function runMixed(original: Model, s: BertStructure, o: QuantizeOptions, ctx: PassContext, targets: readonly Target[]): Promise<PassResult> {
  requireMixedInput(original, s, o, targets, ctx.calibration);
  const calibration = requireCalibration(ctx.calibration, 'quantize mixed', 'layer sensitivity');
  requireLabels(calibration, `quantize ${modeName(o.mode)}`, 'the layer sensitivity');
  const { model, raised, units, costs, budget, fixed } = mixedSizes(original, s, o, targets);
  const unitOf = new Map(units.flatMap((g, u) => g.map((l) => [l, u] as const)));

  const measure = async (m: Model) => {
    const runner = await CalibrationRunner.open(m, s, calibration, [], ctx);
    try {
      return await runner.loss();
    } finally {
      await runner.release();
    }
  };
  const baseLoss = requireFiniteLoss(o, await measure(model), 'the float model', false);
  const sensitivity: number[] = [];
  for (const [u, group] of units.entries()) {
    const probe = applyPlan(
      model,
      targets,
      planMixed(targets, o, (layer) => (layer !== undefined && group.includes(layer) ? 4 : undefined)),
      o,
    );
    const where = `the model with ${plural(group.length, 'layer')} ${group.join(', ')} at 4 bits`;
    sensitivity.push(requireFiniteLoss(o, await measure(probe.model), where, true) - baseLoss);
    ctx.log?.(`quantize mixed: ${plural(group.length, 'layer')} ${group.join(', ')} at 4 bits: loss +${sensitivity[u].toFixed(4)}`);
  }
  // (mixedSizes refused a budget below every layer at 4 bits)
  const alloc = allocateBits(sensitivity, costs, fixed, budget)!;
  const result = applyPlan(
    model,
    targets,
    withEmbeddings(
      planMixed(targets, o, (layer) => (layer === undefined ? 8 : alloc.bits[unitOf.get(layer)!])),
      targets,
      o,
    ),
    o,
  );
  if (raised) result.notes.unshift(`opset raised from ${raised.from} to ${raised.to} for format standard (DynamicQuantizeLinear)`);
  return {
    model: result.model,
    report: quantizeReport(
      o,
      original,
      result,
      {
        budgetBytes: budget,
        predictedBytes: alloc.bytes,
        baseLoss,
        layers: s.layers.map((_, l) => {
          const u = unitOf.get(l)!;
          // a shared weight's bytes count in the first layer of its group
          return { layer: l, bits: alloc.bits[u], sensitivity: sensitivity[u], weightBytes: units[u][0] === l ? costs[u].bytes[alloc.bits[u]] : 0 };
        }),
      },
      { budgetBytes: budget, bits: s.layers.map((_, l) => alloc.bits[unitOf.get(l)!]!) },
    ),
  };
}

function withEmbeddings(plan: Plan, targets: readonly Target[], o: QuantizeOptions): Plan {
  planEmbeddings(plan, targets, o);
  return plan;
}

/**
 * Format standard writes DynamicQuantizeLinear, an opset-11 op: a model below opset 11 has its opset raised when
 * every op means the same there, and is refused otherwise (rather than given the com.microsoft ops it asked not to get).
 */
function standardOpset(model: Model, s: BertStructure, o: QuantizeOptions): { input: Model; raised?: OpsetRaise } {
  const opset = s.opset || (opsetVersion(model) ?? 0);
  if (o.format !== 'standard' || opset >= STANDARD_OPSET) return { input: model };
  const softmaxes = new Set(s.layers.map((l) => l.attention?.softmax).filter((n): n is string => !!n));
  const blocker = opsetRaiseBlocker(model, STANDARD_OPSET, softmaxes);
  if (blocker) {
    throw new SettingsError(
      `quantize ${modeName(o.mode)}: format standard needs opset ${STANDARD_OPSET} (DynamicQuantizeLinear), the model has ${opset}, and it cannot be raised: ${blocker} (format contrib runs at opset ${opset})`,
    );
  }
  const edit = new GraphEditor(model);
  const raised = raiseOpset(edit, STANDARD_OPSET);
  return { input: edit.model, raised };
}

const STANDARD_OPSET = 11;

/** The weight type requireFiniteWeights reads (float16, bfloat16 and float64 are refused before, by requireFloat32Weights). */
const READABLE_FLOAT = new Set<number>([DataType.FLOAT]);

/**
 * Refuses a float weight holding NaN or Infinity: its scale would be NaN or Infinity, so the quantized weight would
 * silently lose the value (NaN is stored as 0) or its whole channel (an Infinity makes every other value 0).
 */
function requireFiniteWeights(model: Model, targets: readonly Target[], stored: readonly (string | undefined)[], o: QuantizeOptions): void {
  for (const [i, t] of targets.entries()) {
    const tensor = stored[i] === undefined ? model.graph.initializers.get(targetWeight(t)) : undefined;
    if (!tensor || !READABLE_FLOAT.has(tensor.dataType)) continue;
    const bad = nonFiniteFloat32(tensor);
    if (bad) {
      throw new NonFiniteInputError(
        `quantize ${modeName(o.mode)}: weight ${quotedText(targetWeight(t))} (${t.id}) holds ${nonFiniteText({ count: bad.count, value: bad.value, index: bad.first })}: the float model computes with it already; fix or retrain the model before quantizing it`,
      );
    }
  }
}

/** Weight types no quantizer reads (requireFloat32Weights). */
const NOT_FLOAT32 = new Set<number>([DataType.FLOAT16, DataType.BFLOAT16, DataType.DOUBLE]);

/**
 * Refuses a half-precision or float64 model (float16 or bfloat16 weights: a BERT converted for transformers.js or a
 * GPU; float64 ones: a model converted to double): every quantizer reads float32 weights, so each mode kept every
 * weight float (and wrote a copy no smaller), or failed in onnxruntime (int8-static's float32 QDQ scales on float16 or
 * float64 activations).
 */
function requireFloat32Weights(model: Model, targets: readonly Target[], stored: readonly (string | undefined)[], o: QuantizeOptions): void {
  const [first] = notFloat32Weights(model, targets, stored);
  if (first) throw notFloat32Refusal(o, first);
}

/**
 * The weights quantize targets in `targets` that are stored float but not float32 (NOT_FLOAT32), of those not stored
 * quantized (`stored`), in target order: each one's name, target and data type, as requireFloat32Weights refuses the
 * first.
 */
function notFloat32Weights(model: Model, targets: readonly Target[], stored: readonly (string | undefined)[]): NonNullable<PassShape['notFloat32']>[] {
  const out: NonNullable<PassShape['notFloat32']>[] = [];
  for (const [i, t] of targets.entries()) {
    const tensor = stored[i] === undefined ? model.graph.initializers.get(targetWeight(t)) : undefined;
    if (tensor && NOT_FLOAT32.has(tensor.dataType)) out.push({ weight: targetWeight(t), target: t.id, dataType: tensor.dataType });
  }
  return out;
}

/**
 * The weights quantize targets in a model read by a sweep's plan, of structure `s`, that it would refuse as not float32
 * (notFloat32Weights; requireFloat32Weights refuses the first), in target order: what a plan carries to a quantize
 * step after steps it does not follow (PassShape's notFloat32, the first of them where known).
 */
export function notFloat32Targets(model: Model, s: BertStructure): NonNullable<PassShape['notFloat32']>[] {
  const targets = quantizationTargets(s);
  return notFloat32Weights(
    model,
    targets,
    targets.map((t) => alreadyQuantized(t, model.graph)),
  );
}

/** requireFloat32Weights' refusal of weight `w` for options `o`. */
function notFloat32Refusal(o: QuantizeOptions, w: NonNullable<PassShape['notFloat32']>): SettingsError {
  const type = dataTypeName(w.dataType);
  if (o.mode.kind === 'float16' && w.dataType === DataType.FLOAT16)
    return new SettingsError(`quantize float16: weight ${quotedText(w.weight)} (${w.target}) is float16 already: the model is stored in float16`);
  return new SettingsError(
    `quantize ${modeName(o.mode)}: weight ${quotedText(w.weight)} (${w.target}) is ${type}, and quantize reads float32 weights: quantize the float32 model (the one converted to ${type}) instead`,
  );
}

/** The dynamic int8 nodes that format chooses between (contrib, or standard's MatMulInteger). */
const DYNAMIC_INT8_OPS = new Set(['MatMulInteger', 'MatMulIntegerToFloat', 'DynamicQuantizeMatMul']);

/**
 * Refuses a run that quantized no weight, every target kept as it was (an input too narrow for the 4-bit blocks, the
 * tables left float by embeddings: false, weights stored quantized already), which would write the model unchanged
 * under a quantize step, as checkStorage refuses a model whose every weight is quantized already: each reason once,
 * with the targets it keeps.
 */
function requireQuantized(o: QuantizeOptions, result: Pick<PlanResult, 'quantized' | 'kept'>): void {
  if (result.quantized.length) return;
  throw new SettingsError(keptAllLine(o, result.kept));
}

/**
 * The line refusing quantize with options `o` that keeps every target of a model as it was, `kept` (by the target's id,
 * or a plan's words for targets it knows only so, and why), each reason once, with its targets, in their order; `by`:
 * the mode of the quantize step before it that stored every other weight quantized, where a sweep's plan knows only that.
 */
export function keptAllLine(o: QuantizeOptions, kept: readonly { target: string; reason: string }[], by?: string): string {
  const byReason = new Map<string, Set<string>>();
  for (const k of kept) byReason.set(k.reason, (byReason.get(k.reason) ?? new Set()).add(k.target));
  const why = [...byReason].map(([reason, set]) => `${someNames([...set], 3)}: ${reason}`);
  if (by) why.push(`every other weight: ${ALREADY} (by quantize ${by} before it)`);
  return quantizesNoWeight(o, why.length ? why.join('; ') : 'it has no projection or embedding table');
}

/**
 * The line refusing quantize with options `o` that would quantize no weight of a model and write it unchanged, `why`
 * (requireQuantized's, with the targets kept and why; a sweep's plan's, after a quantize step that left only what this
 * one keeps float).
 */
export function quantizesNoWeight(o: QuantizeOptions, why: string): string {
  return `quantize ${modeName(o.mode)}: quantizes no weight of this model, which it would write unchanged (${why})`;
}

/**
 * Refuses format standard where int4-block wrote no dynamic int8 node: it reads format only for an MLM decoder tied to
 * the int8 word table, so on any other model the setting did nothing, and the lineage would record it as applied.
 */
function requireFormatRead(o: QuantizeOptions, quantized: readonly TensorRecord[]): void {
  if (o.format === 'contrib' || quantized.some((r) => DYNAMIC_INT8_OPS.has(r.op))) return;
  throw new SettingsError(
    `quantize ${modeName(o.mode)}: format ${quotedText(o.format)}: sets the dynamic int8 nodes, which this mode writes only for an MLM decoder reading the int8 word table, and it writes none in this model (flag --quantize-format)`,
  );
}

/**
 * The weights quantize targets and how each is stored quantized already (undefined: float), after refusing a model
 * whose weights mode `o` cannot read: every one quantized (but tables no Gather reads), float16/bfloat16/float64 ones (requireFloat32Weights), or
 * for float16 any quantized one. Reads data types only (the pass's checkModel).
 */
function checkStorage(model: Model, s: BertStructure, o: QuantizeOptions): { targets: Target[]; stored: (string | undefined)[] } {
  const targets = quantizationTargets(s);
  const stored = targets.map((t) => alreadyQuantized(t, model.graph));
  // (a table no Gather reads, folded by the exporter or read by --optimize's EmbedLayerNormalization, stays float in
  // every mode: with every other weight quantized, the pass would write the model as it is)
  const rewritable = targets.map((t) => targetNode(t) !== undefined);
  if (rewritable.includes(true) && stored.every((r, i) => r !== undefined || !rewritable[i])) {
    const floatTables = targets.filter((_, i) => !rewritable[i] && stored[i] === undefined);
    const but = floatTables.length
      ? `, but for ${floatTables.map((t) => t.id).join(', ')}, which quantize leaves float (${tableWithoutGather(model.graph, targetWeight(floatTables[0]))})`
      : '';
    throw new SettingsError(`quantize ${modeName(o.mode)}: every weight is ${stored[rewritable.indexOf(true)]}${but}: quantize the float model instead`);
  }
  requireFloat32Weights(model, targets, stored, o);
  const int8 = o.mode.kind === 'float16' ? stored.findIndex((r) => r !== undefined) : -1;
  if (int8 >= 0)
    throw new SettingsError(
      `quantize float16: weight ${quotedText(targetWeight(targets[int8]!))} (${targets[int8]!.id}) is ${stored[int8]}; float16 converts a float32 model: convert the float32 model instead`,
    );
  return { targets, stored };
}

/**
 * The weights quantize targets in a model of structure `s` that quantize with options `o` plans to leave float (a
 * fused Attention's packed weight in int8-static and int4-block, the tables with embeddings: false, and in every mode
 * a table no Gather reads, which applyPlan keeps: tableWithoutGather); undefined where it cannot tell (mixed: its
 * budget decides on the weights; float16; settings it refuses).
 */
export function plannedFloat(s: BertStructure, o: QuantizeOptions): Target[] | undefined {
  return plannedKept(s, o)?.map((k) => k.target);
}

/**
 * plannedFloat's targets, each with the reason applyPlan keeps it float: the plan's, or undefined for a table no Gather
 * reads (tableWithoutGather's, on the graph).
 */
export function plannedKept(s: BertStructure, o: QuantizeOptions): { target: Target; reason?: string }[] | undefined {
  const targets = quantizationTargets(s);
  let plan: Plan;
  try {
    if (o.mode.kind === 'int8' || o.mode.kind === 'int8-group') plan = planDynamic(targets, s, o, []);
    else if (o.mode.kind === 'int8-static') plan = planStatic(targets, o);
    else if (o.mode.kind === 'int4-block') plan = planInt4(targets, o, o.mode.blockSize);
    else return undefined;
  } catch {
    return undefined;
  }
  return targets.flatMap((t) => {
    if (targetNode(t) === undefined) return [{ target: t }];
    const a = plan.get(t.id) ?? { format: 'float' as const, reason: 'not in the plan' };
    return a.format === 'float' ? [{ target: t, reason: a.reason }] : [];
  });
}

/** Quantizes `model` with options `o` (the pass's run, without the Pass wrapper). */
export async function quantizeModel(model: Model, s: BertStructure, o: QuantizeOptions, ctx: PassContext = {}): Promise<PassResult> {
  const { targets, stored } = checkStorage(model, s, o);
  requireFiniteWeights(model, targets, stored, o);
  switch (o.mode.kind) {
    case 'float16': {
      return convertToFloat16(model, settingsRecord(o));
    }
    case 'int8':
    case 'int8-group': {
      const notes: string[] = [];
      const plan = planDynamic(targets, s, o, notes);
      const { input, raised } = standardOpset(model, s, o);
      const result = applyPlan(input, targets, plan, o);
      requireQuantized(o, result);
      if (raised) notes.push(`opset raised from ${raised.from} to ${raised.to} for format standard (DynamicQuantizeLinear)`);
      result.notes.unshift(...notes);
      return { model: result.model, report: quantizeReport(o, model, result) };
    }
    case 'int4-block': {
      const result = applyPlan(model, targets, planInt4(targets, o, o.mode.blockSize), o);
      requireQuantized(o, result);
      requireFormatRead(o, result.quantized);
      return { model: result.model, report: quantizeReport(o, model, result) };
    }
    case 'int8-static':
      return runStatic(model, s, o, ctx, targets);
    case 'mixed':
      return runMixed(model, s, o, ctx, targets);
  }
}

/**
 * checkStorage's refusals, then for int8 and int8-group a group size that does not divide a layer's projection
 * (planDynamic's) and an opset format standard cannot raise (standardOpset's), and for int8, int8-group and
 * int4-block a plan that would quantize no weight (requireQuantized's, from keptByPlan, which decides each target as
 * the run does), and for mixed a weight quantized already, no classifier, or a budget below every layer at 4 bits
 * (mixedSizes): reads dims and data types only (the pass's checkModel, which a sweep's plan asks). int8-static's
 * projections wait for their calibrated ranges, which a plan has not measured.
 */
function checkQuantizable(model: Model, s: BertStructure, o: QuantizeOptions): void {
  const { targets } = checkStorage(model, s, o);
  if (o.mode.kind === 'int8' || o.mode.kind === 'int8-group') {
    const plan = planDynamic(targets, s, o, []);
    requireSomeQuantized(standardOpset(model, s, o).input, targets, plan, o);
  } else if (o.mode.kind === 'int4-block') requireSomeQuantized(model, targets, planInt4(targets, o, o.mode.blockSize), o);
  else if (o.mode.kind === 'mixed') {
    requireMixedInput(model, s, o, targets, undefined);
    mixedSizes(model, s, o, targets);
  }
}

/** Refuses `plan` where applyPlan would quantize no target of `model` with it (requireQuantized), reading no weight value. */
function requireSomeQuantized(model: Model, targets: readonly Target[], plan: Plan, o: QuantizeOptions): void {
  const kept = keptByPlan(model, targets, plan, o);
  if (kept) requireQuantized(o, { quantized: [], kept });
}

export const quantizePass: Pass<QuantizeOptions> = {
  ...QUANTIZE,
  checkModel: checkQuantizable,
  // (a weight stored float16, bfloat16 or float64, as checkStorage refuses it; int8-group's group size against the
  // layers' projections, where the shape says their widths)
  checkShape(o, shape) {
    if (shape.notFloat32) throw notFloat32Refusal(o, shape.notFloat32);
    if (o.mode.kind !== 'int8-group') return;
    const projections = shapeProjections(shape);
    if (projections) checkGroupSize(o, o.mode.groupSize, projections);
  },
  run: (model, structure, options, context) => quantizeModel(model, structure, options, context),
  recurrent: { check: checkRecurrent, run: async (model, options) => quantizeRecurrent(model, options) },
};
