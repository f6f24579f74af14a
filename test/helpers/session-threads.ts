import * as ort from 'onnxruntime-node';
import { vi } from 'vitest';
import { defaultThreads } from '../../src/runtime/threads.ts';

/** A thread count that is neither the default (one per physical core) nor the gradient builder's probe's (1). */
export function otherThreads(): number {
  return defaultThreads() + 1 === 1 ? 2 : defaultThreads() + 1;
}

/**
 * `work`'s result and the intra-op thread counts of the onnxruntime sessions it opens, in order (-1: a session given
 * none). Spies on InferenceSession.create: restore it with `vi.restoreAllMocks()` (afterEach).
 */
export async function sessionThreads<T>(work: () => Promise<T>): Promise<{ counts: number[]; result: T }> {
  const counts: number[] = [];
  const create = ort.InferenceSession.create.bind(ort.InferenceSession) as (...a: unknown[]) => Promise<ort.InferenceSession>;
  vi.spyOn(ort.InferenceSession, 'create').mockImplementation(((...args: unknown[]) => {
    const options = args.find((a): a is ort.InferenceSession.SessionOptions => typeof a === 'object' && a !== null && 'intraOpNumThreads' in a);
    counts.push(options?.intraOpNumThreads ?? -1);
    return create(...args);
  }) as typeof ort.InferenceSession.create);
  const result = await work();
  return { counts, result };
}
