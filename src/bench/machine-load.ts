/**
 * How busy the rest of the machine was while a benchmark timed: the CPU time every process used (the machine-wide
 * counters of /proc/stat) less this process's own (process.cpuUsage, which counts onnxruntime's threads: they are
 * this process's), read at the start and at the end of the timed runs. The timing lock and the stage board
 * (timing-lock.ts, sweep/contention.ts) see only this project's benchmarks and points; this sees any program (a test
 * suite, a build, another user's job). Linux only: elsewhere (or where /proc/stat cannot be read) the load is
 * unknown, and nothing is marked.
 *
 * The line: other programs using a quarter of one CPU or more on average (OTHER_LOAD_LIMIT_CPUS) make the timing
 * contended. onnxruntime runs one intra-op thread per physical core and each parallel op waits for its slowest
 * thread, so a program taking a quarter of a core slows every op by up to a quarter while it runs: enough to move a
 * speed-up well past the noise of paired rounds (a few percent). A quiet Linux machine's daemons use a few hundredths
 * of a CPU, far below it.
 *
 * A container given fewer CPUs than its host has (a cgroup CPU quota, `--cpus`, or a cpuset, `--cpuset-cpus`)
 * sees the host's CPUs in /proc/stat, whose other tenants it does not share its CPUs with: there the load is its own
 * cgroup's CPU time (v2's `cpu.stat` `usage_usec`, v1's `cpuacct.usage`: every process of the container) over its CPUs
 * (readCgroupCpu).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { typedValueText, UsageError, counted } from '../errors.ts';
import { environmentValue } from '../environment.ts';
import { cgroupCpuLimit, parseCpuList } from '../runtime/threads.ts';

/**
 * Environment variable: `off` leaves the machine's load unchecked (where /proc/stat counts CPUs this process cannot
 * run on and no cgroup says which: a container whose cgroup files are not mounted, given a few of a host's cores,
 * whose other tenants would always mark the timing).
 */
export const MACHINE_LOAD_ENV = 'BERT_COMPRESS_MACHINE_LOAD';

/**
 * Whether MACHINE_LOAD_ENV turns the check off: `off` does; unset, empty, blank or `on` leave it on (blanks around a
 * value not part of it: environmentValue); any other value (0, false,
 * no, OFF…) is a one-line UsageError (a bad value of the user's setting: exit 2) saying what it takes (the value as typedValueText shows it: `0` bare, `'no'`
 * quoted), where it left the check on without a word. Benchmarks and
 * sweep plans ask it before they run anything.
 */
export function machineLoadOff(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const value = environmentValue(env, MACHINE_LOAD_ENV);
  if (value === 'off') return true;
  if (value === undefined || value === 'on') return false;
  throw new UsageError(`${MACHINE_LOAD_ENV} ${typedValueText(value)}: expected off (leave the machine's load unchecked) or on (check it, as when unset)`);
}

/** From this average use of the CPUs by other programs while timing (in CPUs), a timing is contended. */
export const OTHER_LOAD_LIMIT_CPUS = 0.25;

/** The machine-wide CPU counters of /proc/stat's `cpu` line, in clock ticks summed over its CPUs. */
export interface CpuTimes {
  /** Ticks the CPUs ran something: user, nice, system, irq, softirq, steal (another virtual machine's turn). */
  busy: number;
  /** busy, idle and iowait. */
  total: number;
  /** The CPUs counted (the `cpuN` lines). */
  cpus: number;
}

/**
 * The counters in /proc/stat text; undefined when it has no `cpu` line of numbers. guest and guest_nice are left
 * out: the kernel counts them in user and nice already.
 */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = /^cpu\s+([\d\s]+)$/m.exec(text);
  if (!line) return undefined;
  const f = line[1]!.trim().split(/\s+/).map(Number);
  if (f.length < 4 || f.some((n) => !Number.isFinite(n))) return undefined;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  const busy = user + nice + system + irq + softirq + steal;
  const cpus = text.match(/^cpu\d+\s/gm)?.length ?? 0;
  if (cpus === 0) return undefined;
  return { busy, total: busy + idle + iowait, cpus };
}

/**
 * The fewest ticks per CPU a measurement spans (0.4 s at Linux's 100 ticks a second; MIN_SPAN_MS makes it 0.5 s): the
 * counters advance a tick at a time, so over a shorter span a tick or two of rounding would be worth a quarter of a
 * CPU, and the load is unknown.
 */
