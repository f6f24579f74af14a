/**
 * A tokenizer.json's BertNormalizer as transformers loads it for a BERT, DistilBERT or ELECTRA tokenizer class: its
 * fast tokenizer's `__init__` takes do_lower_case, strip_accents and tokenize_chinese_chars from tokenizer_config.json,
 * each defaulting (True, None, True) where the config leaves it out, and rebuilds the normalizer of all three where any
 * differs from the file's (4.x tokenization_bert_fast.py and its copies; 5.x's BertTokenizer builds its BertNormalizer
 * of the same three). So a cased tokenizer.json beside a config naming no do_lower_case (or with no
 * tokenizer_config.json, the class read from config.json's model_type) lower-cases; another class, or none known,
 * reads the file's settings where the config gives none.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { SPECIALS, tokenizerJson, wordPieceModel } from '../helpers/tokenizer-json.ts';

const root = mkdtempSync(join(tmpdir(), 'tokenizer-config-defaults-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// (good 5, Good 6, cafe 7, café 8, 中 9, 文 10, 中文 11)
const VOCAB = [...SPECIALS, 'good', 'Good', 'cafe', 'café', '中', '文', '中文'];
/** A cased tokenizer.json: no lower-casing, no accents stripped, Chinese characters not split apart. */
const CASED = tokenizerJson(VOCAB, {
  normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: false, strip_accents: false, lowercase: false },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  model: wordPieceModel(VOCAB),
});
const TEXT = 'Good café 中文';
/** The ids of TEXT as the file's normalizer gives them, and as the class's defaults do (lower-cased, accents stripped, 中 文 apart). */
const FILES = [2, 6, 8, 11, 3];
const DEFAULTS = [2, 5, 7, 9, 10, 3];

let n = 0;
/** The ids of TEXT from a folder of CASED beside these tokenizer_config.json and config.json (none where undefined). */
function ids(tokenizerConfig: object | undefined, modelConfig: object | undefined): number[] {
  const dir = join(root, String(n++));
  mkdirSync(dir);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(CASED));
  if (tokenizerConfig) writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
  if (modelConfig) writeFileSync(join(dir, 'config.json'), JSON.stringify(modelConfig));
  return [...loadTokenizer(dir).encode(TEXT, null, 16).ids];
}

