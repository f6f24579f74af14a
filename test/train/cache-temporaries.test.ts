/**
 * A distill killed (SIGKILL, out of memory) while it writes a cache file, the teacher's logits or the augmented
 * examples (seconds for a large task), leaves the file's temporary in the cache folder. The rerun of that command
 * writes the same cache file: it removes what a dead writer left for that file, as a model's writer does, instead
 * of the cache folder keeping a copy of the file's bytes for each killed run. A run that reads the cache removes
 * what dead writers left of any file there too: the killed run's rerun may use other settings (another cache file),
 * or another run (a sweep's other worker) may have written the file meanwhile, which the rerun then only reads.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { augmentCacheFile, augmentedSet } from '../../src/train/augment.ts';
import { wordVocab } from '../../src/train/augment-words.ts';
import { loadTrainingSet } from '../../src/train/data.ts';
import { teacherCacheFile, teacherCacheKey, teacherLogits } from '../../src/train/teacher-cache.ts';
import { GLUE_DIR, TEACHERS } from '../helpers/paths.ts';

const TEACHER = join(TEACHERS, 'sst2-L2H256');
const ready = existsSync(join(GLUE_DIR, 'SST-2', 'dev.tsv')) && existsSync(join(TEACHER, 'model.onnx'));

const tmp = mkdtempSync(join(tmpdir(), 'bert-compress-cache-temporaries-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The temporary a writer killed while writing `file` leaves (its pid gone, unwritten for an hour). */
function deadWritersTemporary(file: string): string {
  const pid = spawnSync(process.execPath, ['-e', '']).pid!; // (exited: no process has that pid now)
  const left = `${file}.${pid}.k1ll3d.tmp`;
  mkdirSync(dirname(left), { recursive: true });
  writeFileSync(left, 'half a cache file');
  const hourAgo = new Date(Date.now() - 3_600_000);
  utimesSync(left, hourAgo, hourAgo);
  return left;
}

/** augmentedSet's options for a tiny set, cached in `cacheDir`. */
function augmentOptions(cacheDir: string) {
  return {
    examples: [{ textA: 'a fine film' }],
    tokenizer: wordVocab(['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'a', 'fine', 'film', 'good']),
    embeddings: { vocabSize: 8, width: 2, data: Float32Array.from({ length: 16 }, (_, i) => Math.sin(i + 1)) },
    n: 2,
    seed: 1,
    threads: 1,
    cacheDir,
  };
}

describe('cache files written again after a killed write', () => {
  it.skipIf(!ready)("the teacher's logits: the dead writer's temporary is removed (needs ../shared)", async () => {
    const cacheDir = join(tmp, 'logits');
    const set = loadTrainingSet({ task: 'SST-2', split: 'dev', glueDir: GLUE_DIR, tokenizer: TEACHER, modelConfig: TEACHER, maxExamples: 16 });
    const file = teacherCacheFile(cacheDir, await teacherCacheKey(join(TEACHER, 'model.onnx'), set));
    const left = deadWritersTemporary(file);
    await teacherLogits({ teacherPath: TEACHER, set, cacheDir, batchSize: 16, threads: 1 });
    expect(existsSync(file)).toBe(true);
    expect(existsSync(left)).toBe(false);
  });

  it('the augmented examples: the dead writer’s temporary is removed', async () => {
    const o = augmentOptions(join(tmp, 'augment'));
    const { file } = await augmentedSet(o);
    rmSync(file);
    const left = deadWritersTemporary(file);
    expect((await augmentedSet(o)).cached).toBe(false);
    expect(existsSync(file)).toBe(true);
    expect(existsSync(left)).toBe(false);
  });

  it.skipIf(!ready)("the teacher's logits read from the cache: dead writers' temporaries of its files are removed (needs ../shared)", async () => {
    const cacheDir = join(tmp, 'logits-read');
    const set = loadTrainingSet({ task: 'SST-2', split: 'dev', glueDir: GLUE_DIR, tokenizer: TEACHER, modelConfig: TEACHER, maxExamples: 8 });
    const o = { teacherPath: TEACHER, set, cacheDir, batchSize: 8, threads: 1 };
    await teacherLogits(o);
    const file = teacherCacheFile(cacheDir, await teacherCacheKey(join(TEACHER, 'model.onnx'), set));
    const left = [deadWritersTemporary(file), deadWritersTemporary(teacherCacheFile(cacheDir, 'f'.repeat(64)))];
    const lines: string[] = [];
    await teacherLogits({ ...o, log: (l: string) => lines.push(l) });
    expect(lines.join('\n')).toMatch(/\(cached\)/);
    expect(left.filter((f) => existsSync(f))).toEqual([]);
  });

  it('the augmented examples read from the cache: dead writers’ temporaries of its files are removed', async () => {
    const cacheDir = join(tmp, 'augment-read');
    const o = augmentOptions(cacheDir);
    const first = await augmentedSet(o);
    const left = [deadWritersTemporary(first.file), deadWritersTemporary(augmentCacheFile(cacheDir, 'f'.repeat(64)))];
    const again = await augmentedSet(o);
    expect(again.cached).toBe(true);
    expect(left.filter((f) => existsSync(f))).toEqual([]);
  });
});
