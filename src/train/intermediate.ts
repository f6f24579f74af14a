/**
 * Intermediate-layer distillation, declared as TextBrewer's `intermediate_matches`: a list of
 * {teacher layer, student layer, feature, loss, weight}. Layers count from 0 = the embeddings output; layer i ≥ 1
 * is encoder layer i (1-based, as the papers count). Features: 'embeddings' (layer 0 only), 'hidden' (a layer's
 * output), 'attention' (its attention probabilities) and 'attention-scores' (the masked scores before Softmax, as
 * TinyBERT matches them, with masked positions zeroed on both sides). Losses: 'mse', 'cosine' (DistilBERT's: 1 − cos,
 * mean over the tokens, padding left out), 'pkd' (BERT-PKD:
 * the [CLS] hidden states normalized, squared distance), 'attention-mse', 'attention-kl' (MiniLM's: KL of the
 * teacher's attention rows to the student's, mean over heads and the tokens' rows, padding left out).
 *
 * Layer maps give the pairs the papers state: 'uniform' (TinyBERT, g(m) = m·N/M, embeddings 0 → 0), 'skip'
 * (PKD-skip: student layer j ↔ teacher j·N/M for j < M), 'last' (PKD-last: student j ↔ teacher N − M + j for
 * j < M), or explicit [teacher, student] pairs. Presets: 'tinybert' (embeddings + hidden MSE with projections and
 * attention-score MSE over the uniform map), 'pkd-skip' and 'pkd-last' (PKD loss on the mapped layers, β over their
 * mean).
 */
import type { BertStructure } from '../bert/structure.ts';
import type { Graph } from '../onnx/graph.ts';
import {
  checkIntegerOption,
  checkNumberFlag,
  choiceRefusal,
  choiceWords,
  integerText,
  type NumberRange,
  numberProblem,
  quotedText,
  SettingsError,
  typedValueText,
  valueAndKind,
} from '../errors.ts';

/** The weights a match takes (a file's `weight`, a library caller's), in the one number wording: 'a number 0 or greater'. */
const MATCH_WEIGHT_RANGE: NumberRange = { min: 0 };

export type MatchFeature = 'embeddings' | 'hidden' | 'attention' | 'attention-scores';
export type MatchLoss = 'mse' | 'cosine' | 'pkd' | 'attention-mse' | 'attention-kl';
export const LAYER_MAP_NAMES = ['uniform', 'skip', 'last'] as const;
export type LayerMapName = (typeof LAYER_MAP_NAMES)[number];

export interface IntermediateMatch {
  teacherLayer: number;
  studentLayer: number;
  feature: MatchFeature;
  loss: MatchLoss;
  weight: number;
}

export const MATCH_FEATURES: readonly MatchFeature[] = ['embeddings', 'hidden', 'attention', 'attention-scores'];
export const MATCH_LOSSES: readonly MatchLoss[] = ['mse', 'cosine', 'pkd', 'attention-mse', 'attention-kl'];
export const INTERMEDIATE_PRESETS = ['tinybert', 'pkd-skip', 'pkd-last'] as const;
export type IntermediatePreset = (typeof INTERMEDIATE_PRESETS)[number];

/**
 * [teacher, student] layer pairs of a map, for a teacher of `n` and a student of `m` encoder layers (1-based
 * layers; 'uniform' includes the embeddings pair [0, 0]).
 */
