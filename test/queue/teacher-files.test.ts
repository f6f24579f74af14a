/**
 * A queued point whose teacher is a file in an onnx/ folder (DIR/onnx/model.onnx, Optimum's and transformers.js's
 * layout) ships DIR's config.json and tokenizer with it, as training reads them there: a worker without the
 * coordinator's folders gets the same teacher folder.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256File } from '../../src/files.ts';
import { pointFiles } from '../../src/queue/files.ts';
import type { SweepPoint } from '../../src/sweep/plan.ts';
import { saveModel } from '../../src/onnx/index.ts';
import { tinyBert } from '../helpers/models.ts';

const root = mkdtempSync(join(tmpdir(), 'queue-teacher-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("a queued point's teacher in an onnx/ folder", () => {
  it('lists the folder above onnx/ with its config.json and tokenizer files', async () => {
    const teacher = join(root, 'teacher');
    mkdirSync(join(teacher, 'onnx'), { recursive: true });
    for (const f of ['config.json', 'vocab.txt']) writeFileSync(join(teacher, f), f);
    saveModel(tinyBert(), join(teacher, 'onnx', 'model.onnx'), { externalData: true, dataFile: 'model.onnx_data' });
    const model = join(root, 'student');
    mkdirSync(model);
    writeFileSync(join(model, 'model.onnx'), 'student');
    const glue = join(root, 'glue');
    mkdirSync(glue);
    writeFileSync(join(glue, 'train.tsv'), 'sentence\tlabel\n');
    const point = {
      model: { onnx: join(model, 'model.onnx'), dir: model },
      tasks: [],
      glueDir: glue,
      calibration: null,
      training: { steps: [{ data: { file: join(glue, 'train.tsv') }, teacher: join(teacher, 'onnx', 'model.onnx') }] },
    } as unknown as SweepPoint;
    const trees = await pointFiles(point, sha256File);
    const byRoot = new Map(trees.map((tree) => [tree.root, tree.files.map((f) => f.path)]));
    expect(byRoot.get(teacher)).toEqual(['config.json', 'onnx/model.onnx', 'onnx/model.onnx_data', 'vocab.txt']);
  });
});
