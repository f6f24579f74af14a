import { describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { layerGroups, parseShareSpec, parseSourceSpec, formatShareSpec, formatSourceSpec } from '../../src/share/index.ts';

describe('share-layers settings', () => {
  it('parses share and from, with defaults all / mean', () => {
    expect(parseShareSpec(undefined)).toEqual({ kind: 'all' });
    expect(parseShareSpec('all')).toEqual({ kind: 'all' });
    expect(parseShareSpec('groups:3')).toEqual({ kind: 'groups', count: 3 });
    expect(parseShareSpec('groups:1')).toEqual({ kind: 'all' });
    expect(parseSourceSpec(undefined)).toEqual({ kind: 'mean' });
    expect(parseSourceSpec('layer:2')).toEqual({ kind: 'layer', index: 2 });
    expect(formatShareSpec(parseShareSpec('groups:3'))).toBe('groups:3');
    expect(formatSourceSpec(parseSourceSpec('layer:0'))).toBe('layer:0');
  });

  it('refuses malformed specs', () => {
    for (const s of ['none', 'groups', 'groups:0', 'groups:-1', 'groups:2.5', 'group:2']) expect(() => parseShareSpec(s)).toThrow(SettingsError);
    for (const s of ['median', 'layer', 'layer:-1', 'layer:x']) expect(() => parseSourceSpec(s)).toThrow(SettingsError);
  });

  it('refuses a number too large to read exactly, where a later message quoted it rounded (groups:100000000000000000000)', () => {
    expect(() => parseShareSpec('groups:99999999999999999999')).toThrow(/^the number of groups 99999999999999999999: expected an integer from 1 to 2\^53 − 1$/);
    expect(() => parseSourceSpec('layer:99999999999999999999')).toThrow(
      /^the source layer's position 99999999999999999999: expected an integer from 0 to 2\^53 − 1$/,
    );
    expect(parseShareSpec('groups:9007199254740991')).toEqual({ kind: 'groups', count: 9007199254740991 });
  });

  // (read as every setting is, letter case and spaces not mattering; quoted as typed, where 'groups:NaN' said 'nan')
  it('reads the words in any letter case and quotes a number that is none as typed', () => {
    expect(parseShareSpec(' Groups: 2 ')).toEqual({ kind: 'groups', count: 2 });
    expect(parseShareSpec('ALL')).toEqual({ kind: 'all' });
    expect(parseSourceSpec(' Layer:1')).toEqual({ kind: 'layer', index: 1 });
    expect(parseSourceSpec('Mean ')).toEqual({ kind: 'mean' });
    expect(() => parseShareSpec('groups:NaN')).toThrow(/^the number of groups 'NaN': expected an integer from 1 to 2\^53 − 1$/);
    expect(() => parseShareSpec('GROUPS:0X10')).toThrow(/^the number of groups '0X10': /);
    expect(() => parseSourceSpec('layer:Inf')).toThrow(/^the source layer's position 'Inf': expected an integer from 0 to 2\^53 − 1$/);
  });

  it('groups are consecutive runs of equal size', () => {
    expect(layerGroups(4, { kind: 'all' })).toEqual([[0, 1, 2, 3]]);
    expect(layerGroups(6, { kind: 'groups', count: 3 })).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    expect(layerGroups(3, { kind: 'groups', count: 3 })).toEqual([[0], [1], [2]]);
  });

  it("a group count that does not divide the layers groups them as Hugging Face's ALBERT does: layer i in group int(i / (L / N))", () => {
    // (AlbertTransformer: group_idx = int(i / (num_hidden_layers / num_hidden_groups)))
    expect(layerGroups(12, { kind: 'groups', count: 5 })).toEqual([
      [0, 1, 2],
      [3, 4],
      [5, 6, 7],
      [8, 9],
      [10, 11],
    ]);
    expect(layerGroups(4, { kind: 'groups', count: 3 })).toEqual([[0, 1], [2], [3]]);
    // (7 / (21 / 9) is 3.0 in float64, as in Python: layer 7 opens group 3)
    expect(layerGroups(21, { kind: 'groups', count: 9 }).map((g) => g[0])).toEqual([0, 3, 5, 7, 10, 12, 14, 17, 19]);
  });

  it('more groups than layers is a SettingsError', () => {
    expect(() => layerGroups(1, { kind: 'groups', count: 2 })).toThrow(/: 2 groups are more than the model's 1 layer \(flag --share-layers\)$/);
    expect(() => layerGroups(4, { kind: 'groups', count: 8 })).toThrow(SettingsError);
  });

  it('layer:K must lie inside each group, the smallest too', () => {
    expect(() => layerGroups(12, { kind: 'groups', count: 5 }, { kind: 'layer', index: 2 })).toThrow(
      /: its smallest group has 2 layers \(positions 0-1\) \(flag --share-from\)$/,
    );
    expect(layerGroups(4, { kind: 'groups', count: 2 }, { kind: 'layer', index: 1 })).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(() => layerGroups(4, { kind: 'groups', count: 2 }, { kind: 'layer', index: 2 })).toThrow(/each group has 2 layers \(positions 0-1\)/);
    expect(() => layerGroups(2, { kind: 'groups', count: 2 }, { kind: 'layer', index: 1 })).toThrow(
      /: each group has 1 layer \(position 0\) \(flag --share-from\)$/,
    );
    expect(() => layerGroups(4, { kind: 'all' }, { kind: 'layer', index: 4 })).toThrow(SettingsError);
  });
});
