/**
 * What a compression pass is: a named, typed transformation of a model (with its discovered BERT structure) into a
 * new model plus a report. Its settings are declared once, with its version and flags (settings.ts); `run` gets the
 * typed options parsed from them. Passes never evaluate accuracy (the sweep does) and never write files (the
 * pipeline does). A pass must not mutate its input model: clone what it changes (`cloneModel`).
 */
import type { Model } from '../onnx/graph.ts';
import type { BertStructure } from '../bert/structure.ts';
import type { ModelShape, PassSettings } from './settings.ts';

/** A JSON-able record of what a pass did. */
export interface PassReport {
  /** Pass name, e.g. 'prune-heads'. */
  pass: string;
  /** The settings it ran with, after defaults were applied. */
  settings: Record<string, unknown>;
  /** One human-readable line, e.g. 'removed 19 of 48 heads'. */
  summary: string;
  /** Pass-specific numbers (scores, errors, per-layer counts). */
  details?: Record<string, unknown>;
  /**
   * The onnxruntime intra-op threads of the sessions the pass opened to measure the model (head importance, layer
   * sensitivity, activation ranges): PassContext.threads, or for none or 0 one per physical core (the count that was),
   * set by runPipeline, as a training run records its threads (train's OUT.json settings.threads): onnxruntime's
   * float MatMul can round otherwise at another count (test/runtime/matmul-threads.test.ts, products of two inputs),
   * and a score or range that did would choose otherwise on a near tie. (Not seen: head scores of 1-2 layer models
   * 128-512 wide, whose sessions multiply by the model's own weights, were the same bits at 1 to 8 threads.) Absent
   * where the pass opened none (magnitude, a list of heads, dynamic quantization).
   */
  threads?: number;
}

export interface PassResult {
  model: Model;
  report: PassReport;
}

/** Services a pass may need beyond the model: calibration batches, logging. */
export interface PassContext {
  /** Calibration inputs (already tokenized) for passes that measure the model (importance, sensitivity). */
  calibration?: CalibrationSource;
  /** Progress and notes; silent when absent. */
  log?: (line: string) => void;
  /**
   * Warnings, one line each without a 'warning: ' of its own, given before the passes run (runPipeline: share-layers
   * after prune-heads by ratio, which fails unless the heads the ratio chooses leave the layers it joins even); unsaid
   * when absent. The CLI's compress and a sweep's plan say them before any work, and give none.
   */
  warn?: (line: string) => void;
  /** Random seed for passes with a random choice. */
  seed?: number;
  /**
   * onnxruntime intra-op threads of the sessions passes open to measure the model (importance, sensitivity,
   * activation ranges); 0 or absent: one per physical core. compress's --threads, a sweep point's share.
   */
  threads?: number;
  /**
   * Told the count `threads` gave (one per physical core for none or 0) each time a pass opens such a session
   * (openMeasuringSession): runPipeline records it in the pass's report (PassReport.threads).
   */
  measuredAt?: (threads: number) => void;
}

/** Tokenized examples with labels, produced by the GLUE layer and consumed by calibrating passes. */
export interface CalibrationSource {
  task: string;
  /** Batches of encoder inputs: each feed maps an input name to [batch, seq] ids. */
  batches: CalibrationBatch[];
  /** Where the examples come from, for the lineage (absent for calibration made up in code, as tests do). */
  provenance?: CalibrationProvenance;
  /**
   * Why the batches' labels cannot be read as the model's outputs (its config.json names other labels, or a
   * regression task for a classifier); they are NaN then, and a pass that measures a loss against them refuses.
   * Passes that read only the inputs (int8-static ranges) or the model's own predictions do not mind.
   */
  unlabelled?: string;
  /**
   * Set where the model's config.json names classes none of the task's labels are: the labels were read in GLUE's
   * order, as eval reads such a model (labels.ts ignoredLabelsNote); the command says so in one warning line where a
   * pass reads the labels (PassDeclaration.readsLabels).
   */
  labelsNote?: string;
  /**
   * Set where the model's config.json names another head's class (architectures: BertForMultipleChoice, …) that its
   * graph does not show to be a sequence classifier: the line saying so ('…/config.json: architectures names
   * BertForMultipleChoice, a multiple-choice head (one score per choice), not a sequence classifier'). A pass that
   * measures a loss on the class scores refuses (requireClassifier); the others do not mind.
   */
  otherHead?: string;
}

/** The calibration data a lineage records: the train file, its sha256, the examples used and their length. */
export interface CalibrationProvenance {
  task: string;
  file: string;
  sha256: string;
  /** Examples used, and asked for (fewer are used when the split has fewer labelled examples). */
  examples: number;
  requested: number;
  maxLength: number;
}

export interface CalibrationBatch {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  batch: number;
  seq: number;
  /** Class index per example (classification) or target score (regression). */
  labels: Float32Array;
  regression: boolean;
}

