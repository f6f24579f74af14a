/**
 * The Distilled BiLSTM student (Tang et al. 2019, "Distilling Task-Specific Knowledge from BERT into Simple Neural
 * Networks"): its settings, the CLI form `bilstm:hidden=H[,embedding=E][,mlp=M]`, and its weights.
 *
 * Weights are kept in the TRAINING layout, one Float32Array per parameter, row-major:
 *
 * | name | shape | meaning |
 * |---|---|---|
 * | `embedding.weight` | [V, E] | word embeddings (row = token id) |
 * | `lstm.fw.W` | [E, 4H] | input weights, used as `x · W`; columns are the gates in order i, f, g, o (torch's order) |
 * | `lstm.fw.R` | [H, 4H] | recurrent weights, used as `h · R`; same gate order |
 * | `lstm.fw.b` | [4H] | one bias per gate unit (torch's b_ih + b_hh folded into one) |
 * | `lstm.bw.W`, `lstm.bw.R`, `lstm.bw.b` | same | the backward direction |
 * | `mlp.0.weight` | [2H, M] | first Linear, used as `x · W` (the transpose of torch's Linear.weight) |
 * | `mlp.0.bias` | [M] | |
 * | `mlp.2.weight` | [M, numLabels] | second Linear (after the ReLU, `mlp.1`), `x · W` |
 * | `mlp.2.bias` | [numLabels] | |
 *
 * The LSTM cell (both directions): with z = x·W + h·R + b split into gates i, f, g, o of H units each,
 * c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c').
 */
import { checkIntegerOption, SettingsError, quotedText } from '../../errors.ts';
import { parseStudentSpec, studentFrame } from './spec.ts';
import { Rng } from '../../bert/random.ts';
import { findBert } from '../../bert/discover.ts';
import type { Model } from '../../onnx/graph.ts';
import type { EmbeddingTable } from '../../bert/structure.ts';
import { readFloat32 } from '../../onnx/tensor.ts';

export interface BilstmConfig {
  /** Rows of the word embedding: the teacher's vocabulary size (the student reads the teacher's token ids). */
  vocabSize: number;
  /** E: width of the word embedding (default 300, as word2vec in the paper). */
  embeddingSize: number;
  /** H: hidden units of each LSTM direction. */
  hiddenSize: number;
  /** Hidden units of the MLP between the pooled 2H features and the logits (default H). */
  mlpSize: number;
  /** Output width: classes, or 1 for a regression task. */
  numLabels: number;
  /** L: the sequence length the training graph is unrolled over (batches are right-padded to it). */
  maxLength: number;
}

export const DEFAULT_BILSTM_EMBEDDING_SIZE = 300;

/** Gate order of the 4H columns in `lstm.{fw,bw}.{W,R,b}`: input, forget, cell candidate, output (torch's). */
export const BILSTM_GATE_ORDER = ['i', 'f', 'g', 'o'] as const;

/** The two LSTM directions, as they appear in weight names. */
export const BILSTM_DIRECTIONS = ['fw', 'bw'] as const;
export type BilstmDirection = (typeof BILSTM_DIRECTIONS)[number];

const SPEC_USAGE = 'bilstm:hidden=H[,embedding=E][,mlp=M]';

/**
 * Parses the CLI form of the student, `bilstm:hidden=H[,embedding=E][,mlp=M]`, into the sizes it sets (hidden is
 * required), in the grammar of every student spec (parseStudentSpec). A SettingsError names the fault in one line.
 */
export function parseBilstmSpec(spec: string): Partial<BilstmConfig> {
  const { hidden, embedding, mlp } = parseStudentSpec(spec, 'bilstm', ['hidden', 'embedding', 'mlp'], SPEC_USAGE);
  if (hidden === undefined) throw new SettingsError(`${studentFrame(spec)}: needs hidden=H (e.g. bilstm:hidden=300)`);
  return { hiddenSize: hidden, ...(embedding !== undefined && { embeddingSize: embedding }), ...(mlp !== undefined && { mlpSize: mlp }) };
}

