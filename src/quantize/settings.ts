/**
 * Settings of the quantize pass, declared once (see src/pass/settings.ts): the mode grammar (`int8`, `int8-static`,
 * `int8-group:G`, `int4-block:B`, `mixed:BUDGET`) and the switches shared by every mode, parsed into typed options.
 * Impossible settings throw a SettingsError whose one-line message names the setting and its flag.
 */
import { z } from 'zod';
import {
  choiceWords,
  integerText,
  isNumberText,
  numberProblem,
  SettingsError,
  TOO_SMALL_TO_HOLD,
  tooSmallToHold,
  typedValueText,
  quotedText,
} from '../errors.ts';
import { boolean, declarePass, grammar, integer, oneOf, settingText, type ClassifierNeed } from '../pass/settings.ts';
import { ENTROPY_DEFAULT_BINS, ENTROPY_MAX_BINS, ENTROPY_QUANTIZED_BINS } from './entropy.ts';

/** How the 8-bit weight scales are shared along the output channels of a projection. */
export type Int8Granularity = { kind: 'tensor' } | { kind: 'channel' } | { kind: 'group'; size: number };

/** A size budget for mixed precision: a fraction of the fp32 model's initializer bytes, or absolute bytes. */
export type SizeBudget = { kind: 'fraction'; fraction: number } | { kind: 'bytes'; bytes: number };

export type QuantizeMode =
  /** Dynamic int8 (onnxruntime quantize_dynamic): int8 weights, activations quantized at run time. */
  | { kind: 'int8' }
  /** Static int8 in QDQ format, activation ranges from calibration data. */
  | { kind: 'int8-static' }
  /** Dynamic int8 with one scale per group of `groupSize` output channels (Q-BERT group-wise). */
  | { kind: 'int8-group'; groupSize: number }
  /** 4-bit block-wise weights (com.microsoft MatMulNBits), `blockSize` weights per scale along the input axis. */
  | { kind: 'int4-block'; blockSize: number }
  /** Q-BERT mixed precision: 4, 8 or 32 bits per encoder layer by measured sensitivity, under a size budget. */
  | { kind: 'mixed'; budget: SizeBudget }
  /** Every float32 tensor stored float16, graph inputs and outputs kept float32 (src/quantize/float16.ts). */
  | { kind: 'float16' };

/** How activation ranges are taken from calibration batches (int8-static). */
export type RangeMethod =
  | { kind: 'minmax' }
  | { kind: 'percentile'; percentile: number }
  /** onnxruntime's entropy (KL-divergence) calibration over a histogram of `bins` bins (src/quantize/entropy.ts). */
  | { kind: 'entropy'; bins: number };

/** Node formulation of dynamic int8 projections. */
export type DynamicFormat =
  /**
   * com.microsoft ops, what onnxruntime fuses the standard form into: one DynamicQuantizeLinear shared by the
   * projections that read the same value (Q, K, V) with MatMulIntegerToFloat each, else DynamicQuantizeMatMul; the
   * bias added by the op.
   */
  | 'contrib'
  /** DynamicQuantizeLinear + MatMulInteger + Cast + Mul, ONNX standard ops only (opset >= 11). */
  | 'standard';

export interface QuantizeOptions {
  mode: QuantizeMode;
  /** int8 weights: one scale per output channel (true) or one per tensor; embeddings: per row or per table. */
  perChannel: boolean;
  /** Store the embedding tables in int8 too. */
  embeddings: boolean;
  /** Dynamic int8 formulation. */
  format: DynamicFormat;
  /** Activation ranges of int8-static. */
  calibration: RangeMethod;
  /** 4-bit weights: symmetric (implied zero point 8) or asymmetric with packed 4-bit zero points. */
  symmetric: boolean;
  /** Block size of the 4-bit layers of mixed mode. */
  mixedBlockSize: number;
  /** Quantize fused com.microsoft Attention nodes into QAttention (dynamic int8 modes only). */
  attention: boolean;
  /**
   * int8 projection weights in 7 bits, [-64, 64] (onnxruntime's reduce_range): x86 U8S8 kernels without VNNI add
   * pairs of products in 16 bits, which full-range weights can saturate. Not for int4-block (no int8 product).
   */
  reduceRange: boolean;
}

