/**
 * A distillation's --threads is the onnxruntime thread count of every session the run opens: the teacher's outputs,
 * its features, the training graph, the dev evaluation, and --augment's neighbour search in the teacher's
 * word-embedding space, which ran at one thread per physical core whatever --threads said (a sweep's step at the
 * runner's share of the cores, `--jobs`, a worker's `--concurrency`, then ran it on all of them). The gradient
 * builder's probe runs at 1 thread.
 */
import * as ort from 'onnxruntime-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultThreads } from '../../src/runtime/threads.ts';
import { tinyDistill } from '../helpers/tiny-distill.ts';

const run = tinyDistill('bert-compress-augment-threads-');

afterEach(() => {
  vi.restoreAllMocks();
});

describe('distill --augment --threads N', () => {
  it('opens every onnxruntime session at N threads (the probe at 1), the neighbour search included', async () => {
    // (a count that is neither the default nor the probe's)
    const threads = defaultThreads() + 1 === 1 ? 2 : defaultThreads() + 1;
    const counts: number[] = [];
    const create = ort.InferenceSession.create.bind(ort.InferenceSession) as (...a: unknown[]) => Promise<ort.InferenceSession>;
    vi.spyOn(ort.InferenceSession, 'create').mockImplementation(((...args: unknown[]) => {
      const options = args.find((a): a is ort.InferenceSession.SessionOptions => typeof a === 'object' && a !== null && 'intraOpNumThreads' in a);
      counts.push(options?.intraOpNumThreads ?? -1);
      return create(...args);
    }) as typeof ort.InferenceSession.create);
    const logs: string[] = [];
    const { lineage } = await run.distill('augmented', { augment: 1, intermediate: 'tinybert' }, { threads, log: (l) => logs.push(l) });
    expect(logs.some((l) => l.startsWith('augmented 8 examples × 1'))).toBe(true);
    expect(lineage!.settings.threads).toBe(threads);
    expect(counts.length).toBeGreaterThan(2);
    expect(counts.filter((c) => c !== threads && c !== 1)).toEqual([]);
  });
});
