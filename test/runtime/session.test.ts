/** Session.run's outputs: all, some by name, or written into buffers the caller gives (what the trainer does). */
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/onnx/save.ts';
import { openSession, Tensor } from '../../src/runtime/session.ts';
import { batchFeeds, paddedBatch, tinyBert, tinyBertConfig } from '../helpers/models.ts';

describe('Session.run', () => {
  it('fetches every output, the outputs named, or writes an output into the given tensor', async () => {
    const config = tinyBertConfig();
    const s = await openSession(encodeModel(tinyBert()), { threads: 1 });
    try {
      const feeds = batchFeeds(paddedBatch([5, 3], config.vocabSize));
      const all = await s.run(feeds);
      const name = s.outputNames[0]!;
      const reference = all[name]!.data as Float32Array;
      const named = await s.run(feeds, [name]);
      expect(Object.keys(named)).toEqual([name]);
      const buffer = new Float32Array(reference.length).fill(Number.NaN);
      const into = await s.run(feeds, { [name]: new Tensor('float32', buffer, all[name]!.dims) });
      expect([...buffer]).toEqual([...reference]); // written where the caller keeps it
      expect([...(into[name]!.data as Float32Array)]).toEqual([...reference]);
    } finally {
      await s.release();
    }
  });
});