export const MIN_TICKS_PER_CPU = 40;

/** A container's CPU time and CPUs, from its cgroup (v2 or v1), where it has fewer CPUs than the machine (readCgroupCpu). */
export interface CgroupCpu {
  /** Microseconds of CPU time of every process in the cgroup, this one too (v2's cpu.stat `usage_usec`, v1's cpuacct.usage / 1000). */
  usageUs: number;
  /** The CPUs it may use: its CPU quota (fractional) or the CPUs of its cpuset, whichever is fewer. */
  cpus: number;
}

/**
 * The cgroup counters of the container this process runs in (`root` is `/` but in tests), when it may use fewer CPUs
 * than the machine's `machineCpus` (cgroupCpuLimit's quota, v2's cpu.max or v1's cpu.cfs_quota_us over
 * cpu.cfs_period_us, as the default threads are capped; or its cpuset's CPUs); undefined otherwise, or where they
 * cannot be read (not Linux): /proc/stat then stands. cgroup v2: proc/self/cgroup's `0::PATH` line, under
 * sys/fs/cgroup, cpu.stat's `usage_usec` and `cpuset.cpus.effective`. cgroup v1 (where v2 has no cpu.stat there):
 * the cpuacct controller's `cpuacct.usage` (nanoseconds) and the cpuset controller's `cpuset.effective_cpus`, each
 * under its mount (sys/fs/cgroup/cpuacct, or cpu,cpuacct) at the line's path, else at the mount's root (what a
 * container sees as its own, its path being the host's).
 */
