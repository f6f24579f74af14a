/**
 * The factorize-embeddings pass (ALBERT, Lan et al. 2020): the word embedding W [vocab, hidden] becomes a narrow
 * table A [vocab, rank] and a projection B [rank, hidden] from the truncated SVD of W, so the graph reads
 * MatMul(Gather(A, ids), B). The table shrinks to about rank/hidden of its size. The factors are balanced
 * (A = U√Σ, B = √ΣVᵀ: the same product, scale split evenly) so that distillation afterwards trains both. The report
 * gives the relative reconstruction error ‖W − AB‖_F / ‖W‖_F and the bytes before and after.
 */
import type { Model } from '../onnx/graph.ts';
import { cloneModel } from '../onnx/graph.ts';
import { isFloatType, dataTypeName } from '../onnx/dtype.ts';
import { floatTensorLike, nonFiniteValues, readFloat32, tensorBytes } from '../onnx/tensor.ts';
import { pruneGraph } from '../onnx/analysis.ts';
import { modelSize } from '../onnx/size.ts';
import type { BertStructure } from '../bert/structure.ts';
import type { Pass, PassContext, PassResult, PassShape } from '../pass/pass.ts';
import { NonFiniteInputError, SettingsError, groupedDigits, quotedText } from '../errors.ts';
import { balancedFactors, lowRankFactors, numericalRank, type LowRankFactors } from './low-rank.ts';
import { factorizeGather, type FactorizedGather } from './rewrite.ts';
import { FACTORIZE_EMBEDDINGS, type EmbeddingWeighting } from './settings.ts';
import { requireCalibration } from '../pass/measure.ts';
import type { CalibrationSource } from '../pass/pass.ts';
import { formatMB, percent } from '../units.ts';

export interface FactorizeEmbeddingsOptions {
  /** Width E of the narrow table (1 ≤ rank < hidden). */
  rank: number;
  /** uniform: plain truncated SVD; tokens: rows weighted by 1 + their token count in the calibration examples. */
  weighting?: EmbeddingWeighting;
}

/** Numbers the pass reports in `details`. */
export interface FactorizeEmbeddingsDetails {
  rank: number;
  vocab: number;
  hidden: number;
  weighting: EmbeddingWeighting;
  /** ‖W − AB‖_F / ‖W‖_F. */
  relativeError: number;
  /** With weighting tokens: the error in the weighted norm, and the calibration tokens and distinct ids counted. */
  weightedRelativeError?: number;
  calibrationTokens?: number;
  distinctTokens?: number;
  /** Singular values above 1e-5·σ₁ (a rank at or above it reconstructs W to float32 rounding). */
  numericalRank: number;
  /** Bytes of W, and of A plus B. */
  embeddingBytesBefore: number;
  embeddingBytesAfter: number;
  /** Bytes of all initializers before and after. */
  modelBytesBefore: number;
  modelBytesAfter: number;
  /** Nodes besides the Gather that read W (a tied decoder), now reading MatMul(A, B). */
  tiedReaders: string[];
  /** Seconds spent in the SVD. */
  svdSeconds: number;
}

/**
 * Checks that the word embedding of `s` can be factorized to `rank`, reading its dims and data type only (the pass's
 * checkModel, which a sweep's plan asks before any point runs); returns the table's [rows, cols].
 */
export function checkFactorizable(model: Model, s: BertStructure, rank: number): [number, number] {
  const [rows, cols] = checkFactorizableTable(model, s);
  checkRank(rank, rows, cols);
  return [rows, cols];
}

/** The refusal of a word embedding factorized already: its `weight` [rows, rank] table then its `projection`. */
function alreadyFactorized(f: { weight: string; projection: string; rank: number }): SettingsError {
  return new SettingsError(
    `factorize-embeddings: the word embedding is already factorized (${quotedText(f.weight)} then the projection ${quotedText(f.projection)}, rank ${f.rank}); factorize the unfactorized model to the rank you want instead`,
  );
}

/** The refusal of a word embedding read by the fused EmbedLayerNormalization node `node`. */
function fusedTable(node: string): SettingsError {
  return new SettingsError(
    `factorize-embeddings: the word embedding is read by the fused EmbedLayerNormalization node ${quotedText(node)}; factorize before --optimize all (its embed-layernorm rewrite fuses the table) or onnxruntime's transformer optimizer`,
  );
}

/** The refusal of embeddings narrower than the encoder, mapped to its width by the Linear `mapping` (ALBERT, ELECTRA). */
function mappedEmbeddings(mapping: { inFeatures: number; outFeatures: number }): SettingsError {
  return new SettingsError(
    `factorize-embeddings: the embeddings are already factorized (${mapping.inFeatures}-wide tables and LayerNorm mapped to the hidden width ${mapping.outFeatures} by a Linear, as in ALBERT and ELECTRA); factorize-embeddings narrows a word embedding as wide as the hidden size, and this model's has no wider form to start from`,
  );
}

