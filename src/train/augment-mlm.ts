/**
 * Replacement candidates from a masked language model, as TinyBERT's augmentation takes them for single-piece
 * words: the word is replaced by [MASK] and the sentence is fed as the pair (masked sentence, original sentence),
 * `[CLS] masked [SEP] original [SEP]` with token types 0 / 1; the candidates are the MLM's top-k predictions at the
 * masked position among whole-word tokens (no special tokens, no `##` pieces, not the word itself).
 *
 * The graph is any onnxruntime-loadable MLM with BERT's id inputs (input_ids, and attention mask / token types when
 * declared) and an output of scores [batch, seq, vocab] (`prediction_scores` of a BertForPreTraining / BertForMaskedLM
 * export, else `logits`, else the only output, or the one named).
 */
import { checkIntegerOption, ortErrorLine, SettingsError, UserError, quotedText } from '../errors.ts';
import { buildFeeds } from '../eval/batching.ts';
import { sessionInputs } from '../bert/model-inputs.ts';
import { decodeModel, loadModel } from '../onnx/load.ts';
import { inlineLocalFunctions } from '../onnx/inline.ts';
import type { TextEncoding } from '../eval/tokenizer.ts';
import { openSession } from '../runtime/session.ts';
import type { WordVocab } from './augment-words.ts';

export interface MlmOptions {
  /** The MLM graph: an .onnx path or its bytes. */
  model: string | Uint8Array;
  /** Name of the scores output [batch, seq, vocab]. Default: prediction_scores, else logits, else the only output. */
  output?: string;
  /** Longest input fed, in tokens (default 128): the original copy is cut first, then the masked sentence. */
  maxLength?: number;
  /** Rows (masked words) per run, default 16; fewer when the scores of a run would pass 2^24 values. */
  batchSize?: number;
  /** onnxruntime intra-op threads (default: one per physical core). */
  threads?: number;
}

/** One sentence to ask the MLM about. */
export interface MlmQuery {
  /** The sentence's WordPiece ids (no special tokens). */
  readonly pieces: readonly number[];
  /** Piece positions of the words to mask (each a single-piece word). */
  readonly positions: readonly number[];
}

const SCORES_BUDGET = 2 ** 24;

/** The ids of [CLS], [SEP], [MASK], [PAD] in the vocabulary; a SettingsError when one is missing. */
export function mlmSpecialIds(vocab: WordVocab): { cls: number; sep: number; mask: number; pad: number } {
  const get = (t: string): number => {
    const id = vocab.ids.get(t);
    if (id === undefined) throw new SettingsError(`MLM augmentation: the vocabulary (${vocab.source}) has no ${t} token`);
    return id;
  };
  return { cls: get('[CLS]'), sep: get('[SEP]'), mask: get('[MASK]'), pad: vocab.ids.get('[PAD]') ?? 0 };
}

/**
 * For each query and each of its positions, the MLM's top-k whole-word predictions (ids, best first; ties to the
 * lower id). `candidates[id]` is 1 for ids that may be predicted. A position that does not fit in `maxLength` gets
 * no candidates (the word stays).
 */
