/**
 * Thread counts for onnxruntime sessions: the `--threads` check, and the default used when none is given. Apart from
 * session.ts so that the CLI can use them without loading onnxruntime.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { checkIntegerFlag } from '../errors.ts';

/** The most intra-op threads a session may be given: more only oversubscribes the cores (and can hang). */
export const MAX_THREADS = 256;

/** What a `--threads` takes: an integer from 0 (one per physical core) to MAX_THREADS. */
export const THREADS_RANGE = { min: 0, max: MAX_THREADS, note: '(0: one per physical core)' } as const;

/**
 * A library option of threads as checkOptionKinds reads it (src/library-args.ts): an integer of THREADS_RANGE
 * (compressFile's context.threads, runPipeline's, openSession's threads), where another value was read as the default
 * ('x', -1) or given to onnxruntime (2.5).
 */
export const THREADS_OPTION = {
  is: (v: unknown) => Number.isSafeInteger(v) && (v as number) >= THREADS_RANGE.min && (v as number) <= THREADS_RANGE.max,
  expected: `an integer from ${THREADS_RANGE.min} to ${THREADS_RANGE.max} ${THREADS_RANGE.note}`,
} as const;

/** eval's and bench's `--threads` help, whose flag has no default value to show: what leaving it out and 0 mean. */
export const THREADS_HELP = 'onnxruntime intra-op threads (default and 0: one per physical core)';

/**
 * What threads of sweep points run at once take (a sweep file's eval.threads, bench.threads and train / distill steps'
 * threads, compress worker's --threads): as THREADS_RANGE, 0 meaning the runner's default, the physical cores divided
 * among the points run at once (a local sweep's --jobs, a worker's --concurrency), where compress bench's, eval's,
 * train's and distill's --threads 0 is one per physical core.
 */
export const POOL_THREADS_RANGE = { ...THREADS_RANGE, note: '(0: one per physical core, divided among the points run at once)' } as const;

/** Throws a one-line SettingsError unless `threads` (a `--threads` value) is an integer in THREADS_RANGE. */
export function checkThreads(threads: number | undefined): void {
  if (threads === undefined) return;
  checkIntegerFlag('--threads', threads, THREADS_RANGE.min, THREADS_RANGE);
}

/** Where one logical CPU sits: its package (socket) and its core within the package. */
export interface CpuTopology {
  /** The logical CPU's number (cpuN). */
  cpu: number;
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
      if (online !== '0') cpus.push({ cpu: Number(n.slice(3)), package: read('physical_package_id'), core: read('core_id') });
    }
    return cpus.length > 0 ? cpus : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The CPUs a cgroup CPU quota allows this process (quota / period; fractional), or undefined when none is set or
 * none can be read. cgroup v2 (`cpu.max`: "max 100000" or "200000 100000") and v1 (`cpu.cfs_quota_us`, −1 for none,
 * with `cpu.cfs_period_us`), looked up at the process's own cgroup (from `procCgroup`) and at the mount's root, as a
 * container sees it. A container limited with `--cpus 2` on a large host sees every host CPU but runs 2 at a time.
 */
export function cgroupCpuLimit(root = '/sys/fs/cgroup', procCgroup = '/proc/self/cgroup'): number | undefined {
  let lines: string[];
  try {
    lines = readFileSync(procCgroup, 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const read = (path: string): string | undefined => {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  // The process's own cgroup under a mount, and the mount's root (what a container sees as its own), each once.
  const dirs = (mount: string, path: string) => new Set([`${mount}${path}`.replace(/\/+$/, ''), mount]);
  const limits: number[] = [];
  for (const line of lines) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, controllers, path] = m as unknown as [string, string, string];
    if (controllers === '') {
      // cgroup v2
      for (const dir of dirs(root, path)) {
        const max = read(`${dir}/cpu.max`)?.split(/\s+/);
        if (max?.[0] && max[0] !== 'max' && Number(max[1]) > 0) limits.push(Number(max[0]) / Number(max[1]));
      }
    } else if (controllers.split(',').includes('cpu')) {
      // cgroup v1: the cpu controller's mount is named by its controllers (cpu, or cpu,cpuacct)
      for (const mount of new Set([`${root}/cpu`, `${root}/${controllers}`, `${root}/cpu,cpuacct`])) {
        for (const dir of dirs(mount, path)) {
          const quota = Number(read(`${dir}/cpu.cfs_quota_us`));
          const period = Number(read(`${dir}/cpu.cfs_period_us`));
          if (quota > 0 && period > 0) limits.push(quota / period);
        }
      }
    }
  }
  return limits.length ? Math.min(...limits) : undefined;
}

/** The CPU numbers of a Linux CPU list ("0-3,8,10-11"), or undefined when it does not parse. */
export function parseCpuList(list: string): Set<number> | undefined {
  const cpus = new Set<number>();
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) return undefined;
    for (let c = from; c <= to; c++) cpus.add(c);
  }
  return cpus;
}

/** The CPUs this process may run on (`Cpus_allowed_list` of `status`), or undefined where it cannot be read. */
export function allowedCpus(status = '/proc/self/status'): Set<number> | undefined {
  try {
    const m = /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync(status, 'utf8'));
    return m ? parseCpuList(m[1]!) : undefined;
  } catch {
    return undefined;
  }
}

let cached: number | undefined;

/**
 * Intra-op threads when none are asked for: one per physical core among the CPUs this process may use (its
 * affinity), at most its cgroup CPU quota (rounded down), at least 1 (from Linux's topology, status and cgroups;
 * elsewhere, the CPUs this process may use). Set explicitly rather than left to onnxruntime:
 * onnxruntime-node 1.30's own default ran one compute thread on a 2-vCPU cloud VM whose sysfs lists two cores
 * (a forward pass took as long as with `--threads 1`, and 1.75× as long as with `--threads 2`).
 */
export function defaultThreads(): number {
  if (cached === undefined) {
    const usable = availableParallelism();
    // The cores of the CPUs this process may use: two SMT siblings of one core allowed by a cpuset count once.
    const allowed = allowedCpus();
    const topology = readCpuTopology()?.filter((c) => !allowed || allowed.has(c.cpu));
    const quota = cgroupCpuLimit();
    const cores = topology?.length ? countPhysicalCores(topology) : usable;
    cached = Math.max(1, Math.min(usable, cores, quota === undefined ? usable : Math.floor(quota)));
  }
  return cached;
}

/**
 * A runner's share of the cores (POOL_THREADS_RANGE's 0): defaultThreads() divided among the `runAtOnce` points it runs
 * at once (a local sweep's --jobs, a worker's --concurrency), at least 1.
 */
export function threadShare(runAtOnce: number): number {
  return Math.max(1, Math.floor(defaultThreads() / runAtOnce));
}
