/**
 * The machine-load check of a benchmark: other programs' CPU use while timing (/proc/stat less this process's own),
 * which the timing lock and the stage board do not see. The pure arithmetic on /proc/stat texts written here, then
 * one real benchmark beside busy child processes, which must come out contended.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatBench } from '../../src/bench/index.ts';
// (benchModels of run.ts, as compress bench runs it, its refusals naming the flags; the package's names its options)
import { benchModels } from '../../src/bench/run.ts';
import {
  MACHINE_LOAD_ENV,
  MIN_SPAN_MS,
  describeMachineLoad,
  loadContended,
  loadSnapshot,
  loadSnapshotAfter,
  machineLoadBetween,
  machineLoadOff,
  parseProcStat,
  readCgroupCpu,
  type LoadSnapshot,
} from '../../src/bench/machine-load.ts';
import { describeContention, timingWithLoad } from '../../src/bench/timing-lock.ts';
import { contendedBy, markContended } from '../../src/sweep/contention.ts';
import type { PointResult } from '../../src/sweep/point.ts';
import { writeTinyBert } from '../helpers/models.ts';

const dir = mkdtempSync(join(tmpdir(), 'bert-compress-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A /proc/stat text of two CPUs: `cpu` user nice system idle iowait irq softirq steal guest guest_nice. */
function procStat(user: number, nice: number, system: number, idle: number, iowait = 0, irq = 0, softirq = 0, steal = 0, guest = 0): string {
  const cpu = (f: number) => [user, nice, system, idle, iowait, irq, softirq, steal, guest, 0].map((n) => Math.round(n * f)).join(' ');
  return `cpu  ${cpu(1)}\ncpu0 ${cpu(0.5)}\ncpu1 ${cpu(0.5)}\nintr 4483780 0 0\nctxt 123\nbtime 1700000000\nprocesses 9\n`;
}

function snapshot(text: string, ownSeconds: number, atSeconds: number): LoadSnapshot {
  return { cpu: parseProcStat(text)!, own: { user: ownSeconds * 1e6 * 0.75, system: ownSeconds * 1e6 * 0.25 }, at: atSeconds * 1000 };
}

describe('parseProcStat', () => {
  it('sums busy and idle ticks of the cpu line, counting guest time once (it is in user already), and counts the CPUs', () => {
    expect(parseProcStat(procStat(100, 20, 30, 500, 10, 1, 2, 3, 40))).toEqual({ busy: 100 + 20 + 30 + 1 + 2 + 3, total: 156 + 500 + 10, cpus: 2 });
    // (a kernel before iowait: four fields)
    expect(parseProcStat('cpu  1 2 3 4\ncpu0 1 2 3 4\n')).toEqual({ busy: 6, total: 10, cpus: 1 });
  });

  it('gives undefined for a text without a cpu line of numbers or without cpuN lines', () => {
    expect(parseProcStat('')).toBeUndefined();
    expect(parseProcStat('intr 1 2 3\n')).toBeUndefined();
    expect(parseProcStat('cpu  1 2 3 4\n')).toBeUndefined();
  });
});

