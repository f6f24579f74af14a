/** Session.run's outputs: all, some by name, or written into buffers the caller gives (what the trainer does). */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/onnx/save.ts';
import { openSession, Tensor } from '../../src/runtime/session.ts';
import { ortLogLevel } from '../../src/runtime/ort-log-level.ts';
import { UsageError } from '../../src/errors.ts';
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

describe("onnxruntime's own log", () => {
  const ROOT = resolve(import.meta.dirname, '../..');
  const failingRun = (env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, [resolve(ROOT, 'bin/run-ts.mjs'), resolve(import.meta.dirname, 'failing-run.ts')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });

  it('stays quiet on a failed run: the error reaches the caller, without a red [E:onnxruntime] line first', () => {
    const quiet = failingRun({ BERT_COMPRESS_ORT_LOG_LEVEL: '' });
    expect(quiet.stdout).toMatch(/^failed: .*MatMul/);
    expect(quiet.stderr).not.toMatch(/\[E:onnxruntime/);
    const loud = failingRun({ BERT_COMPRESS_ORT_LOG_LEVEL: '3' });
    expect(loud.stdout).toMatch(/^failed: .*MatMul/);
    expect(loud.stderr).toMatch(/\[E:onnxruntime/);
  });

  it('is fatal only unless BERT_COMPRESS_ORT_LOG_LEVEL names a level 0-4; any other value is refused in one line', () => {
    expect(ortLogLevel({})).toBe(4);
    expect(ortLogLevel({ BERT_COMPRESS_ORT_LOG_LEVEL: '' })).toBe(4);
    expect(ortLogLevel({ BERT_COMPRESS_ORT_LOG_LEVEL: '0' })).toBe(0);
    expect(ortLogLevel({ BERT_COMPRESS_ORT_LOG_LEVEL: ' 3 ' })).toBe(3);
    // (an integer read as every integer typed is, --threads 3.0's: these were refused)
    for (const three of ['3.0', '+3', '3e0', '03']) expect(ortLogLevel({ BERT_COMPRESS_ORT_LOG_LEVEL: three })).toBe(3);
    expect(Object.is(ortLogLevel({ BERT_COMPRESS_ORT_LOG_LEVEL: '-0' }), 0)).toBe(true);
    // (the value shown as every refused value of an environment variable is, HF_HUB_ETAG_TIMEOUT's: a number bare, other text quoted)
    for (const [bad, shown] of [
      ['verbose', "'verbose'"],
      ['7', '7'],
      [' -1 ', '-1'],
      ['0.5', '0.5'],
      ['0x1', "'0x1'"],
      ['1e-400', '1e-400'],
      ['4.5', '4.5'],
      ['1_0', "'1_0'"],
    ]) {
      expect(() => ortLogLevel({ BERT_COMPRESS_ORT_LOG_LEVEL: bad })).toThrow(
        new UsageError(`BERT_COMPRESS_ORT_LOG_LEVEL ${shown}: expected 0 (verbose), 1 (info), 2 (warning), 3 (error) or 4 (fatal only, as when unset)`),
      );
    }
  });
});