/** Refuses a rank that a float [rows, cols] word embedding cannot be factorized to: at or above its width, or growing it. */
function checkRank(rank: number, rows: number, cols: number): void {
  if (rank >= cols) {
    throw new SettingsError(`factorize-embeddings: rank ${rank} is at or above hidden ${cols}: the rank must be below the embedding width to shrink the table`);
  }
  if (rows * rank + rank * cols >= rows * cols) {
    const most = Math.ceil((rows * cols) / (rows + cols)) - 1;
    throw new SettingsError(
      `factorize-embeddings: rank ${rank} would make the embedding larger (${rows}×${rank} + ${rank}×${cols} = ${groupedDigits(rows * rank + rank * cols)} values against ${rows}×${cols} = ${groupedDigits(rows * cols)}); the rank must be at most ${most} for this table`,
    );
  }
}

/**
 * The rows and width of the word embedding of `s` where factorize-embeddings can rewrite it (a float table a Gather
 * reads, not factorized: PassShape.embedding), reading its dims and data type only; undefined otherwise.
 */
export function factorizableTable(model: Model, s: BertStructure): { rows: number; cols: number; weight: string } | undefined {
  try {
    const [rows, cols] = checkFactorizableTable(model, s);
    return { rows, cols, weight: s.embeddings.word.weight };
  } catch (e) {
    if (e instanceof SettingsError) return undefined;
    throw e;
  }
}

/**
 * Checks that the word embedding of `s` is a float [vocab, hidden] table factorize-embeddings can rewrite (not fused,
 * not factorized already, not stored quantized), reading its dims and data type only; returns its [rows, cols].
 */
function checkFactorizableTable(model: Model, s: BertStructure): [number, number] {
  const word = s.embeddings.word;
  if (s.embeddings.fusedNode || !word.gather) throw fusedTable(s.embeddings.fusedNode ?? '?');
  const mapping = s.embeddings.mapping;
  if (mapping) throw mappedEmbeddings(mapping);
  if (word.projection) throw alreadyFactorized({ weight: word.weight, projection: word.projection.weight, rank: word.projection.inFeatures });
  const t = model.graph.initializers.get(word.weight);
  if (!t) throw new SettingsError(`factorize-embeddings: word embedding ${quotedText(word.weight)} is not an initializer`);
  if (t.dims.length !== 2) throw new SettingsError(`factorize-embeddings: word embedding ${quotedText(word.weight)} has dims [${t.dims}], not [vocab, hidden]`);
  if (!isFloatType(t.dataType)) {
    throw new SettingsError(`factorize-embeddings: word embedding ${quotedText(word.weight)} is ${dataTypeName(t.dataType)}; factorize before quantizing`);
  }
  return t.dims as [number, number];
}

/**
 * Row weights for the SVD from calibration batches: 1 + the number of times each id occurs among the tokens the
 * attention mask keeps, and the totals counted. Pure.
 */
export function tokenRowWeights(calibration: CalibrationSource, rows: number): { weights: Float64Array; tokens: number; distinct: number } {
  const weights = new Float64Array(rows).fill(1);
  let tokens = 0;
  for (const b of calibration.batches) {
    for (let i = 0; i < b.inputIds.length; i++) {
      if (b.attentionMask[i] === 0n) continue;
      const id = Number(b.inputIds[i]);
      if (!(id >= 0 && id < rows))
        throw new SettingsError(
          `factorize-embeddings: calibration token id ${id} is outside the ${rows}-row word embedding (a tokenizer of another vocabulary?)`,
        );
      weights[id]! += 1;
      tokens++;
    }
  }
  let distinct = 0;
  for (const d of weights) if (d > 1) distinct++;
  return { weights, tokens, distinct };
}