describe('machineLoadBetween', () => {
  it("counts the machine's busy CPUs less this process's own CPU time over the same wall time", () => {
    // 2 CPUs for 2 s: 400 ticks, 360 busy = 1.8 CPUs; this process used 0.4 s a second = 0.2 CPU; others 1.6
    const load = machineLoadBetween(snapshot(procStat(1000, 0, 0, 1000), 10, 5), snapshot(procStat(1300, 0, 60, 1040), 10.4, 7))!;
    expect(load.cpus).toBe(2);
    expect(load.seconds).toBe(2);
    expect(load.otherCpus).toBeCloseTo(1.6, 10);
    expect(loadContended(load)).toBe(true);
    expect(describeMachineLoad(load)).toBe('other programs used 1.60 of 2 CPUs while timing');
    // (one CPU is one, where it read "of 1 CPUs")
    expect(describeMachineLoad({ ...load, cpus: 1, otherCpus: 0.5 })).toBe('other programs used 0.50 of 1 CPU while timing');
  });

  it('is not contended when the busy time is this process its own (onnxruntime threads are in process.cpuUsage)', () => {
    // 1.8 CPUs busy, all of it this process's: 3.6 s of CPU time over 2 s
    const load = machineLoadBetween(snapshot(procStat(1000, 0, 0, 1000), 10, 5), snapshot(procStat(1360, 0, 0, 1040), 13.6, 7))!;
    expect(load.otherCpus).toBeCloseTo(0, 10);
    expect(loadContended(load)).toBe(false);
    // (own time measured above the ticks, as the two clocks round: 0, not below)
    expect(machineLoadBetween(snapshot(procStat(1000, 0, 0, 1000), 10, 5), snapshot(procStat(1360, 0, 0, 1040), 14, 7))!.otherCpus).toBe(0);
  });

  it('draws the line at a quarter of one CPU', () => {
    // 2 CPUs for 1 s: 200 ticks; other programs' ticks 25 = 0.25 CPU, 24 = 0.24
    const at = (otherTicks: number) => machineLoadBetween(snapshot(procStat(0, 0, 0, 0), 0, 0), snapshot(procStat(otherTicks, 0, 0, 200 - otherTicks), 0, 1));
    expect(loadContended(at(25))).toBe(true);
    expect(loadContended(at(24))).toBe(false);
    expect(loadContended(undefined)).toBe(false);
  });

  it('is unknown over too few ticks to tell a quarter of a CPU from their rounding, when the counters went back or the CPU count changed', () => {
    const a = snapshot(procStat(1000, 0, 0, 1000), 1, 5);
    expect(machineLoadBetween(a, { ...a, at: 6000 })).toBeUndefined();
    // 2 CPUs: 80 ticks at least (0.4 s at 100 a second): over 79, unknown
    expect(machineLoadBetween(a, snapshot(procStat(1030, 0, 0, 1049), 1, 5.39))).toBeUndefined();
    expect(machineLoadBetween(a, snapshot(procStat(1030, 0, 0, 1050), 1, 5.4))?.otherCpus).toBeCloseTo(0.75, 10);
    expect(machineLoadBetween(a, snapshot(procStat(900, 0, 0, 1200), 1, 6))).toBeUndefined();
    expect(machineLoadBetween(a, { ...snapshot(procStat(1100, 0, 0, 1100), 1, 6), cpu: { busy: 1100, total: 2200, cpus: 4 } })).toBeUndefined();
  });
});

/** A fake root (proc/stat, and a cgroup v2 container's files when `cgroup` is given) in a folder of its own. */
function fakeRoot(name: string, stat: string, cgroup?: { usageUs: number; max?: string; cpuset?: string }): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'proc', 'self'), { recursive: true });
  writeFileSync(join(root, 'proc', 'stat'), stat);
  writeFileSync(join(root, 'proc', 'self', 'cgroup'), '0::/\n');
  if (cgroup) {
    mkdirSync(join(root, 'sys', 'fs', 'cgroup'), { recursive: true });
    writeFileSync(join(root, 'sys', 'fs', 'cgroup', 'cpu.stat'), `usage_usec ${cgroup.usageUs}\nuser_usec 0\nsystem_usec 0\n`);
    writeFileSync(join(root, 'sys', 'fs', 'cgroup', 'cpu.max'), `${cgroup.max ?? 'max 100000'}\n`);
    if (cgroup.cpuset) writeFileSync(join(root, 'sys', 'fs', 'cgroup', 'cpuset.cpus.effective'), `${cgroup.cpuset}\n`);
  }
  return root;
}

/** A /proc/stat text of 16 CPUs, `busy` ticks of `total`. */
function hostStat(busy: number, total: number): string {
  const cpus = Array.from({ length: 16 }, (_, i) => `cpu${i} ${busy / 16} 0 0 ${(total - busy) / 16}`).join('\n');
  return `cpu  ${busy} 0 0 ${total - busy}\n${cpus}\n`;
}

describe('loadSnapshot', () => {
  it('reads proc/stat under the root given, unless $BERT_COMPRESS_MACHINE_LOAD is off; none where it cannot read it', async () => {
    const root = fakeRoot('plain', procStat(10, 0, 0, 90));
    const was = process.env[MACHINE_LOAD_ENV];
    try {
      delete process.env[MACHINE_LOAD_ENV];
      expect(loadSnapshot(root)).toMatchObject({ cpu: { busy: 10, total: 100, cpus: 2 } });
      expect(loadSnapshot(root)!.cgroup).toBeUndefined();
      expect(loadSnapshot(join(dir, 'missing'))).toBeUndefined();
      // (the end of a measurement is read MIN_SPAN_MS after its start at the soonest)
      const start = loadSnapshot(root)!;
      expect((await loadSnapshotAfter(start, root))!.at - start.at).toBeGreaterThanOrEqual(MIN_SPAN_MS);
      process.env[MACHINE_LOAD_ENV] = 'off';
      expect(loadSnapshot(root)).toBeUndefined();
    } finally {
      if (was === undefined) delete process.env[MACHINE_LOAD_ENV];
      else process.env[MACHINE_LOAD_ENV] = was;
    }
  });
});