describe("a cased tokenizer.json's BertNormalizer, tokenizer_config.json leaving its settings out", () => {
  it('lower-cases, strips accents and splits Chinese characters for a BERT, DistilBERT or ELECTRA class (named, or by model_type with no tokenizer_config.json), as transformers loads it', () => {
    expect(ids({ tokenizer_class: 'BertTokenizer' }, undefined)).toEqual(DEFAULTS);
    expect(ids({ tokenizer_class: 'BertTokenizerFast' }, undefined)).toEqual(DEFAULTS);
    expect(ids({}, { model_type: 'bert' })).toEqual(DEFAULTS);
    for (const type of ['bert', 'distilbert', 'electra']) expect([type, ids(undefined, { model_type: type })]).toEqual([type, DEFAULTS]);
    expect(ids(undefined, { model_type: 'roberta', tokenizer_class: 'ElectraTokenizer' })).toEqual(DEFAULTS);
  });

  it("does so for the classes whose 4.x fast tokenizers copy BertTokenizerFast's (MobileBERT's, SqueezeBERT's, Funnel's, LayoutLM's) or are one (ConvBERT's)", () => {
    for (const name of ['MobileBertTokenizer', 'SqueezeBertTokenizerFast', 'FunnelTokenizer', 'LayoutLMTokenizerFast', 'ConvBertTokenizer'])
      expect([name, ids({ tokenizer_class: name }, undefined)]).toEqual([name, DEFAULTS]);
    expect(ids({ tokenizer_class: 'MobileBertTokenizer', do_lower_case: false, strip_accents: false, tokenize_chinese_chars: false }, undefined)).toEqual(
      FILES,
    );
  });

  it("does so for a folder naming no class whose config.json's model_type loads BertTokenizerFast or one of those classes in transformers 4.x (ERNIE's, Megatron-BERT's, MobileBERT's, Funnel's …); a class named is read as named", () => {
    for (const type of ['ernie', 'megatron-bert', 'nezha', 'mobilebert', 'squeezebert', 'funnel', 'layoutlm', 'convbert'])
      expect([type, ids(undefined, { model_type: type })]).toEqual([type, DEFAULTS]);
    expect(ids({}, { model_type: 'mobilebert' })).toEqual(DEFAULTS);
    expect(ids({ do_lower_case: false, strip_accents: false, tokenize_chinese_chars: false }, { model_type: 'ernie' })).toEqual(FILES);
    expect(ids({ tokenizer_class: 'BertJapaneseTokenizer' }, { model_type: 'mobilebert' })).toEqual(FILES);
    expect(ids(undefined, { model_type: 'gpt2' })).toEqual(FILES);
  });

  it("does so for 4.x's DPR tokenizers (BertTokenizerFasts) and REALM's and LXMERT's (copies of its __init__), named or by model_type", () => {
    for (const name of ['DPRQuestionEncoderTokenizer', 'DPRContextEncoderTokenizerFast', 'DPRReaderTokenizer', 'RealmTokenizer', 'LxmertTokenizerFast'])
      expect([name, ids({ tokenizer_class: name }, undefined)]).toEqual([name, DEFAULTS]);
    for (const type of ['dpr', 'realm', 'lxmert']) expect([type, ids(undefined, { model_type: type })]).toEqual([type, DEFAULTS]);
    expect(ids({ tokenizer_class: 'DPRReaderTokenizer', do_lower_case: false, strip_accents: false, tokenize_chinese_chars: false }, undefined)).toEqual(FILES);
  });

  it("does so for 4.x's RetriBertTokenizerFast (a copy of BertTokenizerFast's __init__ in models/deprecated), named or by model_type retribert", () => {
    for (const name of ['RetriBertTokenizer', 'RetriBertTokenizerFast']) expect([name, ids({ tokenizer_class: name }, undefined)]).toEqual([name, DEFAULTS]);
    expect(ids(undefined, { model_type: 'retribert' })).toEqual(DEFAULTS);
    expect(ids({ tokenizer_class: 'RetriBertTokenizerFast', do_lower_case: false, strip_accents: false, tokenize_chinese_chars: false }, undefined)).toEqual(
      FILES,
    );
  });

  it("sets all three as the config gives them and the class's defaults the rest, where one differs: do_lower_case false keeps case and accents (strip_accents none follows it) and splits Chinese characters", () => {
    expect(ids({ tokenizer_class: 'BertTokenizer', do_lower_case: false }, undefined)).toEqual([2, 6, 8, 9, 10, 3]);
    expect(ids({ do_lower_case: false, strip_accents: true }, { model_type: 'bert' })).toEqual([2, 6, 7, 9, 10, 3]);
    expect(ids({ tokenizer_class: 'BertTokenizer', do_lower_case: false, strip_accents: false, tokenize_chinese_chars: false }, undefined)).toEqual(FILES);
  });

  it("lower-cases and strips accents for MPNet's class (named, Fast or not, or by model_type mpnet), as 4.x's MPNetTokenizerFast rebuilds it of do_lower_case and strip_accents alone: the file's handle_chinese_chars kept whatever the config says, nothing rebuilt where those two agree with the file's", () => {
    const MPNET = [2, 5, 7, 11, 3];
    for (const [config, model] of [
      [{ tokenizer_class: 'MPNetTokenizer' }, undefined],
      [{ tokenizer_class: 'MPNetTokenizerFast' }, undefined],
      [undefined, { model_type: 'mpnet' }],
    ] as const)
      expect(ids(config, model)).toEqual(MPNET);
    expect(ids({ tokenizer_class: 'MPNetTokenizer', tokenize_chinese_chars: true }, undefined)).toEqual(MPNET);
    expect(ids({ tokenizer_class: 'MPNetTokenizer', do_lower_case: false, strip_accents: false, tokenize_chinese_chars: true }, undefined)).toEqual(FILES);
    expect(ids({ tokenizer_class: 'MPNetTokenizer', do_lower_case: false }, undefined)).toEqual([2, 6, 8, 11, 3]);
  });

  it("is the file's where the class rebuilds no normalizer (PreTrainedTokenizerFast, RoBERTa's) or none is known (no class named, no model_type)", () => {
    expect(ids({ tokenizer_class: 'PreTrainedTokenizerFast' }, undefined)).toEqual(FILES);
    // (PreTrainedTokenizerFast reads the file as it is whatever the config says: 4.x sets no normalizer, 5.x loads the file)
    expect(ids({ tokenizer_class: 'PreTrainedTokenizerFast', do_lower_case: true, tokenize_chinese_chars: true }, { model_type: 'bert' })).toEqual(FILES);
    expect(ids(undefined, { model_type: 'roberta' })).toEqual(FILES);
    expect(ids({}, undefined)).toEqual(FILES);
    expect(ids(undefined, undefined)).toEqual(FILES);
  });
});