/**
 * A full config from the sizes a spec sets plus what the task and teacher fix (vocabulary, labels, length), with
 * the defaults (E = 300, mlp = H) filled in; a SettingsError for a size that is not a positive integer.
 */
export function resolveBilstmConfig(sizes: Partial<BilstmConfig>, fixed: Pick<BilstmConfig, 'vocabSize' | 'numLabels' | 'maxLength'>): BilstmConfig {
  const hiddenSize = sizes.hiddenSize;
  if (hiddenSize === undefined) throw new SettingsError('BiLSTM student: hiddenSize (hidden=H) is required');
  const config: BilstmConfig = {
    vocabSize: sizes.vocabSize ?? fixed.vocabSize,
    embeddingSize: sizes.embeddingSize ?? DEFAULT_BILSTM_EMBEDDING_SIZE,
    hiddenSize,
    mlpSize: sizes.mlpSize ?? hiddenSize,
    numLabels: sizes.numLabels ?? fixed.numLabels,
    maxLength: sizes.maxLength ?? fixed.maxLength,
  };
  checkBilstmConfig(config);
  return config;
}

/** Throws a SettingsError unless every size of `config` is an integer from 1 (checkIntegerOption). */
export function checkBilstmConfig(config: BilstmConfig): void {
  for (const key of ['vocabSize', 'embeddingSize', 'hiddenSize', 'mlpSize', 'numLabels', 'maxLength'] as const) {
    const v = config[key];
    checkIntegerOption(`BiLSTM student: ${quotedText(key)}`, v, 1);
  }
}

/** Every weight of the student, by name, with its shape (training layout; see the file comment). */
export function bilstmWeightShapes(config: BilstmConfig): Map<string, number[]> {
  const { vocabSize: V, embeddingSize: E, hiddenSize: H, mlpSize: M, numLabels: K } = config;
  const shapes = new Map<string, number[]>([['embedding.weight', [V, E]]]);
  for (const d of BILSTM_DIRECTIONS) {
    shapes.set(`lstm.${d}.W`, [E, 4 * H]);
    shapes.set(`lstm.${d}.R`, [H, 4 * H]);
    shapes.set(`lstm.${d}.b`, [4 * H]);
  }
  shapes.set('mlp.0.weight', [2 * H, M]);
  shapes.set('mlp.0.bias', [M]);
  shapes.set('mlp.2.weight', [M, K]);
  shapes.set('mlp.2.bias', [K]);
  return shapes;
}

/** Number of trainable parameters. */
export function bilstmParameterCount(config: BilstmConfig): number {
  let n = 0;
  for (const dims of bilstmWeightShapes(config).values()) n += dims.reduce((a, b) => a * b, 1);
  return n;
}

/** Throws a SettingsError unless `weights` holds every weight of `config` with the right number of values. */
export function checkBilstmWeights(config: BilstmConfig, weights: ReadonlyMap<string, Float32Array>): void {
  checkBilstmConfig(config);
  for (const [name, dims] of bilstmWeightShapes(config)) {
    const w = weights.get(name);
    const want = dims.reduce((a, b) => a * b, 1);
    if (!w) throw new SettingsError(`BiLSTM weights: ${quotedText(name)} [${dims.join(', ')}] is missing`);
    if (w.length !== want) throw new SettingsError(`BiLSTM weights: ${quotedText(name)} has ${w.length} values, expected ${want} for [${dims.join(', ')}]`);
  }
}

export interface BilstmInitOptions {
  /**
   * Initial word embeddings [vocabSize, embeddingSize], row-major (e.g. the teacher's, see teacherWordEmbeddings);
   * copied. A SettingsError when the size does not match.
   */
  embedding?: Float32Array;
  /** Standard deviation of the random word embeddings (default 0.02, BERT's initializer range). */
  embeddingStd?: number;
}

