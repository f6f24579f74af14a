/**
 * A GLUE file whose example count is not the official split's (a dev file replaced by the train file, a test file cut
 * short) still evaluates, but eval says so: its scores do not compare with published GLUE scores, and the GLUE server
 * takes no submission of another length.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/eval/evaluate.ts';
import { toReport } from '../../src/eval/report.ts';
import { loadSplit, officialRowsNote } from '../../src/glue/dataset.ts';
import { GLUE_TASKS, SST2 } from '../../src/glue/tasks.ts';
import { saveModel } from '../../src/onnx/index.ts';
import { GLUE_DIR, hasGlue } from '../helpers/paths.ts';
import { tinyBert } from '../helpers/models.ts';

const root = mkdtempSync(join(tmpdir(), 'official-rows-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('officialRowsNote', () => {
  it("names a dev file with the train file's count, and a cut test file", () => {
    const glue = join(root, 'glue');
    mkdirSync(join(glue, 'SST-2'), { recursive: true });
    const rows = (n: number, label: boolean) =>
      [label ? 'sentence\tlabel' : 'index\tsentence', ...Array.from({ length: n }, (_, i) => (label ? `a b\t${i % 2}` : `${i}\ta b`))].join('\n') + '\n';
    writeFileSync(join(glue, 'SST-2', 'dev.tsv'), rows(67349, true));
    writeFileSync(join(glue, 'SST-2', 'test.tsv'), rows(100, false));
    expect(officialRowsNote(loadSplit(SST2, 'dev', glue))).toBe(
      `SST-2 dev: ${join(glue, 'SST-2', 'dev.tsv')} has 67349 examples where GLUE's has 872 (the train file?), so its scores do not compare with published GLUE dev scores`,
    );
    expect(officialRowsNote(loadSplit(SST2, 'test', glue))).toBe(
      `SST-2 test: ${join(glue, 'SST-2', 'test.tsv')} has 100 examples where GLUE's has 1821: the GLUE server takes no submission of a different length`,
    );
    // (a file of one example, a smoke test's: counted as one, as every count in messages)
    writeFileSync(join(glue, 'SST-2', 'dev.tsv'), rows(1, true));
    expect(officialRowsNote(loadSplit(SST2, 'dev', glue))).toBe(
      `SST-2 dev: ${join(glue, 'SST-2', 'dev.tsv')} has 1 example where GLUE's has 872, so its scores do not compare with published GLUE dev scores`,
    );
  });

  it.skipIf(!hasGlue)('says nothing for any file of the GLUE release in ../shared/glue', () => {
    for (const task of GLUE_TASKS) {
      for (const split of ['train', 'dev', 'test'] as const) {
        const file = task.splits[split];
        if (!file || !existsSync(join(GLUE_DIR, file.path))) continue;
        expect(officialRowsNote(loadSplit(task, split, GLUE_DIR)), `${task.name} ${split}`).toBeUndefined();
      }
    }
  });
});

describe('evaluate', () => {
  it('warns about a cut test file in the result and the JSON report, and still writes the submission', async () => {
    const words = ['good', 'bad', 'film'];
    const model = join(root, 'model');
    mkdirSync(model, { recursive: true });
    saveModel(tinyBert(), join(model, 'model.onnx'));
    writeFileSync(join(model, 'config.json'), JSON.stringify({ num_labels: 2, max_length: 16 }));
    writeFileSync(join(model, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words].join('\n') + '\n');
    const glue = join(root, 'glue-test');
    mkdirSync(join(glue, 'SST-2'), { recursive: true });
    writeFileSync(join(glue, 'SST-2', 'test.tsv'), 'index\tsentence\n0\tgood film\n1\tbad film\n');
    const out = join(root, 'submission');
    const r = await evaluate({ model, tasks: ['SST-2'], glueDir: glue, split: 'test', submissionDir: out, threads: 1 });
    expect(r.warnings).toEqual([expect.stringMatching(/^SST-2 test: .*test\.tsv has 2 examples where GLUE's has 1821: the GLUE server takes no submission/)]);
    expect(toReport(r).warnings).toEqual(r.warnings);
    expect(readFileSync(join(out, 'SST-2.tsv'), 'utf8').split('\n')).toHaveLength(4);
  });
});