describe('a tokenizer_config.json setting of a BERT class that is not true or false (strip_accents null too)', () => {
  /** A folder of CASED with its lowercase, strip_accents and handle_chinese_chars set to `file`'s, beside `tokenizerConfig`. */
  function folder(tokenizerConfig: object, file: { lowercase: boolean; strip_accents: boolean | null; handle_chinese_chars: boolean }): string {
    const dir = join(root, String(n++));
    mkdirSync(dir);
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ ...CASED, normalizer: { ...(CASED.normalizer as object), ...file } }));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'BertTokenizer', ...tokenizerConfig }));
    return dir;
  }
  const cased = { lowercase: false, strip_accents: false, handle_chinese_chars: false };
  const lowerCasing = { lowercase: true, strip_accents: null, handle_chinese_chars: true };

  it('is refused in one line naming the file where transformers rebuilds the normalizer of it, which it cannot (4.x: the value differs from the file\'s by Python\'s ==; a string "false" never equals, null never a boolean)', () => {
    for (const [config, file, setting, got] of [
      [{ do_lower_case: 'false' }, cased, 'do_lower_case', 'string "false"'],
      [{ do_lower_case: 'false' }, lowerCasing, 'do_lower_case', 'string "false"'],
      [{ do_lower_case: null }, lowerCasing, 'do_lower_case', 'null'],
      [{ do_lower_case: 0 }, lowerCasing, 'do_lower_case', 'number 0'],
      [{ do_lower_case: false, strip_accents: 'no', tokenize_chinese_chars: false }, cased, 'strip_accents', 'string "no"'],
      [{ tokenize_chinese_chars: [] }, lowerCasing, 'tokenize_chinese_chars', 'a list'],
    ] as const) {
      const dir = folder(config, file);
      const choices = setting === 'strip_accents' ? 'true, false, null' : 'true, false';
      expect(() => loadTokenizer(dir)).toThrow(
        `${join(dir, 'tokenizer_config.json')}: ${setting}: expected one of ${choices} (transformers' BertTokenizerFast builds its BertNormalizer of it), got ${got}`,
      );
    }
  });

  it("leaves the file's normalizer where a number equals the file's setting by Python's == (0 == False, 1 == True) and the others agree, as 4.x then rebuilds nothing", () => {
    const read = (dir: string) => [...loadTokenizer(dir).encode(TEXT, null, 16).ids];
    expect(read(folder({ do_lower_case: 0, strip_accents: false, tokenize_chinese_chars: 0 }, cased))).toEqual(FILES);
    expect(read(folder({ do_lower_case: 1, tokenize_chinese_chars: 1.0 }, lowerCasing))).toEqual(DEFAULTS);
  });

  it('is refused in one line for a folder of vocab.txt alone too, whose BertNormalizer transformers builds of the setting as it converts the slow tokenizer (which fails on it; a string "false" was read as lower-casing); true, false and none read as before', () => {
    const vocabFolder = (tokenizerConfig: object) => {
      const dir = join(root, String(n++));
      mkdirSync(dir);
      writeFileSync(join(dir, 'vocab.txt'), `${VOCAB.join('\n')}\n`);
      writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'BertTokenizer', ...tokenizerConfig }));
      return dir;
    };
    for (const [config, setting, got] of [
      [{ do_lower_case: 'false' }, 'do_lower_case', 'string "false"'],
      [{ do_lower_case: null }, 'do_lower_case', 'null'],
      [{ do_lower_case: 0 }, 'do_lower_case', 'number 0'],
      [{ strip_accents: 'no' }, 'strip_accents', 'string "no"'],
      [{ tokenize_chinese_chars: 1 }, 'tokenize_chinese_chars', 'number 1'],
    ] as const) {
      const dir = vocabFolder(config);
      const choices = setting === 'strip_accents' ? 'true, false, null' : 'true, false';
      expect(() => loadTokenizer(dir)).toThrow(
        `${join(dir, 'tokenizer_config.json')}: ${setting}: expected one of ${choices} (transformers' fast tokenizer of vocab.txt builds its BertNormalizer of it), got ${got}`,
      );
    }
    const read = (dir: string) => [...loadTokenizer(dir).encode(TEXT, null, 16).ids];
    expect(read(vocabFolder({}))).toEqual(DEFAULTS);
    expect(read(vocabFolder({ do_lower_case: false, strip_accents: null, tokenize_chinese_chars: false }))).toEqual(FILES);
  });

  it("reads MPNet's class as 4.x's MPNetTokenizerFast does: do_lower_case 1 beside a lower-casing file (1 == True) rebuilds nothing; 0, \"true\" or 1 beside a cased file is refused, as tokenizers' BertNormalizer takes no number or string; its tokenize_chinese_chars is never read", () => {
    const mpnet = (tokenizerConfig: object, file: { lowercase: boolean; strip_accents: boolean | null; handle_chinese_chars: boolean }) => {
      const dir = folder({}, file);
      writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'MPNetTokenizer', ...tokenizerConfig }));
      return dir;
    };
    const read = (dir: string) => [...loadTokenizer(dir).encode(TEXT, null, 16).ids];
    expect(read(mpnet({ do_lower_case: 1 }, lowerCasing))).toEqual(DEFAULTS);
    expect(read(mpnet({ do_lower_case: false, strip_accents: false, tokenize_chinese_chars: 'no' }, cased))).toEqual(FILES);
    for (const [config, file, got] of [
      [{ do_lower_case: 0 }, lowerCasing, 'number 0'],
      [{ do_lower_case: 'true' }, lowerCasing, 'string "true"'],
      [{ do_lower_case: 1 }, cased, 'number 1'],
    ] as const) {
      const dir = mpnet(config, file);
      expect(() => loadTokenizer(dir)).toThrow(
        `${join(dir, 'tokenizer_config.json')}: do_lower_case: expected one of true, false (transformers' MPNetTokenizerFast builds its BertNormalizer of it), got ${got}`,
      );
    }
  });
});

