/**
 * The ids and lengths a discovered BERT-family graph accepts, so that evaluation and benchmarks refuse what it
 * cannot run in one line instead of an onnxruntime stack trace: token ids below the word embedding's rows, token
 * types below the token-type table's, sequences no longer than the position table covers (RoBERTa's positions
 * start after padding_idx 1, two rows fewer), and the sequence length a graph input fixes (keras exports). And how
 * much memory one activation of a batch takes, so that a batch too large for the machine is refused before it is built.
 */
import type { Model } from '../onnx/graph.ts';
import { fixedSequenceLength, positionLimit } from './sample-inputs.ts';
import type { BertStructure } from './structure.ts';

export interface InputLimits {
  /** Rows of the word embedding: token ids must be below. */
  vocabSize: number;
  /**
   * Rows of the token-type table (token types must be below); null without one, or where the graph takes no token
   * types (it looks up type 0 for every token, whatever the tokenizer gives).
   */
  typeVocabSize: number | null;
  /** The longest sequence the position table covers; null when positions are not looked up. */
  maxSequence: number | null;
  /** The sequence length a graph input fixes; null when dynamic. */
  fixedSequence: number | null;
}

/**
 * Bytes of the largest single activation of the encoder on `batch` sequences of `seq` tokens: FFN units, attention
 * scores or hidden states (float32, for the whole batch), or the int64 ids. A batch where this alone exceeds the
 * machine's memory cannot run, and building its inputs would exhaust the memory first.
 */
export function largestActivationBytes(structure: Pick<BertStructure, 'intermediateSize' | 'numHeads' | 'hiddenSize'>, batch: number, seq: number): number {
  const tokens = batch * seq;
  const { intermediateSize, numHeads, hiddenSize } = structure;
  return 4 * Math.max(tokens * intermediateSize, tokens * numHeads * seq, tokens * hiddenSize, 2 * tokens);
}

/** The limits of `model`, whose structure discovery found. */
export function inputLimits(model: Model, structure: BertStructure): InputLimits {
  return {
    vocabSize: structure.vocabSize,
    typeVocabSize: structure.inputs.tokenTypeIds !== undefined ? (structure.typeVocabSize ?? null) : null,
    maxSequence: positionLimit(structure) ?? null,
    fixedSequence: fixedSequenceLength(model, structure) ?? null,
  };
}

/** Why a sequence length does not fit (`what` names where it came from, e.g. '--max-length 600'); undefined if it fits. */
export function sequenceProblem(length: number, limits: Pick<InputLimits, 'fixedSequence' | 'maxSequence'>, what: string): string | undefined {
  if (limits.fixedSequence !== null && length > limits.fixedSequence)
    return `${what} is longer than the ${limits.fixedSequence} tokens the model's inputs are fixed to`;
  if (limits.maxSequence !== null && length > limits.maxSequence) return `${what} is beyond the model's position table (${limits.maxSequence} tokens at most)`;
  return undefined;
}