export function readCgroupCpu(machineCpus: number, root = '/'): CgroupCpu | undefined {
  let lines: string[];
  try {
    lines = readFileSync(join(root, 'proc/self/cgroup'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const fs = join(root, 'sys/fs/cgroup');
  const v2 = lines.map((l) => /^0::(\/.*)$/.exec(l.trim())?.[1]).find((p) => p !== undefined);
  let usageUs: number | undefined;
  let cpuset: number | undefined;
  const usec = v2 === undefined ? undefined : /^usage_usec\s+(\d+)$/m.exec(readText(join(fs, v2, 'cpu.stat')) ?? '');
  if (usec) {
    usageUs = Number(usec[1]);
    cpuset = cpuCount(readText(join(fs, v2!, 'cpuset.cpus.effective')));
  } else {
    // cgroup v1: each controller's hierarchy mounted by its name(s), its path on its own line
    const v1 = (controller: string, file: string): string | undefined => {
      for (const line of lines) {
        const m = /^\d+:([^:]+):(\/.*)$/.exec(line.trim());
        if (!m || !m[1]!.split(',').includes(controller)) continue;
        for (const mount of new Set([join(fs, controller), join(fs, m[1]!), join(fs, 'cpu,cpuacct')])) {
          for (const dir of [join(mount, m[2]!), mount]) {
            const text = readText(join(dir, file));
            if (text !== undefined) return text;
          }
        }
      }
      return undefined;
    };
    const ns = v1('cpuacct', 'cpuacct.usage')?.trim();
    if (ns === undefined || !/^\d+$/.test(ns)) return undefined;
    usageUs = Number(ns) / 1000;
    cpuset = cpuCount(v1('cpuset', 'cpuset.effective_cpus') ?? v1('cpuset', 'cpuset.cpus'));
  }
  const quota = cgroupCpuLimit(fs, join(root, 'proc/self/cgroup'));
  // (the cgroup's CPUs, not this process's affinity: a process pinned by taskset on a host shares its CPUs with the rest)
  const cpus = Math.min(quota ?? machineCpus, cpuset || machineCpus);
  return cpus < machineCpus ? { usageUs, cpus } : undefined;
}

/** A file's text, or undefined where it cannot be read. */
function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** How many CPUs a cgroup's cpuset file (its text) lists; undefined where it was not read or does not parse. */
function cpuCount(list: string | undefined): number | undefined {
  return list === undefined ? undefined : parseCpuList(list)?.size;
}

/** The counters at one moment, with this process's own CPU time and the wall clock. */
export interface LoadSnapshot {
  cpu: CpuTimes;
  /** The container's counters, where it has fewer CPUs than the machine: they stand for `cpu`'s (readCgroupCpu). */
  cgroup?: CgroupCpu;
  /** process.cpuUsage(): microseconds of user and system time of this process's threads. */
  own: { user: number; system: number };
  /** performance.now(), ms. */
  at: number;
}

/**
 * The counters now (proc/stat, and the container's cgroup ones, under `root`: `/` but in tests); undefined where they
 * cannot be read (not Linux), or when MACHINE_LOAD_ENV is `off` (machineLoadOff).
 */
export function loadSnapshot(root = '/'): LoadSnapshot | undefined {
  if (machineLoadOff()) return undefined;
  let text: string;
  try {
    text = readFileSync(join(root, 'proc/stat'), 'utf8');
  } catch {
    return undefined;
  }
  const cpu = parseProcStat(text);
  if (!cpu) return undefined;
  const cgroup = readCgroupCpu(cpu.cpus, root);
  return { cpu, ...(cgroup ? { cgroup } : {}), own: process.cpuUsage(), at: performance.now() };
}

/**
 * The least a measurement spans (ms): a timing shorter than this (a small model's few runs) is measured on until it
 * has passed, idle (the timing lock still held), so that the counters span MIN_TICKS_PER_CPU at 100 ticks a second.
 */
export const MIN_SPAN_MS = 500;

/**
 * The counters at the end of a measurement begun at `start`, read once MIN_SPAN_MS has passed since (waiting out the
 * rest, idle, after a short timing: the load of the moments just after it stands for its own); undefined where they
 * cannot be read.
 */
export async function loadSnapshotAfter(start: LoadSnapshot, root = '/'): Promise<LoadSnapshot | undefined> {
  // (a timer may fire a fraction of a millisecond before performance.now() reaches its time: wait again until it has)
  for (let rest = start.at + MIN_SPAN_MS - performance.now(); rest > 0; rest = start.at + MIN_SPAN_MS - performance.now()) {
    await sleep(Math.ceil(rest));
  }
  return loadSnapshot(root);
}

/** What other programs used of the machine's CPUs while timing. */
export interface MachineLoad {
  /** CPUs used on average by everything but this process (0 to `cpus`). */
  otherCpus: number;
  /** The machine's CPUs (a container's, fewer than its host's: its quota, fractional, or its cpuset's). */
  cpus: number;
  /** Seconds the measurement spans. */
  seconds: number;
}

/**
 * The load of other programs between two snapshots: the share of the machine's ticks that were busy, in CPUs (a
 * container's: its cgroup's CPU time over the wall time, of its CPUs), less the CPUs this process used over the same
 * wall time (not below 0: the two clocks' rounding). Undefined over fewer than MIN_TICKS_PER_CPU ticks per CPU, or
 * when the counters went back (another file) or changed kind or CPUs.
 */
export function machineLoadBetween(start: LoadSnapshot, end: LoadSnapshot): MachineLoad | undefined {
  const total = end.cpu.total - start.cpu.total;
  const busy = end.cpu.busy - start.cpu.busy;
  const seconds = (end.at - start.at) / 1000;
  const cpus = end.cgroup?.cpus ?? end.cpu.cpus;
  if (!(total >= end.cpu.cpus * MIN_TICKS_PER_CPU) || busy < 0 || !(seconds > 0) || end.cpu.cpus !== start.cpu.cpus) return undefined;
  if (end.cgroup?.cpus !== start.cgroup?.cpus) return undefined;
  const used = end.cgroup && start.cgroup ? (end.cgroup.usageUs - start.cgroup.usageUs) / 1e6 / seconds : undefined;
  if (used !== undefined && !(used >= 0)) return undefined;
  const machine = used ?? (Math.min(busy, total) / total) * cpus;
  const own = (end.own.user - start.own.user + end.own.system - start.own.system) / 1e6 / seconds;
  return { otherCpus: Math.min(cpus, Math.max(0, machine - own)), cpus, seconds };
}

/** Whether other programs used enough of the CPUs while timing to make it contended (see OTHER_LOAD_LIMIT_CPUS). */
export function loadContended(load: MachineLoad | undefined): boolean {
  return load !== undefined && load.otherCpus >= OTHER_LOAD_LIMIT_CPUS;
}

/** "other programs used 1.60 of 2 CPUs while timing" ("of 1 CPU" on a machine of one, "of 1.5 CPUs" by a quota). */
export function describeMachineLoad(load: MachineLoad): string {
  const cpus = Number(load.cpus.toFixed(2));
  return `other programs used ${load.otherCpus.toFixed(2)} of ${counted(cpus, 'CPU')} while timing`;
}