export function layerPairs(map: LayerMapName | ReadonlyArray<readonly [number, number]>, n: number, m: number): Array<[number, number]> {
  if (!(m >= 1 && n >= 1)) throw new SettingsError(`layer map: teacher (${n}) and student (${m}) need at least one layer each`);
  if (Array.isArray(map)) {
    // the checks of --layer-map and a sweep's layerMap, for library callers too (those check them up front as well)
    if (map.length === 0) throw new SettingsError('layer map: no pairs');
    const twice = repeatedLayerPair(map);
    if (twice) throw new SettingsError(`layer map: ${twice}`);
    for (const [t, s] of map) {
      if (!(Number.isInteger(t) && t >= 0 && t <= n)) throw new SettingsError(`layer map: teacher layer ${t} is not in 0..${n}`);
      if (!(Number.isInteger(s) && s >= 0 && s <= m)) throw new SettingsError(`layer map: student layer ${s} is not in 0..${m}`);
    }
    return map.map(([t, s]) => [t, s]);
  }
  // (a name first: a library caller's other value is none, whatever the depths)
  if (!(LAYER_MAP_NAMES as readonly unknown[]).includes(map))
    throw new SettingsError(choiceRefusal('layer map', map, LAYER_MAP_NAMES, { from: 'code', or: '[[teacher, student], …]' }));
  if (m > n) {
    throw new SettingsError(
      `layer map ${quotedText(map as string)}: the student (${m} layers) is deeper than the teacher (${n}): give teacher:student pairs with --layer-map (one teacher layer may feed several student layers)`,
    );
  }
  switch (map) {
    case 'uniform': {
      if (n % m !== 0) throw notMultiple('uniform', n, m);
      return [[0, 0], ...Array.from({ length: m }, (_, j): [number, number] => [((j + 1) * n) / m, j + 1])];
    }
    case 'skip': {
      if (n % m !== 0) throw notMultiple('skip', n, m);
      return Array.from({ length: m - 1 }, (_, j): [number, number] => [((j + 1) * n) / m, j + 1]);
    }
    case 'last':
      return Array.from({ length: m - 1 }, (_, j): [number, number] => [n - m + j + 1, j + 1]);
  }
  throw new Error(`internal error: layer map ${quotedText(String(map))}`);
}

/**
 * The refusal of 'uniform' or 'skip' for a teacher of `n` layers and a student of `m` that does not divide it (a
 * 3-layer teacher and a 2-layer student, 12 and 5): names --layer-map (a sweep names its step's layerMap) and gives the pairs
 * nearest the map's spacing (student layer j from teacher layer round(j·n/m)) to start from.
 */
function notMultiple(map: 'uniform' | 'skip', n: number, m: number): SettingsError {
  const layers = map === 'uniform' ? m : m - 1;
  const pairs = Array.from({ length: layers }, (_, i) => `${Math.round(((i + 1) * n) / m)}:${i + 1}`);
  const example = (map === 'uniform' ? ['0:0', ...pairs] : pairs).join(',');
  return new SettingsError(
    `layer map ${quotedText(map)}: ${n} teacher layers are not a multiple of ${m} student layers: give teacher:student pairs with --layer-map, e.g. ${example}`,
  );
}

/**
 * BERT-PKD's β when none is given: the weight of the patient loss of the pkd presets, the mean of their PKD terms
 * over the matched layers (BERT-PKD's code takes one MSE over batch, layers and width), so each of k terms weighs β/k.
 */
export const DEFAULT_PKD_WEIGHT = 100;

/** The matches of a preset for a teacher of `n` and a student of `m` layers. */
export function presetMatches(
  preset: IntermediatePreset,
  n: number,
  m: number,
  opts: { pkdWeight?: number; layerMap?: LayerMapName | Array<[number, number]> } = {},
): IntermediateMatch[] {
  switch (preset) {
    case 'tinybert': {
      const pairs = layerPairs(opts.layerMap ?? 'uniform', n, m);
      const out: IntermediateMatch[] = [];
      for (const [t, s] of pairs) {
        if (t === 0 || s === 0) {
          out.push({ teacherLayer: t, studentLayer: s, feature: t === 0 && s === 0 ? 'embeddings' : 'hidden', loss: 'mse', weight: 1 });
          continue;
        }
        out.push({ teacherLayer: t, studentLayer: s, feature: 'hidden', loss: 'mse', weight: 1 });
        out.push({ teacherLayer: t, studentLayer: s, feature: 'attention-scores', loss: 'attention-mse', weight: 1 });
      }
      return out;
    }
    case 'pkd-skip':
    case 'pkd-last': {
      const pairs = layerPairs(opts.layerMap ?? (preset === 'pkd-skip' ? 'skip' : 'last'), n, m);
      if (!pairs.length)
        throw new SettingsError(
          `${preset}: a student of ${m} layer has no intermediate layer to match (PKD leaves the last to prediction KD): give a teacher:student pair with --layer-map, e.g. ${Math.max(1, Math.floor(n / 2))}:1`,
        );
      // β weighs the mean over the layers, as BERT-PKD's patience_loss (F.mse_loss of the stacked [batch, layers,
      // width] states): each layer's term (a mean over batch and width) weighs β/k
      const weight = (opts.pkdWeight ?? DEFAULT_PKD_WEIGHT) / pairs.length;
      return pairs.map(([t, s]) => ({ teacherLayer: t, studentLayer: s, feature: 'hidden', loss: 'pkd', weight }));
    }
  }
}

