/**
 * The settings of the pruning passes (prune-heads, prune-ffn, drop-layers), declared once (see src/pass/settings.ts):
 * types, defaults, descriptions, the flags that fill them, and the typed options the passes run with.
 */
import { z } from 'zod';
import { everyOtherLayers } from '../bert/config.ts';
import { integerProblem, integerText, SettingsError, shownNumber, quotedText } from '../errors.ts';
import { declarePass, fraction, grammar, integer, layerList, oneOf, type ClassifierNeed } from '../pass/settings.ts';
import type { PruneHeadsOptions } from './heads.ts';
import type { PruneFfnOptions } from './ffn.ts';
import type { DropLayersOptions } from './layers.ts';

export const HEAD_IMPORTANCE = ['ablation', 'gradient', 'confidence', 'magnitude', 'random'] as const;
export type HeadImportance = (typeof HEAD_IMPORTANCE)[number];

/** What the loss of ablation and gradient importance is measured against. */
export const IMPORTANCE_TARGETS = ['predictions', 'labels'] as const;
export type ImportanceTarget = (typeof IMPORTANCE_TARGETS)[number];

/** Importances whose scores are a loss (or its gradient), and so have a target. */
export const LOSS_BASED: readonly HeadImportance[] = ['ablation', 'gradient'];

/** The target when none is given: the model's own predictions for ablation (measured better), labels for gradient. */
export function defaultImportanceTarget(importance: HeadImportance): ImportanceTarget {
  return importance === 'ablation' ? 'predictions' : 'labels';
}

/** What a loss-based importance needs of the model: a classifier (confidence reads attention probabilities only). */
export function importanceNeed(importance: HeadImportance): ClassifierNeed | undefined {
  return LOSS_BASED.includes(importance)
    ? { what: `importance ${quotedText(importance)}`, instead: "use importance 'magnitude' (--importance magnitude) or 'confidence'" }
    : undefined;
}

/** Importances that measure the model on calibration data (and change as heads are removed). */
export const MEASURED: readonly HeadImportance[] = ['ablation', 'gradient', 'confidence'];

/** Share of the model's heads one step removes when `steps` is not given (10%, as a sensible default). */
export const DEFAULT_STEP_SHARE = 0.1;

/** The number of steps used when none is given: one per 10% of the heads removed, one for data-free methods. */
export function defaultSteps(method: HeadImportance, ratio: number): number {
  // importances measured on data change as heads are removed (MEASURED); the others are scored once
  return MEASURED.includes(method) ? Math.max(1, Math.ceil(ratio / DEFAULT_STEP_SHARE - 1e-9)) : 1;
}

const HEAD_LIST_SYNTAX = 'LAYER:HEAD,HEAD;LAYER:HEAD';

/**
 * Parses "0:1,2;3:0" (layer:heads;…, entries apart by ';' or blanks; blanks around ':' and ',' join: '0: 1, 2') into
 * {0: [1, 2], 3: [0]}, each number read by integerText as every integer a user types ('1e3', '3.0').
 */
export function parseHeadList(spec: string): Record<number, number[]> {
  const out: Record<number, number[]> = {};
  for (const part of spec
    .replace(/\s*([:,])\s*/g, '$1')
    .split(/[;\s]+/)
    .filter(Boolean)) {
    const m = /^([^:,]+):([^:,]+(?:,[^:,]+)*)$/.exec(part);
    if (!m) throw new SettingsError(`expected ${HEAD_LIST_SYNTAX} (e.g. 0:1,2;3:0)`);
    const layer = integerText('the layer', m[1]!, 0);
    const heads = m[2]!.split(',').map((h) => integerText(`layer ${layer}'s head`, h, 0));
    if (out[layer]) throw new SettingsError(`layer ${layer} is listed twice: give its heads once (${layer}:${[...out[layer]!, ...heads].join(',')})`);
    const twice = heads.find((h, i) => heads.indexOf(h) !== i);
    if (twice !== undefined) throw new SettingsError(`head ${twice} of layer ${layer} is given twice`);
    out[layer] = heads.sort((a, b) => a - b);
  }
  if (Object.keys(out).length === 0) throw new SettingsError(`no head is listed (expected ${HEAD_LIST_SYNTAX}, e.g. 0:1,2;3:0)`);
  return out;
}