/** The mode grammar, for messages. */
export const MODE_SYNTAX = 'int8 | int8-static | int8-group:G | int4-block:B | mixed:BUDGET | float16';

/**
 * The refusal of a mode of none of the grammar's forms, as every value outside a list of choices is refused
 * (choiceWords: `expected one of int8, …, float16`; a sweep file's after it with its kind, `got string "int9"`).
 */
const UNKNOWN_MODE = `expected ${choiceWords(MODE_SYNTAX.split(' | '))}`;

/**
 * Parses "0.2", "20%" or "12mb" / "12MiB" into a budget, its number read as every number a setting takes (isNumberText:
 * '2.5e-1', '2.5e1%', '1.2e1mb', '3.'), one too small or too large to hold ('1e-400', which reads as 0; '1e400mb', as
 * Infinity) refused saying so. A refusal shows the budget as every value typed where a number goes is shown
 * (typedValueText: a number bare, `the budget 1.5: …`; other text quoted, `the budget '150%': …`), then what it expected.
 */
export function parseBudget(spec: string): SizeBudget {
  const s = spec.trim().toLowerCase();
  const refuse = (problem: string) => new SettingsError(`the budget ${typedValueText(spec.trim())}: ${problem}`);
  const m = /^(.*?)\s*(%|mb|mib|kb|kib|b)?$/.exec(s);
  if (!m || !isNumberText(m[1]!)) throw refuse('expected a fraction (0.25), a percentage (25%) or a size (12mb)');
  if (tooSmallToHold(m[1]!)) throw refuse(`${TOO_SMALL_TO_HOLD}; it must be more than 0`);
  const v = Number(m[1]);
  // (a number past float64's range reads as Infinity, or -Infinity: no budget, and no text to write it back as)
  if (!Number.isFinite(v)) throw refuse(`too large for a number to hold (it reads as ${v})`);
  const unit = m[2];
  if (!unit || unit === '%') {
    const fraction = unit === '%' ? movedPoint(m[1]!, -2n) : v;
    if (!(fraction > 0 && fraction <= 1)) throw refuse(unit === '%' ? 'expected a percentage in (0, 100]' : 'expected a fraction in (0, 1]');
    return { kind: 'fraction', fraction };
  }
  const scale = BUDGET_UNITS[unit as keyof typeof BUDGET_UNITS];
  const bytes = Math.round(v * scale);
  if (!(bytes > 0)) throw refuse('expected a size of 1 byte or more');
  return { kind: 'bytes', bytes };
}

/**
 * The number decimal `text` (isNumberText) writes times 10^`places`: its decimal point moved, read as Number reads the
 * text so written, so that 1.1 moved 2 places left is 0.011, as Number('0.011') (1.1 / 100 is 0.011000000000000001).
 */
function movedPoint(text: string, places: bigint): number {
  const [, digits, exponent = '0'] = /^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:e([+-]?\d+))?\s*$/i.exec(text)!;
  return Number(`${digits}e${BigInt(exponent) + places}`);
}

/**
 * The mode a canonical mixed mode of a fraction (`mixed:0.011`) was named by code that read a percentage as its number
 * divided by 100 (1.1% as mixed:0.011000000000000001), where the two differ; undefined otherwise: a sweep point keyed
 * then under that name is this point (PassDeclaration.earlierSettings).
 */
export function earlierMixedName(mode: string): string | undefined {
  const m = parseMode(mode);
  if (m.kind !== 'mixed' || m.budget.kind !== 'fraction') return undefined;
  const earlier = `mixed:${movedPoint(String(m.budget.fraction), 2n) / 100}`;
  return earlier === mode ? undefined : earlier;
}

/** The units a size budget may be written in, by their byte counts. */
const BUDGET_UNITS = { mb: 1e6, mib: 1024 ** 2, kb: 1e3, kib: 1024, b: 1 } as const;

/**
 * A byte budget as a user writes one: the shortest text in mb, mib, kb, kib or b that parseBudget reads back as the
 * same bytes (the first of those units on a tie): 12000000 is '12mb', 12582912 '12mib', 1500000 '1.5mb', 1024 '1kib'.
 */