/**
 * Seeded initial weights (training layout). Each weight has its own random stream keyed by (seed, name):
 *  - `embedding.weight`: normal(0, 0.02), or a copy of `opts.embedding`;
 *  - `lstm.*.{W,R,b}`: uniform(−1/√H, 1/√H), torch's nn.LSTM default (one bias vector where torch has two);
 *  - `mlp.*.weight`: Xavier/Glorot uniform, ±√(6 / (fan_in + fan_out)); `mlp.*.bias`: zeros.
 */
export function randomBilstmWeights(config: BilstmConfig, seed: number, opts: BilstmInitOptions = {}): Map<string, Float32Array> {
  checkBilstmConfig(config);
  const weights = new Map<string, Float32Array>();
  for (const name of bilstmWeightShapes(config).keys()) weights.set(name, randomBilstmParameter(config, name, seed, opts));
  return weights;
}

/** The weight `name` of randomBilstmWeights(config, seed, opts), alone (a new classifier: `mlp.2.*`). */
export function randomBilstmParameter(config: BilstmConfig, name: string, seed: number, opts: BilstmInitOptions = {}): Float32Array {
  const dims = bilstmWeightShapes(config).get(name);
  if (!dims) throw new Error(`randomBilstmParameter: no BiLSTM weight ${quotedText(name)}`);
  const w = new Float32Array(dims.reduce((a, b) => a * b, 1));
  const rng = new Rng(seed, `bilstm/${name}`);
  if (name === 'embedding.weight') {
    if (opts.embedding) {
      if (opts.embedding.length !== w.length) {
        throw new SettingsError(
          `BiLSTM embedding init: ${opts.embedding.length} values, expected ${w.length} for [${dims.join(', ')}] (vocabulary and embedding size must match the given table)`,
        );
      }
      w.set(opts.embedding);
    } else {
      rng.fillNormal(w, 0, opts.embeddingStd ?? 0.02);
    }
  } else if (name.startsWith('lstm.')) {
    const bound = 1 / Math.sqrt(config.hiddenSize);
    rng.fillUniform(w, -bound, bound);
  } else if (name.endsWith('.weight')) {
    const limit = Math.sqrt(6 / (dims[0]! + dims[1]!));
    rng.fillUniform(w, -limit, limit);
  }
  return w;
}

/** The weights of a BiLSTM student's last MLP layer, its classifier (a new one replaces them). */
export const BILSTM_CLASSIFIER_WEIGHTS = ['mlp.2.weight', 'mlp.2.bias'] as const;

/** A teacher's word-embedding table (see teacherWordEmbeddings), or why it cannot be read as one. */
export function readWordEmbeddings(teacher: Model): { vocabSize: number; width: number; data: Float32Array } | { refused: string } {
  const word = findBert(teacher).embeddings.word;
  const refused = wordEmbeddingsRefusal(teacher, word);
  if (refused !== undefined) return { refused };
  const t = teacher.graph.initializers.get(word.weight)!;
  return { vocabSize: t.dims[0]!, width: t.dims[1]!, data: readFloat32(t) };
}

/**
 * Why the word-embedding table `word` of `teacher` (its discovered structure's) cannot be read as one (quantized,
 * factorized, not a 2-D initializer), or undefined when it can. Reads no weight values: also a sweep's plan's check.
 */
export function wordEmbeddingsRefusal(teacher: Model, word: EmbeddingTable): string | undefined {
  if (word.quantization || word.projection) {
    return `teacher word embeddings ${quotedText(word.weight)} are ${word.quantization ? 'quantized' : 'factorized'}: use an uncompressed teacher`;
  }
  if (teacher.graph.initializers.get(word.weight)?.dims.length !== 2) return `teacher word embeddings ${quotedText(word.weight)} is not a 2-D initializer`;
  return undefined;
}

/**
 * The word-embedding table of a BERT-family teacher, for `BilstmInitOptions.embedding` (the student's
 * embeddingSize must then equal `width`). A SettingsError for a quantized or factorized table.
 */
export function teacherWordEmbeddings(teacher: Model): { vocabSize: number; width: number; data: Float32Array } {
  const table = readWordEmbeddings(teacher);
  if ('refused' in table) throw new SettingsError(table.refused);
  return table;
}
