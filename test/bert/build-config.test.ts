import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BERT_BASE,
  bertConfig,
  configFromHuggingFace,
  configToHuggingFace,
  countParameters,
  headSize,
  validateBertConfig,
  type BertConfig,
} from '../../src/bert/config.ts';
import { SettingsError } from '../../src/errors.ts';
import { TEACHERS, hasTeachers } from '../helpers/paths.ts';

describe('BertConfig validation', () => {
  it('accepts bert-base and knows its size', () => {
    expect(validateBertConfig({ ...BERT_BASE })).toEqual(BERT_BASE);
    expect(headSize(BERT_BASE)).toBe(64);
    expect(countParameters(BERT_BASE)).toBe(109_483_778); // BertForSequenceClassification(bert-base-uncased, 2 labels)
  });

  const bad: Array<[Partial<BertConfig>, string]> = [
    [{ hiddenSize: 770 }, 'BERT config: hiddenSize (770) is not divisible by numHeads (12)'],
    [{ numHeads: 0 }, 'BERT config: numHeads: expected an integer from 1 to 2^53 − 1, got number 0'],
    [{ numLayers: -1 }, 'BERT config: numLayers: expected an integer from 0 to 2^53 − 1, got number -1'],
    [{ intermediateSize: 1.5 }, 'BERT config: intermediateSize: expected an integer from 1 to 2^53 − 1, got number 1.5'],
    [{ vocabSize: '30522' as unknown as number }, 'BERT config: vocabSize: expected an integer from 1 to 2^53 − 1, got string "30522"'],
    [{ maxPositions: NaN }, 'BERT config: maxPositions: expected an integer from 1 to 2^53 − 1, got number NaN'],
    [{ numLabels: 0 }, 'BERT config: numLabels: expected an integer from 1 to 2^53 − 1, got number 0'],
    [{ activation: 'swish' as 'gelu' }, 'BERT config: activation: expected one of gelu, gelu_tanh, relu, silu, quick_gelu, tanh, got string "swish"'],
    [{ layerNormEps: 0 }, 'BERT config: layerNormEps: expected a number greater than 0, got number 0'],
    // (the one number wording, as every number flag and setting's: 'a number greater than 0')
    [{ layerNormEps: -1e-12 }, 'BERT config: layerNormEps: expected a number greater than 0, got number -1e-12'],
    [{ id2label: ['a', 'b', 'c'] }, 'BERT config: id2label has 3 labels but numLabels is 2'],
    [
      { problemType: 'ranking' as 'regression' },
      'BERT config: problemType: expected one of regression, single_label_classification, multi_label_classification, got string "ranking"',
    ],
  ];
  for (const [overrides, message] of bad)
    it(`refuses ${JSON.stringify(overrides)} with a one-line SettingsError`, () => {
      const run = () => bertConfig(overrides);
      expect(run).toThrow(SettingsError);
      expect(run).toThrow(message);
      try {
        run();
      } catch (e) {
        expect((e as Error).message).toBe(message);
        expect((e as Error).message).not.toContain('\n');
      }
    });

  it('allows 0 layers', () => {
    expect(bertConfig({ numLayers: 0 }).numLayers).toBe(0);
  });
});