export function formatBudgetBytes(bytes: number): string {
  let best = `${bytes}b`;
  for (const [unit, scale] of Object.entries(BUDGET_UNITS)) {
    const number = String(bytes / scale);
    const text = `${number}${unit}`;
    if (/^\d+(\.\d+)?$/.test(number) && Math.round(Number(number) * scale) === bytes && text.length < best.length) best = text;
  }
  return best;
}

/** The block sizes onnxruntime's MatMulNBits takes (1.30: "Only block sizes 16, 32, 64, 128, and 256 are supported"). */
export const BLOCK_SIZES: readonly number[] = [16, 32, 64, 128, 256];
const BLOCK_SIZE_TEXT = '16, 32, 64, 128 or 256';

/** Whether `b` is a MatMulNBits block size (BLOCK_SIZES). */
function isBlockSize(b: number): boolean {
  return BLOCK_SIZES.includes(b);
}

/** A MatMulNBits block size (isBlockSize), as int4-block:B and mixedBlockSize refuse another: `expected 16, 32, …`. */
const BLOCK_SIZE_RULE = { max: 256, test: isBlockSize, what: `${BLOCK_SIZE_TEXT}, the sizes onnxruntime's MatMulNBits takes` };

/** Parses a mode string (see MODE_SYNTAX). */
export function parseMode(spec: unknown): QuantizeMode {
  if (typeof spec !== 'string' || !spec.trim()) throw new SettingsError(`a mode is required (${MODE_SYNTAX})`);
  const s = spec.trim();
  const [head, arg, ...rest] = s.split(':');
  if (rest.length) throw new SettingsError(UNKNOWN_MODE);
  switch (head.toLowerCase()) {
    case 'int8':
      if (arg !== undefined) break;
      return { kind: 'int8' };
    case 'int8-static':
      if (arg !== undefined) break;
      return { kind: 'int8-static' };
    case 'int8-group':
      if (arg === undefined) throw new SettingsError('give the group size, e.g. int8-group:64 (one group per head of 64)');
      return { kind: 'int8-group', groupSize: integerText('the group size', arg, 1) };
    case 'int4-block':
      return { kind: 'int4-block', blockSize: arg === undefined ? 32 : integerText('the block size', arg, 16, BLOCK_SIZE_RULE) };
    case 'mixed':
      if (arg === undefined) throw new SettingsError('give a size budget, e.g. mixed:0.2 (20% of the fp32 bytes) or mixed:8mb');
      return { kind: 'mixed', budget: parseBudget(arg) };
    case 'float16':
    case 'fp16': // Optimum's and transformers.js's name for it
      if (arg !== undefined) break;
      return { kind: 'float16' };
    case 'int4':
      throw new SettingsError('4-bit weights are block-wise: use int4-block:B (e.g. int4-block:32)');
  }
  throw new SettingsError(UNKNOWN_MODE);
}

/** The range-method grammar, for messages. */
export const RANGE_METHOD_SYNTAX = 'minmax | percentile[:P] | entropy[:BINS]';

/** The entropy histogram's bins: even, from the quantized bins to ENTROPY_MAX_BINS. */
const ENTROPY_BINS_RULE = {
  max: ENTROPY_MAX_BINS,
  test: (b: number) => b % 2 === 0,
  what: `an even integer from ${ENTROPY_QUANTIZED_BINS} (the quantized bins) to ${ENTROPY_MAX_BINS}`,
};

/** The percentiles percentile calibration takes: any share of the values, as onnxruntime's. */
const PERCENTILE_RANGE = { min: 0, max: 100, note: '(the share of the values kept)' } as const;