/** Checks one match (layer ranges against the models, feature/loss fit); SettingsError naming the entry. */
export function checkMatch(m: IntermediateMatch, i: number, teacherLayers: number, studentLayers: number): void {
  const where = `intermediate match ${i + 1}`;
  if (!MATCH_FEATURES.includes(m.feature)) throw new SettingsError(choiceRefusal(`${where}: feature`, m.feature, MATCH_FEATURES, { from: 'code' }));
  if (!MATCH_LOSSES.includes(m.loss)) throw new SettingsError(choiceRefusal(`${where}: loss`, m.loss, MATCH_LOSSES, { from: 'code' }));
  if (!(Number.isInteger(m.teacherLayer) && m.teacherLayer >= 0 && m.teacherLayer <= teacherLayers)) {
    throw new SettingsError(`${where}: teacher layer ${m.teacherLayer} is not in 0..${teacherLayers}`);
  }
  if (!(Number.isInteger(m.studentLayer) && m.studentLayer >= 0 && m.studentLayer <= studentLayers)) {
    throw new SettingsError(`${where}: student layer ${m.studentLayer} is not in 0..${studentLayers}`);
  }
  checkNumberFlag(`${where}: weight`, m.weight, MATCH_WEIGHT_RANGE);
  const problem = matchFitProblem(m);
  if (problem !== undefined) throw new SettingsError(`${where}: ${problem}`);
}

/**
 * Why a match's feature, loss and layers do not go together, whatever the models (attention losses for attention
 * features, no attention at layer 0, the embeddings at layer 0 on both sides); undefined where they do. checkMatch's
 * and parseMatches' (a file's entry named as its other refusals are, `m.yaml[0]`, where it was 'intermediate match
 * 1', without the file, once the models were read).
 */
function matchFitProblem(m: Pick<IntermediateMatch, 'teacherLayer' | 'studentLayer' | 'feature' | 'loss'>): string | undefined {
  const attention = m.feature === 'attention' || m.feature === 'attention-scores';
  if (attention !== (m.loss === 'attention-mse' || m.loss === 'attention-kl')) {
    return `loss ${quotedText(m.loss)} does not fit feature ${quotedText(m.feature)} (attention losses for attention features)`;
  }
  if (m.loss === 'attention-kl' && m.feature !== 'attention') return "attention-kl compares probabilities: use feature 'attention'";
  if (attention && (m.teacherLayer === 0 || m.studentLayer === 0)) return 'layer 0 (the embeddings) has no attention';
  if (m.feature === 'embeddings' && (m.teacherLayer !== 0 || m.studentLayer !== 0)) return "feature 'embeddings' is layer 0 on both sides";
  return undefined;
}

/** Where a feature of one layer lives in a discovered graph. */
export interface FeatureValue {
  /** Value name in the graph. */
  value: string;
  /** Width of hidden features; heads of attention features. */
  width: number;
  heads?: number;
}

/** The value of `feature` at `layer` (0 = embeddings) in a discovered model; SettingsError when it has none (checkFeature). */
export function featureValue(s: BertStructure, graph: Graph, feature: MatchFeature, layer: number, label: string): FeatureValue {
  checkFeature(s, feature, layer, label);
  if (feature === 'embeddings' || (feature === 'hidden' && layer === 0)) return { value: s.embeddings.output, width: s.hiddenSize };
  const l = s.layers[layer - 1]!;
  if (feature === 'hidden') return { value: l.output, width: s.hiddenSize };
  const a = l.attention!;
  const softmax = graph.nodes.find((n) => n.name === a.softmax);
  if (!softmax) throw new SettingsError(`${label} layer ${layer}: Softmax node ${quotedText(String(a.softmax))} not found`);
  return { value: feature === 'attention' ? softmax.outputs[0] : softmax.inputs[0], width: a.numHeads, heads: a.numHeads };
}

