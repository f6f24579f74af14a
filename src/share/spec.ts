/**
 * The settings of share-layers: which layers share weights (`share`) and where the shared values come from
 * (`from`), declared once (see src/pass/settings.ts), and the grouping of layers they imply. Pure functions.
 */
import { z } from 'zod';
import { SettingsError } from '../errors.ts';
import { declarePass, grammar, settingError, settingText } from '../pass/settings.ts';
import type { ShareLayersOptions } from './layers.ts';

/** 'all': one group of every layer; 'groups': `count` groups of consecutive layers, equal in size. */
export type ShareSpec = { kind: 'all' } | { kind: 'groups'; count: number };

/** 'mean': the element-wise mean of the group's weights; 'layer': the weights of the group's `index`-th layer. */
export type SourceSpec = { kind: 'mean' } | { kind: 'layer'; index: number };

/**
 * Parses 'all' or 'groups:N' (N ≥ 1), as every setting is read (settingText: ' Groups: 2 ' is 'groups:2'). One group
 * is every layer in it, on any model: 'groups:1' reads as 'all' (one setting, so one sweep point).
 */
export function parseShareSpec(raw: unknown): ShareSpec {
  const s = String(settingText(raw ?? 'all'));
  if (s === 'all') return { kind: 'all' };
  const m = /^groups:\s*(\d+)$/.exec(s);
  if (!m || Number(m[1]) < 1 || !Number.isSafeInteger(Number(m[1])))
    throw new SettingsError("expected 'all' or 'groups:N' with N ≥ 1 groups of consecutive layers");
  return Number(m[1]) === 1 ? { kind: 'all' } : { kind: 'groups', count: Number(m[1]) };
}

/** Parses 'mean' or 'layer:K' (K ≥ 0, the position of the source layer within each group). */
export function parseSourceSpec(raw: unknown): SourceSpec {
  const s = String(settingText(raw ?? 'mean'));
  if (s === 'mean') return { kind: 'mean' };
  const m = /^layer:\s*(\d+)$/.exec(s);
  if (!m || !Number.isSafeInteger(Number(m[1])))
    throw new SettingsError("expected 'mean' or 'layer:K' (K: the source layer's position within each group, from 0)");
  return { kind: 'layer', index: Number(m[1]) };
}

export function formatShareSpec(s: ShareSpec): string {
  return s.kind === 'all' ? 'all' : `groups:${s.count}`;
}

export function formatSourceSpec(s: SourceSpec): string {
  return s.kind === 'mean' ? 'mean' : `layer:${s.index}`;
}

/**
 * The layer indices of each group: consecutive runs of equal length. Throws SettingsError when the group count
 * does not divide the layer count, or when a 'layer:K' source lies outside the groups.
 */
export function layerGroups(numLayers: number, share: ShareSpec, from: SourceSpec = { kind: 'mean' }): number[][] {
  if (numLayers < 1) throw new SettingsError('share-layers: the model has no encoder layers');
  const count = share.kind === 'all' ? 1 : share.count;
  if (count > numLayers || numLayers % count !== 0) {
    throw settingError(
      SHARE_LAYERS,
      'share',
      formatShareSpec(share),
      `${count} groups do not divide the model's ${numLayers === 1 ? '1 layer' : `${numLayers} layers`} evenly`,
    );
  }
  const size = numLayers / count;
  if (from.kind === 'layer' && from.index >= size) {
    throw settingError(
      SHARE_LAYERS,
      'from',
      formatSourceSpec(from),
      size === 1 ? 'each group has 1 layer (position 0)' : `each group has ${size} layers (positions 0-${size - 1})`,
    );
  }
  return Array.from({ length: count }, (_, gi) => Array.from({ length: size }, (_, k) => gi * size + k));
}

export const SHARE_LAYERS = declarePass({
  name: 'share-layers',
  description: 'share one copy of the encoder weights across layers or groups of layers (ALBERT cross-layer sharing)',
  version: 1,
  settings: z
    .object({
      share: grammar('all | groups:N', parseShareSpec, formatShareSpec)
        .default('all')
        .describe('which layers share: all, or groups:N (N equal groups of consecutive layers)'),
      from: grammar('mean | layer:K', parseSourceSpec, formatSourceSpec)
        .default('mean')
        .describe("the shared weights: the mean of the group's layers, or layer:K (the K-th layer of each group, from 0)"),
    })
    .strict(),
  flags: { adds: [{ flag: 'share-layers', setting: 'share' }], modifiers: [{ flag: 'share-from', setting: 'from' }] },
  options: (s): ShareLayersOptions => ({ share: parseShareSpec(s.share), from: parseSourceSpec(s.from) }),
  // (where each group is one layer, its mean is that layer: from layer:0 is from mean)
  onModel: (s, shape) => {
    const share = parseShareSpec(s.share);
    const count = share.kind === 'all' ? 1 : share.count;
    const from = parseSourceSpec(s.from);
    return shape.numLayers === count && from.kind === 'layer' && from.index === 0 ? { settings: { ...s, from: 'mean' }, shape } : { settings: s, shape };
  },
});