describe("a container given some of a host's CPUs (cgroup v2)", () => {
  it("counts its own CPUs (quota or cpuset, whichever is fewer) and its cgroup's CPU time, where every host CPU and the host's other tenants were counted", () => {
    expect(readCgroupCpu(16, fakeRoot('quota', hostStat(0, 1600), { usageUs: 5, max: '200000 100000' }))).toEqual({ usageUs: 5, cpus: 2 });
    expect(readCgroupCpu(16, fakeRoot('cpuset', hostStat(0, 1600), { usageUs: 5, cpuset: '0-2' }))).toEqual({ usageUs: 5, cpus: 3 });
    expect(readCgroupCpu(16, fakeRoot('both', hostStat(0, 1600), { usageUs: 5, max: '150000 100000', cpuset: '0-3' }))).toEqual({ usageUs: 5, cpus: 1.5 });
    // a cgroup given every CPU (or none of its files: cgroup v1, a host's root) leaves /proc/stat to count
    expect(readCgroupCpu(16, fakeRoot('unlimited', hostStat(0, 1600), { usageUs: 5, cpuset: '0-15' }))).toBeUndefined();
    expect(readCgroupCpu(16, fakeRoot('v1', hostStat(0, 1600)))).toBeUndefined();

    // the host's 16 CPUs all busy with other tenants over 1 s; the container's 2 CPUs used 0.1 CPU by others
    const start: LoadSnapshot = { cpu: parseProcStat(hostStat(0, 1600))!, cgroup: { usageUs: 1e6, cpus: 2 }, own: { user: 0, system: 0 }, at: 0 };
    const end: LoadSnapshot = { cpu: parseProcStat(hostStat(1600, 3200))!, cgroup: { usageUs: 1.1e6, cpus: 2 }, own: { user: 0, system: 0 }, at: 1000 };
    const load = machineLoadBetween(start, end)!;
    expect(load.cpus).toBe(2);
    expect(load.otherCpus).toBeCloseTo(0.1, 10);
    expect(loadContended(load)).toBe(false);
    // its own processes busy: 1.5 of its 2 CPUs, this process 0.5 of them
    const busy = machineLoadBetween(start, { ...end, cgroup: { usageUs: 3e6, cpus: 2 }, own: { user: 5e5, system: 0 } })!;
    expect(busy.otherCpus).toBeCloseTo(1.5, 10);
    expect(describeMachineLoad(busy)).toBe('other programs used 1.50 of 2 CPUs while timing');
    expect(describeMachineLoad({ ...busy, cpus: 1.5 })).toBe('other programs used 1.50 of 1.5 CPUs while timing');
    // the counters of another kind at the end (the cgroup gone, its CPUs changed) tell nothing
    expect(machineLoadBetween(start, { ...end, cgroup: undefined })).toBeUndefined();
    expect(machineLoadBetween(start, { ...end, cgroup: { usageUs: 1.1e6, cpus: 3 } })).toBeUndefined();
  });

  it('is read by loadSnapshot from the root given', async () => {
    const was = process.env[MACHINE_LOAD_ENV];
    try {
      delete process.env[MACHINE_LOAD_ENV];
      const root = fakeRoot('snapshot', hostStat(0, 1600), { usageUs: 7, max: '200000 100000' });
      expect(loadSnapshot(root)).toMatchObject({ cpu: { cpus: 16 }, cgroup: { usageUs: 7, cpus: 2 } });
    } finally {
      if (was === undefined) delete process.env[MACHINE_LOAD_ENV];
      else process.env[MACHINE_LOAD_ENV] = was;
    }
  });
});

/**
 * A fake root of a cgroup v1 container (proc/stat, proc/self/cgroup with the host's paths, and each controller's files
 * at its mount's root, as a container sees them): cpuacct.usage in ns, and a quota or a cpuset when given.
 */