/** A pass: its settings declaration (name, description, version, settings schema, flags, parsing) and `run`. */
export interface Pass<O> extends PassSettings<O> {
  run(model: Model, structure: BertStructure, options: O, context: PassContext): Promise<PassResult>;
  /**
   * Refuses, in the words `run` uses and before any work, a model the pass cannot rewrite for what its graph and its
   * weights' dims and data types say (weights stored quantized or in float16, a table too narrow for the settings):
   * reads no weight values, so a sweep's plan asks it of a model loaded by loadModelShapes before any point runs.
   * `run` checks the same first.
   */
  checkModel?(model: Model, structure: BertStructure, options: O): void;
  /**
   * Refuses, in the words `run` uses, settings a model of `shape` cannot take for its depth and heads alone (a layer
   * it lacks, a head a layer lacks, more groups than its layers): what checkModel refuses of that kind, which
   * calls it with the model's shape (structureShape). A sweep's plan asks it where it knows the shape a step gets but
   * not the model (after a step it does not follow: prune-ffn, share-layers, quantize…).
   */
  checkShape?(options: O, shape: PassShape): void;
  /**
   * How the pass rewrites a recurrent model (a Distilled BiLSTM student: recurrent.ts), which has no BERT structure:
   * `check` refuses options it cannot take on one (before any work; on `model` too where given: a sweep plan has no
   * model yet after a bilstm:… student), `run` rewrites it. Passes without it are refused on one (recurrentRefusal).
   */
  recurrent?: {
    check(options: O, model?: Model): void;
    run(model: Model, options: O, context: PassContext): Promise<PassResult>;
  };
}

/**
 * What a pass's checkShape reads of a model: its depth and, where known, the heads of each layer, its sharing and its
 * widths (each field undefined where not known: after a step whose rewrite of it the plan cannot tell).
 */
export interface PassShape extends ModelShape {
  /** By encoder layer, its attention heads (0: none, every head pruned); undefined where not known. */
  heads?: readonly number[];
  /**
   * The layers that read one copy of their attention weights (share-layers'), by group, a layer sharing nothing a
   * group of its own (prune/sharing.ts sharingGroups' form); undefined where not known.
   */
  shared?: readonly number[][];
  /** The encoder's width (its hidden size: every attention output's and FFN output's); undefined where not known. */
  hidden?: number;
  /** By encoder layer, its FFN's intermediate width; undefined where not known. */
  ffn?: readonly number[];
  /**
   * The width of one attention head (Q, K and V are heads × it wide), the same in every layer with attention, and by
   * encoder layer whether its Q, K and V are one fused projection (a com.microsoft Attention's packed weight; undefined
   * where not known: after optimize, which fuses what it can); undefined where not known, or where layers' heads
   * differ in width.
   */
  attention?: { headSize: number; fused?: readonly boolean[] };
  /**
   * The word embedding's rows and width, where it is the float table read by a Gather that factorize-embeddings
   * rewrites (not fused, not factorized, not stored quantized); undefined where not known or not so.
   */
  embedding?: { rows: number; cols: number; weight: string };
  /**
   * The word embedding as factorize-embeddings leaves it (its [rows, rank] table, then the projection to the width),
   * where known (factorize-embeddings' factorNames of the table it factorized); undefined otherwise.
   */
  factorized?: { weight: string; projection: string; rank: number };
  /**
   * The fused EmbedLayerNormalization node reading the word embedding (optimize's embed-layernorm), where known;
   * undefined where not known or not fused.
   */
  fusedEmbedding?: string;
  /**
   * The Linear mapping embeddings narrower than the encoder to its width (ALBERT's, ELECTRA's: its in and out widths),
   * where known; undefined where not known or not so.
   */
  embeddingMapping?: { inFeatures: number; outFeatures: number };
  /**
   * The first weight quantize targets that is stored in a float type other than float32 (float16, bfloat16, float64;
   * its initializer's name, its quantize target and its ONNX data type), which quantize refuses, where known; undefined
   * where not known or not so.
   */
  notFloat32?: { weight: string; target: string; dataType: number };
}

/**
 * The depth, heads and widths of a discovered model (checkShape's shape, but for its word embedding, which the
 * model's data types decide: factorize/embeddings.ts factorizableTable; its sharing: prune/sharing.ts sharingGroups).
 */
export function structureShape(s: BertStructure): PassShape & { heads: readonly number[]; ffn: readonly number[] } {
  const headSizes = new Set(s.layers.flatMap((l) => (l.attention ? [l.attention.headSize] : [])));
  const [headSize] = headSizes;
  return {
    numLayers: s.numLayers,
    heads: s.layers.map((l) => l.attention?.numHeads ?? 0),
    hidden: s.hiddenSize,
    ffn: s.layers.map((l) => l.ffn.intermediateSize),
    ...(headSizes.size === 1 ? { attention: { headSize: headSize!, fused: s.layers.map((l) => l.attention?.kind === 'fused') } } : {}),
  };
}

/** One step of a pipeline: a pass by name with raw settings. */
export interface PassStep {
  pass: string;
  settings: Record<string, unknown>;
}

/** A step as it ran: canonical settings (defaults applied) and the pass's version. */
export interface ParsedStep extends PassStep {
  version: number;
}

/**
 * Step `index` (from 0) of a pipeline as a message names it, counted from 1 as its steps are written: 'step 2
 * (distill)', in compress's and a sweep plan's refusals and warnings, a point's lines and a stored plan's files alike.
 */
export function stepName(index: number, pass: string): string {
  return `step ${index + 1} (${pass})`;
}
