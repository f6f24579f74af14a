/** How byte counts read in messages and summaries, one rule for every command. */

/** Megabytes (10⁶ bytes): one decimal from 1 MB up, three below ('38.4 MB', '0.098 MB'), so a tiny model's reads as more than '0.0 MB'. */
export function formatMB(bytes: number): string {
  return `${(bytes / 1e6).toFixed(Math.abs(bytes) < 1e6 ? 3 : 1)} MB`;
}

/** Gigabytes (10⁹ bytes) with two significant digits at least, for memory in messages (`3,300 GB`, `24 GB`, `0.52 GB`). */
export function gigabytes(bytes: number): string {
  const gb = bytes / 1e9;
  return `${gb >= 10 ? Math.round(gb).toLocaleString('en-US') : gb.toPrecision(2)} GB`;
}
