/**
 * Settings of the quantize pass: the mode grammar (`int8`, `int8-static`, `int8-group:G`, `int4-block:B`,
 * `mixed:BUDGET`) and the switches shared by every mode, parsed into typed options. Impossible settings throw a
 * SettingsError whose one-line message names the setting.
 */
import { SettingsError } from '../errors.ts';

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
  | { kind: 'mixed'; budget: SizeBudget };

/** How activation ranges are taken from calibration batches (int8-static). */
export type RangeMethod = { kind: 'minmax' } | { kind: 'percentile'; percentile: number };

/** Node formulation of dynamic int8 projections. */
export type DynamicFormat =
  /** One com.microsoft DynamicQuantizeMatMul node per projection (what onnxruntime fuses the standard form into). */
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
}

/** The mode grammar, for messages. */
export const MODE_SYNTAX = 'int8 | int8-static | int8-group:G | int4-block:B | mixed:BUDGET';

const KNOWN_SETTINGS = new Set(['mode', 'perChannel', 'embeddings', 'format', 'calibration', 'symmetric', 'mixedBlockSize', 'attention']);

/** Parses "0.2", "20%" or "12mb" / "12MiB" into a budget. */
export function parseBudget(spec: string): SizeBudget {
  const s = spec.trim().toLowerCase();
  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*(%|mb|mib|kb|kib|b)?$/.exec(s);
  if (!m) throw new SettingsError(`quantize mixed:${spec}: the budget must be a fraction (0.25), a percentage (25%) or a size (12mb)`);
  const v = Number(m[1]);
  const unit = m[2];
  if (!unit || unit === '%') {
    const fraction = unit === '%' ? v / 100 : v;
    if (!(fraction > 0 && fraction <= 1)) throw new SettingsError(`quantize mixed:${spec}: the budget fraction must be in (0, 1]`);
    return { kind: 'fraction', fraction };
  }
  const scale = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2 }[unit as 'b' | 'kb' | 'kib' | 'mb' | 'mib'];
  const bytes = Math.round(v * scale);
  if (!(bytes > 0)) throw new SettingsError(`quantize mixed:${spec}: the budget must be more than 0 bytes`);
  return { kind: 'bytes', bytes };
}

function positiveInt(label: string, spec: string): number {
  if (!/^\d+$/.test(spec.trim())) throw new SettingsError(`quantize ${label}: expected a positive integer (got '${spec}')`);
  const n = Number(spec);
  if (!(n >= 1)) throw new SettingsError(`quantize ${label}: expected a positive integer (got '${spec}')`);
  return n;
}

/** Checks a MatMulNBits block size: a power of two, at least 16. */
export function checkBlockSize(label: string, b: number): number {
  if (!Number.isInteger(b) || b < 16 || (b & (b - 1)) !== 0) {
    throw new SettingsError(`quantize ${label}: the block size must be a power of 2 of at least 16 (got ${b})`);
  }
  return b;
}

/** Parses a mode string (see MODE_SYNTAX). */
export function parseMode(spec: unknown): QuantizeMode {
  if (typeof spec !== 'string' || !spec.trim()) throw new SettingsError(`quantize: a mode is required (${MODE_SYNTAX})`);
  const s = spec.trim();
  const [head, arg, ...rest] = s.split(':');
  if (rest.length) throw new SettingsError(`quantize '${s}': unknown mode (${MODE_SYNTAX})`);
  switch (head.toLowerCase()) {
    case 'int8':
      if (arg !== undefined) break;
      return { kind: 'int8' };
    case 'int8-static':
      if (arg !== undefined) break;
      return { kind: 'int8-static' };
    case 'int8-group':
      if (arg === undefined) throw new SettingsError(`quantize '${s}': give the group size, e.g. int8-group:64 (one group per head of 64)`);
      return { kind: 'int8-group', groupSize: positiveInt(s, arg) };
    case 'int4-block':
      return { kind: 'int4-block', blockSize: checkBlockSize(s, arg === undefined ? 32 : positiveInt(s, arg)) };
    case 'mixed':
      if (arg === undefined) throw new SettingsError(`quantize '${s}': give a size budget, e.g. mixed:0.2 (20% of the fp32 bytes) or mixed:8mb`);
      return { kind: 'mixed', budget: parseBudget(arg) };
    case 'int4':
      throw new SettingsError(`quantize '${s}': 4-bit weights are block-wise: use int4-block:B (e.g. int4-block:32)`);
  }
  throw new SettingsError(`quantize '${s}': unknown mode (${MODE_SYNTAX})`);
}

function bool(name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 1 || v === '1') return true;
  if (v === 'false' || v === 0 || v === '0') return false;
  throw new SettingsError(`quantize: ${name} must be true or false (got ${JSON.stringify(v)})`);
}

/** Parses "minmax" or "percentile" / "percentile:99.99". */
export function parseRangeMethod(v: unknown): RangeMethod {
  if (v === undefined || v === null || v === 'minmax') return { kind: 'minmax' };
  if (typeof v === 'string') {
    const m = /^percentile(?::(\d+(?:\.\d+)?))?$/.exec(v.trim());
    if (m) {
      const percentile = m[1] === undefined ? 99.999 : Number(m[1]);
      if (!(percentile > 50 && percentile <= 100)) throw new SettingsError(`quantize: calibration ${v}: the percentile must be in (50, 100]`);
      return { kind: 'percentile', percentile };
    }
  }
  throw new SettingsError(`quantize: calibration must be 'minmax' or 'percentile[:P]' (got ${JSON.stringify(v)})`);
}

/** Validates raw settings and applies defaults. */
export function parseQuantizeSettings(settings: Record<string, unknown>): QuantizeOptions {
  const unknown = Object.keys(settings).filter((k) => !KNOWN_SETTINGS.has(k) && settings[k] !== undefined);
  if (unknown.length) throw new SettingsError(`quantize: unknown setting ${unknown.map((k) => `'${k}'`).join(', ')} (known: ${[...KNOWN_SETTINGS].join(', ')})`);
  const mode = parseMode(settings.mode);
  const format = settings.format ?? 'contrib';
  if (format !== 'contrib' && format !== 'standard') throw new SettingsError(`quantize: format must be 'contrib' or 'standard' (got ${JSON.stringify(format)})`);
  const mixedBlockSize = checkBlockSize('mixedBlockSize', settings.mixedBlockSize === undefined ? 32 : Number(settings.mixedBlockSize));
  return {
    mode,
    perChannel: bool('perChannel', settings.perChannel, true),
    embeddings: bool('embeddings', settings.embeddings, true),
    format,
    calibration: parseRangeMethod(settings.calibration),
    symmetric: bool('symmetric', settings.symmetric, true),
    mixedBlockSize,
    attention: bool('attention', settings.attention, true),
  };
}

/** The weight granularity of the int8 modes. */
export function int8Granularity(o: QuantizeOptions): Int8Granularity {
  if (o.mode.kind === 'int8-group') return { kind: 'group', size: o.mode.groupSize };
  return o.perChannel ? { kind: 'channel' } : { kind: 'tensor' };
}

/** One line describing the mode, e.g. 'int8-group:64'. */
export function modeName(m: QuantizeMode): string {
  switch (m.kind) {
    case 'int8': return 'int8';
    case 'int8-static': return 'int8-static';
    case 'int8-group': return `int8-group:${m.groupSize}`;
    case 'int4-block': return `int4-block:${m.blockSize}`;
    case 'mixed': return `mixed:${m.budget.kind === 'fraction' ? m.budget.fraction : `${m.budget.bytes}b`}`;
  }
}
