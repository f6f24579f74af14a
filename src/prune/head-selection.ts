/**
 * Which heads to remove, in steps (Michel et al. 2019, §5: prune a few heads, re-score the rest, repeat): a
 * data-driven importance is measured again on the model with the heads chosen so far removed, because a head's
 * worth depends on which others are left. Each step removes an equal share of the target count; the heads a step
 * removes are those with the lowest comparable scores among the remaining ones.
 *
 * Comparable scores: `ablation` is a loss increase and `confidence` an attention probability, both on one scale
 * across layers, so they are ranked as measured (a negative ablation score, a head whose removal lowers the loss,
 * is simply the first to go). `gradient` and `magnitude` are non-negative sizes whose scale differs from layer to
 * layer; they are divided by their layer's L2 norm as Michel et al. do. Per-layer normalization of signed scores
 * would not be sound (a layer of near-zero deltas would be stretched to the scale of a layer that matters), so it
 * is never applied to them.
 *
 * Layers that share attention weights (share-layers) are one unit of choice: a head's score is the sum over the
 * group's layers, the group loses the same heads in every layer, and ratio counts heads of groups (sharing.ts).
 */
import { nonFiniteValues } from '../onnx/tensor.ts';
import type { Model } from '../onnx/graph.ts';
import type { BertStructure } from '../bert/structure.ts';
import { findBert } from '../bert/discover.ts';
import type { PassContext } from '../pass/pass.ts';
import { predictedTargets, requireCalibration, requireLabels } from '../pass/measure.ts';
import { requireSequenceClassifier } from './head-gradient.ts';
import { NonFiniteInputError, SettingsError, quotedText } from '../errors.ts';
import { DataType, dataTypeName } from '../onnx/dtype.ts';
import { LOSS_BASED, defaultSteps, type ImportanceTarget } from './settings.ts';
import { headScores, normalizePerLayer, type HeadImportance, type HeadScores } from './head-importance.ts';
import { expandToLayers, groupScores, sharingGroups } from './sharing.ts';

/** One round of scoring and removal, in the original model's head numbering. */
export interface HeadSelectionStep {
  /** Heads removed by this step, per layer. */
  removed: Record<number, number[]>;
  /** The comparable scores this step ranked (original numbering; heads removed earlier are null). */
  scores: Array<Array<number | null>>;
}

export interface HeadSelection {
  /** Every head to remove, per layer, in the original numbering (sorted). */
  drop: Record<number, number[]>;
  steps: HeadSelectionStep[];
  /**
   * Heads the ratio asks for, of `total`, and heads chosen (at most `asked`: fewer when every layer is at its
   * minimum), all counted as ratio counts them: a head of layers that share their attention weights once.
   */
  asked: number;
  chosen: number;
  total: number;
}

/** Scores made comparable across layers (see the module comment). */
export function comparableScores(method: HeadImportance, scores: HeadScores): HeadScores {
  // NaN has no rank: sorting by it would remove heads in an arbitrary order
  for (const [l, row] of scores.entries()) {
    const h = nonFiniteValues(row)?.first;
    if (h !== undefined) {
      const where = method === 'magnitude' ? 'its attention weights hold NaN or Infinity' : 'it computes NaN or Infinity on the calibration examples';
      throw new NonFiniteInputError(
        `prune-heads: ${method} importance of layer ${l} head ${h} is ${row[h]}: ${where}; fix or retrain the model before pruning it`,
      );
    }
  }
  if (method !== 'gradient' && method !== 'magnitude') return scores.map((row) => row.slice());
  for (const row of scores) if (row.some((v) => v < 0)) throw new RangeError(`${method} importance must be non-negative, got ${Math.min(...row)}`);
  return normalizePerLayer(scores);
}

/** How many of a model's `total` heads (those of layers sharing their weights counted once) `ratio` removes: ratio × total, rounded half up. */
export function headsRemovedBy(ratio: number, total: number): number {
  return Math.round(ratio * total);
}

/**
 * The `count` lowest-scored heads, keeping at least `minPerLayer` heads in every layer (`left` = heads each layer
 * has now). Ties break by layer then head, so the choice is deterministic.
 */
export function lowestHeads(scores: HeadScores, count: number, left: readonly number[], minPerLayer = 0): Record<number, number[]> {
  const all = scores.flatMap((row, l) => row.map((score, h) => ({ l, h, score })));
  all.sort((a, b) => a.score - b.score || a.l - b.l || a.h - b.h);
  const remaining = left.slice();
  const out: Record<number, number[]> = {};
  let n = count;
  for (const c of all) {
    if (n <= 0) break;
    if (remaining[c.l] <= minPerLayer) continue;
    (out[c.l] ??= []).push(c.h);
    remaining[c.l]--;
    n--;
  }
  for (const k of Object.keys(out)) out[Number(k)].sort((a, b) => a - b);
  return out;
}

export interface HeadSelectionOptions {
  importance: HeadImportance;
  /** Share of all heads to remove, in [0, 1). */
  ratio: number;
  /** Rounds of scoring (default `defaultSteps`). */
  steps?: number;
  minHeadsPerLayer?: number;
  /**
   * For ablation and gradient: measure the loss against the unpruned model's predictions on the calibration examples
   * ('predictions', computed once, so every step keeps to the original model) or against the gold labels ('labels',
   * the default here).
   */
  target?: ImportanceTarget;
}