/**
 * Throws featureValue's SettingsError when the structure alone says that `s` has no `feature` at `layer`: a layer it
 * lacks, one --optimize rewrote for the first token, one without attention (all its heads pruned: noAttentionLeft) or
 * whose attention is fused. What a sweep's plan checks of a teacher before any point runs.
 */
export function checkFeature(s: BertStructure, feature: MatchFeature, layer: number, label: string): void {
  if (feature === 'embeddings' || (feature === 'hidden' && layer === 0)) return;
  const l = s.layers[layer - 1];
  if (!l) throw new SettingsError(`${label} has no layer ${layer} (it has ${s.numLayers})`);
  // --optimize's first-token rewrite: the layer's queries, attention and output cover token 0 only
  if (l.firstToken) {
    throw new SettingsError(
      `${label} layer ${layer} computes the first token only (--optimize first-token): match another layer, or use the model before --optimize`,
    );
  }
  if (feature === 'hidden') return;
  const a = l.attention;
  if (!a) throw noAttentionLeft(label, layer);
  if (a.kind === 'fused' || !a.softmax) {
    throw new SettingsError(
      `${label} layer ${layer}: attention is a fused com.microsoft Attention whose probabilities are hidden; match hidden states instead`,
    );
  }
}

/** featureValue's refusal of attention at `layer` of a model (`label`) whose heads there were all pruned. */
export function noAttentionLeft(label: string, layer: number): SettingsError {
  // (layer numbers count the embeddings as 0 here; compress inspect counts encoder layers from 0)
  return new SettingsError(
    `${label} layer ${layer} (compress inspect's layer ${layer - 1}) has no attention left to match: all its heads were pruned; match its hidden states only (matches of feature 'hidden' in --intermediate)`,
  );
}

/**
 * Matches from data (a sweep file's settings, or a JSON/YAML file given to --intermediate): a list of
 * {teacherLayer, studentLayer, feature, loss, weight?} objects; TextBrewer's keys (layer_T, layer_S) are accepted
 * too. Weight defaults to 1. Layer ranges are checked later, against the models; an entry repeating another's layers,
 * feature and loss is refused (its term would count twice).
 */
