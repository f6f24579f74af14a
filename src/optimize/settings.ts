/**
 * The settings of the optimize pass, declared once (see src/pass/settings.ts): which rewrites to apply.
 * `--optimize` alone applies the default set, the rewrites measured not to slow onnxruntime 1.30's CPU provider down
 * (`npm run bench -- int8-formulations`); `all` applies every rewrite (the fused attention and SkipLayerNormalization
 * too); a list names rewrites.
 */
import { z } from 'zod';
import { SettingsError, quotedText } from '../errors.ts';
import { declarePass, grammar, settingWord } from '../pass/settings.ts';

/** The rewrites, in the order the pass applies them. */
export const REWRITES = ['first-token', 'attention', 'gelu', 'embed-layernorm', 'skip-layernorm'] as const;
export type Rewrite = (typeof REWRITES)[number];

/**
 * What `--optimize` applies when no rewrite is named: those measured not slower on onnxruntime 1.30's CPU provider.
 * Left out: attention (QAttention ran no faster than the unfused int8 attention, Attention no faster than the float
 * graph onnxruntime fuses itself), skip-layernorm (about 20% slower on an int8 BERT-base: `--optimize all` against
 * the same with QAttention only) and embed-layernorm (with EmbedLayerNormalization in the graph, onnxruntime fuses
 * every residual Add + LayerNormalization into SkipLayerNormalization itself when it loads the model).
 */
export const DEFAULT_REWRITES: readonly Rewrite[] = ['first-token', 'gelu'];

export interface OptimizeOptions {
  /** The rewrites to apply. */
  rewrites: ReadonlySet<Rewrite>;
}

const SYNTAX = `default | all | ${REWRITES.join(',')}`;

/** Parses 'default', 'all' or a comma-separated list of rewrites. */
export function parseRewrites(spec: string): Rewrite[] {
  const s = spec.trim().toLowerCase();
  if (s === 'default') return [...DEFAULT_REWRITES];
  if (s === 'all') return [...REWRITES];
  const typed = spec
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (!typed.length) throw new SettingsError(`no rewrite is named (expected ${SYNTAX})`);
  // (each read as a setting's word: any letter case; an unknown one quoted as typed)
  const names = typed.map((n) => settingWord(n, REWRITES));
  const unknown = names.find((n) => !(REWRITES as readonly unknown[]).includes(n));
  if (unknown !== undefined) throw new SettingsError(`unknown rewrite ${quotedText(String(unknown))} (expected ${SYNTAX})`);
  return REWRITES.filter((r) => names.includes(r));
}

/** The canonical text: 'default', 'all', or the rewrites in their order. */
export function formatRewrites(rewrites: readonly Rewrite[]): string {
  const same = (set: readonly Rewrite[]) => set.length === rewrites.length && set.every((r) => rewrites.includes(r));
  return same(DEFAULT_REWRITES) ? 'default' : same(REWRITES) ? 'all' : REWRITES.filter((r) => rewrites.includes(r)).join(',');
}

/** A bare `--optimize` (true, or no value) means the default set. */
const defaultWhenBare = (v: unknown) => (v === undefined || v === true || v === '' ? 'default' : v);

export const OPTIMIZE = declarePass({
  name: 'optimize',
  description:
    "rewrite the encoder for onnxruntime: the last layer for the pooled token only, and onnxruntime's fused com.microsoft ops (Attention / QAttention, Gelu, EmbedLayerNormalization, SkipLayerNormalization)",
  // 2: the fused Attention / QAttention mask padding with the graph's own constant (mask_filter_value)
  // 3: an FFN activation discovery took for the tanh GELU by its ops alone (a lone Tanh) is left as it is, not FastGelu
  version: 3,
  settings: z
    .object({
      rewrites: z
        .preprocess(defaultWhenBare, grammar(SYNTAX, parseRewrites, formatRewrites))
        .describe(
          `default (${DEFAULT_REWRITES.join(', ')}), all, or a list of: first-token (the last layer computes only the token the pooler reads), ` +
            'attention (Attention, or QAttention over dynamic int8 Q/K/V), gelu (bias + GELU as BiasGelu / Gelu / FastGelu), ' +
            'embed-layernorm (lookups + LayerNorm, float tables only), skip-layernorm (residual Add + LayerNorm); ' +
            'attention, embed-layernorm and skip-layernorm are slower or no faster on onnxruntime 1.30 CPU',
        ),
    })
    .strict(),
  flags: { adds: [{ flag: 'optimize', setting: 'rewrites' }], modifiers: [] },
  options: (s): OptimizeOptions => ({ rewrites: new Set(parseRewrites(s.rewrites as string)) }),
});