function fakeV1Root(name: string, usageNs: number, opts: { quota?: [number, number]; cpuset?: string; mount?: string } = {}): string {
  const root = join(dir, name);
  const mount = opts.mount ?? 'cpu,cpuacct';
  mkdirSync(join(root, 'proc', 'self'), { recursive: true });
  writeFileSync(join(root, 'proc', 'stat'), hostStat(0, 1600));
  writeFileSync(join(root, 'proc', 'self', 'cgroup'), `12:cpuset:/docker/abc\n4:${mount}:/docker/abc\n1:name=systemd:/docker/abc\n`);
  const cg = join(root, 'sys', 'fs', 'cgroup');
  mkdirSync(join(cg, mount), { recursive: true });
  mkdirSync(join(cg, 'cpuset'), { recursive: true });
  writeFileSync(join(cg, mount, 'cpuacct.usage'), `${usageNs}\n`);
  writeFileSync(join(cg, mount, 'cpu.cfs_quota_us'), `${opts.quota?.[0] ?? -1}\n`);
  writeFileSync(join(cg, mount, 'cpu.cfs_period_us'), `${opts.quota?.[1] ?? 100000}\n`);
  writeFileSync(join(cg, 'cpuset', 'cpuset.effective_cpus'), `${opts.cpuset ?? '0-15'}\n`);
  return root;
}

describe("a container given some of a host's CPUs (cgroup v1)", () => {
  it("counts its own CPUs (cpu.cfs_quota_us over cpu.cfs_period_us, or its cpuset) and its cpuacct.usage, where every host CPU and the host's other tenants were counted", () => {
    expect(readCgroupCpu(16, fakeV1Root('v1-quota', 5000, { quota: [200000, 100000] }))).toEqual({ usageUs: 5, cpus: 2 });
    expect(readCgroupCpu(16, fakeV1Root('v1-cpuset', 5000, { cpuset: '0-2' }))).toEqual({ usageUs: 5, cpus: 3 });
    expect(readCgroupCpu(16, fakeV1Root('v1-both', 5000, { quota: [150000, 100000], cpuset: '0-3' }))).toEqual({ usageUs: 5, cpus: 1.5 });
    // cpu and cpuacct mounted apart (cpuacct's own hierarchy): its usage read there
    expect(readCgroupCpu(16, fakeV1Root('v1-apart', 5000, { cpuset: '0-1', mount: 'cpuacct' }))).toEqual({ usageUs: 5, cpus: 2 });
    // no quota (-1) and every CPU in its cpuset: /proc/stat counts
    expect(readCgroupCpu(16, fakeV1Root('v1-unlimited', 5000))).toBeUndefined();
    const was = process.env[MACHINE_LOAD_ENV];
    try {
      delete process.env[MACHINE_LOAD_ENV];
      expect(loadSnapshot(fakeV1Root('v1-snapshot', 7000, { quota: [200000, 100000] }))).toMatchObject({ cpu: { cpus: 16 }, cgroup: { usageUs: 7, cpus: 2 } });
    } finally {
      if (was === undefined) delete process.env[MACHINE_LOAD_ENV];
      else process.env[MACHINE_LOAD_ENV] = was;
    }
  });
});

describe('$BERT_COMPRESS_MACHINE_LOAD', () => {
  it('is off, on, or unset; another value is refused in one line, by a benchmark before it loads anything', async () => {
    const off = (value?: string) => machineLoadOff(value === undefined ? {} : { [MACHINE_LOAD_ENV]: value });
    expect([off('off'), off('on'), off(''), off()]).toEqual([true, false, false, false]);
    // (blanks around a value are not part of it, and a blank value is unset: the one rule of every variable read)
    expect([off(' off '), off('on\t'), off(' ')]).toEqual([true, false, false]);
    // (the value shown as every refused value of an environment variable is: a number bare, other text quoted)
    for (const [value, shown] of [
      ['0', '0'],
      ['false', "'false'"],
      ['no', "'no'"],
      ['OFF', "'OFF'"],
      [' of f', "'of f'"],
    ]) {
      expect(() => off(value)).toThrow(`BERT_COMPRESS_MACHINE_LOAD ${shown}: expected off (leave the machine's load unchecked) or on`);
    }
    const was = process.env[MACHINE_LOAD_ENV];
    try {
      process.env[MACHINE_LOAD_ENV] = '0';
      expect(() => loadSnapshot(fakeRoot('env', procStat(10, 0, 0, 90)))).toThrow(/BERT_COMPRESS_MACHINE_LOAD 0: /);
      // (refused before the model is looked for: not 'not found')
      await expect(benchModels({ model: join(dir, 'absent.onnx') })).rejects.toThrow(/^BERT_COMPRESS_MACHINE_LOAD 0: expected off/);
    } finally {
      if (was === undefined) delete process.env[MACHINE_LOAD_ENV];
      else process.env[MACHINE_LOAD_ENV] = was;
    }
  });
});

