import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError, SettingsError } from '../../src/errors.ts';
import { loadSplit } from '../../src/glue/dataset.ts';
import { AX, COLA, MNLI_M, SST2, STSB } from '../../src/glue/tasks.ts';

/** A GLUE folder holding one file. */
function glueWith(path: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'glue-'));
  mkdirSync(join(dir, path, '..'), { recursive: true });
  writeFileSync(join(dir, path), text);
  return dir;
}

describe('loadSplit errors', () => {
  it('rejects a label outside the task labels, naming file:line', () => {
    const dir = glueWith('SST-2/dev.tsv', 'sentence\tlabel\ngood\t1\nbad\t2\n');
    expect(() => loadSplit(SST2, 'dev', dir)).toThrow(DataError);
    expect(() => loadSplit(SST2, 'dev', dir)).toThrow(/SST-2\/dev\.tsv:3: label '2' is not one of 0, 1$/);
  });

  it('rejects an unknown MNLI label name', () => {
    const dir = glueWith('MNLI/dev_matched.tsv', 'index\tsentence1\tsentence2\tgold_label\n0\ta\tb\tentails\n');
    expect(() => loadSplit(MNLI_M, 'dev', dir)).toThrow(/dev_matched\.tsv:2: label 'entails' is not one of entailment, neutral, contradiction/);
  });

  it('rejects a non-numeric STS-B score', () => {
    const dir = glueWith('STS-B/dev.tsv', 'sentence1\tsentence2\tscore\na\tb\tfive\n');
    expect(() => loadSplit(STSB, 'dev', dir)).toThrow(/STS-B\/dev\.tsv:2: label 'five' is not a number/);
  });

  it('rejects a file without the text column, naming it', () => {
    const dir = glueWith('SST-2/dev.tsv', 'text\tlabel\ngood\t1\n');
    expect(() => loadSplit(SST2, 'dev', dir)).toThrow(/missing column 'sentence'/);
  });

  it('rejects a CoLA row with too few fields', () => {
    const dir = glueWith('CoLA/dev.tsv', 'gj04\t1\t\tFine.\ngj04\t1\tShort.');
    expect(() => loadSplit(COLA, 'dev', dir)).toThrow(/CoLA\/dev\.tsv:2: expected 4 tab-separated fields/);
  });

  it('names a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'glue-'));
    expect(() => loadSplit(SST2, 'dev', dir)).toThrow(/SST-2\/dev\.tsv: file not found/);
    // (the split read for training, as eval names a dev file: which GLUE file, and where the folder is set)
    expect(() => loadSplit(SST2, 'train', dir)).toThrow(/^\S*SST-2\/train\.tsv: file not found \(GLUE SST-2 train; set --glue-dir or GLUE_DIR\)$/);
  });

  it('refuses a split the task does not have', () => {
    expect(() => loadSplit(AX, 'dev', '/nowhere')).toThrow(SettingsError);
  });

  it('uses the row position as id when the file has no id column', () => {
    const dir = glueWith('SST-2/dev.tsv', 'sentence\tlabel\ngood\t1\nbad\t0\n');
    expect(loadSplit(SST2, 'dev', dir).examples.map((e) => e.id)).toEqual(['0', '1']);
  });
});