/** Parses "minmax", "percentile" / "percentile:99.99" or "entropy" / "entropy:2048". */
export function parseRangeMethod(v: unknown): RangeMethod {
  if (v === undefined || v === null) return { kind: 'minmax' };
  if (typeof v === 'string') {
    // read as every setting is (settingText): spaces around the text or after the colon, and letter case, do not
    // matter; a message quotes the text as typed
    const s = v.trim();
    if (settingText(s) === 'minmax') return { kind: 'minmax' };
    const m = /^percentile(?::\s*(.*))?$/i.exec(s);
    if (m) {
      // any share of the values from 0 to 100, as onnxruntime's percentile calibration takes: below 50 the middle P%;
      // its number read as every number a setting takes (isNumberText: '.5', '9.9999e1'), one too small to hold refused
      if (m[1] !== undefined && tooSmallToHold(m[1])) throw new SettingsError(`the percentile ${m[1].trim()}: ${TOO_SMALL_TO_HOLD}; write 0 for 0`);
      const percentile = m[1] === undefined ? 99.999 : isNumberText(m[1]) ? Number(m[1]) : Number.NaN;
      // (shown as every value typed where a number goes: typedValueText, '100.5' bare, '0x10' quoted)
      const problem = numberProblem(percentile, PERCENTILE_RANGE);
      if (problem !== undefined) throw new SettingsError(`the percentile ${typedValueText(m[1]!.trim())}: ${problem} ${PERCENTILE_RANGE.note}`);
      return { kind: 'percentile', percentile };
    }
    const e = /^entropy(?::\s*(.*))?$/i.exec(s);
    if (e) {
      // (read as every integer a user types: integerText, '1e3', '256.0')
      const bins = e[1] === undefined ? ENTROPY_DEFAULT_BINS : integerText('the entropy histogram bins', e[1], ENTROPY_QUANTIZED_BINS, ENTROPY_BINS_RULE);
      return { kind: 'entropy', bins };
    }
  }
  throw new SettingsError("expected 'minmax', 'percentile[:P]' or 'entropy[:BINS]'");
}

/** The canonical text of a range method: 'minmax', 'percentile:P' or 'entropy:BINS'. */
export function formatRangeMethod(r: RangeMethod): string {
  switch (r.kind) {
    case 'minmax':
      return 'minmax';
    case 'percentile':
      return `percentile:${r.percentile}`;
    case 'entropy':
      return `entropy:${r.bins}`;
  }
}

/** What mixed precision needs of the model: a classifier, its layer sensitivity being a loss on the class scores. */
export function mixedNeed(mode: string): ClassifierNeed {
  return { what: `mode ${quotedText(mode)}`, instead: 'quantize every layer alike (int8, int8-static, int4-block:B)' };
}

