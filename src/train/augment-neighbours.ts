/**
 * Nearest neighbours of vocabulary ids in a word-embedding table, by cosine similarity, for data augmentation.
 *
 * The table's rows are normalized once; the neighbours of the ids asked for are computed in blocks of queries by a
 * one-Gemm-one-TopK ONNX graph run by onnxruntime ([m, width] × [vocab, width]ᵀ plus a row of 0 / −∞ that keeps
 * out the ids that may not be neighbours, then the top k + 1 of each row): MLAS's matrix product is about twenty
 * times a JavaScript loop on these machines. Results are cached per id, so each id is computed once per index.
 * Ties are broken towards the lower id (ONNX TopK's rule), so results are deterministic.
 */
import { checkIntegerOption, SettingsError } from '../errors.ts';
import { onnx } from '../onnx/proto.ts';
import { openSession, Tensor } from '../runtime/session.ts';

/** A word-embedding table, row-major [vocabSize, width] (as `teacherWordEmbeddings` returns it). */
export interface WordEmbeddings {
  readonly vocabSize: number;
  readonly width: number;
  readonly data: Float32Array;
}

export interface NeighbourOptions {
  /** Neighbours kept per id. */
  k: number;
  /**
   * 1 for the ids that may be neighbours (the rest never are); length at most vocabSize, ids past its end are
   * excluded. Default: every id.
   */
  candidates?: Uint8Array;
  /** Queries per onnxruntime run (default 256). */
  blockSize?: number;
  /** onnxruntime intra-op threads (default: one per physical core). */
  threads?: number;
  /** Called after each block of queries (ids done, ids to compute); a throw stops the search there. */
  onBlock?: (done: number, total: number) => void;
}

/** Throws a SettingsError unless the table's sizes and data agree. */
export function checkEmbeddings(e: WordEmbeddings): void {
  if (!(Number.isSafeInteger(e.vocabSize) && e.vocabSize > 0 && Number.isSafeInteger(e.width) && e.width > 0)) {
    throw new SettingsError(`word embeddings: bad size [${e.vocabSize}, ${e.width}]`);
  }
  if (!(e.data instanceof Float32Array) || e.data.length !== e.vocabSize * e.width) {
    throw new SettingsError(`word embeddings: ${e.data?.length} values, expected ${e.vocabSize} × ${e.width}`);
  }
}

/** The rows scaled to unit length (a zero row stays zero). */
export function normalizeRows(e: WordEmbeddings): Float32Array {
  const out = new Float32Array(e.data.length);
  const w = e.width;
  for (let r = 0; r < e.vocabSize; r++) {
    let s = 0;
    const o = r * w;
    for (let j = 0; j < w; j++) s += e.data[o + j]! * e.data[o + j]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < w; j++) out[o + j] = e.data[o + j]! * inv;
  }
  return out;
}

