/** `bench --batch/--seq` lists: positive integers separated by commas, no empty item. */
import { describe, expect, it } from 'vitest';
import { parseIntList } from '../../src/cli/commands/bench.ts';
import { SettingsError } from '../../src/errors.ts';

describe('parseIntList', () => {
  it('reads lists and repeated flags', () => {
    expect(parseIntList('batch', '1, 8,32')).toEqual([1, 8, 32]);
    expect(parseIntList('batch', ['1', 2])).toEqual([1, 2]);
  });

  it.each(['1,,2', '', '1,', ',1', '1,0', '1,x', '0x10', '1,0b11'])('refuses %j in one line', (value) => {
    expect(() => parseIntList('batch', value)).toThrow(SettingsError);
    expect(() => parseIntList('batch', value)).toThrow(/^--batch .*: expected positive integers separated by commas, e\.g\. 1,8,32$/);
  });
});
