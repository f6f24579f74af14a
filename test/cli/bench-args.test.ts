/**
 * `bench --batch/--seq` lists: positive integers separated by commas, no empty item, each in its range; and the timing flags'
 * integers (--repeats, --warmup), each refused in the one integer wording (integerProblem).
 */
import { describe, expect, it } from 'vitest';
import { benchSettings } from '../../src/bench/index.ts';
import { parseIntList } from '../../src/cli/commands/bench.ts';
import { SettingsError, UsageError } from '../../src/errors.ts';
import { refusal } from '../helpers/refusal.ts';

describe('parseIntList', () => {
  it('reads lists and repeated flags', () => {
    expect(parseIntList('batch', '1, 8,32')).toEqual([1, 8, 32]);
    expect(parseIntList('batch', ['1', 2])).toEqual([1, 2]);
  });

  it('refuses a size out of range or no number in the one integer wording, naming the size as typed, in a list or alone as every integer flag', () => {
    expect(refusal(() => parseIntList('batch', '1,0'))).toBe("--batch '1,0': the batch size 0: expected an integer from 1 to 2^53 − 1");
    // (a size alone was named twice, '--batch 2.5: 2.5: expected …')
    expect(refusal(() => parseIntList('batch', '2.5'))).toBe('--batch 2.5: expected an integer from 1 to 2^53 − 1');
    expect(refusal(() => parseIntList('seq', '8,1', 2))).toBe("--seq '8,1': the sequence length 1: expected an integer from 2 to 2^53 − 1");
    // (1e16, a whole number past 2^53 − 1: its activations were weighed against the machine's memory)
    expect(refusal(() => parseIntList('batch', '1e16'))).toBe('--batch 1e16: expected an integer from 1 to 2^53 − 1');
    // (9007199254740993 was quoted as the 9007199254740992 it rounds to)
    expect(refusal(() => parseIntList('seq', '8, 9007199254740993', 2))).toBe(
      "--seq '8,9007199254740993': the sequence length 9007199254740993: expected an integer from 2 to 2^53 − 1",
    );
    expect(parseIntList('batch', '1e3, 3.0')).toEqual([1000, 3]);
    expect(parseIntList('batch', [' 3', '+2'])).toEqual([3, 2]);
    // (a size that is no decimal number, 0x10 or x, and an empty one said 'expected positive integers separated by
    // commas, e.g. 1,8,32': each is named as every integer flag names one)
    const refused = (value: string) => refusal(() => parseIntList('batch', value));
    // (text that is no number quoted, as --repeats '0x10' shows it, where it was shown bare: '--batch 0x10')
    expect(refused('0x10')).toBe("--batch '0x10': expected an integer from 1 to 2^53 − 1");
    expect(refused('1,0b11')).toBe("--batch '1,0b11': the batch size '0b11': expected an integer from 1 to 2^53 − 1");
    expect(refused('-0')).toBe('--batch -0: expected an integer from 1 to 2^53 − 1');
    // (the list quoted as every text typed where numbers go is, and the size named, as a layer list's: it said
    // '--batch 1,x: 'x': …', the list bare)
    expect(refused('1,x')).toBe("--batch '1,x': the batch size 'x': expected an integer from 1 to 2^53 − 1");
    for (const value of ['1,,2', '1,', ',1']) expect(refused(value)).toBe(`--batch '${value}': the batch size '': expected an integer from 1 to 2^53 − 1`);
    expect(refused('')).toBe("--batch '': expected an integer from 1 to 2^53 − 1");
    expect(() => parseIntList('batch', '1,x')).toThrow(UsageError);
  });
});

describe('benchSettings', () => {
  it('refuses --warmup and --repeats past 2^53 − 1 (1e16) in the one integer wording, where --warmup 1e16 was taken and warmed up without end', () => {
    expect(refusal(() => benchSettings({ warmup: 1e16 }))).toBe('--warmup 10000000000000000: expected an integer from 0 to 2^53 − 1');
    expect(refusal(() => benchSettings({ repeats: 2 ** 53 }))).toBe('--repeats 9007199254740992: expected an integer from 1 to 2^53 − 1');
    expect(refusal(() => benchSettings({ warmup: -1 }))).toBe('--warmup -1: expected an integer from 0 to 2^53 − 1');
    expect(() => benchSettings({ batches: [0] })).toThrow(SettingsError);
    // (a size alone was named twice: '--batch 0: 0: expected …')
    expect(refusal(() => benchSettings({ batches: [0] }))).toBe('--batch 0: expected an integer from 1 to 2^53 − 1');
    expect(refusal(() => benchSettings({ seqs: [8, 2 ** 53] }))).toBe(
      "--seq '8,9007199254740992': the sequence length 9007199254740992 (past 2^53 − 1 a number is not read exactly): expected an integer from 2 to 2^53 − 1",
    );
    expect(benchSettings({ warmup: 0, repeats: 1 })).toMatchObject({ warmup: 0, repeats: 1 });
  });
});
