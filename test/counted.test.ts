/** Every message counts things one way (counted, src/errors.ts): the noun in the singular for one, else its plural. */
import { describe, expect, it } from 'vitest';
import { counted, groupedDigits, isAre, plural, them } from '../src/errors.ts';

describe('counted', () => {
  it('writes one in the singular and every other count, 0 included, in the plural', () => {
    expect(counted(1, 'point')).toBe('1 point');
    expect(counted(0, 'point')).toBe('0 points');
    expect(counted(2, 'failed run')).toBe('2 failed runs');
    expect(counted(1n, 'step')).toBe('1 step');
    expect(counted(3n, 'step')).toBe('3 steps');
  });

  it("takes a noun's own plural where it is not NOUNs", () => {
    expect(counted(1, 'batch', 'batches')).toBe('1 batch');
    expect(counted(4, 'batch', 'batches')).toBe('4 batches');
  });

  it("groups a large count's thousands where asked (a training summary's examples and steps), by commas under every locale", () => {
    expect(counted(12345, 'example', { grouped: true })).toBe('12,345 examples');
    expect(counted(1, 'step', { grouped: true })).toBe('1 step');
    expect(counted(1234567, 'batch', { plural: 'batches', grouped: true })).toBe('1,234,567 batches');
    expect(counted(12345, 'example')).toBe('12345 examples');
    expect(counted(2n ** 40n, 'value', { grouped: true })).toBe('1,099,511,627,776 values');
  });
});

describe('groupedDigits', () => {
  it('sets the thousands of a whole number apart by commas, a sign and a fraction kept', () => {
    expect([0, 999, 1000, -1000, 123456, 9007199254740991].map(groupedDigits)).toEqual(['0', '999', '1,000', '-1,000', '123,456', '9,007,199,254,740,991']);
    expect(groupedDigits(1234.5678)).toBe('1,234.5678');
    // (a number String writes with an exponent, 1e+21 and up: its digits, grouped, as toLocaleString grouped them)
    expect([1e21, -2.5e30, 1.3000000000460002e23].map(groupedDigits)).toEqual([
      '1,000,000,000,000,000,000,000',
      '-2,500,000,000,000,000,000,000,000,000,000',
      '130,000,000,004,600,020,000,000',
    ]);
  });

  it("gives what toLocaleString('en') gave for the counts messages group, whatever the process's locale", () => {
    for (const n of [7, 4321, 110_000_000, 23_456_789]) expect(groupedDigits(n)).toBe(n.toLocaleString('en'));
  });
});

describe('them', () => {
  it("names one thing 'it' and more 'them', beside counted", () => {
    expect(them(1)).toBe('it');
    expect(them(2)).toBe('them');
  });
});

describe('plural and isAre', () => {
  it("give counted's word without the count: the noun's own plural, a verb's form, 'is' or 'are'", () => {
    expect([plural(1, 'table'), plural(2, 'table'), plural(0, 'table')]).toEqual(['table', 'tables', 'tables']);
    expect([plural(1, 'batch', 'batches'), plural(3, 'batch', 'batches'), plural(1n, 'weight'), plural(2n, 'weight')]).toEqual([
      'batch',
      'batches',
      'weight',
      'weights',
    ]);
    expect([plural(1, 'folds', 'fold'), plural(2, 'folds', 'fold')]).toEqual(['folds', 'fold']);
    expect([isAre(1), isAre(2), isAre(0)]).toEqual(['is', 'are', 'are']);
    // (counted's noun is plural's: one rule)
    for (const n of [0, 1, 2]) expect(counted(n, 'batch', 'batches')).toBe(`${n} ${plural(n, 'batch', 'batches')}`);
  });
});
