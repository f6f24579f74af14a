/** Data a hostile user hands to evaluation: refused in one line naming file:line, never silently accepted. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { loadSplit } from '../../src/glue/dataset.ts';
import { readTsv } from '../../src/glue/tsv.ts';
import { COLA, SST2, STSB } from '../../src/glue/tasks.ts';

function glueWith(path: string, data: string | Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'glue-hostile-'));
  mkdirSync(join(dir, path, '..'), { recursive: true });
  writeFileSync(join(dir, path), data);
  return dir;
}

const sts = (score: string) => glueWith('STS-B/dev.tsv', `sentence1\tsentence2\tscore\na b\tc d\t3.800\ne f\tg h\t${score}\n`);

describe('STS-B scores', () => {
  it('accepts the scores GLUE writes, 0 to 5', () => {
    for (const score of ['0', '0.000', '5.000', '2.5', '4']) expect(loadSplit(STSB, 'dev', sts(score)).examples[1]!.label).toBe(Number(score));
  });

  // (Infinity and NaN are numbers to Python's float(), which Hugging Face's loader reads scores by)
  it.each(['5.2', '-0.4', '17', '1e3', 'Infinity', 'NaN'])('refuses %s, outside [0, 5]', (score) => {
    expect(() => loadSplit(STSB, 'dev', sts(score))).toThrow(DataError);
    expect(() => loadSplit(STSB, 'dev', sts(score))).toThrow(/STS-B\/dev\.tsv:3: label .* is outside STS-B's scores \[0, 5\]/);
  });

  it.each(['0x3', '', ' ', '3,5', '2.5.1', 'four'])('refuses %j, not a decimal number', (score) => {
    expect(() => loadSplit(STSB, 'dev', sts(score))).toThrow(/STS-B\/dev\.tsv:3: label '.*' is not a number/);
  });
});

describe('TSV text', () => {
  it('refuses invalid UTF-8, naming the line', () => {
    const bytes = Buffer.concat([Buffer.from('sentence\tlabel\ngood\t1\nbad '), Buffer.from([0xc3, 0x28]), Buffer.from('\t0\nfine\t1\n')]);
    const dir = glueWith('SST-2/dev.tsv', bytes);
    expect(() => readTsv(join(dir, 'SST-2/dev.tsv'))).toThrow(DataError);
    expect(() => loadSplit(SST2, 'dev', dir)).toThrow(/SST-2\/dev\.tsv:3: not valid UTF-8 text/);
  });

  it('still reads UTF-8 text with multi-byte characters and a byte-order mark', () => {
    const dir = glueWith('SST-2/dev.tsv', '\ufeffsentence\tlabel\ncafé — naïve 映画\t1\n');
    expect(loadSplit(SST2, 'dev', dir).examples[0]!.textA).toBe('café — naïve 映画');
  });
});

describe('files without examples', () => {
  it('refuses a dev file with only its header (not "the model has 0 outputs" later)', () => {
    expect(() => loadSplit(SST2, 'dev', glueWith('SST-2/dev.tsv', 'sentence\tlabel\n'))).toThrow(/SST-2\/dev\.tsv: no examples \(only a header line\)/);
  });

  it('refuses an empty headerless file', () => {
    expect(() => loadSplit(COLA, 'dev', glueWith('CoLA/dev.tsv', ''))).toThrow(/CoLA\/dev\.tsv: no examples$/);
  });
});
