/** Byte counts in messages: one rule (src/units.ts), so a tiny model's size reads as more than '0.0 MB'. */
import { describe, expect, it } from 'vitest';
import { lfsPointerProblem } from '../src/files.ts';
import { formatMB, gigabytes, percent, times100 } from '../src/units.ts';

describe('formatMB', () => {
  it('gives one decimal from 1 MB up and three below', () => {
    expect(formatMB(38_372_000)).toBe('38.4 MB');
    expect(formatMB(1_000_000)).toBe('1.0 MB');
    expect(formatMB(98_304)).toBe('0.098 MB');
    expect(formatMB(1_000)).toBe('0.001 MB');
    expect(formatMB(999_499)).toBe('0.999 MB');
  });

  it("reads what rounds to 1 MB as '1.0 MB', where it read '1.000 MB'", () => {
    expect(formatMB(999_500)).toBe('1.0 MB');
    expect(formatMB(999_999)).toBe('1.0 MB');
    expect(formatMB(-999_999)).toBe('-1.0 MB');
  });

  it("reads under 1 kB in whole bytes, where three decimals read '0.000 MB'", () => {
    expect(formatMB(480)).toBe('480 B');
    expect(formatMB(999)).toBe('999 B');
    expect(formatMB(0)).toBe('0 B');
    expect(formatMB(-480)).toBe('-480 B');
    expect(formatMB(999.6)).toBe('0.001 MB'); // (rounds to 1000 bytes, not '1000 B')
  });

  it('stays in MB with one decimal from 1 GB up, as every summary says a large model', () => {
    expect(formatMB(1_340_500_000)).toBe('1340.5 MB');
  });

  it("reads a small Git LFS pointer's file size, where it said 'a 0.0 MB file'", () => {
    const pointer = new TextEncoder().encode('version https://git-lfs.github.com/spec/v1\noid sha256:' + '0'.repeat(64) + '\nsize 30720\n');
    expect(lfsPointerProblem(pointer)).toMatch(/^a Git LFS pointer to a 0\.031 MB file, not the file itself/);
  });

  it("reads a Git LFS pointer's file of 1 GB or more as formatMB does, where it said 'a 1.34 GB file'", () => {
    const pointer = new TextEncoder().encode('version https://git-lfs.github.com/spec/v1\noid sha256:' + '0'.repeat(64) + '\nsize 1340500000\n');
    expect(lfsPointerProblem(pointer)).toMatch(/^a Git LFS pointer to a 1340\.5 MB file, not the file itself/);
  });
});

describe('gigabytes', () => {
  it('gives two significant digits below 10 GB and whole gigabytes from there', () => {
    expect(gigabytes(3.3e12)).toBe('3,300 GB');
    expect(gigabytes(24.4e9)).toBe('24 GB');
    expect(gigabytes(0.523e9)).toBe('0.52 GB');
  });
});

describe('times100', () => {
  it('shows a metric or GLUE score ×100 with two decimals, every table alike', () => {
    expect(times100(0.73394, '-')).toBe('73.39');
    expect(times100(1, '-')).toBe('100.00');
    expect(times100(0, '-')).toBe('0.00');
    expect(times100(-0.05123, '-')).toBe('-5.12');
  });

  it("shows the caller's placeholder where no value is (undefined, null, NaN)", () => {
    expect(times100(undefined, 'n/a')).toBe('n/a');
    expect(times100(null, '-')).toBe('-');
    expect(times100(Number.NaN, '-')).toBe('-');
  });
});

describe('percent', () => {
  it('shows a share as a percentage with one decimal, every summary alike', () => {
    expect(percent(0.38219)).toBe('38.2%');
    expect(percent(1)).toBe('100.0%');
    expect(percent(0)).toBe('0.0%');
    expect(percent(1.275)).toBe('127.5%');
  });
});
