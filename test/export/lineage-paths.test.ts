/**
 * Lineage sidecars name their sources (a compress input, a distill teacher) by a path that resolves from any folder:
 * absolute, where the path as given on the command line was relative to the folder the run started in, so bench,
 * following the chain from elsewhere, missed it. An older sidecar's relative path is found from the folder the run
 * started in (as before) or, failing that, from the sidecar's own folder.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { benchSubject } from '../../src/bench/inputs.ts';
import { buildBert } from '../../src/bert/build.ts';
import { compressFile } from '../../src/export/compress.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { TINY_CONFIG, tinyBert } from '../helpers/models.ts';

registerAllPasses();
const work = mkdtempSync(join(tmpdir(), 'bert-compress-lineage-paths-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('lineage source paths', () => {
  it("compress records its input, and distill its teacher, by absolute path when given relative to the process's folder", async () => {
    const dir = writeModelFolder(join(work, 'm'), tinyBert());
    const given = relative(process.cwd(), join(dir, 'model.onnx'));
    expect(isAbsolute(given)).toBe(false);
    const output = join(work, 'out', 'q.onnx');
    const lineage = await compressFile({ input: given, output, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] });
    expect(lineage.input.path).toBe(join(dir, 'model.onnx'));
    expect(JSON.parse(readFileSync(`${output}.json`, 'utf8')).input.path).toBe(join(dir, 'model.onnx'));

    const glueDir = join(work, 'glue');
    writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
    const trained = join(work, 'student', 'model.onnx');
    await runTraining({
      task: 'SST-2',
      glueDir,
      output: trained,
      student: 'every-other',
      teacher: relative(process.cwd(), dir),
      distill: {},
      settings: { epochs: 1, batchSize: 4, threads: 1 },
      cacheDir: join(work, 'cache'),
      log: () => {},
    });
    expect(JSON.parse(readFileSync(`${trained}.json`, 'utf8')).teacher.path).toBe(dir);
  });

  it("bench borrows the structure of the input an older sidecar names relative to its own folder (the run's folder)", () => {
    const base = writeModelFolder(join(work, 'old', 'base'), tinyBert());
    const noLayers = writeModelFolder(join(work, 'old', 'cut'), buildBert({ ...TINY_CONFIG, numLayers: 0 }, { kind: 'random', seed: 1 }));
    const path = join(noLayers, 'model.onnx');
    // (written by a run started in the cut folder: its input as given from there)
    writeFileSync(`${path}.json`, JSON.stringify({ input: { path: relative(noLayers, join(base, 'model.onnx')) } }));
    expect(benchSubject(path).structure?.inputs.inputIds).toBe('input_ids');
  });
});
