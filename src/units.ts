/** How byte counts read in messages and summaries, one rule for every command. */
import { groupedDigits } from './errors.ts';

/**
 * Megabytes (10⁶ bytes): one decimal from 1 MB up, three below ('38.4 MB', '0.098 MB'), so a tiny model's reads as more
 * than '0.0 MB'; under 1 kB, where three decimals read '0.000 MB', whole bytes ('480 B'). The size of a file or of
 * weights, in every summary and message (memory: `gigabytes`).
 */
export function formatMB(bytes: number): string {
  const whole = Math.round(bytes);
  if (Math.abs(whole) < 1e3) return `${whole} B`;
  const below = (bytes / 1e6).toFixed(3); // (what rounds up to 1.000 reads as 1 MB and up do: '1.0 MB')
  return `${Math.abs(Number(below)) < 1 ? below : (bytes / 1e6).toFixed(1)} MB`;
}

/** Gigabytes (10⁹ bytes) with two significant digits at least, for memory in messages (`3,300 GB`, `24 GB`, `0.52 GB`). */
export function gigabytes(bytes: number): string {
  const gb = bytes / 1e9;
  return `${gb >= 10 ? groupedDigits(Math.round(gb)) : gb.toPrecision(2)} GB`;
}

/**
 * A metric or GLUE score (a fraction) ×100 with two decimals, as GLUE tables show them ('73.39'), one rule for every
 * command; `missing` where it holds no value (undefined, null, NaN): each table's own placeholder ('-', 'n/a').
 */
export function times100(v: number | null | undefined, missing: string): string {
  return v === null || v === undefined || Number.isNaN(v) ? missing : (100 * v).toFixed(2);
}

/** A share (a fraction) as a percentage with one decimal ('38.2%'), one rule for every summary and table. */
export function percent(share: number): string {
  return `${(100 * share).toFixed(1)}%`;
}
