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

/** The memory-mapped files under a folder (an external data file onnxruntime maps rather than reads), in bytes. */
export interface MappedFiles {
  /** The mappings' size: what is mapped, resident or not. */
  mappedBytes: number;
  /** Their resident part (pages read since they were mapped): what RSS counts of them. */
  residentBytes: number;
}

/**
 * The mappings of files under `folder` in a /proc/PID/smaps text: onnxruntime maps an external data file's tensors
 * (a Gather's table: an embedding) instead of reading them, and RSS counts such pages only once touched (the rows of
 * the tokens run), so a session's RSS can be far below its weights.
 */
export function mappedFilesIn(smaps: string, folder: string): MappedFiles {
  const prefix = folder.endsWith('/') ? folder : `${folder}/`;
  let inside = false;
  let mappedBytes = 0;
  let residentBytes = 0;
  for (const line of smaps.split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      inside = header[1]!.startsWith(prefix);
      continue;
    }
    if (!inside) continue;
    const field = /^(Size|Rss):\s+(\d+) kB/.exec(line);
    if (field?.[1] === 'Size') mappedBytes += Number(field[2]) * 1024;
    else if (field?.[1] === 'Rss') residentBytes += Number(field[2]) * 1024;
  }
  return { mappedBytes, residentBytes };
}

/** This process's mappings of files under `folder` (mappedFilesIn); zero where /proc is not there. */
export function ownMappedFilesIn(folder: string): MappedFiles {
  try {
    return mappedFilesIn(readFileSync('/proc/self/smaps', 'utf8'), folder);
  } catch {
    return { mappedBytes: 0, residentBytes: 0 };
  }
}
