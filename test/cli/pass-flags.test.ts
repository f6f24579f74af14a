/**
 * The compress command's pass flags, in process: yargs options built from the declarations, steps in the order the
 * flags were given, values handed to the pass's schema as typed, modifiers that need their pass, and the one
 * calibration rule. A pipeline given as flags parses to the same canonical settings as the same pipeline in a sweep
 * file.
 */
import { describe, expect, it } from 'vitest';
import yargs from 'yargs';
import { checkedFlagValues } from '../../src/cli/flag-values.ts';
import { barePassFlagNames, checkCalibrationFlag, passFlagNames, stepsFromFlags, withPassFlags } from '../../src/cli/pass-flags.ts';
import { PASS_DECLARATIONS } from '../../src/pass-declarations.ts';
import { OPTIMIZE } from '../../src/optimize/settings.ts';
import type { PassStep } from '../../src/pass/pass.ts';
import { refusal } from '../helpers/refusal.ts';

/** The steps of a command line, through the same yargs options, value checks and step building as `compress`. */
function steps(...argv: string[]): PassStep[] {
  const args = withPassFlags(
    yargs(argv)
      .strict()
      .exitProcess(false)
      .middleware(checkedFlagValues(argv, { bareAllowed: barePassFlagNames(), helpFor: () => 'compress passes' }) as never)
      .fail((msg, e) => {
        throw e ?? new Error(msg);
      }),
  )
    .option('calibrate', { type: 'string' })
    .parseSync() as Record<string, unknown>;
  return stepsFromFlags(argv, args);
}

/** Canonical settings of steps, as the pipeline parses them. */
function canonical(list: readonly PassStep[]) {
  return list.map((s) => ({ pass: s.pass, settings: PASS_DECLARATIONS.find((d) => d.name === s.pass)!.check(s.settings) }));
}