/** The quantize pass's settings. */
export const QUANTIZE = declarePass({
  name: 'quantize',
  description:
    'store weights in 8 or 4 bits: dynamic int8, static int8 (QDQ), group-wise int8, block-wise int4, mixed precision; or every float tensor in float16',
  // 3: a word table tied to an MLM decoder stored int8 once (dynamic int8); 4: the same for static int8 (QDQ);
  // 5: static int8 activation ranges leave out the calibration batches' padding positions; 6: a factorized word table
  // tied to an MLM decoder stored once, int8, the decoder's product reading it dequantized (a float copy stayed beside it);
  // 7: static int8 ranges the pooler's and head's [batch, hidden] inputs over every value when the hidden size equals a
  // calibration batch's sequence length (their values were taken for tokens and some left out as padding); 8: mixed
  // gives int8 to a 4-bit layer's projections whose blocks would store more bytes than int8 (a float one was left);
  // 9: float16 computes a decomposed LayerNorm's variance (square, ReduceMean, epsilon, Sqrt) in float32; 10: float16's
  // value_info declares a value a float32-kept node writes float32 under its new name, none for a value it removed;
  // 11: static int8's percentile:P keeps P% of the values, cutting (100 - P) / 2 % from each end as onnxruntime's
  // percentile calibration (it cut 100 - P % from each); 12: percentile ranges over onnxruntime's histogram of 2048
  // bins, at its bins' lower edges, where they were percentiles of a sample of 65,536 values; 13: that histogram grows
  // to 64 times its bins as onnxruntime's does (it merged its bins in pairs past 8192 bins, as entropy's); 14: mixed with
  // attention false counts a fused Attention's packed weight float, as it stays (it counted it int8 and could overrun
  // its budget); 15: static int8's activation scales and zero points as onnxruntime's compute_scale_zp (the range's
  // width rounded to float32 before it is divided, the zero point rounded half to even from the float64 scale; a
  // scale 1 ulp off in about 15% of ranges, and zero points of ranges such as [-1, 1]); 16: static int8's percentile and
  // entropy ranges over one histogram of all calibration batches at once, as onnxruntime's quantize_static collects
  // them (each batch was added in turn, the histogram widened by whole bins of the first batch's width); 17: int8
  // weight codes as onnxruntime's quantize_nparray rounds them, numpy.round of the float32 quotient (halves to even),
  // and a scale below float32's smallest normal 1, as compute_scale_zp (a float64 quotient rounded half up: 13 of the
  // L2H256 teacher's 9,584,128 per-channel codes differed); 18: 4-bit blocks as onnxruntime's MatMul4BitsQuantizer
  // writes them (MLAS's BlockwiseQuantizer: float32 arithmetic, w · (1 / scale) + zero point rounded by roundf; an
  // asymmetric block's width rounded to float32 before it is divided; a symmetric block's min where its magnitude
  // equals the max's; scale 0 for an all-zero block; padding codes 0; an odd count's last zero point nibble 8)
  version: 18,
  // (9 and 10 changed mode float16's output only, 11 to 13 int8-static's percentile ranges only, 14 mixed with attention
  // false only, 15 int8-static only, 16 its percentile and entropy ranges only, 17 every mode but float16, 18 int4-block
  // and mixed only: float16 points keep their key)
  keyVersion: (s) => {
    const kind = parseMode(s.mode).kind;
    return kind === 'float16' ? 10 : kind === 'int4-block' || kind === 'mixed' ? 18 : 17;
  },
  // (a percentage was read as its number divided by 100, so 1.1% was named mixed:0.011000000000000001: a point stored
  // under that name is the point of mixed:0.011, whose budget is the same bytes but where the share of the float
  // weights falls within a float's rounding of a whole byte: about 2 in 10,000 of the percentages with 1 or 2 decimals
  // on sizes to 20,000 bytes, 1 byte apart)
  earlierSettings: (s) => {
    const mode = earlierMixedName(s.mode);
    return mode === undefined ? undefined : { ...s, mode };
  },
  settings: z
    .object({
      mode: grammar(MODE_SYNTAX, parseMode, modeName, `a mode is required (${MODE_SYNTAX})`).describe(
        'int8 (dynamic), int8-static (QDQ, calibrated), int8-group:G (G output channels share a scale; stored once per channel, as the kernels take it), int4-block:B (B weights per scale), mixed:BUDGET (4/8/32 bits per layer by sensitivity, calibrated; BUDGET: a fraction 0.25, a percentage 25% or a size 12mb of the float weights), float16 (every float32 tensor in float16, inputs and outputs float32, as onnxconverter-common convert_float_to_float16 with keep_io_types)',
      ),
      perChannel: boolean().default(true).describe('int8 weights: one scale per output channel (false: one per tensor); embeddings: per row or per table'),
      embeddings: boolean().default(true).describe('store the embedding tables in int8 too'),
      format: oneOf(['contrib', 'standard'])
        .default('contrib')
        .describe(
          'dynamic int8 nodes: contrib (com.microsoft MatMulIntegerToFloat behind a shared DynamicQuantizeLinear, else DynamicQuantizeMatMul; biases fused) or standard (ONNX ops only)',
        ),
      calibration: grammar(RANGE_METHOD_SYNTAX, parseRangeMethod, formatRangeMethod)
        .default('minmax')
        .describe(
          "int8-static: activation ranges from min/max, a percentile (keeping P% of the values, (100 - P)/2 % cut from each end, over a histogram of 2048 bins: onnxruntime's asymmetric percentile range, its CalibTensorRangeSymmetric False, where its default takes ±the P-th percentile of |x|; default P 99.999), or entropy: onnxruntime's KL-divergence (TensorRT-style) calibration over a histogram of BINS bins (even, 128 to 2048, default 128 as onnxruntime's); each histogram holds all calibration batches' values at once, as onnxruntime's quantize_static collects them (the batches run twice: first for its range); 128 bins give the min/max, more bins clip more",
        ),
      symmetric: boolean().default(true).describe('4-bit weights: symmetric (zero point 8) or asymmetric with packed zero points'),
      mixedBlockSize: integer(16, BLOCK_SIZE_RULE).default(32).describe(`mixed: block size of its 4-bit layers (${BLOCK_SIZE_TEXT})`),
      attention: boolean().default(true).describe('quantize fused com.microsoft Attention nodes into QAttention (dynamic int8 modes)'),
      // Absent unless true (false reads as absent), so the canonical settings, and with them the sweep keys and
      // lineage of every quantize step written before the setting existed, stay as they were.
      reduceRange: boolean()
        .transform((v) => v || undefined)
        .optional()
        .describe(
          "int8 weights in 7 bits, [-64, 64] (onnxruntime's reduce_range), for x86 CPUs without AVX-512 VNNI / AVX-VNNI, whose int8 kernels can saturate with full-range weights; default false (embedding tables read by no int8 product keep the full range)",
        ),
    })
    .strict()
    .superRefine((s, ctx) => {
      const kind = parseMode(s.mode).kind;
      // named as the pass's other refusals name it, by its mode ('quantize int8: calibration …'): the setting is
      // refused for this mode (s.mode: modeName's canonical form)
      const refuse = (setting: string, message: string) => ctx.addIssue({ code: 'custom', path: [setting], message, params: { pass: `quantize ${s.mode}` } });
      if (s.reduceRange && kind === 'int4-block')
        refuse('reduceRange', `applies to int8 weights; mode ${s.mode} stores its projections in 4 bits (MatMulNBits)`);
      // a setting the mode never reads is refused rather than recorded in the lineage as if it had been applied
      if (s.calibration !== 'minmax' && kind !== 'int8-static')
        refuse(
          'calibration',
          `sets the activation ranges of int8-static only; mode ${s.mode} takes none${kind === 'mixed' ? ' (it measures layers by a loss)' : ''}`,
        );
      if (!s.symmetric && kind !== 'int4-block' && kind !== 'mixed')
        refuse('symmetric', `applies to 4-bit weights (int4-block:B, mixed:BUDGET); mode ${s.mode} stores none`);
      // mixed stores its 8-bit layers per channel, and its bit budget prices them so (layerCost)
      if (!s.perChannel && kind === 'mixed')
        refuse('perChannel', `mode ${s.mode} stores its 8-bit layers with one scale per output channel, as its bit budget counts them`);
      if (s.mixedBlockSize !== 32 && kind !== 'mixed')
        refuse(
          'mixedBlockSize',
          kind === 'int4-block'
            ? `applies to mixed:BUDGET; int4-block gives its block size in the mode (int4-block:${s.mixedBlockSize})`
            : `applies to mode mixed:BUDGET only (mode is ${s.mode})`,
        );
      // int8-static writes QDQ nodes and leaves a fused Attention float; int4-block leaves it float too, but reads
      // format for an MLM decoder tied to the int8 word table (dynamic int8, see tiedAssignment)
      if (s.format !== 'contrib' && kind === 'int8-static')
        refuse('format', `sets the dynamic int8 nodes (int8, int8-group:G, mixed:BUDGET); mode ${s.mode} writes QDQ nodes`);
      if (kind === 'float16') {
        // float16 stores every float tensor alike: a setting of the integer modes would be recorded but never read
        const float16 = 'mode float16 stores every float32 tensor in float16';
        if (!s.perChannel) refuse('perChannel', `sets the int8 scales; ${float16}`);
        if (!s.embeddings) refuse('embeddings', `keeps the embedding tables float32 in the integer modes; ${float16}`);
        if (s.format !== 'contrib') refuse('format', `sets the dynamic int8 nodes; ${float16}`);
        if (!s.attention) refuse('attention', `sets whether fused Attention nodes become QAttention; ${float16}`);
        if (s.reduceRange) refuse('reduceRange', `applies to int8 weights; ${float16}`);
      }
      if (!s.attention && (kind === 'int8-static' || kind === 'int4-block'))
        refuse('attention', `applies to fused Attention nodes in the dynamic int8 modes (int8, int8-group:G, mixed:BUDGET); mode ${s.mode} leaves them float`);
    })
    // one output channel per group is a scale per channel, what int8 writes per channel: the same model, so one
    // canonical form (one sweep key and lineage); with perChannel false, int8-group:1 still scales each channel
    // (only the embeddings are per table) and stays itself
    .overwrite((s) => (s.mode === 'int8-group:1' && s.perChannel ? { ...s, mode: 'int8' } : s)),
  flags: {
    adds: [{ flag: 'quantize', setting: 'mode' }],
    modifiers: [
      { flag: 'per-tensor', setting: 'perChannel', negated: true },
      { flag: 'quantize-embeddings', setting: 'embeddings' },
      { flag: 'quantize-format', setting: 'format' },
      { flag: 'calibration-method', setting: 'calibration' },
      { flag: 'int4-asymmetric', setting: 'symmetric', negated: true },
      { flag: 'mixed-block-size', setting: 'mixedBlockSize' },
      { flag: 'quantize-attention', setting: 'attention' },
      { flag: 'quantize-reduce-range', setting: 'reduceRange' },
    ],
  },
  options: (s): QuantizeOptions => ({
    mode: parseMode(s.mode),
    perChannel: s.perChannel,
    embeddings: s.embeddings,
    format: s.format,
    calibration: parseRangeMethod(s.calibration),
    symmetric: s.symmetric,
    mixedBlockSize: s.mixedBlockSize,
    attention: s.attention,
    reduceRange: s.reduceRange === true,
  }),
  needsCalibration: (s) => ['int8-static', 'mixed'].includes(parseMode(s.mode).kind),
  // mixed precision ranks layers by a loss on the class scores; int8-static reads activation ranges only
  needsClassifier: (s) => (parseMode(s.mode).kind === 'mixed' ? mixedNeed(s.mode) : undefined),
  // (mixed's layer sensitivity: a loss against the gold labels)
  readsLabels: (s) => parseMode(s.mode).kind === 'mixed',
});