/** The canonical text of a head list: layers in order, each with its heads in order. */
export function formatHeadList(heads: Record<number, number[]>): string {
  return Object.keys(heads)
    .map(Number)
    .sort((a, b) => a - b)
    .map((l) => `${l}:${heads[l]!.join(',')}`)
    .join(';');
}

/**
 * A YAML mapping {0: [1, 2]} as head-list text, for the grammar to check; a head the mapping gives as a number that is
 * no integer ≥ 0, and a layer key past 2^53 − 1, refused as such, shown as every number a file types is (shownNumber),
 * where its text would quote the number as if typed ('9007199254740992' for 9007199254740993, which YAML reads rounded).
 */
function headMapping(v: unknown, ctx: z.RefinementCtx): unknown {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
  for (const [l, hs] of Object.entries(v)) {
    // (a key is text: a whole number past 2^53 − 1 that YAML read rounded is the number's text, 9007199254740992 for
    // 9007199254740993, which the head list's text would quote as if typed)
    const layer = Number(l);
    if (Number.isInteger(layer) && !Number.isSafeInteger(layer) && String(layer) === l) {
      ctx.addIssue({ code: 'custom', message: `the layer ${shownNumber(layer)}: ${integerProblem(layer, 0)}`, input: v });
      return z.NEVER;
    }
    for (const h of Array.isArray(hs) ? hs : [hs]) {
      const problem = typeof h === 'number' ? integerProblem(h, 0) : undefined;
      if (problem === undefined) continue;
      ctx.addIssue({ code: 'custom', message: `layer ${l}'s head ${shownNumber(h)}: ${problem}`, input: v });
      return z.NEVER;
    }
  }
  return Object.entries(v)
    .map(([l, hs]) => `${l}:${Array.isArray(hs) ? hs.join(',') : String(hs)}`)
    .join(';');
}

/** prune-heads settings without a `steps` or `target` equal to the default its importance and ratio give. */
function canonicalHeadSettings<T extends { ratio?: number; importance: HeadImportance; steps?: number; target?: ImportanceTarget }>(s: T): T {
  const out = { ...s };
  if (out.ratio !== undefined && out.steps !== undefined && out.steps === defaultSteps(out.importance, out.ratio)) delete out.steps;
  if (out.target !== undefined && LOSS_BASED.includes(out.importance) && out.target === defaultImportanceTarget(out.importance)) delete out.target;
  return out;
}

/** The seed of importance random when neither the pass nor the run gives one. */
export const RANDOM_IMPORTANCE_SEED = 0;

/** The odd constant importance random multiplies its seed by (modulo 2^32) to start its draws. */
export const RANDOM_SEED_MULTIPLIER = 2654435761;

/**
 * The seeds of importance random whose draws version 6 left as they were: up to this one the seed's product with
 * RANDOM_SEED_MULTIPLIER is at most 2^53, exact in the float product versions up to 5 took.
 */
export const RANDOM_SEEDS_DRAWN_AS_BEFORE = Math.floor(2 ** 53 / RANDOM_SEED_MULTIPLIER);