export function parseMatches(value: unknown, label: string): IntermediateMatch[] {
  if (!Array.isArray(value) || !value.length) throw new SettingsError(`${label}: expected a non-empty list of matches`);
  const matches = value.map((raw, i) => parseMatch(raw, `${label}[${i}]`));
  // (an entry repeating another's layers, feature and loss adds its term twice, as a layer map's pair listed twice
  // would, where it was taken: refused, naming both entries)
  const seen = new Map<string, number>();
  matches.forEach((m, i) => {
    const key = `${m.teacherLayer}:${m.studentLayer}:${m.feature}:${m.loss}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw new SettingsError(
        `${label}[${i}]: repeats ${label}[${first}] (teacher layer ${m.teacherLayer}, student layer ${m.studentLayer}, feature ${m.feature}, loss ${m.loss}): its term would count twice; give one entry, with the weight meant`,
      );
    }
    seen.set(key, i);
  });
  return matches;
}

/** One entry of a list of matches (parseMatches), `where` naming it in a refusal (`m.yaml[0]`). */
function parseMatch(raw: unknown, where: string): IntermediateMatch {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SettingsError(`${where}: expected an object`);
  const o = raw as Record<string, unknown>;
  const known = new Set(['teacherLayer', 'studentLayer', 'layer_T', 'layer_S', 'feature', 'loss', 'weight']);
  const unknown = Object.keys(o).find((k) => !known.has(k));
  if (unknown) throw new SettingsError(`${where}: unknown key ${quotedText(unknown)} (use teacherLayer, studentLayer, feature, loss, weight)`);
  // (a layer as every integer a user types: checkIntegerOption, which refuses 1e16 and 2^53 + 1, read inexactly)
  // (its value after the range, not in brackets: a number past 2^53 − 1 says why in its own; shown as the file's
  // other values are: 'nothing', 'a mapping')
  const int = (v: unknown, name: string): number => {
    checkIntegerOption(`${where}.${name}`, v, 0, { from: 'file' });
    return v as number;
  };
  const feature = o.feature as MatchFeature;
  const loss = o.loss as MatchLoss;
  if (!MATCH_FEATURES.includes(feature)) throw new SettingsError(choiceRefusal(`${where}.feature`, o.feature, MATCH_FEATURES, { from: 'file' }));
  if (!MATCH_LOSSES.includes(loss)) throw new SettingsError(choiceRefusal(`${where}.loss`, o.loss, MATCH_LOSSES, { from: 'file' }));
  const weight = (o.weight === undefined ? 1 : o.weight) as number;
  // (YAML's .inf and .nan are numbers: refused here, naming the entry, as a finite weight is what the loss needs)
  const weightProblem = numberProblem(weight, MATCH_WEIGHT_RANGE);
  if (weightProblem !== undefined) throw new SettingsError(`${where}.weight: ${weightProblem}, got ${valueAndKind(weight, 'file')}`);
  const match = {
    teacherLayer: int(o.teacherLayer ?? o.layer_T, 'teacherLayer'),
    studentLayer: int(o.studentLayer ?? o.layer_S, 'studentLayer'),
    feature,
    loss,
    weight,
  };
  const problem = matchFitProblem(match);
  if (problem !== undefined) throw new SettingsError(`${where}: ${problem}`);
  return match;
}

/** One teacher:student pair of a layer map's text ('3:1'; each side judged as an integer by parseLayerMap). */
const LAYER_PAIR_TEXT = /^([^:]*\S[^:]*):([^:]*\S[^:]*)$/;

/**
 * Whether `text` takes a layer map's form (a name, or 'T:S,T:S' pairs, whose layers parseLayerMap then judges):
 * text of neither is a value outside the layer map's choices, refused as one.
 */
export function isLayerMapForm(text: string): boolean {
  if ((LAYER_MAP_NAMES as readonly string[]).includes(text)) return true;
  return text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .every((p) => LAYER_PAIR_TEXT.test(p));
}

/**
 * A layer map from text: uniform, skip, last, or explicit pairs 'T:S,T:S' (teacher:student); a SettingsError otherwise,
 * `frame` naming the text before its fault as the caller names it, as checkStudentSpec's frame (library code names no
 * flag): default `layer map 'TEXT'` (typedValueText: text that reads as a number bare, as a value outside a list of
 * choices is shown); the command line `--layer-map 'TEXT'`, as its other refusals of the flag; a sweep file the text
 * alone, its place naming the setting.
 */
export function parseLayerMap(text: string, frame = `layer map ${typedValueText(text)}`): LayerMapName | Array<[number, number]> {
  if (text === 'uniform' || text === 'skip' || text === 'last') return text;
  if (!isLayerMapForm(text)) throw new SettingsError(`${frame}: expected ${choiceWords(LAYER_MAP_NAMES, { or: 'teacher:student pairs like 3:1,6:2' })}`);
  const pairs = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p): [number, number] => {
      const m = LAYER_PAIR_TEXT.exec(p)!;
      return [integerText(`${frame}: the teacher layer`, m[1]!, 0), integerText(`${frame}: the student layer`, m[2]!, 0)];
    });
  if (!pairs.length) throw new SettingsError(`${frame}: no pairs`);
  const twice = repeatedLayerPair(pairs);
  if (twice) throw new SettingsError(`${frame}: ${twice}`);
  return pairs;
}

/**
 * 'the pair 1:1 is listed twice (its terms would count twice)' when a teacher:student pair repeats in an explicit
 * layer map (--layer-map, a sweep's layerMap as a string or a list), else undefined.
 */
export function repeatedLayerPair(pairs: ReadonlyArray<readonly [number, number]>): string | undefined {
  const seen = new Set<string>();
  for (const [t, s] of pairs) {
    if (seen.has(`${t}:${s}`)) return `the pair ${t}:${s} is listed twice (its terms would count twice)`;
    seen.add(`${t}:${s}`);
  }
  return undefined;
}