/**
 * Whether `steps` store int8 products with full-range int8 weights: a quantize step in a mode whose projections are
 * int8 (int8, int8-static, int8-group, mixed) without reduceRange. onnxruntime's x86 uint8 × int8 kernels without
 * AVX-512 VNNI / AVX-VNNI (bench/machine.ts int8Saturates) add pairs of such products in 16 bits, which can saturate,
 * so the model's outputs there differ. Not float16 (no int8 product) nor int4-block (dequantized to float).
 */
export function fullRangeInt8Products(steps: ReadonlyArray<{ pass: string; settings: Record<string, unknown> }>): boolean {
  return steps.some((s) => {
    if (s.pass !== QUANTIZE.name) return false;
    let settings: ReturnType<typeof QUANTIZE.check>;
    try {
      settings = QUANTIZE.check(s.settings);
    } catch {
      return false; // (settings of other code, in a store: not this code's to read)
    }
    const kind = parseMode(settings.mode).kind;
    return kind !== 'int4-block' && kind !== 'float16' && settings.reduceRange !== true;
  });
}

/** Validates raw settings and applies defaults (the quantize declaration's parse). */
export function parseQuantizeSettings(settings: Record<string, unknown>): QuantizeOptions {
  return QUANTIZE.parse(settings);
}

/** The weight granularity of the int8 modes. */
export function int8Granularity(o: QuantizeOptions): Int8Granularity {
  if (o.mode.kind === 'int8-group') return { kind: 'group', size: o.mode.groupSize };
  return o.perChannel ? { kind: 'channel' } : { kind: 'tensor' };
}

/** One line describing the mode, e.g. 'int8-group:64'. */
export function modeName(m: QuantizeMode): string {
  switch (m.kind) {
    case 'int8':
      return 'int8';
    case 'int8-static':
      return 'int8-static';
    case 'int8-group':
      return `int8-group:${m.groupSize}`;
    case 'int4-block':
      return `int4-block:${m.blockSize}`;
    case 'mixed':
      return `mixed:${m.budget.kind === 'fraction' ? m.budget.fraction : formatBudgetBytes(m.budget.bytes)}`;
    case 'float16':
      return 'float16';
  }
}
