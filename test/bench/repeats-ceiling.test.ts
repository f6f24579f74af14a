/**
 * With --max-time, --repeats is a ceiling: the runs stop once the time is spent, so a --repeats whose latencies
 * could not all be kept (beyond the longest Float64Array, or this machine's memory) is not refused; the timing
 * stops at the most runs it can keep, saying so, if it gets there first. Without --max-time it is refused as before.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { formatBench } from '../../src/bench/index.ts';
// (benchModels of run.ts, as compress bench runs it, its refusals naming the flags; the package's names its options)
import { benchModels } from '../../src/bench/run.ts';
import { benchSubject, checkRepeats, keptRepeats } from '../../src/bench/inputs.ts';
import { largestActivationBytes } from '../../src/bert/input-limits.ts';
import { MemoryRefusal, SettingsError } from '../../src/errors.ts';
import { writeTinyBert } from '../helpers/models.ts';

/** The machine's memory as the checks read it (node:os totalmem), set per test. */
const memory = vi.hoisted(() => ({ bytes: undefined as number | undefined }));
vi.mock('node:os', async (original) => {
  const os = await original<typeof import('node:os')>();
  const totalmem = () => memory.bytes ?? os.totalmem();
  return { ...os, totalmem, default: { ...os, totalmem } };
});

const model = writeTinyBert({ numLayers: 1 }, { seed: 2 });
afterAll(() => model.cleanup());
const timingLock = () => ({ file: join(mkdtempSync(join(tmpdir(), 'timing-lock-')), 'timing.lock') });
const quick = { batches: [1], seqs: [8], warmup: 0, threads: 1 };

describe('--repeats with --max-time is a ceiling', () => {
  it('checkRepeats refuses only without a time budget', () => {
    expect(() => checkRepeats({ repeats: 5e9, maxSeconds: undefined }, 1, 1e15)).toThrow(SettingsError);
    expect(() => checkRepeats({ repeats: 1001, maxSeconds: undefined }, 2, 24_000)).toThrow(MemoryRefusal);
    expect(() => checkRepeats({ repeats: 5e9, maxSeconds: 1 }, 1, 1e15)).not.toThrow();
    expect(() => checkRepeats({ repeats: 1001, maxSeconds: 1 }, 2, 24_000)).not.toThrow();
    // the refusal names the way out
    expect(() => checkRepeats({ repeats: 5e9, maxSeconds: undefined }, 1, 1e15)).toThrow(/give a smaller --repeats, or a --max-time$/);
  });

  it('the most runs kept: by memory where it holds fewer than the longest Float64Array, else by that array', () => {
    // a model and its baseline, and the working copy the statistics sort: 8 bytes each a run
    expect(keptRepeats(2, 24_000)).toMatchObject({ most: 1000, bound: expect.stringMatching(/^with .* of memory$/) });
    expect(keptRepeats(1, 1e15)).toEqual({ most: 2 ** 32, bound: 'the longest Float64Array Node.js 20 makes, which the statistics sort' });
  });

  it("--max-time whose share no shape spent: the runs line says no shape's runs stopped for it, where it said they stopped once its share was spent", async () => {
    const r = await benchModels({ model: model.path, ...quick, repeats: 3, maxSeconds: 600, timingLock: timingLock() });
    expect(r.shapes.map((s) => s.model.runs)).toEqual([3]);
    expect(formatBench(r).filter((l) => l.startsWith('runs: '))).toEqual([
      "runs: at most 3 timed per model and shape after no warm-up; --max-time 600 s: no shape's runs stopped for it",
    ]);
  });

  it('compress bench --repeats 5e9 --max-time runs (it was refused as beyond any array) and stops on its time', async () => {
    const r = await benchModels({ model: model.path, ...quick, repeats: 5e9, maxSeconds: 0.05, timingLock: timingLock() });
    expect(r.repeats).toBe(5e9);
    expect(r.shapes[0]!.model.runs).toBeGreaterThanOrEqual(1);
    expect(r.keptRuns).toBeUndefined();
    expect(formatBench(r).join('\n')).not.toMatch(/the most whose latencies can be kept/);
  });

  it('stops at the most runs whose latencies this machine can keep, before --repeats and --max-time, saying so', async () => {
    const structure = benchSubject(model.path).structure!;
    // memory for the shape's activation, and so for that many bytes / 16 latencies (each kept, and its sorted copy)
    memory.bytes = largestActivationBytes(structure, 1, 8);
    try {
      const most = Math.floor(memory.bytes / 16);
      const repeats = most + 5;
      await expect(benchModels({ model: model.path, ...quick, repeats, timingLock: timingLock() })).rejects.toThrow(MemoryRefusal);
      const r = await benchModels({ model: model.path, ...quick, repeats, maxSeconds: 600, timingLock: timingLock() });
      expect(r.shapes[0]!.model.runs).toBe(most);
      expect(r.keptRuns).toEqual({ most, bound: keptRepeats(1).bound });
      const note = formatBench(r).filter((l) => l.includes('the most whose latencies can be kept'));
      expect(note).toEqual([
        `note: a shape's runs stopped at ${most.toLocaleString('en')}, the most whose latencies can be kept (${keptRepeats(1).bound}), before --repeats ${repeats} or its share of --max-time`,
      ]);
      // (stopped at the most kept, not on its time: the runs line does not say the share was spent)
      expect(formatBench(r).filter((l) => l.startsWith('runs: '))).toEqual([
        `runs: at most ${repeats.toLocaleString('en')} timed per model and shape after no warm-up; --max-time 600 s: no shape's runs stopped for it`,
      ]);
    } finally {
      memory.bytes = undefined;
    }
  });
});
