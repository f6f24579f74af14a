/**
 * A trained model's lineage records the onnxruntime threads its run used: a model's bytes can depend on the count
 * (test/runtime/matmul-threads.test.ts), so the lineage says which --threads repeats them on another machine. A run
 * of --threads 0 (one per physical core, the default) records the count that was, where it recorded 0.
 */
import { describe, expect, it } from 'vitest';
import { defaultThreads } from '../../src/runtime/threads.ts';
import { tinyDistill } from '../helpers/tiny-distill.ts';

const run = tinyDistill('bert-compress-lineage-threads-');

describe("a trained model's lineage", () => {
  it('records the threads the run used: those given, or for 0 one per physical core', async () => {
    expect((await run.distill('one', {}, { threads: 1 })).lineage!.settings.threads).toBe(1);
    const cores = (await run.distill('default', {}, { threads: 0 })).lineage!.settings.threads;
    expect(cores).toBe(defaultThreads());
    expect(cores).toBeGreaterThan(0);
  });
});
