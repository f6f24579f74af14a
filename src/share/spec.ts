/**
 * The settings of share-layers: which layers share weights (`share`) and where the shared values come from
 * (`from`), declared once (see src/pass/settings.ts), and the grouping of layers they imply. Pure functions.
 */
import { z } from 'zod';
import { integerText, SettingsError, counted } from '../errors.ts';
import { albertLayerGroup } from '../bert/albert-config.ts';
import { declarePass, grammar, settingError, settingText } from '../pass/settings.ts';
import type { ShareLayersOptions } from './layers.ts';

/**
 * 'all': one group of every layer; 'groups': `count` groups of consecutive layers, as ALBERT's num_hidden_groups makes
 * them (albertLayerGroup): equal where `count` divides the layers, else layer i in group int(i / (layers / count)).
 */
export type ShareSpec = { kind: 'all' } | { kind: 'groups'; count: number };

/** 'mean': the element-wise mean of the group's weights; 'layer': the weights of the group's `index`-th layer. */
export type SourceSpec = { kind: 'mean' } | { kind: 'layer'; index: number };

/**
 * Parses 'all' or 'groups:N' (N ≥ 1), as every setting is read (settingText: ' Groups: 2 ' is 'groups:2'; a message
 * quotes N as typed, 'NaN', not 'nan', as parseRangeMethod's). One group is every layer in it, on any model:
 * 'groups:1' reads as 'all' (one setting, so one sweep point).
 */
export function parseShareSpec(raw: unknown): ShareSpec {
  const s = String(raw ?? 'all').trim();
  if (settingText(s) === 'all') return { kind: 'all' };
  const m = /^groups:(.*)$/i.exec(s);
  if (!m) throw new SettingsError("expected 'all' or 'groups:N' with N ≥ 1 groups of consecutive layers");
  const count = integerText('the number of groups', m[1]!, 1);
  return count === 1 ? { kind: 'all' } : { kind: 'groups', count };
}

/** Parses 'mean' or 'layer:K' (K ≥ 0, the position of the source layer within each group), as parseShareSpec its text. */
export function parseSourceSpec(raw: unknown): SourceSpec {
  const s = String(raw ?? 'mean').trim();
  if (settingText(s) === 'mean') return { kind: 'mean' };
  const m = /^layer:(.*)$/i.exec(s);
  if (!m) throw new SettingsError("expected 'mean' or 'layer:K' (K: the source layer's position within each group, from 0)");
  return { kind: 'layer', index: integerText("the source layer's position", m[1]!, 0) };
}

export function formatShareSpec(s: ShareSpec): string {
  return s.kind === 'all' ? 'all' : `groups:${s.count}`;
}

export function formatSourceSpec(s: SourceSpec): string {
  return s.kind === 'mean' ? 'mean' : `layer:${s.index}`;
}

/**
 * The layer indices of each group: consecutive runs, layer i in group int(i / (layers / count)) as Hugging Face's
 * AlbertTransformer runs them (albertLayerGroup), so equal in length where the group count divides the layer count
 * (groups:5 of 12 layers: 3, 2, 3, 2, 2). Throws SettingsError for more groups than layers, or a 'layer:K' source
 * past the smallest group.
 */
export function layerGroups(numLayers: number, share: ShareSpec, from: SourceSpec = { kind: 'mean' }): number[][] {
  if (numLayers < 1) throw new SettingsError('share-layers: the model has no encoder layers');
  const count = share.kind === 'all' ? 1 : share.count;
  if (count > numLayers)
    throw settingError(SHARE_LAYERS, 'share', formatShareSpec(share), `${count} groups are more than the model's ${counted(numLayers, 'layer')}`);
  const groups = Array.from({ length: count }, (): number[] => []);
  for (let i = 0; i < numLayers; i++) groups[albertLayerGroup(i, numLayers, count)]!.push(i);
  const size = Math.min(...groups.map((g) => g.length));
  if (from.kind === 'layer' && from.index >= size) {
    const each = groups.every((g) => g.length === size) ? 'each group has' : 'its smallest group has';
    throw settingError(
      SHARE_LAYERS,
      'from',
      formatSourceSpec(from),
      size === 1 ? `${each} 1 layer (position 0)` : `${each} ${size} layers (positions 0-${size - 1})`,
    );
  }
  return groups;
}

export const SHARE_LAYERS = declarePass({
  name: 'share-layers',
  description: 'share one copy of the encoder weights across layers or groups of layers (ALBERT cross-layer sharing)',
  version: 1,
  settings: z
    .object({
      share: grammar('all | groups:N', parseShareSpec, formatShareSpec)
        .default('all')
        .describe("which layers share: all, or groups:N (N groups of consecutive layers, as ALBERT's num_hidden_groups: equal where N divides the layers)"),
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
