import { describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { autoLabel, cartesian, expandPipeline, gridAxes } from '../../src/sweep/expand.ts';

describe('grid expansion', () => {
  it('expands every list-valued setting, first axis slowest (prune ratios × quantize modes)', () => {
    const points = expandPipeline(
      [
        { pass: 'prune-heads', settings: { ratio: [0.2, 0.4], importance: 'magnitude' } },
        { pass: 'quantize', settings: { mode: ['int8', 'int4-block:32'] } },
      ],
      'heads-{ratio}-{mode}',
    );
    expect(points.map((p) => p.label)).toEqual(['heads-0.2-int8', 'heads-0.2-int4-block:32', 'heads-0.4-int8', 'heads-0.4-int4-block:32']);
    expect(points[1]!.steps).toEqual([
      { pass: 'prune-heads', settings: { ratio: 0.2, importance: 'magnitude' } },
      { pass: 'quantize', settings: { mode: 'int4-block:32' } },
    ]);
    expect(points[3]!.values).toEqual({ ratio: 0.4, mode: 'int4-block:32' });
  });

  it('keeps a list as a value when written as a list of lists', () => {
    const points = expandPipeline([{ pass: 'drop-layers', settings: { layers: [[1, 3], [2]] } }]);
    expect(points.map((p) => p.steps[0]!.settings.layers)).toEqual([[1, 3], [2]]);
    expect(points.map((p) => p.label)).toEqual(['drop-layers [1,3]', 'drop-layers [2]']);
  });

  it('appends the values to a name without placeholders, and qualifies axes two steps share', () => {
    const points = expandPipeline(
      [
        { pass: 'prune-heads', settings: { ratio: [0.2, 0.4] } },
        { pass: 'prune-ffn', settings: { ratio: [0.3] } },
      ],
      'both',
    );
    expect(points.map((p) => p.label)).toEqual(['both(prune-heads.ratio=0.2, prune-ffn.ratio=0.3)', 'both(prune-heads.ratio=0.4, prune-ffn.ratio=0.3)']);
  });

  it('a grid without lists is one point', () => {
    expect(expandPipeline([{ pass: 'factorize-embeddings', settings: { rank: 64 } }], 'fact')).toEqual([
      { label: 'fact', steps: [{ pass: 'factorize-embeddings', settings: { rank: 64 } }], values: {} },
    ]);
  });

  it('refuses an empty list and an unknown placeholder', () => {
    expect(() => expandPipeline([{ pass: 'prune-heads', settings: { ratio: [] } }])).toThrow(SettingsError);
    expect(() => expandPipeline([{ pass: 'prune-heads', settings: { ratio: [0.1] } }], 'x-{rank}')).toThrow(/\{rank\} is not a grid axis \(axes: ratio\)/);
  });

  it('cartesian of no axes is one empty combination; axes come in step then key order', () => {
    expect(cartesian([])).toEqual([{}]);
    expect(gridAxes([{ pass: 'a', settings: { x: [1, 2], y: 3, z: ['p'] } }]).map((a) => a.name)).toEqual(['x', 'z']);
  });

  it('labels a pipeline by its passes and values', () => {
    expect(autoLabel([])).toBe('baseline');
    expect(
      autoLabel([
        { pass: 'prune-heads', settings: { ratio: 0.4 } },
        { pass: 'quantize', settings: { mode: 'int8' } },
      ]),
    ).toBe('prune-heads 0.4 + quantize int8');
  });
});