/**
 * Throws a SettingsError when a choice reads the model's outputs in onnxruntime (ablation's loss, confidence's
 * attention probabilities, the predictions target) and the attention weights are not float32: those readings, the
 * head masks and the probabilities taken as outputs are float32 only. Gradient importance against the labels
 * rebuilds the model in float32 first, and magnitude and random run nothing.
 */
export function requireFloat32Outputs(model: Model, s: BertStructure, o: HeadSelectionOptions): void {
  const predictions = o.target === 'predictions' && LOSS_BASED.includes(o.importance);
  if (o.importance !== 'ablation' && o.importance !== 'confidence' && !predictions) return;
  for (const l of s.layers) {
    const w = l.attention && model.graph.initializers.get(l.attention.output.weight);
    if (!w || w.dataType === DataType.FLOAT) continue;
    const what = `${o.importance} importance${predictions ? " against the model's predictions" : ''}`;
    const instead = o.importance === 'gradient' ? '--importance-target labels' : '--importance gradient or magnitude';
    throw new SettingsError(
      `prune-heads: ${what} runs the model on float32 weights only, and ${quotedText(w.name)} is ${dataTypeName(w.dataType)}: use ${instead}, or prune the float32 model`,
    );
  }
}

/**
 * Chooses the heads to remove in `steps` rounds. `prune(model, structure, drop)` removes heads (current
 * numbering) and returns the smaller model; the structure of each smaller model is found again by discovery.
 */
export async function selectHeadsInSteps(
  model: Model,
  s: BertStructure,
  o: HeadSelectionOptions,
  ctx: PassContext,
  prune: (model: Model, s: BertStructure, drop: Record<number, number[]>) => Model,
): Promise<HeadSelection> {
  const groups = sharingGroups(s, 'attention');
  const headsOf = (l: number) => s.layers.find((x) => x.index === l)?.attention?.numHeads ?? 0;
  // original head ids still present, per group, in the current model's order
  const present = groups.map((g) => Array.from({ length: headsOf(g[0]!) }, (_, h) => h));
  const total = present.reduce((n, p) => n + p.length, 0);
  const target = headsRemovedBy(o.ratio, total);
  const steps = Math.max(1, Math.min(o.steps ?? defaultSteps(o.importance, o.ratio), Math.max(1, target)));
  if (o.importance === 'ablation' || o.importance === 'gradient') requireSequenceClassifier(model, s, o.importance, ctx.calibration);
  requireFloat32Outputs(model, s, o);
  if (o.target === 'labels' && ctx.calibration) requireLabels(ctx.calibration, 'prune-heads', `${o.importance} importance against the labels`);
  if (o.target === 'predictions' && LOSS_BASED.includes(o.importance)) {
    const calibration = requireCalibration(ctx.calibration, 'prune-heads', `${o.importance} importance`);
    ctx = { ...ctx, calibration: await predictedTargets(model, s, calibration, ctx) };
  }
  const dropped = groups.map(() => [] as number[]);
  const record: HeadSelectionStep[] = [];
  let current = model;
  let structure = s;
  let removedSoFar = 0;
  for (let k = 1; k <= steps && removedSoFar < target; k++) {
    const count = Math.round((target * k) / steps) - removedSoFar;
    if (count <= 0) continue;
    const measured = comparableScores(o.importance, await headScores(o.importance, current, structure, ctx));
    const chosen = lowestHeads(
      groupScores(measured, groups),
      count,
      present.map((p) => p.length),
      o.minHeadsPerLayer ?? 0,
    );
    const stepScores = s.layers.map((l) => Array<number | null>(l.attention?.numHeads ?? 0).fill(null));
    groups.forEach((g, gi) => {
      for (const l of g) present[gi]!.forEach((orig, h) => (stepScores[l]![orig] = measured[l]?.[h] ?? null));
    });
    const stepRemoved: Record<number, number[]> = {};
    let chosenCount = 0;
    for (const [group, heads] of Object.entries(chosen)) {
      const gi = Number(group);
      const orig = heads.map((h) => present[gi]![h]!).sort((a, b) => a - b);
      dropped[gi]!.push(...orig);
      for (const l of groups[gi]!) stepRemoved[l] = orig;
      chosenCount += heads.length;
    }
    removedSoFar += chosenCount;
    record.push({ removed: stepRemoved, scores: stepScores });
    if (chosenCount === 0) break; // every layer is at its minimum
    ctx.log?.(`prune-heads: step ${k}/${steps} removed ${chosenCount} heads by ${o.importance} importance`);
    if (k < steps && removedSoFar < target) {
      current = prune(current, structure, expandToLayers(chosen, groups));
      structure = findBert(current);
      for (const [group, heads] of Object.entries(chosen)) {
        const gone = new Set(heads);
        present[Number(group)] = present[Number(group)]!.filter((_, h) => !gone.has(h));
      }
    }
  }
  const drop = expandToLayers(Object.fromEntries(dropped.map((d, gi) => [gi, d.slice().sort((a, b) => a - b)])), groups);
  return { drop, steps: record, asked: target, chosen: removedSoFar, total };
}