describe('Hugging Face config.json', () => {
  it('reads every field, with labels and problem type', () => {
    const c = configFromHuggingFace({
      model_type: 'bert',
      vocab_size: 1000,
      hidden_size: 64,
      num_hidden_layers: 3,
      num_attention_heads: 4,
      intermediate_size: 128,
      hidden_act: 'gelu_new',
      max_position_embeddings: 128,
      type_vocab_size: 1,
      layer_norm_eps: 1e-5,
      id2label: { 1: 'yes', 0: 'no', 2: 'maybe' },
      problem_type: 'single_label_classification',
    });
    expect(c).toEqual({
      numLayers: 3,
      hiddenSize: 64,
      numHeads: 4,
      intermediateSize: 128,
      vocabSize: 1000,
      maxPositions: 128,
      typeVocabSize: 1,
      numLabels: 3,
      activation: 'gelu_tanh',
      layerNormEps: 1e-5,
      id2label: ['no', 'yes', 'maybe'],
      problemType: 'single_label_classification',
    });
  });

  it('takes transformers’ defaults for left-out keys (num_labels 2, bert-base sizes)', () => {
    expect(configFromHuggingFace({})).toEqual({ ...BERT_BASE });
    expect(configFromHuggingFace({ num_labels: 1, problem_type: 'regression' }).numLabels).toBe(1);
  });

  it('maps hidden_act names', () => {
    const act = (hidden_act: string) => configFromHuggingFace({ hidden_act }).activation;
    expect(act('gelu')).toBe('gelu');
    expect(act('gelu_pytorch_tanh')).toBe('gelu_tanh');
    // transformers' AccurateGELUActivation computes gelu_new's formula (0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))))
    expect(act('gelu_accurate')).toBe('gelu_tanh');
    expect(configFromHuggingFace({ model_type: 'distilbert', activation: 'gelu_accurate' }).activation).toBe('gelu_tanh');
    expect(act('relu')).toBe('relu');
    expect(act('silu')).toBe('silu');
    expect(act('swish')).toBe('silu');
    expect(() => act('mish')).toThrow(
      'config.json: hidden_act: expected one of gelu, gelu_python, gelu_new, gelu_pytorch_tanh, gelu_fast, gelu_accurate, relu, silu, swish, quick_gelu, tanh, got string "mish"',
    );
    // names of Object.prototype are no activations (they read as a function: "got function Object() { [native code] }")
    for (const name of ['constructor', 'toString'])
      expect(() => act(name)).toThrow(
        `config.json: hidden_act: expected one of gelu, gelu_python, gelu_new, gelu_pytorch_tanh, gelu_fast, gelu_accurate, relu, silu, swish, quick_gelu, tanh, got string "${name}"`,
      );
    expect(() => configFromHuggingFace({ model_type: 'distilbert', activation: 'constructor' })).toThrow(
      'config.json: activation: expected one of gelu, gelu_python, gelu_new, gelu_pytorch_tanh, gelu_fast, gelu_accurate, relu, silu, swish, quick_gelu, tanh, got string "constructor"',
    );
  });

  it('names the config.json key and the file in errors', () => {
    expect(() => configFromHuggingFace({ hidden_size: 100, num_attention_heads: 3 }, 'x/config.json')).toThrow(
      new SettingsError('x/config.json: hidden_size (100) is not divisible by num_attention_heads (3)'),
    );
    expect(() => configFromHuggingFace({ num_hidden_layers: 'twelve' })).toThrow(
      'config.json: num_hidden_layers: expected an integer from 0 to 2^53 − 1, got string "twelve"',
    );
    expect(() => configFromHuggingFace({ model_type: 'gpt2' })).toThrow(
      'config.json: model_type: expected one of bert, distilbert, roberta, xlm-roberta, camembert, electra, albert (those supported), got string "gpt2"',
    );
    // (null is no model_type left out, which reads as bert: transformers' AutoConfig looks null up among its model
    // types, CONFIG_MAPPING[None], and refuses it, 'has model type `None` but Transformers does not recognize this
    // architecture'; it was read as bert)
    expect(() => configFromHuggingFace({ model_type: null })).toThrow(
      new SettingsError(
        'config.json: model_type: expected one of bert, distilbert, roberta, xlm-roberta, camembert, electra, albert (those supported), got null',
      ),
    );
    expect(() => configFromHuggingFace({ position_embedding_type: 'relative_key' })).toThrow(
      'config.json: position_embedding_type: expected \'absolute\' (the one supported), got string "relative_key"',
    );
    // null is not left out: transformers' BertEmbeddings adds position embeddings only for 'absolute' (none for null)
    for (const model_type of ['bert', 'roberta', 'electra', 'albert'])
      expect(() => configFromHuggingFace({ model_type, position_embedding_type: null })).toThrow(
        new SettingsError(
          "config.json: position_embedding_type: null, with which transformers adds no position embeddings (only 'absolute' adds them, the one supported): give 'absolute' or leave the key out",
        ),
      );
    expect(configFromHuggingFace({ position_embedding_type: 'absolute' })).toEqual(configFromHuggingFace({}));
    // a null size, activation or epsilon is not left out either: transformers' config keeps None, and the model then
    // fails (ACT2FN[None], LayerNorm's eps None, nn.Embedding of None rows): refused naming the key, not read as the default
    const nulls: Array<[Record<string, unknown>, string, string]> = [
      [{}, 'hidden_act', "'gelu'"],
      [{}, 'layer_norm_eps', '1e-12'],
      [{}, 'num_hidden_layers', '12'],
      [{ model_type: 'albert' }, 'hidden_act', "'gelu_new'"],
      [{ model_type: 'albert' }, 'embedding_size', '128'],
      [{ model_type: 'distilbert' }, 'activation', "'gelu'"],
      [{ model_type: 'distilbert' }, 'dim', '768'],
      [{ model_type: 'roberta' }, 'pad_token_id', '1'],
      [{ model_type: 'roberta' }, 'vocab_size', '50265'],
      [{ model_type: 'electra' }, 'embedding_size', '128'],
      // (no id2label: transformers' num_labels setter runs range(None))
      [{}, 'num_labels', '2'],
      [{ model_type: 'roberta' }, 'num_labels', '2'],
    ];
    for (const [json, key, fallback] of nulls)
      expect(() => configFromHuggingFace({ ...json, [key]: null })).toThrow(
        new SettingsError(
          `config.json: ${key}: null, which transformers keeps as None, not as its default (${fallback}), and then fails to build or run the model: give a value or leave the key out`,
        ),
      );
    // beside an id2label, transformers pops num_labels unread: null stays accepted, the labels id2label's
    expect(configFromHuggingFace({ num_labels: null, id2label: { 0: 'a', 1: 'b', 2: 'c' } }).numLabels).toBe(3);
    expect(() => configFromHuggingFace({ id2label: { 0: 'a', 2: 'b' } })).toThrow("id2label keys must be the label ids 0..1 (got '2')");
    expect(() => configFromHuggingFace([1, 2])).toThrow('config.json: not a JSON object');
  });

  it("refuses in one line a value that is an object, one with a key named like a JavaScript built-in ('toString') too", () => {
    // (String() of {"toString": 1} throws: the refusal itself failed with 'Cannot convert object to primitive value')
    // (each shown as every refusal shows a value it got: valueAndKind's 'a mapping', where model_type, hidden_act and
    // position_embedding_type wrote it as JSON)
    for (const v of [{ toString: 1 }, { valueOf: 1, toString: 2 }, { a: 1 }]) {
      for (const [json, message] of [
        [{ model_type: v }, `config.json: model_type: expected one of ${'bert'}`],
        [{ hidden_act: v }, 'config.json: hidden_act: expected one of gelu'],
        [{ model_type: 'distilbert', activation: v }, 'config.json: activation: expected one of gelu'],
        [{ hidden_size: v }, `config.json: hidden_size: expected an integer from 1 to 2^53 − 1, got an object`],
        [{ layer_norm_eps: v }, 'config.json: layer_norm_eps: expected a number greater than 0, got an object'],
        [{ position_embedding_type: v }, "config.json: position_embedding_type: expected 'absolute' (the one supported), got a mapping"],
        [{ problem_type: v }, 'config.json: problem_type: expected one of '],
      ] as const) {
        let err: unknown;
        try {
          configFromHuggingFace(json);
        } catch (e) {
          err = e;
        }
        expect(err, JSON.stringify(json)).toBeInstanceOf(SettingsError);
        expect((err as Error).message).toContain(message);
      }
    }
  });

  it('dispatches on model_type: the other families read with their own keys and defaults', () => {
    const tiny = { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, vocab_size: 100 };
    expect(configFromHuggingFace({ model_type: 'bert', ...tiny })).not.toHaveProperty('family');
    expect(configFromHuggingFace({ model_type: 'distilbert', dim: 32, n_layers: 2, n_heads: 4, hidden_dim: 64, vocab_size: 100 })).toEqual({
      ...configFromHuggingFace({ ...tiny, layer_norm_eps: 1e-12 }),
      typeVocabSize: 1,
      family: 'distilbert',
    });
    const roberta = { ...tiny, type_vocab_size: 1, max_position_embeddings: 514, layer_norm_eps: 1e-5, pad_token_id: 1 };
    expect(configFromHuggingFace({ model_type: 'roberta', ...roberta })).toEqual({ ...configFromHuggingFace(roberta), family: 'roberta', padTokenId: 1 });
    expect(configFromHuggingFace({ model_type: 'xlm-roberta', ...roberta, pad_token_id: 0 }).padTokenId).toBe(0);
    expect(configFromHuggingFace({ model_type: 'electra', ...tiny, embedding_size: 16 })).toEqual({
      ...configFromHuggingFace(tiny),
      family: 'electra',
      embeddingSize: 16,
    });
    expect(configFromHuggingFace({ model_type: 'electra', ...tiny, embedding_size: 32 })).toEqual({ ...configFromHuggingFace(tiny), family: 'electra' });
    expect(() => configFromHuggingFace({ model_type: 'distilbert', n_layers: -1 }, 'x/config.json')).toThrow(
      'x/config.json: n_layers: expected an integer from 0 to 2^53 − 1, got number -1',
    );
  });

  it('round-trips through configToHuggingFace', () => {
    const c = bertConfig({ numLayers: 2, activation: 'gelu_tanh', numLabels: 3, id2label: ['a', 'b', 'c'], problemType: 'multi_label_classification' });
    const json = configToHuggingFace(c);
    expect(json).toMatchObject({
      architectures: ['BertForSequenceClassification'],
      model_type: 'bert',
      num_hidden_layers: 2,
      hidden_act: 'gelu_new',
      id2label: { 0: 'a', 1: 'b', 2: 'c' },
      label2id: { a: 0, b: 1, c: 2 },
      problem_type: 'multi_label_classification',
    });
    expect(configFromHuggingFace(JSON.parse(JSON.stringify(json)))).toEqual(c);
    const plain = configToHuggingFace(bertConfig({ numLabels: 2 }));
    expect(plain.id2label).toEqual({ 0: 'LABEL_0', 1: 'LABEL_1' });
  });

  it.skipIf(!hasTeachers)('reads the teachers’ config.json files (needs ../shared/teachers)', () => {
    const sst2 = configFromHuggingFace(JSON.parse(readFileSync(join(TEACHERS, 'sst2-L4H256', 'config.json'), 'utf8')));
    expect(sst2).toMatchObject({ numLayers: 4, hiddenSize: 256, numHeads: 4, intermediateSize: 1024, numLabels: 2, id2label: ['negative', 'positive'] });
    const stsb = configFromHuggingFace(JSON.parse(readFileSync(join(TEACHERS, 'stsb-L4H256', 'config.json'), 'utf8')));
    expect(stsb.numLabels).toBe(1);
  });
});