describe('pass flags', () => {
  it('every flag of every declaration is an option of the command', () => {
    const options = (withPassFlags(yargs([])) as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions();
    for (const d of PASS_DECLARATIONS) for (const f of [...d.flags.adds, ...d.flags.modifiers]) expect(Object.keys(options.key)).toContain(f.flag);
  });

  it('makes one step per pass flag, in the order given', () => {
    expect(steps('--quantize', 'int8', '--prune-heads', '0.4', '--factorize-embeddings=64').map((s) => s.pass)).toEqual([
      'quantize',
      'prune-heads',
      'factorize-embeddings',
    ]);
    expect(steps('--prune-heads=0.4', '--quantize', 'int8').map((s) => s.pass)).toEqual(['prune-heads', 'quantize']);
    // two flags of one pass fill one step, which its schema then refuses (not two passes, the second on renumbered layers)
    expect(steps('--drop-layers', '1', '--keep-layers', 'every-other')).toEqual([{ pass: 'drop-layers', settings: { layers: '1', keep: 'every-other' } }]);
    expect(steps()).toEqual([]);
  });

  it.each([
    [['--prune-heads', '0.4'], [{ pass: 'prune-heads', settings: { ratio: 0.4 } }]],
    [['--prune-heads', '0.4', '--importance', 'random', '--seed', '3'], [{ pass: 'prune-heads', settings: { ratio: 0.4, importance: 'random', seed: 3 } }]],
    [['--prune-heads', '0:1,2;3:0'], [{ pass: 'prune-heads', settings: { heads: { 0: [1, 2], 3: [0] } } }]],
    [['--prune-ffn', '0.3'], [{ pass: 'prune-ffn', settings: { ratio: 0.3 } }]],
    // every setting a sweep file can give has a flag
    [
      ['--quantize', 'mixed:0.3', '--int4-asymmetric', '--quantize-format', 'standard', '--mixed-block-size', '64', '--quantize-attention', 'false'],
      [{ pass: 'quantize', settings: { mode: 'mixed:0.3', symmetric: false, format: 'standard', mixedBlockSize: 64, attention: false } }],
    ],
    [
      ['--quantize', 'int8-static', '--calibration-method', 'percentile:99.9'],
      [{ pass: 'quantize', settings: { mode: 'int8-static', calibration: 'percentile:99.9' } }],
    ],
    [['--prune-heads', '0.5', '--min-heads-per-layer', '1'], [{ pass: 'prune-heads', settings: { ratio: 0.5, minHeadsPerLayer: 1 } }]],
    [['--keep-layers', 'every-other'], [{ pass: 'drop-layers', settings: { keep: 'every-other' } }]],
    [['--drop-layers', '3,1'], [{ pass: 'drop-layers', settings: { layers: [1, 3] } }]],
    [['--factorize-embeddings', '64'], [{ pass: 'factorize-embeddings', settings: { rank: 64 } }]],
    [['--share-layers', 'groups:2', '--share-from', 'layer:1'], [{ pass: 'share-layers', settings: { share: 'groups:2', from: 'layer:1' } }]],
    [['--quantize', 'int8', '--per-tensor'], [{ pass: 'quantize', settings: { mode: 'int8', perChannel: false } }]],
    [['--quantize', 'int8', '--no-quantize-embeddings'], [{ pass: 'quantize', settings: { mode: 'int8', embeddings: false } }]],
    [['--quantize', 'mixed:20%'], [{ pass: 'quantize', settings: { mode: 'mixed:0.2' } }]],
    [['--quantize', 'int8-static', '--quantize-reduce-range'], [{ pass: 'quantize', settings: { mode: 'int8-static', reduceRange: true } }]],
    // false is the default, and absent from the canonical settings as before the flag existed
    [['--quantize', 'int8', '--no-quantize-reduce-range'], [{ pass: 'quantize', settings: { mode: 'int8' } }]],
  ])('%j means what the same steps mean in a sweep file', (argv, sweep) => {
    expect(canonical(steps(...(argv as string[])))).toEqual(canonical(sweep as PassStep[]));
  });

  it('hands values to the schema as typed: nothing becomes NaN or an empty pipeline step', () => {
    const checked = (...argv: string[]) => refusal(() => canonical(steps(...argv)));
    expect(checked('--prune-heads', 'abc')).toBe("prune-heads: ratio 'abc': expected a number in [0, 1) (flag --prune-heads)");
    expect(checked('--prune-heads', '')).toBe("--prune-heads '': an empty value; give one (see compress passes)");
    expect(checked('--optimize', '')).toBe("--optimize '': an empty value; give one (see compress passes)");
    expect(checked('--optimize=')).toBe("--optimize '': an empty value; give one (see compress passes)");
    expect(checked('--prune-heads', '0.4', '--importance=')).toBe("--importance '': an empty value; give one (see compress passes)");
    expect(canonical(steps('--optimize', '--prune-ffn', '0.2'))[0]).toEqual({ pass: 'optimize', settings: OPTIMIZE.check({}) });
    expect(checked('--prune-heads', '0.4', '--seed', 'abc')).toMatch(/^prune-heads: seed 'abc': expected an integer from 0 to 4294967295 \(flag --seed\)$/);
    expect(checked('--factorize-embeddings', '1e')).toBe(
      "factorize-embeddings: rank '1e': expected an integer from 1 to 2^53 − 1 (flag --factorize-embeddings)",
    );
    expect(checked('--share-layers', 'groups:0')).toMatch(/^share-layers: share 'groups:0': .* \(flag --share-layers\)$/);
  });

  it('refuses a pass flag written without its value (last, or before another flag) as every flag, unless its bare form means something', () => {
    expect([...barePassFlagNames()]).toEqual(['optimize']);
    const switches = new Set(['per-tensor', 'quantize-embeddings', 'int4-asymmetric', 'quantize-attention', 'quantize-reduce-range']);
    const needValue = [...passFlagNames()].filter((f) => !switches.has(f) && f !== 'optimize');
    expect(needValue).toEqual(expect.arrayContaining(['prune-heads', 'quantize', 'share-layers', 'factorize-embeddings', 'importance', 'share-from']));
    // the pass each modifier needs, with a value, so that the bare modifier is what is refused
    const adder: Record<string, string[]> = Object.fromEntries(
      PASS_DECLARATIONS.flatMap((d) =>
        d.flags.modifiers.map((f) => [f.flag, [`--${d.flags.adds[0]!.flag}`, d.name === 'quantize' ? 'int8' : d.name === 'share-layers' ? 'all' : '0.2']]),
      ),
    );
    for (const flag of needValue) {
      const before = adder[flag] ?? [];
      const want = `--${flag}: a value is needed after it`;
      expect(
        refusal(() => canonical(steps(...before, `--${flag}`))),
        flag,
      ).toBe(want);
      expect(
        refusal(() => canonical(steps(...before, `--${flag}`, '--optimize'))),
        flag,
      ).toBe(want);
      expect(
        refusal(() => canonical(steps(...before, `--${flag}=`))),
        flag,
      ).toBe(`--${flag} '': an empty value; give one (see compress passes)`);
    }
  });

  it('refuses a modifier flag whose pass is not given', () => {
    expect(refusal(() => steps('--importance', 'ablation', '--prune-ffn', '0.2'))).toBe(
      "--importance sets prune-heads's importance, but no --prune-heads is given",
    );
    expect(refusal(() => steps('--per-tensor', '--prune-ffn', '0.2'))).toBe("--per-tensor sets quantize's perChannel, but no --quantize is given");
    expect(refusal(() => steps('--seed', '1', '--prune-ffn', '0.2'))).toMatch(/^--seed sets prune-heads's seed/);
  });
});

describe('--calibrate', () => {
  it('supplies data and changes no setting: importance stays magnitude unless --importance says otherwise', () => {
    expect(canonical(steps('--prune-heads', '0.4', '--calibrate', 'SST-2'))[0]!.settings.importance).toBe('magnitude');
  });

  it('is refused when no step measures the model, and required when one does', () => {
    expect(refusal(() => checkCalibrationFlag(steps('--prune-heads', '0.4'), 'SST-2'))).toMatch(/^--calibrate SST-2: no pass given uses calibration data/);
    expect(refusal(() => checkCalibrationFlag(steps('--prune-heads', '0.4', '--importance', 'ablation'), undefined))).toMatch(
      /^prune-heads with these settings measures the model on calibration data: add --calibrate TASK/,
    );
    expect(refusal(() => checkCalibrationFlag(steps('--quantize', 'int8-static'), undefined))).toMatch(/^quantize with these settings measures/);
    expect(() => checkCalibrationFlag(steps('--prune-heads', '0.4', '--importance', 'gradient'), 'SST-2')).not.toThrow();
    expect(() => checkCalibrationFlag(steps('--quantize', 'mixed:0.3', '--prune-ffn', '0.2'), 'SST-2')).not.toThrow();
    expect(() => checkCalibrationFlag(steps('--prune-ffn', '0.2'), undefined)).not.toThrow();
  });
});