export async function mlmCandidates(
  queries: readonly MlmQuery[],
  vocab: WordVocab,
  candidates: Uint8Array,
  k: number,
  opts: MlmOptions,
): Promise<Int32Array[][]> {
  const maxLength = opts.maxLength ?? 128;
  checkIntegerOption('MLM augmentation: maxLength', maxLength, 3);
  const batchSize = opts.batchSize ?? 16;
  checkIntegerOption('MLM augmentation: batchSize', batchSize, 1);
  const sp = mlmSpecialIds(vocab);
  const result: Int32Array[][] = queries.map((q) => q.positions.map(() => new Int32Array(0)));

  // One row per masked word: its encoding, the masked position, and where its answer goes.
  const rows: Array<{ enc: TextEncoding; at: number; self: number; query: number; slot: number }> = [];
  queries.forEach((q, qi) => {
    const first = Math.min(q.pieces.length, maxLength - 2);
    const room = maxLength - (first + 2);
    const second = room >= 2 ? Math.min(q.pieces.length, room - 1) : 0;
    q.positions.forEach((pos, slot) => {
      if (pos >= first) return;
      const ids = [sp.cls, ...q.pieces.slice(0, first), sp.sep];
      ids[1 + pos] = sp.mask;
      const typeIds = new Array<number>(ids.length).fill(0);
      if (second > 0) {
        ids.push(...q.pieces.slice(0, second), sp.sep);
        typeIds.push(...new Array<number>(second + 1).fill(1));
      }
      rows.push({ enc: { ids, typeIds }, at: 1 + pos, self: q.pieces[pos]!, query: qi, slot });
    });
  });
  if (rows.length === 0) return result;

  const session = await openSession(opts.model, opts.threads !== undefined ? { threads: opts.threads } : {});
  try {
    const model = opts.model;
    // (its local functions inlined, as discovery reads a model: see inlineLocalFunctions)
    const inputs = sessionInputs(session, () => inlineLocalFunctions(typeof model === 'string' ? loadModel(model) : decodeModel(model)));
    const output = opts.output ?? ['prediction_scores', 'logits'].find((n) => session.outputNames.includes(n)) ?? session.outputNames[0]!;
    if (!session.outputNames.includes(output)) {
      throw new SettingsError(`MLM augmentation: the model has no output ${quotedText(output)} (outputs: ${session.outputNames.join(', ')})`);
    }
    // Longest rows first, so a batch pads little; a batch's scores stay under the budget.
    const order = rows.map((_, i) => i).sort((a, b) => rows[b]!.enc.ids.length - rows[a]!.enc.ids.length || a - b);
    const encodings = rows.map((r) => r.enc);
    let at = 0;
    while (at < order.length) {
      const seq = encodings[order[at]!]!.ids.length;
      const fit = Math.max(1, Math.floor(SCORES_BUDGET / (seq * vocab.tokens.length)));
      const batch = order.slice(at, at + Math.min(batchSize, fit));
      at += batch.length;
      const feeds = buildFeeds(encodings, batch, inputs, sp.pad);
      let out: Awaited<ReturnType<typeof session.run>>;
      try {
        out = await session.run(feeds, [output]);
      } catch (e) {
        throw new UserError(`MLM augmentation: onnxruntime cannot run the model on a batch of [${batch.length}, ${seq}] tokens: ${ortErrorLine(e)}`, {
          cause: e,
        });
      }
      const scores = out[output]!;
      const dims = scores.dims;
      if (dims.length !== 3 || dims[0] !== batch.length || dims[1] !== seq) {
        throw new SettingsError(
          `MLM augmentation: output ${quotedText(output)} has shape [${dims.join(', ')}], expected [batch ${batch.length}, seq ${seq}, vocab]`,
        );
      }
      const width = dims[2]!;
      const data = scores.data as Float32Array;
      const limit = Math.min(width, candidates.length);
      batch.forEach((rowIndex, r) => {
        const row = rows[rowIndex]!;
        result[row.query]![row.slot] = topK(data, (r * seq + row.at) * width, limit, candidates, row.self, k);
      });
    }
  } finally {
    await session.release();
  }
  return result;
}

/** The ids v < limit with candidates[v] and v ≠ self whose scores[offset + v] are the k largest, best first. */
function topK(scores: Float32Array, offset: number, limit: number, candidates: Uint8Array, self: number, k: number): Int32Array {
  const ids: number[] = [];
  const vals: number[] = [];
  for (let v = 0; v < limit; v++) {
    if (!candidates[v] || v === self) continue;
    const s = scores[offset + v]!;
    if (ids.length === k && !(s > vals[k - 1]!)) continue;
    let j = ids.length === k ? k - 1 : ids.length;
    while (j > 0 && s > vals[j - 1]!) {
      if (j < k) {
        ids[j] = ids[j - 1]!;
        vals[j] = vals[j - 1]!;
      }
      j--;
    }
    ids[j] = v;
    vals[j] = s;
  }
  return Int32Array.from(ids);
}
