/** The quantize settings: the mode grammar, defaults, and a one-line SettingsError for every impossible setting. */
import { describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { parseBudget, parseMode, parseQuantizeSettings, parseRangeMethod } from '../../src/quantize/index.ts';
import { QUANTIZE, earlierMixedName, formatBudgetBytes } from '../../src/quantize/settings.ts';

describe('quantize settings', () => {
  it('parses every mode', () => {
    expect(parseMode('int8')).toEqual({ kind: 'int8' });
    expect(parseMode('int8-static')).toEqual({ kind: 'int8-static' });
    expect(parseMode('int8-group:64')).toEqual({ kind: 'int8-group', groupSize: 64 });
    expect(parseMode('int4-block:32')).toEqual({ kind: 'int4-block', blockSize: 32 });
    expect(parseMode('int4-block')).toEqual({ kind: 'int4-block', blockSize: 32 });
    expect(parseMode('mixed:0.2')).toEqual({ kind: 'mixed', budget: { kind: 'fraction', fraction: 0.2 } });
    expect(parseMode('mixed:12mb')).toEqual({ kind: 'mixed', budget: { kind: 'bytes', bytes: 12_000_000 } });
    expect(parseMode('mixed:2MiB')).toEqual({ kind: 'mixed', budget: { kind: 'bytes', bytes: 2 * 1024 ** 2 } });
    expect(parseBudget('25%')).toEqual({ kind: 'fraction', fraction: 0.25 });
  });

  it("reads a budget's number as every setting reads one (an exponent, a trailing point), one too small or too large to hold refused saying so", () => {
    expect(parseBudget('2.5e-1')).toEqual({ kind: 'fraction', fraction: 0.25 });
    expect(parseBudget('2.5E1%')).toEqual({ kind: 'fraction', fraction: 0.25 });
    expect(parseBudget('1.2e1mb')).toEqual({ kind: 'bytes', bytes: 12_000_000 });
    expect(parseBudget('1.')).toEqual({ kind: 'fraction', fraction: 1 });
    expect(parseBudget(' 12 MiB ')).toEqual({ kind: 'bytes', bytes: 12 * 1024 ** 2 });
    expect(() => parseBudget('1e-400')).toThrow(new SettingsError('the budget 1e-400: too small for a number to hold (it reads as 0); it must be more than 0'));
    expect(() => parseBudget('1e-400%')).toThrow(/^the budget '1e-400%': too small for a number to hold/);
    // (past float64's range: Infinity bytes, which the setting's text would write as 'mixed:Infinityb')
    expect(() => parseBudget('1e400mb')).toThrow(new SettingsError("the budget '1e400mb': too large for a number to hold (it reads as Infinity)"));
    expect(() => parseBudget(`1${'0'.repeat(400)}b`)).toThrow(/: too large for a number to hold \(it reads as Infinity\)$/);
    // (a negative one reads as -Infinity, where the line said Infinity)
    expect(() => parseBudget('-1e400')).toThrow(new SettingsError('the budget -1e400: too large for a number to hold (it reads as -Infinity)'));
    expect(() => parseBudget('1e400%')).toThrow(/^the budget '1e400%': too large for a number to hold/);
    // (shown as every value typed where a number goes is, typedValueText: a number bare, other text quoted, then what
    // it expected; it said 'the budget fraction 150% must be in (0, 1]' with the text bare)
    expect(() => parseBudget('150%')).toThrow(new SettingsError("the budget '150%': expected a percentage in (0, 100]"));
    expect(() => parseBudget(' 1.5 ')).toThrow(new SettingsError('the budget 1.5: expected a fraction in (0, 1]'));
    expect(() => parseBudget('-0')).toThrow(new SettingsError('the budget -0: expected a fraction in (0, 1]'));
    expect(() => parseBudget('0.1b')).toThrow(new SettingsError("the budget '0.1b': expected a size of 1 byte or more"));
    for (const bad of ['0x10', '1e', 'mb', '', '1,5', '1__0%', 'Infinity']) {
      expect(() => parseBudget(bad), bad).toThrow(
        `the budget ${bad === '' ? "''" : `'${bad}'`}: expected a fraction (0.25), a percentage (25%) or a size (12mb)`,
      );
    }
  });

  it('applies the defaults: per-channel, embeddings on, one-node dynamic format, min/max ranges', () => {
    expect(parseQuantizeSettings({ mode: 'int8' })).toEqual({
      mode: { kind: 'int8' },
      perChannel: true,
      embeddings: true,
      format: 'contrib',
      calibration: { kind: 'minmax' },
      symmetric: true,
      mixedBlockSize: 32,
      attention: true,
      reduceRange: false,
    });
    expect(parseQuantizeSettings({ mode: 'int8', perChannel: 'false', embeddings: false }).perChannel).toBe(false);
    expect(parseRangeMethod('percentile')).toEqual({ kind: 'percentile', percentile: 99.999 });
    expect(parseRangeMethod('percentile:99.9')).toEqual({ kind: 'percentile', percentile: 99.9 });
    // any share from 0 to 100, as onnxruntime's percentile calibration takes (below 50: the middle P% of the values)
    expect(parseRangeMethod('percentile:30')).toEqual({ kind: 'percentile', percentile: 30 });
    expect(parseRangeMethod('percentile:0')).toEqual({ kind: 'percentile', percentile: 0 });
    expect(parseRangeMethod('percentile:50')).toEqual({ kind: 'percentile', percentile: 50 });
    // (its number read as every number a setting takes: an exponent, no digit before the point; too small to hold refused)
    expect(parseRangeMethod('percentile:9.99e1')).toEqual({ kind: 'percentile', percentile: 99.9 });
    expect(parseRangeMethod('percentile:.5')).toEqual({ kind: 'percentile', percentile: 0.5 });
    expect(() => parseRangeMethod('percentile:1e-400')).toThrow(
      new SettingsError('the percentile 1e-400: too small for a number to hold (it reads as 0); write 0 for 0'),
    );
    expect(() => parseRangeMethod('percentile:1e400')).toThrow(
      new SettingsError('the percentile 1e400: expected a finite number in [0, 100] (the share of the values kept)'),
    );
    expect(() => parseRangeMethod('percentile: 100.5')).toThrow(
      new SettingsError('the percentile 100.5: expected a number in [0, 100] (the share of the values kept)'),
    );
    expect(() => parseRangeMethod('percentile:0x10')).toThrow("the percentile '0x10': expected a number in [0, 100] (the share of the values kept)");
    expect(parseRangeMethod('entropy')).toEqual({ kind: 'entropy', bins: 128 });
    expect(parseRangeMethod('entropy:2048')).toEqual({ kind: 'entropy', bins: 2048 });
  });

  it('takes format and attention where the mode reads them (int4-block: an MLM decoder tied to the int8 word table is dynamic int8)', () => {
    for (const mode of ['int8', 'int8-group:8', 'mixed:0.3']) {
      expect(parseQuantizeSettings({ mode, format: 'standard', attention: false })).toMatchObject({ format: 'standard', attention: false });
    }
    expect(parseQuantizeSettings({ mode: 'int4-block:32', format: 'standard' }).format).toBe('standard');
  });

  it('writes a mixed byte budget as a user writes one (lineage, messages and sweep keys), the shortest text reading back as its bytes', () => {
    const mode = (v: string) => QUANTIZE.check({ mode: v }).mode;
    expect(mode('mixed:12mb')).toBe('mixed:12mb');
    expect(mode(' Mixed:12MB ')).toBe('mixed:12mb');
    expect(mode('mixed:12000000b')).toBe('mixed:12mb');
    expect(mode('mixed:12MiB')).toBe('mixed:12mib');
    expect(mode('mixed:1.5mb')).toBe('mixed:1.5mb');
    expect(mode('mixed:1536kib')).toBe('mixed:1.5mib');
    expect(mode('mixed:1kib')).toBe('mixed:1kib');
    expect(mode('mixed:1000kb')).toBe('mixed:1mb');
    expect(mode('mixed:0.5mb')).toBe('mixed:0.5mb');
    expect(mode('mixed:100b')).toBe('mixed:100b');
    expect(mode('mixed:1234567b')).toBe('mixed:1234567b');
    expect(mode('mixed:20%')).toBe('mixed:0.2');
    // a percentage as the fraction its digits write, its decimal point moved (as Number('0.011')), where it was read as
    // its number divided by 100 and named so: mixed:0.011000000000000001, 0.07 % as 0.0007000000000000001
    for (const [percent, fraction] of [
      ['1.1%', '0.011'],
      ['0.07%', '0.0007'],
      ['1.1e1%', '0.11'],
      ['56.7%', '0.567'],
      ['.5%', '0.005'],
      ['3.%', '0.03'],
      ['1e-5%', '1e-7'],
      ['100%', '1'],
    ]) {
      expect(mode(`mixed:${percent}`), percent).toBe(`mixed:${fraction}`);
      expect(mode(`mixed:${fraction}`), fraction).toBe(`mixed:${fraction}`);
    }
    // (the name that earlier reading gave it: a point stored under it is this point, sweep/key.ts pointKeys)
    expect(earlierMixedName('mixed:0.011')).toBe('mixed:0.011000000000000001');
    expect(earlierMixedName('mixed:0.0007')).toBe('mixed:0.0007000000000000001');
    expect(earlierMixedName('mixed:0.567')).toBe('mixed:0.5670000000000001');
    expect(earlierMixedName('mixed:1e-7')).toBe('mixed:1.0000000000000001e-7');
    for (const same of ['mixed:0.2', 'mixed:0.25', 'mixed:1', 'mixed:12mb', 'int8']) expect(earlierMixedName(same), same).toBeUndefined();
    for (const bytes of [1, 999, 1000, 1024, 1025, 123_456, 1_048_576, 1_500_000, 3 * 1024 ** 3, 12_345_678_000]) {
      const text = formatBudgetBytes(bytes);
      expect(parseBudget(text), text).toEqual({ kind: 'bytes', bytes });
    }
  });

  it('writes every range method in its canonical text, the old ones as before', () => {
    const calibration = (v: string) => QUANTIZE.check({ mode: 'int8-static', calibration: v }).calibration;
    expect(calibration('minmax')).toBe('minmax');
    expect(calibration('percentile')).toBe('percentile:99.999');
    expect(calibration('percentile:99.9')).toBe('percentile:99.9');
    expect(calibration('entropy')).toBe('entropy:128');
    expect(calibration('entropy:2048')).toBe('entropy:2048');
    expect(QUANTIZE.check({ mode: 'int8-static' }).calibration).toBe('minmax');
  });

  it('reads a range method as it reads a mode: spaces around it or after the colon, and letter case, do not matter', () => {
    expect(parseMode(' INT8-Static ')).toEqual({ kind: 'int8-static' });
    expect(parseMode('int8-group: 64')).toEqual({ kind: 'int8-group', groupSize: 64 });
    const calibration = (v: string) => QUANTIZE.check({ mode: 'int8-static', calibration: v }).calibration;
    expect(calibration(' minmax ')).toBe('minmax');
    expect(calibration('MinMax')).toBe('minmax');
    expect(calibration(' Percentile ')).toBe('percentile:99.999');
    expect(calibration('PERCENTILE: 99.9')).toBe('percentile:99.9');
    expect(calibration('Entropy: 256 ')).toBe('entropy:256');
    expect(parseRangeMethod('ENTROPY')).toEqual({ kind: 'entropy', bins: 128 });
    // the default, however written, is no calibration setting a mode without calibration refuses
    expect(parseQuantizeSettings({ mode: 'int8', calibration: ' MINMAX ' }).calibration).toEqual({ kind: 'minmax' });
  });

  it.each([
    [{}, /a mode is required/],
    // (as every value outside a list of choices, choiceWords; it said 'unknown mode (int8 | int8-static | …)')
    [{ mode: 'int16' }, /^quantize: mode 'int16': expected one of int8, int8-static, int8-group:G, int4-block:B, mixed:BUDGET, float16 \(flag --quantize\)$/],
    [{ mode: 'int8:3' }, /^quantize: mode 'int8:3': expected one of int8, int8-static, /],
    [{ mode: 'int4' }, /int4-block:B/],
    [{ mode: 'int8-group' }, /group size/],
    [{ mode: 'int8-group:0' }, /the group size 0: expected an integer from 1 to 2\^53 − 1/],
    [{ mode: 'int8-group:2.5' }, /the group size 2.5: expected an integer from 1 to 2\^53 − 1/],
    [
      { mode: 'int4-block:24' },
      /mode 'int4-block:24': the block size 24: expected 16, 32, 64, 128 or 256, the sizes onnxruntime's MatMulNBits takes \(flag --quantize\)$/,
    ],
    [{ mode: 'int4-block:8' }, /the block size 8: expected 16, 32, 64, 128 or 256/],
    [{ mode: 'int4-block:512' }, /the block size 512: expected 16, 32, 64, 128 or 256, the sizes onnxruntime's MatMulNBits takes/],
    [{ mode: 'mixed' }, /size budget/],
    [{ mode: 'mixed:1.5' }, /\(0, 1\]/],
    [{ mode: 'mixed:0' }, /\(0, 1\]/],
    [{ mode: 'mixed:lots' }, /fraction/],
    [{ mode: 'int8', perChannel: 'maybe' }, /perChannel 'maybe': expected true or false \(flag --per-tensor\)/],
    [{ mode: 'int8', format: 'qoperator' }, /format/],
    [{ mode: 'int8', calibration: 'kl' }, /calibration 'kl': expected 'minmax', 'percentile\[:P\]' or 'entropy\[:BINS\]' \(flag --calibration-method\)/],
    [
      { mode: 'int8-static', calibration: 'percentile:100.5' },
      /the percentile 100\.5: expected a number in \[0, 100\] \(the share of the values kept\) \(flag --calibration-method\)$/,
    ],
    [{ mode: 'int8-static', calibration: 'percentile:-5' }, /the percentile -5: expected a number in \[0, 100\] \(the share of the values kept\)/],
    [{ mode: 'int8-static', calibration: 'percentile:most' }, /the percentile 'most': expected a number in \[0, 100\] \(the share of the values kept\)/],
    [
      { mode: 'int8', calibration: 'entropy:100' },
      /calibration 'entropy:100': the entropy histogram bins 100: expected an even integer from 128 \(the quantized bins\) to 2048 \(flag --calibration-method\)$/,
    ],
    [{ mode: 'int8', calibration: 'entropy:129' }, /the entropy histogram bins 129: expected an even integer from 128/],
    [{ mode: 'int8', calibration: 'entropy:4096' }, /the entropy histogram bins 4096: expected an even integer from 128 \(the quantized bins\) to 2048/],
    [{ mode: 'int8', calibration: 'entropy:lots' }, /entropy histogram bins/],
    // a value is quoted as typed, not lowercased
    [{ mode: 'int8-group:Big' }, /the group size 'Big': expected an integer from 1 to 2\^53 − 1/],
    [{ mode: 'mixed:12MBX' }, /the budget '12MBX': expected a fraction/],
    // (a value holding a quote or a line break quoted as a shell takes it, quotedText, as the frame quotes the mode)
    [{ mode: "mixed:1'" }, /^quantize: mode 'mixed:1'\\''': the budget '1'\\''': expected a fraction \(0\.25\)/],
    [{ mode: 'mixed:a\nb' }, /^quantize: mode \$'mixed:a\\nb': the budget \$'a\\nb': expected a fraction/],
    [
      { mode: 'int8-static', calibration: "percentile:9'9" },
      /the percentile '9'\\''9': expected a number in \[0, 100\] \(the share of the values kept\) \(flag --calibration-method\)$/,
    ],
    [{ mode: 'int8-static', calibration: 'Entropy:Lots' }, /calibration 'Entropy:Lots': the entropy histogram bins 'Lots': expected an even integer/],
    [{ mode: 'int8', perchannel: true }, /unknown setting 'perchannel'/],
    [{ mode: 'int8', mixedBlockSize: 20 }, /16, 32, 64, 128 or 256/],
    [{ mode: 'int8', reduceRange: 'yes' }, /^quantize: reduceRange 'yes': expected true or false \(flag --quantize-reduce-range\)/],
    [{ mode: 'int4-block:64', reduceRange: true }, /reduceRange true: applies to int8 weights; mode int4-block:64 stores its projections in 4 bits/],
    // a setting the mode never reads is refused, not recorded as if applied, named by the mode as the pass's other
    // refusals name it ('quantize int8: …', where it said 'quantize: calibration …'); a value no setting takes is the
    // pass's ('quantize: reduceRange 'yes'' above)
    [
      { mode: 'int8', calibration: 'entropy' },
      /^quantize int8: calibration 'entropy': sets the activation ranges of int8-static only; mode int8 takes none \(flag --calibration-method\)/,
    ],
    [{ mode: 'int4-block:32', calibration: 'percentile:99.9' }, /mode int4-block:32 takes none/],
    [{ mode: 'mixed:0.3', calibration: 'entropy:256' }, /mode mixed:0\.3 takes none \(it measures layers by a loss\)/],
    [
      { mode: 'int8-static', symmetric: false },
      /symmetric false: applies to 4-bit weights \(int4-block:B, mixed:BUDGET\); mode int8-static stores none \(flag --int4-asymmetric\)/,
    ],
    [
      { mode: 'int4-block:32', mixedBlockSize: 64 },
      /mixedBlockSize 64: applies to mixed:BUDGET; int4-block gives its block size in the mode \(int4-block:64\)/,
    ],
    // mixed stores its 8-bit layers per channel (its budget prices them so): one scale per tensor is not honoured
    [
      { mode: 'mixed:0.3', perChannel: false },
      /^quantize mixed:0\.3: perChannel false: mode mixed:0\.3 stores its 8-bit layers with one scale per output channel, as its bit budget counts them \(flag --per-tensor\)$/,
    ],
    [{ mode: 'int8-group:8', mixedBlockSize: 16 }, /^quantize int8-group:8: mixedBlockSize 16: applies to mode mixed:BUDGET only \(mode is int8-group:8\)/],
    [
      { mode: 'int8-static', format: 'standard' },
      /^quantize int8-static: format 'standard': sets the dynamic int8 nodes \(int8, int8-group:G, mixed:BUDGET\); mode int8-static writes QDQ nodes \(flag --quantize-format\)$/,
    ],
    [
      { mode: 'int8-static', attention: false },
      /^quantize int8-static: attention false: applies to fused Attention nodes in the dynamic int8 modes \(int8, int8-group:G, mixed:BUDGET\); mode int8-static leaves them float \(flag --quantize-attention\)$/,
    ],
    [{ mode: 'int4-block:32', attention: 'false' }, /attention 'false': applies to fused Attention nodes .*; mode int4-block:32 leaves them float/],
  ])('rejects %j', (settings, message) => {
    const run = () => parseQuantizeSettings(settings as Record<string, unknown>);
    expect(run).toThrow(SettingsError);
    expect(run).toThrow(message);
  });
});