/** The ONNX graph: scores = q · tableᵀ + mask, then the top `k` of each row (values and int64 indices). */
function knnGraph(width: number): Uint8Array {
  const F = onnx.TensorProto.DataType.FLOAT;
  const I64 = onnx.TensorProto.DataType.INT64;
  const INT = onnx.AttributeProto.AttributeType.INT;
  const vi = (name: string, type: number, dims: Array<string | number>) => ({
    name,
    type: { tensorType: { elemType: type, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });
  const model = {
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'bert-compress augment',
    graph: {
      name: 'cosine_top_k',
      node: [
        { opType: 'Gemm', input: ['queries', 'table', 'mask'], output: ['scores'], attribute: [{ name: 'transB', type: INT, i: 1 }] },
        { opType: 'TopK', input: ['scores', 'k'], output: ['values', 'indices'], attribute: [{ name: 'axis', type: INT, i: 1 }] },
      ],
      input: [vi('queries', F, ['m', width]), vi('table', F, ['vocab', width]), vi('mask', F, ['vocab']), vi('k', I64, [1])],
      output: [vi('values', F, ['m', 'top']), vi('indices', I64, ['m', 'top'])],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
}

/**
 * The k nearest neighbours (cosine) of vocabulary ids, best first, excluding the id itself and non-candidates;
 * computed on demand and cached per id. Fewer than k when there are fewer candidates.
 */
export class EmbeddingNeighbours {
  readonly k: number;
  private readonly embeddings: WordEmbeddings;
  private readonly candidates: Uint8Array;
  private readonly blockSize: number;
  private readonly threads: number | undefined;
  private readonly onBlock: ((done: number, total: number) => void) | undefined;
  private normalized: Float32Array | null = null;
  private readonly cache = new Map<number, Int32Array>();
  /** Ids whose neighbours were computed (not read from the cache), for reports and tests. */
  computed = 0;

  constructor(embeddings: WordEmbeddings, opts: NeighbourOptions) {
    checkEmbeddings(embeddings);
    checkIntegerOption('augmentation: k', opts.k, 1);
    this.embeddings = embeddings;
    this.k = opts.k;
    const mask = new Uint8Array(embeddings.vocabSize);
    if (opts.candidates) mask.set(opts.candidates.subarray(0, embeddings.vocabSize));
    else mask.fill(1);
    this.candidates = mask;
    this.blockSize = opts.blockSize ?? 256;
    this.threads = opts.threads;
    this.onBlock = opts.onBlock;
  }

  /** The cached neighbours of `id`, if computed. */
  get(id: number): Int32Array | undefined {
    return this.cache.get(id);
  }

  /** The neighbours of every id in `ids` (computing those not cached yet). */
  async neighbours(ids: Iterable<number>): Promise<Map<number, Int32Array>> {
    const wanted = [...new Set(ids)];
    for (const id of wanted) {
      if (!(Number.isInteger(id) && id >= 0 && id < this.embeddings.vocabSize)) {
        throw new RangeError(`id ${id} is outside the embedding table (${this.embeddings.vocabSize} rows)`);
      }
    }
    const missing = wanted.filter((id) => !this.cache.has(id)).sort((a, b) => a - b);
    if (missing.length > 0) await this.compute(missing);
    return new Map(wanted.map((id) => [id, this.cache.get(id)!]));
  }

  private async compute(ids: number[]): Promise<void> {
    const { vocabSize: V, width: W } = this.embeddings;
    const table = (this.normalized ??= normalizeRows(this.embeddings));
    const top = Math.min(this.k + 1, V);
    const maskValues = new Float32Array(V);
    for (let v = 0; v < V; v++) maskValues[v] = this.candidates[v] ? 0 : -Infinity;
    const session = await openSession(knnGraph(W), this.threads !== undefined ? { threads: this.threads } : {});
    try {
      const tableT = new Tensor('float32', table, [V, W]);
      const maskT = new Tensor('float32', maskValues, [V]);
      const kT = new Tensor('int64', BigInt64Array.from([BigInt(top)]), [1]);
      for (let at = 0; at < ids.length; at += this.blockSize) {
        const block = ids.slice(at, at + this.blockSize);
        const queries = new Float32Array(block.length * W);
        block.forEach((id, r) => queries.set(table.subarray(id * W, (id + 1) * W), r * W));
        const out = await session.run({ queries: new Tensor('float32', queries, [block.length, W]), table: tableT, mask: maskT, k: kT });
        const values = out.values!.data as Float32Array;
        const indices = out.indices!.data as BigInt64Array;
        block.forEach((id, r) => {
          const kept: number[] = [];
          for (let j = 0; j < top && kept.length < this.k; j++) {
            const v = Number(indices[r * top + j]!);
            if (v === id || !this.candidates[v] || values[r * top + j] === -Infinity) continue;
            kept.push(v);
          }
          this.cache.set(id, Int32Array.from(kept));
        });
        this.computed += block.length;
        this.onBlock?.(at + block.length, ids.length);
      }
    } finally {
      await session.release();
    }
  }
}
