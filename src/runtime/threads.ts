/**
 * Thread counts for onnxruntime sessions: the `--threads` check, and the default used when none is given. Apart from
 * session.ts so that the CLI can use them without loading onnxruntime.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { SettingsError } from '../errors.ts';

/** The most intra-op threads a session may be given: more only oversubscribes the cores (and can hang). */
export const MAX_THREADS = 256;

/** Throws a one-line SettingsError unless `threads` (a `--threads` value) is an integer in [0, MAX_THREADS]. */
export function checkThreads(threads: number | undefined): void {
  if (threads === undefined) return;
  if (!Number.isInteger(threads) || threads < 0) throw new SettingsError(`--threads ${threads}: expected an integer ≥ 0`);
  if (threads > MAX_THREADS) throw new SettingsError(`--threads ${threads}: at most ${MAX_THREADS} (0: one per physical core)`);
}

/** Where one logical CPU sits: its package (socket) and its core within the package. */
export interface CpuTopology {
  package: string;
  core: string;
}

/** How many physical cores the logical CPUs `cpus` span (SMT siblings share a package and core id). */
export function countPhysicalCores(cpus: readonly CpuTopology[]): number {
  return new Set(cpus.map((c) => `${c.package}:${c.core}`)).size;
}

/** The topology of each logical CPU under `root` (Linux sysfs), or undefined where it cannot be read. */
export function readCpuTopology(root = '/sys/devices/system/cpu'): CpuTopology[] | undefined {
  try {
    const names = readdirSync(root).filter((n) => /^cpu\d+$/.test(n));
    const cpus: CpuTopology[] = [];
    for (const n of names) {
      const read = (f: string) => readFileSync(`${root}/${n}/topology/${f}`, 'utf8').trim();
      let online = '1';
      try {
        online = readFileSync(`${root}/${n}/online`, 'utf8').trim();
      } catch {
        // cpu0 often has no `online` file: it cannot be taken offline.
      }
      if (online !== '0') cpus.push({ package: read('physical_package_id'), core: read('core_id') });
    }
    return cpus.length > 0 ? cpus : undefined;
  } catch {
    return undefined;
  }
}

let cached: number | undefined;

/**
 * Intra-op threads when none are asked for: one per physical core, at most the CPUs this process may use (from
 * Linux's topology; elsewhere, the CPUs this process may use). Set explicitly rather than left to onnxruntime:
 * onnxruntime-node 1.30's own default ran one compute thread on a 2-vCPU cloud VM whose sysfs lists two cores
 * (a forward pass took as long as with `--threads 1`, and 1.75× as long as with `--threads 2`).
 */
export function defaultThreads(): number {
  if (cached === undefined) {
    const usable = availableParallelism();
    const topology = readCpuTopology();
    cached = Math.max(1, Math.min(usable, topology ? countPhysicalCores(topology) : usable));
  }
  return cached;
}
