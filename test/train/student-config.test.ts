/** The config.json a trained student's folder gets: sizes of the student, pruned heads in Hugging Face's form. */
import { describe, expect, it } from 'vitest';
import { canonicalBert } from '../../src/bert/canonical.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { bertStudent, everyOtherStudent, scratchStudent, teacherShape } from '../../src/train/students/index.ts';
import { SettingsError } from '../../src/errors.ts';
import { buildBert } from '../../src/bert/build.ts';
import { tinyBert, tinyBertConfig } from '../helpers/models.ts';
import { toFloat16 } from '../helpers/float16.ts';
import { FAMILY_JSONS } from '../helpers/family-folders.ts';

describe('student config.json', () => {
  const source = { id2label: { 0: 'negative', 1: 'positive' }, num_attention_heads: 4, pruned_heads: { 1: [3] } };

  it("a student with every head: the full count, and no source's pruned_heads", () => {
    const c = bertStudent(canonicalBert(tinyBert()), 'tiny').configJson(source);
    expect(c).toMatchObject({ num_hidden_layers: 2, hidden_size: 32, num_attention_heads: 4, intermediate_size: 64, id2label: source.id2label });
    expect(JSON.parse(JSON.stringify(c))).not.toHaveProperty('pruned_heads');
    expect(everyOtherStudent(canonicalBert(tinyBert())).configJson({})).toMatchObject({ num_hidden_layers: 1, num_attention_heads: 4 });
  });

  it('heads pruned unevenly or evenly: num_attention_heads = hidden / head size, pruned_heads per layer (transformers builds the same shapes)', async () => {
    registerAllPasses();
    const uneven = (await runPipeline(tinyBert(), [{ pass: 'prune-heads', settings: { heads: { 0: [0, 1, 2] } } }])).model;
    expect(bertStudent(canonicalBert(uneven), 'uneven').configJson({})).toMatchObject({ num_attention_heads: 4, pruned_heads: { 0: [1, 2, 3] } });
    const even = (await runPipeline(tinyBert(), [{ pass: 'prune-heads', settings: { heads: { 0: [0, 1], 1: [2, 3] } } }])).model;
    const c = bertStudent(canonicalBert(even), 'even').configJson({}) as { hidden_size: number; num_attention_heads: number };
    expect(c).toMatchObject({ num_attention_heads: 4, pruned_heads: { 0: [2, 3], 1: [2, 3] } });
    expect(c.hidden_size / c.num_attention_heads).toBe(8); // the head width in both pruned models
  });

  it("shared layers (ALBERT): pruned_heads keyed by parameter group, as transformers' AlbertModel prunes them", () => {
    const layer = { numHeads: 2, intermediateSize: 64 };
    const config = {
      ...tinyBertConfig({ numLayers: 4 }),
      family: 'albert' as const,
      embeddingSize: 16,
      layerGroups: [0, 0, 1, 1],
      attentionHeadSize: 8,
      layers: [layer, layer, layer, layer],
    };
    const c = bertStudent(canonicalBert(buildBert(config, { kind: 'random', seed: 1 })), 'albert').configJson({});
    expect(c).toMatchObject({ num_hidden_layers: 4, num_attention_heads: 4, pruned_heads: { 0: [2, 3], 1: [2, 3] } });
    expect(Object.keys((c as { pruned_heads: object }).pruned_heads)).toEqual(['0', '1']);
  });
});