export const PRUNE_HEADS = declarePass({
  name: 'prune-heads',
  description: 'remove attention heads (Michel et al. 2019), chosen by importance or listed explicitly',
  // 2: data-driven importance chosen in steps; ablation and confidence ranked unnormalized
  // 3: ablation measured against the unpruned model's predictions by default (target)
  // 4: confidence scores a first-token last layer per example; a float16 model's headless layer gets a float16 zero
  // 5: gradient importance of a graph without a token_type_ids input feeds its rebuild type 0, as the graph computes
  // 6: importance random starts its draws from the seed times a constant modulo 2^32 exactly, where a float product
  //    past 2^53 lost its low bits (seeds from 3393264 on; seeds 0 and 244002641 drew alike)
  version: 6,
  // (6 changed importance random's draws for larger seeds only: every other setting's points keep their key)
  keyVersion: (s, runSeed) =>
    s.ratio !== undefined && s.importance === 'random' && (s.seed ?? runSeed ?? RANDOM_IMPORTANCE_SEED) > RANDOM_SEEDS_DRAWN_AS_BEFORE ? 6 : 5,
  settings: z
    .object({
      ratio: fraction().optional().describe('fraction of all heads to remove, those of lowest importance; or give heads'),
      heads: z
        .preprocess(headMapping, grammar(HEAD_LIST_SYNTAX, parseHeadList, formatHeadList))
        .optional()
        .describe('heads to remove, listed (e.g. 0:1,2;3:0, or a mapping {0: [1, 2], 3: [0]}); instead of ratio'),
      importance: oneOf(HEAD_IMPORTANCE)
        .default('magnitude')
        .describe('how heads are ranked for ratio: ablation, gradient and confidence measure the model on calibration data; random is the control'),
      minHeadsPerLayer: integer(0).default(0).describe('with ratio: keep at least this many heads in every layer (0: a layer may lose its attention block)'),
      steps: integer(1)
        .optional()
        .describe(
          'with ratio: rounds of scoring, each removing an equal share and re-scoring the heads left (default: one per 10% of the heads for ablation, gradient and confidence; one for magnitude and random)',
        ),
      target: oneOf(IMPORTANCE_TARGETS)
        .optional()
        .describe(
          "what the loss of ablation and gradient importance is measured against: the unpruned model's own predictions on the calibration examples (what pruning should keep) or the gold labels (Michel et al.); default predictions for ablation, labels for gradient",
        ),
      seed: integer(0, { max: 2 ** 32 - 1 })
        .optional()
        .describe("seed of importance random (default: the run's seed, else 0)"),
    })
    .strict()
    .superRefine((s, ctx) => {
      if ((s.ratio === undefined) === (s.heads === undefined)) {
        ctx.addIssue({
          code: 'custom',
          message:
            "give either ratio (the share of the heads to remove, e.g. 0.4) or heads (the heads to remove, e.g. '0:1,2;3:0'), not both or neither (flag --prune-heads gives one)",
        });
      } else if (s.heads !== undefined && s.importance !== 'magnitude') {
        ctx.addIssue({ code: 'custom', path: ['importance'], message: 'ranks heads for a ratio only; here the heads are listed' });
      } else if (s.heads !== undefined && s.minHeadsPerLayer !== 0) {
        ctx.addIssue({ code: 'custom', path: ['minHeadsPerLayer'], message: 'applies to a ratio only; here the heads are listed' });
      } else if (s.heads !== undefined && s.steps !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['steps'], message: 'applies to a ratio only; here the heads are listed' });
      }
      if (s.target !== undefined && (s.heads !== undefined || !LOSS_BASED.includes(s.importance)))
        ctx.addIssue({
          code: 'custom',
          path: ['target'],
          message: `applies to ablation and gradient importance only (importance is ${s.heads !== undefined ? 'not used: the heads are listed' : s.importance})`,
        });
      if (s.seed !== undefined && s.importance !== 'random')
        ctx.addIssue({ code: 'custom', path: ['seed'], message: `only importance random uses a seed (importance is ${s.importance})` });
    })
    // steps and target given as their defaults read as absent, so that giving them or not is one canonical form: one
    // sweep key and lineage (the same heads are removed either way)
    .overwrite(canonicalHeadSettings),
  flags: {
    adds: [{ flag: 'prune-heads', setting: 'ratio', alternative: { setting: 'heads', when: /:/, form: "a value with ':'" } }],
    modifiers: [
      { flag: 'importance', setting: 'importance' },
      { flag: 'seed', setting: 'seed' },
      { flag: 'prune-steps', setting: 'steps' },
      { flag: 'importance-target', setting: 'target' },
      { flag: 'min-heads-per-layer', setting: 'minHeadsPerLayer' },
    ],
  },
  options: (s): PruneHeadsOptions => ({
    ...(s.heads !== undefined ? { heads: parseHeadList(s.heads) } : { ratio: s.ratio }),
    importance: s.importance,
    minHeadsPerLayer: s.minHeadsPerLayer,
    ...(s.steps !== undefined ? { steps: s.steps } : {}),
    ...(s.seed !== undefined ? { seed: s.seed } : {}),
    ...(s.ratio !== undefined && LOSS_BASED.includes(s.importance) ? { target: s.target ?? defaultImportanceTarget(s.importance) } : {}),
  }),
  needsCalibration: (s) => s.ratio !== undefined && MEASURED.includes(s.importance),
  // random importance without its own seed draws from the run's
  readsSeed: (s) => s.ratio !== undefined && s.importance === 'random' && s.seed === undefined,
  seeded: (s, runSeed) => {
    if (s.ratio === undefined || s.importance !== 'random') return s;
    const { seed: own, ...rest } = s;
    const seed = own ?? runSeed ?? RANDOM_IMPORTANCE_SEED;
    return seed === RANDOM_IMPORTANCE_SEED ? rest : { ...rest, seed };
  },
  // a loss on the class scores; confidence reads the attention probabilities only
  needsClassifier: (s) => (s.ratio !== undefined ? importanceNeed(s.importance) : undefined),
  // (against the predictions, the calibration labels are the model's own: requireLabels is not reached)
  readsLabels: (s) => s.ratio !== undefined && LOSS_BASED.includes(s.importance) && (s.target ?? defaultImportanceTarget(s.importance)) === 'labels',
});

