import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkThreads, countPhysicalCores, defaultThreads, readCpuTopology } from '../../src/runtime/threads.ts';

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
        { package: '0', core: '0' },
        { package: '0', core: '0' },
        { package: '0', core: '1' },
        { package: '1', core: '0' },
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
    expect(cpus).toHaveLength(3);
    expect(countPhysicalCores(cpus!)).toBe(2);
  });

  it('gives undefined where sysfs cannot be read', () => {
    const root = mkdtempSync(join(tmpdir(), 'cpus-'));
    roots.push(root);
    expect(readCpuTopology(root)).toBeUndefined();
    mkdirSync(join(root, 'cpu0'));
    expect(readCpuTopology(root)).toBeUndefined();
    expect(readCpuTopology(join(root, 'absent'))).toBeUndefined();
  });

  it('uses at least one thread and never more than the CPUs this process may use', () => {
    const n = defaultThreads();
    expect(Number.isInteger(n)).toBe(true);
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(availableParallelism());
    const topology = readCpuTopology();
    if (topology) expect(n).toBe(Math.min(availableParallelism(), countPhysicalCores(topology)));
  });

  it('checks --threads', () => {
    expect(() => checkThreads(undefined)).not.toThrow();
    expect(() => checkThreads(0)).not.toThrow();
    expect(() => checkThreads(-1)).toThrow(/integer ≥ 0/);
    expect(() => checkThreads(1.5)).toThrow(/integer ≥ 0/);
    expect(() => checkThreads(257)).toThrow(/at most 256 \(0: one per physical core\)/);
  });
});
