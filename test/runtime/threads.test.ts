import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allowedCpus, cgroupCpuLimit, checkThreads, countPhysicalCores, defaultThreads, parseCpuList, readCpuTopology } from '../../src/runtime/threads.ts';

/** A fake sysfs cpu folder: one entry per logical CPU as [package, core, online?]. */
function fakeSysfs(cpus: Array<[string, string, string?]>): string {
  const root = mkdtempSync(join(tmpdir(), 'cpus-'));
  cpus.forEach(([pkg, core, online], i) => {
    mkdirSync(join(root, `cpu${i}`, 'topology'), { recursive: true });
    writeFileSync(join(root, `cpu${i}`, 'topology', 'physical_package_id'), `${pkg}\n`);
    writeFileSync(join(root, `cpu${i}`, 'topology', 'core_id'), `${core}\n`);
    if (online !== undefined) writeFileSync(join(root, `cpu${i}`, 'online'), `${online}\n`);
  });
  mkdirSync(join(root, 'cpufreq'));
  return root;
}

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

describe('default onnxruntime threads', () => {
  it('counts SMT siblings once and cores of other packages apart', () => {
    expect(countPhysicalCores([])).toBe(0);
    expect(
      countPhysicalCores([
        { cpu: 0, package: '0', core: '0' },
        { cpu: 1, package: '0', core: '0' },
        { cpu: 2, package: '0', core: '1' },
        { cpu: 3, package: '1', core: '0' },
      ]),
    ).toBe(3);
  });

  it('reads the topology of online CPUs from sysfs', () => {
    const root = fakeSysfs([
      ['0', '0'],
      ['0', '1', '1'],
      ['0', '0', '1'],
      ['0', '2', '0'],
    ]);
    roots.push(root);
    const cpus = readCpuTopology(root);
    expect(cpus?.map((c) => c.cpu).sort()).toEqual([0, 1, 2]);
    expect(countPhysicalCores(cpus!)).toBe(2);
  });

  it('reads the CPUs this process may use: Linux CPU lists and Cpus_allowed_list', () => {
    expect([...parseCpuList('0-3,8,10-11')!]).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect([...parseCpuList('5\n')!]).toEqual([5]);
    for (const bad of ['', 'a', '3-1', '1,,2']) expect(parseCpuList(bad), bad).toBeUndefined();
    const root = mkdtempSync(join(tmpdir(), 'status-'));
    roots.push(root);
    writeFileSync(join(root, 'status'), 'Name:\tnode\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\nMems_allowed:\t1\n');
    expect([...allowedCpus(join(root, 'status'))!]).toEqual([0, 1]);
    expect(allowedCpus(join(root, 'absent'))).toBeUndefined();
    // Two SMT siblings allowed out of a larger machine: one core.
    const sysfs = fakeSysfs([
      ['0', '0'],
      ['0', '0'],
      ['0', '1'],
      ['0', '1'],
    ]);
    roots.push(sysfs);
    const allowed = allowedCpus(join(root, 'status'))!;
    expect(countPhysicalCores(readCpuTopology(sysfs)!.filter((c) => allowed.has(c.cpu)))).toBe(1);
  });

  it('gives undefined where sysfs cannot be read', () => {
    const root = mkdtempSync(join(tmpdir(), 'cpus-'));
    roots.push(root);
    expect(readCpuTopology(root)).toBeUndefined();
    mkdirSync(join(root, 'cpu0'));
    expect(readCpuTopology(root)).toBeUndefined();
    expect(readCpuTopology(join(root, 'absent'))).toBeUndefined();
  });

  it('reads a cgroup CPU quota, v2 and v1, at the process cgroup or the mount root', () => {
    const root = mkdtempSync(join(tmpdir(), 'cgroup-'));
    roots.push(root);
    const write = (path: string, text: string) => {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    const proc = (text: string) => {
      write('proc-cgroup', text);
      return join(root, 'proc-cgroup');
    };
    const fs = join(root, 'fs');
    // v2, the process's own cgroup: 2.5 CPUs.
    write('fs/app/cpu.max', '250000 100000\n');
    expect(cgroupCpuLimit(fs, proc('0::/app\n'))).toBe(2.5);
    // v2 without a quota.
    write('fs/free/cpu.max', 'max 100000\n');
    expect(cgroupCpuLimit(fs, proc('0::/free\n'))).toBeUndefined();
    // v1 (cpu,cpuacct mount), seen from inside a container: the path is the host's, the files at the mount's root.
    write('fs/cpu,cpuacct/cpu.cfs_quota_us', '200000\n');
    write('fs/cpu,cpuacct/cpu.cfs_period_us', '100000\n');
    expect(cgroupCpuLimit(fs, proc('12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n'))).toBe(2);
    // v1 with −1: no quota.
    write('v1/cpu/cpu.cfs_quota_us', '-1\n');
    write('v1/cpu/cpu.cfs_period_us', '100000\n');
    expect(cgroupCpuLimit(join(root, 'v1'), proc('1:cpu:/\n'))).toBeUndefined();
    write('v1/cpu/cpu.cfs_quota_us', '50000\n');
    expect(cgroupCpuLimit(join(root, 'v1'), proc('1:cpu:/\n'))).toBe(0.5);
    // No /proc/self/cgroup (not Linux): no quota.
    expect(cgroupCpuLimit(fs, join(root, 'absent'))).toBeUndefined();
  });

  it('uses at least one thread and never more than the CPUs this process may use', () => {
    const n = defaultThreads();
    expect(Number.isInteger(n)).toBe(true);
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(availableParallelism());
    const allowed = allowedCpus();
    const topology = readCpuTopology()?.filter((c) => !allowed || allowed.has(c.cpu));
    const quota = cgroupCpuLimit();
    if (topology?.length)
      expect(n).toBe(Math.max(1, Math.min(availableParallelism(), countPhysicalCores(topology), quota === undefined ? Infinity : Math.floor(quota))));
  });

  it('checks --threads', () => {
    expect(() => checkThreads(undefined)).not.toThrow();
    expect(() => checkThreads(0)).not.toThrow();
    expect(() => checkThreads(-1)).toThrow(/expected an integer from 0 to 256/);
    expect(() => checkThreads(1.5)).toThrow(/expected an integer from 0 to 256/);
    expect(() => checkThreads(257)).toThrow(/--threads 257: expected an integer from 0 to 256 \(0: one per physical core\)/);
  });
});

describe('sessions without spin-waiting threads', () => {
  it('ask onnxruntime for no spinning (only then), and onnxruntime opens and runs them with the same outputs', async () => {
    const { openSession, sessionOptions, Tensor } = await import('../../src/runtime/session.ts');
    const config = (o: Parameters<typeof sessionOptions>[0]) => (sessionOptions(o) as { extra?: unknown }).extra;
    expect(config({ spinning: false })).toEqual({ session: { intra_op: { allow_spinning: '0' } } });
    expect(config({ spinning: 'during runs' })).toEqual({ session: { force_spinning_stop: '1' } });
    expect(config({ spinning: true })).toBeUndefined();
    expect(config({})).toBeUndefined();
    expect(sessionOptions({}).intraOpNumThreads).toBe(defaultThreads());
    expect(sessionOptions({ threads: 3 }).intraOpNumThreads).toBe(3);
    const { writeTinyBert } = await import('../helpers/models.ts');
    const m = writeTinyBert();
    try {
      const feeds = {
        input_ids: new Tensor('int64', BigInt64Array.from([1n, 5n, 7n, 2n]), [1, 4]),
        attention_mask: new Tensor('int64', BigInt64Array.from([1n, 1n, 1n, 1n]), [1, 4]),
        token_type_ids: new Tensor('int64', new BigInt64Array(4), [1, 4]),
      };
      const outputs = [];
      for (const spinning of [true, false, 'during runs'] as const) {
        const s = await openSession(m.path, { threads: 2, spinning });
        const inputs = Object.fromEntries(Object.entries(feeds).filter(([k]) => s.inputNames.includes(k)));
        outputs.push([...((await s.run(inputs))[s.outputNames[0]!]!.data as Float32Array)]);
        await s.release();
      }
      expect(outputs[1]).toEqual(outputs[0]);
      expect(outputs[2]).toEqual(outputs[0]);
    } finally {
      m.cleanup();
    }
  });
});