describe('bert:… students with sizes left out', () => {
  const teacher = teacherShape(tinyBert({ numLayers: 2, hiddenSize: 32, numHeads: 4, intermediateSize: 64 }));

  it('take layers and hidden from the teacher, heads = hidden / 64 rounded (at least 1), intermediate = 4 × hidden', () => {
    expect(scratchStudent(teacher, 'bert:', 1).description).toBe('BERT 2×32 (1 head, FFN 128) from scratch');
    expect(scratchStudent(teacher, 'bert:layers=1,hidden=128', 1).description).toBe('BERT 1×128 (2 heads, FFN 512) from scratch');
  });

  it('a default heads that does not divide hidden is named as the default, with a heads=A that does', () => {
    expect(() => scratchStudent(teacher, 'bert:layers=1,hidden=200', 1)).toThrow(
      new SettingsError(
        "student 'bert:layers=1,hidden=200': hidden 200 is not divisible by heads 3 (the default for hidden 200: hidden / 64, rounded); give heads=A, e.g. heads=4",
      ),
    );
    expect(() => scratchStudent(teacher, 'bert:hidden=30,heads=4', 1)).toThrow(
      new SettingsError("student 'bert:hidden=30,heads=4': hidden 30 is not divisible by heads 4"),
    );
  });

  it("the teacher's width, taken where the spec gives no hidden=, is named as the teacher's, with a heads=A and a hidden=H that divide", () => {
    expect(() => scratchStudent(teacher, 'bert:heads=5', 1)).toThrow(
      new SettingsError(
        "student 'bert:heads=5': hidden 32 (the teacher's: the spec gives no hidden=H) is not divisible by heads 5; give heads=A dividing 32, e.g. heads=4, or hidden=H divisible by 5, e.g. hidden=30",
      ),
    );
    // (the nearer of the two: 768 / 5 = 153.6 heads of width 5 make 770)
    const wide = teacherShape(tinyBert({ numLayers: 1, hiddenSize: 768, numHeads: 12, intermediateSize: 64 }));
    expect(() => scratchStudent(wide, 'bert:layers=1,heads=5', 1)).toThrow(
      /: hidden 768 \(the teacher's: the spec gives no hidden=H\) is not divisible by heads 5; give heads=A dividing 768, e\.g\. heads=6, or hidden=H divisible by 5, e\.g\. hidden=770$/,
    );
    // (the teacher's width with its default heads: 160 / 64 rounded is 3)
    const w160 = teacherShape(tinyBert({ numLayers: 1, hiddenSize: 160, numHeads: 4, intermediateSize: 64 }));
    expect(() => scratchStudent(w160, 'bert:layers=1', 1)).toThrow(
      new SettingsError(
        "student 'bert:layers=1': hidden 160 (the teacher's: the spec gives no hidden=H) is not divisible by heads 3 (the default for hidden 160: hidden / 64, rounded); give heads=A, e.g. heads=4",
      ),
    );
  });

  it("of a teacher of another family: a BERT's config.json, not the teacher's model_type and sizes", () => {
    const labels = { id2label: { 0: 'negative', 1: 'positive' }, label2id: { negative: 0, positive: 1 }, max_length: 64, pad_token_id: 0 };
    const distilbert = { ...FAMILY_JSONS.distilbert, ...labels };
    const electra = { model_type: 'electra', architectures: ['ElectraForSequenceClassification'], hidden_size: 32, embedding_size: 16, ...labels };
    for (const src of [distilbert, electra]) {
      const c = scratchStudent(teacher, 'bert:layers=1,hidden=16,heads=2,intermediate=24', 1).configJson(src);
      expect(c).toEqual({
        architectures: ['BertForSequenceClassification'],
        model_type: 'bert',
        hidden_act: 'gelu',
        layer_norm_eps: 1e-12,
        type_vocab_size: 2,
        ...labels,
        num_hidden_layers: 1,
        hidden_size: 16,
        num_attention_heads: 2,
        pruned_heads: undefined,
        intermediate_size: 24,
        vocab_size: 128,
        max_position_embeddings: 64,
      });
    }
    // a BERT teacher's config.json is kept, its sizes the student's
    expect(scratchStudent(teacher, 'bert:layers=1,hidden=16,heads=2', 1).configJson({ model_type: 'bert', custom: 1 })).toMatchObject({
      model_type: 'bert',
      custom: 1,
      hidden_size: 16,
    });
  });
});

describe('a student model of another family than its teacher', () => {
  it("a DistilBERT student of a BERT teacher: DistilBERT's config.json (model_type, class, keys; no token types), where it said BertForSequenceClassification with the teacher's type_vocab_size beside DistilBERT's keys", () => {
    const distil = buildBert({ ...tinyBertConfig(), family: 'distilbert' as const }, { kind: 'random', seed: 1 });
    const labels = { id2label: { 0: 'negative', 1: 'positive' }, label2id: { negative: 0, positive: 1 }, max_length: 64, finetuning_task: 'sst-2' };
    const teacherJson = {
      architectures: ['BertForSequenceClassification'],
      model_type: 'bert',
      hidden_act: 'gelu',
      type_vocab_size: 2,
      layer_norm_eps: 1e-12,
      num_hidden_layers: 4,
      hidden_size: 256,
      ...labels,
    };
    const c = bertStudent(canonicalBert(distil), 'distil').configJson(teacherJson);
    expect(JSON.parse(JSON.stringify(c))).toEqual({
      architectures: ['DistilBertForSequenceClassification'],
      model_type: 'distilbert',
      activation: 'gelu',
      ...labels,
      n_layers: 2,
      dim: 32,
      n_heads: 4,
      hidden_dim: 64,
      vocab_size: 128,
      max_position_embeddings: 64,
    });
    // a DistilBERT teacher's own config.json is kept, its sizes the student's under DistilBERT's names
    const own = everyOtherStudent(canonicalBert(distil)).configJson({ ...FAMILY_JSONS.distilbert, custom: 1 });
    expect(own).toMatchObject({ model_type: 'distilbert', custom: 1, n_layers: 1, dim: 32 });
    expect(own).not.toHaveProperty('num_hidden_layers');
  });
});

describe('an encoder-only student (general distillation from a teacher without a classifier)', () => {
  it("names its model_type's base class (RobertaModel, XLMRobertaModel, DistilBertModel, ElectraModel), where every family but ALBERT was written BertModel", () => {
    const cases = [
      ['bert', 'bert', 'BertModel'],
      ['roberta', 'roberta', 'RobertaModel'],
      ['roberta', 'xlm-roberta', 'XLMRobertaModel'],
      ['distilbert', 'distilbert', 'DistilBertModel'],
      ['electra', 'electra', 'ElectraModel'],
    ] as const;
    for (const [family, modelType, base] of cases) {
      const config = { ...tinyBertConfig(), family, ...(family === 'electra' ? { embeddingSize: 16 } : {}) };
      const student = bertStudent(canonicalBert(buildBert(config, { kind: 'random', seed: 1 })), family, { encoderOnly: true });
      expect(student.configJson({ model_type: modelType }), modelType).toMatchObject({ model_type: modelType, architectures: [base] });
    }
  });
});

describe('a from-scratch student of a float16 teacher', () => {
  it("takes BERT's LayerNorm epsilon 1e-12, which underflowed to 0 in float16, as the canonical rebuild does (it was refused: got 0)", () => {
    const model = tinyBert({ numLayers: 2, hiddenSize: 32, numHeads: 4, intermediateSize: 64 });
    const teacher = teacherShape(toFloat16(model));
    expect(teacher.layerNormEps).toBe(1e-12);
    expect({ ...teacher, layerNormEps: 0 }).toEqual({ ...teacherShape(model), layerNormEps: 0 });
    expect(teacher.layerNormEps).toBe(canonicalBert(toFloat16(model)).config.layerNormEps);
    expect(scratchStudent(teacher, 'bert:layers=1,hidden=16,heads=2,intermediate=32', 1).description).toBe('BERT 1×16 (2 heads, FFN 32) from scratch');
  });
});
