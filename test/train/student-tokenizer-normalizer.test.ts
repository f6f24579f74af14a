/**
 * A student written beside a copy of its teacher's tokenizer files whose teacher has no tokenizer class known (its
 * config.json names no model_type and no class): the teacher's cased tokenizer.json BertNormalizer is read as the file
 * says, where the student's model_type bert would load it as BertTokenizer, which rebuilds it of its defaults (a cased
 * file lower-cased, as transformers' BertTokenizerFast does): its config.json names PreTrainedTokenizerFast, which reads
 * the file's, so that the student tokenizes as its teacher did.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { tokenizerReadingVersion } from '../../src/eval/tokenizer-reading.ts';
import { writeOutputSideFiles } from '../../src/train/output-folder.ts';
import { tokenizerJson, wordPieceModel } from '../helpers/tokenizer-json.ts';

const root = mkdtempSync(join(tmpdir(), 'bc-student-normalizer-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'good', 'Good', 'cafe', 'café'];
let n = 0;
/** A teacher folder of a `lowercase` BertNormalizer beside `tokenizerConfig` (none where undefined) and a config.json of no model_type. */
function teacher(lowercase: boolean, tokenizerConfig?: object): string {
  const dir = join(root, `teacher-${n++}`);
  mkdirSync(dir);
  const normalizer = { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase };
  writeFileSync(
    join(dir, 'tokenizer.json'),
    JSON.stringify(tokenizerJson(VOCAB, { normalizer, pre_tokenizer: { type: 'BertPreTokenizer' }, model: wordPieceModel(VOCAB) })),
  );
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ num_labels: 2 }));
  if (tokenizerConfig) writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
  return dir;
}

/** The student folder written of `dir`'s tokenizer files: its config.json's tokenizer_class and its ids of a text, beside the teacher's. */
function student(dir: string): { named: unknown; ids: number[]; teacherIds: number[] } {
  const out = join(dir, 'student', 'model.onnx');
  writeOutputSideFiles(out, { model_type: 'bert', num_labels: 2 }, dir);
  const ids = (folder: string) => [...loadTokenizer(folder).encode('Good café', null, 16).ids];
  return { named: JSON.parse(readFileSync(join(dir, 'student', 'config.json'), 'utf8')).tokenizer_class, ids: ids(join(dir, 'student')), teacherIds: ids(dir) };
}

describe('a bert student of a teacher of no tokenizer class known', () => {
  it("names PreTrainedTokenizerFast where BertTokenizer would lower-case the teacher's cased tokenizer.json, and tokenizes as the teacher (the same reading version)", () => {
    for (const config of [undefined, { model_max_length: 16 }, { tokenize_chinese_chars: true }]) {
      const dir = teacher(false, config);
      const { named, ids, teacherIds } = student(dir);
      expect([config, named, ids]).toEqual([config, 'PreTrainedTokenizerFast', [2, 6, 8, 3]]);
      expect(ids).toEqual(teacherIds);
      expect(tokenizerReadingVersion(join(dir, 'student'), false)).toBe(tokenizerReadingVersion(dir, false));
    }
  });

  it('names nothing where BertTokenizer reads it as the teacher does (a lower-casing file; a config saying do_lower_case, whose defaults fill the rest as the file has them)', () => {
    for (const [lowercase, config] of [
      [true, undefined],
      [false, { do_lower_case: true }],
      [false, { do_lower_case: false }],
    ] as const) {
      const { named, ids, teacherIds } = student(teacher(lowercase, config));
      expect([lowercase, config, named]).toEqual([lowercase, config, undefined]);
      expect(ids).toEqual(teacherIds);
    }
  });
});