describe('a timing contended by other programs', () => {
  const busy = { otherCpus: 1.6, cpus: 2, seconds: 3 };
  const quiet = { otherCpus: 0.05, cpus: 2, seconds: 3 };

  it('is not exclusive, and its warning names the load, not a timing lock it held', () => {
    const held = { exclusive: true, waitedSeconds: 0 };
    expect(timingWithLoad(held, quiet)).toEqual({ ...held, load: quiet });
    expect(timingWithLoad(held, undefined)).toBe(held);
    const t = timingWithLoad(held, busy);
    expect(t).toEqual({ exclusive: false, waitedSeconds: 0, load: busy });
    expect(describeContention(t)).toBe('other programs used 1.60 of 2 CPUs while timing: speed-ups may be off');
    expect(describeContention(timingWithLoad(held, quiet))).toBeUndefined();
    // a benchmark without a baseline measured latencies only
    expect(describeContention(t, 'latencies')).toBe('other programs used 1.60 of 2 CPUs while timing: latencies may be off');
    const withoutLock = timingWithLoad({ exclusive: false, waitedSeconds: 600, heldBy: 7, reason: 'busy' }, busy);
    expect(describeContention(withoutLock)).toBe(
      'timed without the machine-wide timing lock (another benchmark (pid 7) was timing, after waiting 600 s); other programs used 1.60 of 2 CPUs while timing: speed-ups may be off',
    );
  });

  it("is a sweep point's contended timing, overlapped by 'other programs'", () => {
    const result = { bench: { timing: timingWithLoad({ exclusive: true, waitedSeconds: 0 }, busy) } } as PointResult;
    expect(contendedBy(result)).toEqual(['other programs']);
    expect(contendedBy(markContended(result, ['m · kd (train)']))).toEqual(['train', 'other programs']);
    expect(contendedBy({ bench: { timing: timingWithLoad({ exclusive: true, waitedSeconds: 0 }, quiet) } } as PointResult)).toEqual([]);
  });
});

describe.runIf(existsSync('/proc/stat'))('a real benchmark beside busy programs', () => {
  it('is marked contended, with the load on its machine line and a warning', async () => {
    const model = writeTinyBert({ numLayers: 1 }, { seed: 4 });
    const was = process.env[MACHINE_LOAD_ENV];
    delete process.env[MACHINE_LOAD_ENV];
    // two busy loops, one per CPU of a 2-core machine: a broken check (never measuring, or counting them as this
    // process's) gives no mark
    const loops: ChildProcess[] = [0, 1].map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    try {
      await new Promise((r) => setTimeout(r, 300)); // (the loops started)
      const r = await benchModels({
        model: model.path,
        batches: [1],
        seqs: [8],
        repeats: 1_000_000,
        warmup: 1,
        threads: 1,
        maxSeconds: 1.5,
        timingLock: { file: join(dir, 'timing.lock') },
      });
      expect(r.timing!.load).toMatchObject({ cpus: expect.any(Number) });
      expect(r.timing!.load!.otherCpus).toBeGreaterThanOrEqual(0.5);
      expect(r.timing!.exclusive).toBe(false);
      // a short timing (a few runs of a small model, ms) too: measured on, idle, for MIN_SPAN_MS
      const started = performance.now();
      const short = await benchModels({
        model: model.path,
        batches: [1],
        seqs: [8],
        repeats: 2,
        warmup: 0,
        threads: 1,
        timingLock: { file: join(dir, 'timing.lock') },
      });
      expect(performance.now() - started).toBeGreaterThanOrEqual(MIN_SPAN_MS);
      expect(short.timing!.load!.seconds).toBeGreaterThanOrEqual(MIN_SPAN_MS / 1000);
      expect(short.timing!.load!.otherCpus).toBeGreaterThanOrEqual(0.5);
      expect(short.timing!.exclusive).toBe(false);
      const lines = formatBench(r);
      expect(lines.find((l) => l.startsWith('machine: '))).toMatch(/; other programs used \d+\.\d\d of [\d.]+ CPUs? while timing$/);
      expect(lines.find((l) => l.startsWith('warning: '))).toMatch(
        /^warning: other programs used \d+\.\d\d of [\d.]+ CPUs? while timing: latencies may be off$/, // (no baseline: no speed-up)
      );
    } finally {
      for (const loop of loops) loop.kill('SIGKILL');
      if (was !== undefined) process.env[MACHINE_LOAD_ENV] = was;
      model.cleanup();
    }
  });
});
