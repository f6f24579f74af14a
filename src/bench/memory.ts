/**
 * Peak resident memory of this process. On Linux the kernel's high-water mark (VmHWM) can be reset by writing 5 to
 * /proc/self/clear_refs, so a benchmark measures its own peak even in a long-lived process (a sweep running many
 * points); elsewhere the peak covers the whole process lifetime.
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** Resets the peak-RSS mark to the current RSS; false where that is not possible. */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Peak resident set size in bytes since the last reset (or since the process started). */
export function peakRss(): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}