export const PRUNE_FFN = declarePass({
  name: 'prune-ffn',
  description: 'remove the least important FFN neurons of every layer (magnitude)',
  // 2: a bias that several layers read (stored once by torch) and that --optimize fused into BiasGelu is sliced once per reader
  version: 2,
  settings: z
    .object({ ratio: fraction().describe('fraction of the FFN neurons to remove in every layer, those of lowest |W_in column|·|W_out row|') })
    .strict(),
  flags: { adds: [{ flag: 'prune-ffn', setting: 'ratio' }], modifiers: [] },
  options: (s): PruneFfnOptions => ({ ratio: s.ratio }),
});

export const DROP_LAYERS = declarePass({
  name: 'drop-layers',
  description: 'remove whole encoder layers (DistilBERT keeps every other layer of its teacher)',
  version: 1,
  settings: z
    .object({
      layers: layerList().optional().describe('layers to remove, e.g. 1,3,5; or give keep'),
      keep: layerList({ word: 'every-other', ascending: true })
        .optional()
        .describe('layers to keep: every-other (0, 2, 4, …) or a list such as 0,2,4; instead of layers'),
    })
    .strict()
    .superRefine((s, ctx) => {
      if ((s.layers === undefined) === (s.keep === undefined)) {
        ctx.addIssue({
          code: 'custom',
          message:
            'give either layers (the layers to remove, e.g. 1,3; flag --drop-layers) or keep (the layers to keep, e.g. every-other; flag --keep-layers), not both or neither',
        });
      }
    }),
  flags: {
    adds: [
      { flag: 'drop-layers', setting: 'layers' },
      { flag: 'keep-layers', setting: 'keep' },
    ],
    modifiers: [],
  },
  options: (s): DropLayersOptions => (s.layers !== undefined ? { drop: s.layers } : { keep: s.keep! }),
  // (keep every-other on 4 layers removes layers 1 and 3, as layers 1,3 does)
  onModel: (s, shape) => {
    let drop: number[];
    try {
      drop = layersToDrop(shape, s.layers !== undefined ? { drop: s.layers } : { keep: s.keep! });
    } catch (e) {
      if (e instanceof SettingsError) return { settings: s, shape: undefined }; // (a layer it lacks, or every layer: refused by checkModel, or when the point runs)
      throw e;
    }
    // (none: layers names no such drop)
    return drop.length === 0 ? { settings: s, shape } : { settings: { layers: drop }, shape: { numLayers: shape.numLayers - drop.length } };
  },
});

/** The layers a model has, for messages: 'layers 0-11', 'layer 0' or 'no encoder layer'. */
export function layerRange(n: number): string {
  return n === 0 ? 'no encoder layer' : n === 1 ? 'layer 0' : `layers 0-${n - 1}`;
}

/** The layers drop-layers removes from a model of `numLayers` layers; a SettingsError for a layer it lacks, or all. */
export function layersToDrop({ numLayers: n }: { numLayers: number }, o: DropLayersOptions): number[] {
  let drop: number[];
  if (o.drop) drop = o.drop;
  else {
    const keep = o.keep === 'every-other' ? everyOtherLayers(n) : (o.keep as number[]);
    drop = Array.from({ length: n }, (_, i) => i).filter((i) => !keep.includes(i));
  }
  const bad = drop.concat(Array.isArray(o.keep) ? o.keep : []).find((i) => i >= n);
  if (bad !== undefined) throw new SettingsError(`drop-layers: layer ${bad} does not exist: the model has ${layerRange(n)}`);
  if (drop.length >= n) throw new SettingsError(`drop-layers: cannot drop all ${n} layers (keep at least one)`);
  return drop;
}
