/**
 * A distillation run hashes its teacher's .onnx once: the teacher-logits cache's key takes the run's memoized hash
 * (teacherLogits' hashFile), which the lineage and the checkpoints' identity read too, where the cache key read the
 * whole file and hashed it a second time (a BERT-large's 1.34 GB: about 3 s each). The key is unchanged.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { memoizedSha256, sha256Bytes, sha256File } from '../../src/files.ts';
import { saveModel } from '../../src/onnx/index.ts';
import type { TrainingSet } from '../../src/train/data.ts';
import { runTraining } from '../../src/train/run.ts';
import { teacherCacheKey } from '../../src/train/teacher-cache.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

// (every hash of a file, by path or by its bytes, counted: a memoized hash hashes through the counted sha256File)
vi.mock('../../src/files.ts', async (importOriginal) => {
  const files = await importOriginal<typeof import('../../src/files.ts')>();
  const sha256File = vi.fn(files.sha256File);
  const memoizedSha256 = () => {
    const hashes = new Map<string, Promise<string>>();
    return (file: string) => {
      if (!hashes.has(file)) hashes.set(file, sha256File(file));
      return hashes.get(file)!;
    };
  };
  return { ...files, sha256File, memoizedSha256, sha256Bytes: vi.fn(files.sha256Bytes) };
});

const work = mkdtempSync(join(tmpdir(), 'bert-compress-teacher-hashed-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** How many times the file at `path` was hashed since the counts were cleared: by path, or as its whole bytes. */
function hashesOf(path: string): number {
  const bytes = statSync(path).size;
  const byPath = vi.mocked(sha256File).mock.calls.filter(([file]) => file === path).length;
  const byBytes = vi.mocked(sha256Bytes).mock.calls.filter(([parts]) => [...parts].length === 1 && [...parts][0]!.byteLength === bytes).length;
  return byPath + byBytes;
}

describe('the teacher of a distillation run', () => {
  it('is hashed once for the teacher-logits key, the lineage and the checkpoints', async () => {
    const glueDir = join(work, 'glue');
    writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
    const teacher = writeModelFolder(join(work, 'teacher'), tinyBert({}, { seed: 1 }));
    vi.mocked(sha256File).mockClear();
    vi.mocked(sha256Bytes).mockClear();
    const settings = { epochs: 1, batchSize: 4, threads: 1, dropout: 0 };
    const output = join(work, 'student', 'model.onnx');
    const run = { task: 'SST-2', glueDir, settings, cacheDir: join(work, 'cache'), log: () => {} };
    const { lineage } = await runTraining({ ...run, student: 'every-other', teacher, distill: {}, output });
    expect(hashesOf(join(teacher, 'model.onnx'))).toBe(1);
    expect(lineage!.teacher?.sha256).toBe(sha256Bytes([readFileSync(join(teacher, 'model.onnx'))]));
  });

  it("keys the teacher-logits cache by the hash given, as by the file's own", async () => {
    const file = join(work, 'external', 'model.onnx');
    saveModel(tinyBert({}, { seed: 2 }), file, { externalData: true });
    const set = { sha256: 'synthetic', maxLength: 16 } as TrainingSet;
    const hash = memoizedSha256();
    const key = await teacherCacheKey(file, set, hash);
    expect(key).toBe(await teacherCacheKey(file, set));
    vi.mocked(sha256File).mockClear();
    await Promise.all([hash(file), hash(`${file}.data`)]);
    expect(vi.mocked(sha256File).mock.calls).toEqual([]); // (both already hashed for the key)
  });
});