describe('a config.json model_type null', () => {
  it("is refused naming the key where tokenizer_config.json names no class, as AutoTokenizer's AutoConfig refuses it; read where it names one", () => {
    const refusal = (tokenizerConfig: object | undefined, modelConfig: object) => {
      const dir = join(root, String(n));
      try {
        ids(tokenizerConfig, modelConfig);
      } catch (e) {
        return (e as Error).message;
      }
      return `${dir}: read`;
    };
    for (const [tokenizerConfig, modelConfig] of [
      [undefined, { model_type: null }],
      [{}, { model_type: null }],
      [{ tokenizer_class: '' }, { model_type: null }],
      // (config.json's own tokenizer_class is not read: AutoConfig fails first)
      [undefined, { model_type: null, tokenizer_class: 'BertTokenizer' }],
    ] as const) {
      const dir = join(root, String(n));
      expect(refusal(tokenizerConfig, modelConfig)).toBe(
        `${join(dir, 'config.json')}: model_type: null, where tokenizer_config.json names no tokenizer_class: transformers' AutoTokenizer reads the tokenizer's class from config.json's model_type and refuses null (a model type None it does not recognize); write the model's type (e.g. "bert") or tokenizer_config.json's tokenizer_class`,
      );
    }
    expect(ids({ tokenizer_class: 'BertTokenizer' }, { model_type: null })).toEqual(DEFAULTS);
    // (model_type left out: no class known, the file's settings, as before)
    expect(ids(undefined, {})).toEqual(FILES);
  });
});
