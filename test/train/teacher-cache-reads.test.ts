/**
 * What teacher-cache reads of the teacher on a cache miss before running it: a teacher fed by the input names exporters
 * use is not decoded (its fixed shapes and scores output come from the inputs and outputs it declares, graphInterface),
 * where its whole graph and weights were decoded beside the session holding them; one whose input roles only
 * discovery tells apart is still read whole. The logits are those of the same model read whole.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { cloneModel, loadModel, renameValue, saveModel } from '../../src/onnx/index.ts';
import { teacherLogits } from '../../src/train/teacher-cache.ts';
import { maxAbsDiff } from '../helpers/feeds.ts';
import { tinyBert } from '../helpers/models.ts';
import { syntheticSst2Set } from '../helpers/synthetic-set.ts';

vi.mock('../../src/onnx/load.ts', async (importOriginal) => {
  const load = await importOriginal<typeof import('../../src/onnx/load.ts')>();
  return { ...load, loadModel: vi.fn(load.loadModel) };
});

const work = mkdtempSync(join(tmpdir(), 'bert-compress-teacher-reads-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const set = syntheticSst2Set([5, 9, 12], 'synthetic-teacher-reads');

/** The teacher's logits on a cold cache, the batches it ran and whether its file was decoded by loadModel. */
async function missed(file: string): Promise<{ logits: Float32Array; batches: number; decoded: boolean }> {
  vi.mocked(loadModel).mockClear();
  let batches = 0;
  const logits = await teacherLogits({
    teacherPath: file,
    set,
    cacheDir: join(work, 'cache', file.replace(/\W/g, '')),
    batchSize: 8,
    onBatch: () => batches++,
  });
  return { logits, batches, decoded: vi.mocked(loadModel).mock.calls.some(([path]) => path === file) };
}

describe('a teacher run on a cache miss', () => {
  const dynamic = join(work, 'dynamic.onnx');
  saveModel(tinyBert({}, { std: 0.2 }), dynamic);

  it('fed by its input names is not decoded, and is fed at the batch size and length its inputs fix', async () => {
    const expected = await missed(dynamic);
    expect(expected.decoded).toBe(false);
    const fixed = join(work, 'fixed-1x16.onnx');
    const model = tinyBert({}, { std: 0.2 });
    for (const input of model.graph.inputs) input.shape = [1, 16];
    saveModel(model, fixed);
    const got = await missed(fixed);
    expect([got.decoded, got.batches]).toEqual([false, 3]);
    expect(maxAbsDiff(got.logits, expected.logits)).toBeLessThan(1e-5);
  });

  it('whose input roles only discovery tells apart (ids, mask, segment) is read whole', async () => {
    const model = cloneModel(tinyBert({}, { std: 0.2 }));
    for (const [from, to] of Object.entries({ input_ids: 'ids', attention_mask: 'keep', token_type_ids: 'segment' })) renameValue(model.graph, from, to);
    const unusual = join(work, 'unusual.onnx');
    saveModel(model, unusual);
    const got = await missed(unusual);
    expect(got.decoded).toBe(true);
    expect(maxAbsDiff(got.logits, (await missed(dynamic)).logits)).toBeLessThan(1e-6);
  });
});
