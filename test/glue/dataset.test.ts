import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError, SettingsError } from '../../src/errors.ts';
import { loadSplit, skippedRowsNote } from '../../src/glue/dataset.ts';
import { AX, COLA, MNLI_M, MNLI_MM, QQP, SST2, STSB } from '../../src/glue/tasks.ts';

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
    expect(() => loadSplit(SST2, 'dev', dir)).toThrow(/SST-2\/dev\.tsv:3: label '2' is not one of 0, 1 \(or negative, positive\)$/);
  });

  it("reads a class label as Hugging Face's GLUE loader does: a label name as written, else Python's int() of it (' 1', '+1', '01', '1\u00a0', '１'), where a label with a space was refused", () => {
    const sst = glueWith('SST-2/dev.tsv', 'sentence\tlabel\na\t 1\nb\t0 \nc\t+1\nd\t01\ne\tpositive\nf\t1\u00a0\ng\t\uff11\nh\t-0\n');
    expect(loadSplit(SST2, 'dev', sst).examples.map((e) => e.label)).toEqual([1, 0, 1, 1, 1, 1, 1, 0]);
    const mnli = glueWith('MNLI/dev_matched.tsv', 'index\tsentence1\tsentence2\tgold_label\n0\ta\tb\tcontradiction\n1\ta\tb\t 1\n');
    expect(loadSplit(MNLI_M, 'dev', mnli).examples.map((e) => e.label)).toEqual([2, 1]);
    // (what int() refuses, or an index past the names, stays refused: a name with a space is no name)
    for (const [bad, why] of [
      [' positive', "' positive' is not one of 0, 1 \\(or negative, positive\\)"],
      ['1.0', "'1.0' is not one"],
      ['1__0', "'1__0' is not one"],
      ['_1', "'_1' is not one"],
      ['\ufeff1', "'\ufeff1' is not one"],
      // (int() takes U+001C to U+001F as ASCII, no whitespace, though str.isspace says they are)
      ['1\x1c', "\\$'1\\\\x1c' is not one"],
      ['\x1f0', "\\$'\\\\x1f0' is not one"],
      ['-1', "'-1' is not one"],
    ]) {
      const dir = glueWith('SST-2/dev.tsv', `sentence\tlabel\na\t${bad}\n`);
      expect(() => loadSplit(SST2, 'dev', dir)).toThrow(new RegExp(`dev\\.tsv:2: label ${why}`));
    }
  });

  it("leaves out a row whose class label is empty, as Hugging Face's GLUE loader does (int(label) if label else None, a corrupted row), with a note naming its lines, where the whole file was refused; an empty STS-B score, a label of spaces and a file of empty labels stay refused", () => {
    const sst = loadSplit(SST2, 'dev', glueWith('SST-2/dev.tsv', 'sentence\tlabel\na\t1\nb\t\nc\t0\n'));
    // (an example's id is its row's position in the file, as the loader's idx)
    expect(sst.examples.map((e) => [e.id, e.textA, e.label])).toEqual([
      ['0', 'a', 1],
      ['2', 'c', 0],
    ]);
    expect(sst.skipped).toEqual([3]);
    expect(skippedRowsNote(sst)).toMatch(
      /^SST-2 dev: \S*SST-2\/dev\.tsv: 1 row with an empty label left out \(line 3\), as Hugging Face's GLUE loader leaves them out$/,
    );
    const cola = loadSplit(COLA, 'dev', glueWith('CoLA/dev.tsv', 'gj04\t1\t\tFine.\ngj04\t\t\tNone.\ngj04\t0\t*\tBad.\n'));
    expect(cola.examples.map((e) => e.label)).toEqual([1, 0]);
    const mnli = loadSplit(MNLI_M, 'dev', glueWith('MNLI/dev_matched.tsv', 'index\tsentence1\tsentence2\tgold_label\n0\ta\tb\t\n1\ta\tb\tneutral\n'));
    expect(mnli.examples.map((e) => [e.id, e.label])).toEqual([['1', 1]]);
    // (past five lines, the first five and how many more, as every capped list in a message)
    const many = loadSplit(SST2, 'dev', glueWith('SST-2/dev.tsv', `sentence\tlabel\na\t1\n${'b\t\n'.repeat(7)}`));
    expect(skippedRowsNote(many)).toMatch(/: 7 rows with an empty label left out \(lines 3, 4, 5, 6, 7, … \(2 more\)\), as Hugging Face's/);
    expect(skippedRowsNote(loadSplit(SST2, 'dev', glueWith('SST-2/dev.tsv', 'sentence\tlabel\na\t1\n')))).toBeUndefined();
    expect(() => loadSplit(SST2, 'dev', glueWith('SST-2/dev.tsv', 'sentence\tlabel\na\t \n'))).toThrow(/dev\.tsv:2: label ' ' is not one of/);
    expect(() => loadSplit(SST2, 'dev', glueWith('SST-2/dev.tsv', 'sentence\tlabel\na\t\nb\t\n'))).toThrow(
      /dev\.tsv: no examples \(every row's label is empty\)$/,
    );
    expect(() => loadSplit(STSB, 'dev', glueWith('STS-B/dev.tsv', 'sentence1\tsentence2\tscore\na\tb\t\n'))).toThrow(
      /STS-B\/dev\.tsv:2: label '' is not a number/,
    );
  });

  it("quotes a label holding a quote or a control character as a shell takes it (quotedText: 'it'\\''s', $'3.8\\x1f'), where plain quotes showed 'it's'", () => {
    const quote = glueWith('MNLI/dev_matched.tsv', "index\tsentence1\tsentence2\tgold_label\n0\ta\tb\tit's\n");
    expect(() => loadSplit(MNLI_M, 'dev', quote)).toThrow(/dev_matched\.tsv:2: label 'it'\\''s' is not one of entailment, /);
    const score = glueWith('STS-B/dev.tsv', "sentence1\tsentence2\tscore\na\tb\tfive'\n");
    expect(() => loadSplit(STSB, 'dev', score)).toThrow(/STS-B\/dev\.tsv:2: label 'five'\\''' is not a number$/);
  });

  it('rejects an unknown MNLI label name', () => {
    const dir = glueWith('MNLI/dev_matched.tsv', 'index\tsentence1\tsentence2\tgold_label\n0\ta\tb\tentails\n');
    expect(() => loadSplit(MNLI_M, 'dev', dir)).toThrow(/dev_matched\.tsv:2: label 'entails' is not one of entailment, neutral, contradiction \(or 0, 1, 2\)$/);
  });

  it('rejects a non-numeric STS-B score', () => {
    const dir = glueWith('STS-B/dev.tsv', 'sentence1\tsentence2\tscore\na\tb\tfive\n');
    expect(() => loadSplit(STSB, 'dev', dir)).toThrow(/STS-B\/dev\.tsv:2: label 'five' is not a number/);
    // (float() strips the whitespace int() strips: not U+001C to U+001F)
    expect(loadSplit(STSB, 'dev', glueWith('STS-B/dev.tsv', 'sentence1\tsentence2\tscore\na\tb\t 3.8\u00a0\n')).examples[0]!.label).toBeCloseTo(3.8);
    const separator = glueWith('STS-B/dev.tsv', 'sentence1\tsentence2\tscore\na\tb\t3.8\x1f\n');
    expect(() => loadSplit(STSB, 'dev', separator)).toThrow(/STS-B\/dev\.tsv:2: label \$'3\.8\\x1f' is not a number/);
  });

  it("reads an STS-B score as Hugging Face's GLUE loader does (numpy's float32(), Python's float() of the text: '1_0', Unicode digits, 'inf', 'nan'), where each was refused as no number; infinity and not-a-number are outside the scores", () => {
    const scores = (...labels: string[]) =>
      loadSplit(STSB, 'dev', glueWith('STS-B/dev.tsv', `sentence1\tsentence2\tscore\n${labels.map((l) => `a\tb\t${l}\n`).join('')}`)).examples.map(
        (e) => e.label,
      );
    expect(scores('0_5', '\u0663.\u0665', '.2_5', '1.e0', ' +4.0\u3000', '5E-0_0')).toEqual([5, 3.5, 0.25, 1, 4, 5]);
    for (const [bad, why] of [
      ['inf', "label inf is outside STS-B's scores \\[0, 5\\]"],
      ['-Infinity', "label -Infinity is outside STS-B's scores"],
      ['NaN', "label NaN is outside STS-B's scores"],
      ['1e500', "label 1e500 is outside STS-B's scores"],
      ['1_0', "label 1_0 is outside STS-B's scores"],
      // (what float() refuses stays refused)
      ['1__0', "label '1__0' is not a number"],
      ['_1', "label '_1' is not a number"],
      ['1_', "label '1_' is not a number"],
      ['1_.5', "label '1_.5' is not a number"],
      ['0x1', "label '0x1' is not a number"],
      ['infin', "label 'infin' is not a number"],
      ['1,5', "label '1,5' is not a number"],
    ]) {
      const dir = glueWith('STS-B/dev.tsv', `sentence1\tsentence2\tscore\na\tb\t${bad}\n`);
      expect(() => loadSplit(STSB, 'dev', dir)).toThrow(new RegExp(`STS-B/dev\\.tsv:2: ${why}`));
    }
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

/** A GLUE folder holding the given files. */
function glueWithFiles(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'glue-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const row = (...fields: string[]) => `${fields.join('\t')}\n`;

describe("the official GLUE files' layouts (../shared holds 4-column MNLI and 3-column QQP reconstructions)", () => {
  it('reads MNLI dev (16 columns), train (12) and test (10) by header name, the text and gold_label, not label1', () => {
    const parse = ['( ( The cat ) ( sat . ) )', '( ( A cat ) sat )', '(ROOT (S (NP The cat) (VP sat) (. .)))', '(ROOT (S (NP A cat) (VP sat)))'];
    const front = ['index', 'promptID', 'pairID', 'genre', 'sentence1_binary_parse', 'sentence2_binary_parse', 'sentence1_parse', 'sentence2_parse'];
    const dir = glueWithFiles({
      'MNLI/dev_matched.tsv':
        row(...front, 'sentence1', 'sentence2', 'label1', 'label2', 'label3', 'label4', 'label5', 'gold_label') +
        row(
          '0',
          '63735',
          '63735n',
          'slate',
          ...parse,
          'The cat sat.',
          'A "cat" sat',
          'neutral',
          'contradiction',
          'contradiction',
          'neutral',
          'contradiction',
          'contradiction',
        ),
      'MNLI/dev_mismatched.tsv':
        row(...front, 'sentence1', 'sentence2', 'label1', 'label2', 'label3', 'label4', 'label5', 'gold_label') +
        row(
          '7',
          '75290',
          '75290c',
          'letters',
          ...parse,
          'Your gift',
          'You gave',
          'contradiction',
          'entailment',
          'entailment',
          'entailment',
          'entailment',
          'entailment',
        ),
      'MNLI/train.tsv':
        row(...front, 'sentence1', 'sentence2', 'label1', 'gold_label') + row('0', '31193', '31193n', 'government', ...parse, 'P', 'H', 'neutral', 'neutral'),
      'MNLI/test_matched.tsv': row(...front, 'sentence1', 'sentence2') + row('0', '31493', '31493', 'travel', ...parse, 'Tp', 'Th'),
    });
    expect(loadSplit(MNLI_M, 'dev', dir).examples).toEqual([{ id: '0', textA: 'The cat sat.', textB: 'A "cat" sat', label: 2 }]);
    expect(loadSplit(MNLI_MM, 'dev', dir).examples).toEqual([{ id: '7', textA: 'Your gift', textB: 'You gave', label: 0 }]);
    expect(loadSplit(MNLI_M, 'train', dir).examples).toEqual([{ id: '0', textA: 'P', textB: 'H', label: 1 }]);
    expect(loadSplit(MNLI_M, 'test', dir).examples).toEqual([{ id: '0', textA: 'Tp', textB: 'Th', label: null }]);
  });

  it('reads QQP dev (id, qid1, qid2, question1, question2, is_duplicate) and test (id, question1, question2), ids from the id column', () => {
    const dir = glueWithFiles({
      'QQP/dev.tsv': row('id', 'qid1', 'qid2', 'question1', 'question2', 'is_duplicate') + row('201359', '303345', '303346', 'Why?', 'Why not?', '1'),
      'QQP/test.tsv': row('id', 'question1', 'question2') + row('0', 'How?', 'What?'),
    });
    expect(loadSplit(QQP, 'dev', dir).examples).toEqual([{ id: '201359', textA: 'Why?', textB: 'Why not?', label: 1 }]);
    expect(loadSplit(QQP, 'test', dir).examples).toEqual([{ id: '0', textA: 'How?', textB: 'What?', label: null }]);
  });

  it('reads STS-B dev (10 columns) and test (9, no score)', () => {
    const front = ['index', 'genre', 'filename', 'year', 'old_index', 'source1', 'source2'];
    const dir = glueWithFiles({
      'STS-B/dev.tsv':
        row(...front, 'sentence1', 'sentence2', 'score') +
        row('0', 'main-captions', 'MSRvid', '2012test', '0000', 'none', 'none', 'A man', 'A person', '5.000'),
      'STS-B/test.tsv': row(...front, 'sentence1', 'sentence2') + row('0', 'main-news', 'headlines', '2016', '0001', 'none', 'none', 'X', 'Y'),
    });
    expect(loadSplit(STSB, 'dev', dir).examples).toEqual([{ id: '0', textA: 'A man', textB: 'A person', label: 5 }]);
    expect(loadSplit(STSB, 'test', dir).examples).toEqual([{ id: '0', textA: 'X', textB: 'Y', label: null }]);
  });
});