/** The pass's work on a model, without the Pass wrapper: returns the new model, factors and rewrite record. */
export function factorizeWordEmbedding(
  model: Model,
  s: BertStructure,
  rank: number,
  rowWeights?: Float64Array,
): { model: Model; factors: LowRankFactors; rewrite: FactorizedGather; svdSeconds: number } {
  const [rows, cols] = checkFactorizable(model, s, rank);
  const word = s.embeddings.word;
  const t = model.graph.initializers.get(word.weight)!;
  const w = readFloat32(t);
  // One NaN or Infinity reaches every entry of WᵀW, so every row's factors: the lookups of all tokens would break.
  const bad = nonFiniteValues(w)?.first;
  if (bad !== undefined) {
    const row = Math.floor(bad / cols);
    throw new NonFiniteInputError(
      `factorize-embeddings: row ${row} (token id ${row}) of the word embedding ${quotedText(word.weight)} holds ${w[bad]} at column ${bad % cols}: the SVD would spread it to the factors of every row; fix or retrain the model before factorizing it`,
    );
  }
  const start = performance.now();
  const factors = lowRankFactors(w, rows, cols, rank, rowWeights);
  const svdSeconds = (performance.now() - start) / 1000;
  const out = cloneModel(model);
  const g = out.graph;
  const balanced = balancedFactors(factors);
  const a = floatTensorLike(t, 'a', [rows, rank], balanced.a);
  const b = floatTensorLike(t, 'b', [rank, cols], balanced.b);
  const rewrite = factorizeGather(g, word.gather!, word.weight, a, b);
  if (out.irVersion < 4) {
    // Before IR 4 every initializer must also be a graph input.
    for (const name of [rewrite.a, rewrite.b]) g.inputs.push({ name, elemType: t.dataType, shape: [...g.initializers.get(name)!.dims] });
  }
  pruneGraph(g);
  return { model: out, factors, rewrite, svdSeconds };
}

export const factorizeEmbeddingsPass: Pass<FactorizeEmbeddingsOptions> = {
  ...FACTORIZE_EMBEDDINGS,
  // (the table and the rank against its dims: a rank at or above its width, or one that would grow it)
  checkModel(model: Model, s: BertStructure, o: FactorizeEmbeddingsOptions): void {
    checkFactorizable(model, s, o.rank);
  },
  // (the rank against the table's dims, where the shape says them)
  checkShape(o: FactorizeEmbeddingsOptions, shape: PassShape): void {
    if (shape.fusedEmbedding !== undefined) throw fusedTable(shape.fusedEmbedding);
    if (shape.embeddingMapping) throw mappedEmbeddings(shape.embeddingMapping);
    if (shape.factorized) throw alreadyFactorized(shape.factorized);
    if (shape.embedding) checkRank(o.rank, shape.embedding.rows, shape.embedding.cols);
  },
  async run(model: Model, s: BertStructure, o: FactorizeEmbeddingsOptions, ctx: PassContext): Promise<PassResult> {
    checkFactorizable(model, s, o.rank);
    const before = modelSize(model);
    const weight = model.graph.initializers.get(s.embeddings.word.weight);
    const weighting = o.weighting ?? 'uniform';
    const counted =
      weighting === 'tokens'
        ? tokenRowWeights(requireCalibration(ctx.calibration, 'factorize-embeddings', 'weighting tokens'), s.embeddings.word.rows)
        : undefined;
    const { model: out, factors, rewrite, svdSeconds } = factorizeWordEmbedding(model, s, o.rank, counted?.weights);
    ctx.log?.(`factorize-embeddings: SVD of ${factors.rows}×${factors.cols} in ${svdSeconds.toFixed(1)} s`);
    const after = modelSize(out);
    const embeddingBytesBefore = tensorBytes(weight!);
    const embeddingBytesAfter = tensorBytes(out.graph.initializers.get(rewrite.a)!) + tensorBytes(out.graph.initializers.get(rewrite.b)!);
    const details: FactorizeEmbeddingsDetails = {
      rank: o.rank,
      vocab: factors.rows,
      hidden: factors.cols,
      weighting,
      relativeError: factors.relativeError,
      ...(counted ? { weightedRelativeError: factors.weightedRelativeError, calibrationTokens: counted.tokens, distinctTokens: counted.distinct } : {}),
      numericalRank: numericalRank(factors.singularValues),
      embeddingBytesBefore,
      embeddingBytesAfter,
      modelBytesBefore: before.bytes,
      modelBytesAfter: after.bytes,
      tiedReaders: rewrite.tiedReaders,
      svdSeconds,
    };
    const share = percent(embeddingBytesAfter / embeddingBytesBefore);
    return {
      model: out,
      report: {
        pass: 'factorize-embeddings',
        settings: { rank: o.rank, ...(weighting !== 'uniform' ? { weighting } : {}) },
        summary:
          `word embedding ${factors.rows}×${factors.cols} → ${factors.rows}×${o.rank} · ${o.rank}×${factors.cols}: ` +
          `${formatMB(embeddingBytesBefore)} → ${formatMB(embeddingBytesAfter)} (${share}), relative error ${factors.relativeError.toFixed(4)}` +
          (counted ? ` (${factors.weightedRelativeError!.toFixed(4)} weighted by ${counted.tokens} calibration tokens, ${counted.distinct} distinct)` : '') +
          (rewrite.tiedReaders.length ? `; tied readers use the product: ${rewrite.tiedReaders.join(', ')}` : ''),
        details: { ...details },
      },
    };
  },
};
