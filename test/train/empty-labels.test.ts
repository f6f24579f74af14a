/**
 * Training on GLUE files with rows of an empty class label (left out, as Hugging Face's GLUE loader leaves them out)
 * says so in eval's line (skippedRowsNote), for the train file and the dev file each epoch is scored on.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

const work = mkdtempSync(join(tmpdir(), 'bert-compress-empty-labels-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Empties the label of the file's given lines (1-based, the header line 1). */
function emptyLabels(file: string, lines: readonly number[]): void {
  const rows = readFileSync(file, 'utf8').split('\n');
  for (const line of lines) rows[line - 1] = rows[line - 1]!.replace(/\t[01]$/, '\t');
  writeFileSync(file, rows.join('\n'));
}

describe('train on a GLUE file with rows of an empty label', () => {
  it('says which rows of the train and dev files it leaves out, in one line each, as eval says it', async () => {
    const glueDir = join(work, 'glue');
    writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
    emptyLabels(join(glueDir, 'SST-2', 'train.tsv'), [3, 5]);
    emptyLabels(join(glueDir, 'SST-2', 'dev.tsv'), [4]);
    const lines: string[] = [];
    const result = await runTraining({
      task: 'SST-2',
      student: writeModelFolder(join(work, 'student'), tinyBert({}, { seed: 3 })),
      glueDir,
      output: join(work, 'out', 'model.onnx'),
      settings: { epochs: 1, batchSize: 4, threads: 1, dropout: 0 },
      log: (line: string) => lines.push(line),
    });
    expect(result.lineage!.epochs).toHaveLength(1);
    const notes = lines.filter((l) => l.includes('empty label'));
    expect(notes).toEqual([
      `warning: SST-2 train: ${join(glueDir, 'SST-2', 'train.tsv')}: 2 rows with an empty label left out (lines 3, 5), as Hugging Face's GLUE loader leaves them out`,
      `warning: SST-2 dev: ${join(glueDir, 'SST-2', 'dev.tsv')}: 1 row with an empty label left out (line 4), as Hugging Face's GLUE loader leaves them out`,
    ]);
  });
});
