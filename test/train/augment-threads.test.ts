/**
 * A distillation's --threads is the onnxruntime thread count of every session the run opens: the teacher's outputs,
 * its features, the training graph, the dev evaluation, and --augment's neighbour search in the teacher's
 * word-embedding space, which ran at one thread per physical core whatever --threads said (a sweep's step at the
 * runner's share of the cores, `--jobs`, a worker's `--concurrency`, then ran it on all of them). The gradient
 * builder's probe runs at 1 thread.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { otherThreads, sessionThreads } from '../helpers/session-threads.ts';
import { tinyDistill } from '../helpers/tiny-distill.ts';

const run = tinyDistill('bert-compress-augment-threads-');

afterEach(() => {
  vi.restoreAllMocks();
});

describe('distill --augment --threads N', () => {
  it('opens every onnxruntime session at N threads (the probe at 1), the neighbour search included', async () => {
    const threads = otherThreads();
    const logs: string[] = [];
    const { counts, result } = await sessionThreads(() =>
      run.distill('augmented', { augment: 1, intermediate: 'tinybert' }, { threads, log: (l) => logs.push(l) }),
    );
    const { lineage } = result;
    expect(logs.some((l) => l.startsWith('augmented 8 examples × 1'))).toBe(true);
    expect(lineage!.settings.threads).toBe(threads);
    expect(counts.length).toBeGreaterThan(2);
    expect(counts.filter((c) => c !== threads && c !== 1)).toEqual([]);
  });
});
