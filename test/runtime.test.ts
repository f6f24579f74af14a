import { describe, expect, it } from 'vitest';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSession, SessionCache, runtimeVersion } from '../src/runtime/session.ts';
import { ModelLoadError } from '../src/errors.ts';
import { fixture, hasFixtures } from './helpers/paths.ts';
import { encoderFeeds, runAll, bitIdentical } from './helpers/feeds.ts';

describe.skipIf(!hasFixtures)('runtime (needs ../shared/fixtures/onnx)', () => {
  it('reports input types and the onnxruntime version', async () => {
    const s = await openSession(fixture('bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx'));
    expect(s.inputTypes.input_ids).toBe('int32');
    expect(runtimeVersion()).toMatch(/^1\.\d+\.\d+/);
  });

  it('gives the same outputs with one thread and with optimizations off', async () => {
    const path = fixture('bert-toy-pretraining-torch11-op12.onnx');
    const a = await openSession(path, { threads: 1, graphOptimizationLevel: 'disabled' });
    const b = await openSession(path, { threads: 2, graphOptimizationLevel: 'disabled' });
    const feeds = encoderFeeds(a, { batch: 2, seq: 8, vocab: 99 });
    const [x, y] = [await runAll(a, feeds), await runAll(b, feeds)];
    expect(bitIdentical(x.seq_relationship_score, y.seq_relationship_score)).toBe(true);
  });

  it('reuses sessions from the cache', async () => {
    const cache = new SessionCache();
    const path = fixture('xlmroberta-crossencoder-tiny-torch27-op14.onnx');
    const [a, b] = [await cache.get(path), await cache.get(path)];
    expect(a).toBe(b);
    expect(await cache.get(path, { threads: 1 })).not.toBe(a);
    await cache.close();
  });

  it('a file onnxruntime cannot load is a ModelLoadError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bc-rt-'));
    try {
      const p = join(dir, 'bad.onnx');
      writeFileSync(p, 'garbage');
      await expect(openSession(p)).rejects.toBeInstanceOf(ModelLoadError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
