/**
 * The teacher's intermediate features for intermediate-layer distillation: the values discovery finds in the
 * teacher's graph (any exporter: embeddings output, layer outputs, attention probabilities or scores) exposed as
 * extra graph outputs and computed by onnxruntime on each training batch (optionally cached on disk per batch while
 * the cache stays under its budget). Matches are turned into loss terms
 * (src/gradients/losses.ts IntermediateTerm) that name the student's values and the teacher inputs these features feed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Model } from '../onnx/graph.ts';
import { removeStaleTemporariesIn, sha256Bytes, writeFileAtomic } from '../files.ts';
import { cloneModel } from '../onnx/graph.ts';
import { findBert } from '../bert/discover.ts';
import type { BertStructure } from '../bert/structure.ts';
import { openModelSession } from '../runtime/model-session.ts';
import { floatValues, Tensor, type Feeds, type Session } from '../runtime/session.ts';
import { float32AllFinite } from '../onnx/tensor.ts';
import { filledRows, modelInputs, tokenInputs, type ModelInput, type TokenBatch } from '../bert/model-inputs.ts';
import { idFeeds, type IdInput } from '../runtime/feeds.ts';
import { fixedBatchSize, fixedSequenceLength, oneChoiceEach } from '../bert/sample-inputs.ts';
import { NonFiniteInputError, SettingsError, UserError, nonFiniteText, ortErrorLine, quotedText } from '../errors.ts';
import type { Batch } from './data.ts';
import { checkMatch, featureValue, type IntermediateMatch } from './intermediate.ts';
import type { IntermediateTerm } from '../gradients/index.ts';

/** A feature the teacher computes and the input of the training graph it feeds. */
export interface FeatureRequest {
  /** Value name in the teacher's graph. */
  value: string;
  /** Input name in the training graph. */
  input: string;
  /** Attention probabilities or scores [batch, heads, seq, seq] (else a hidden state [batch, seq, width]). */
  attention?: boolean;
  /** Attention scores, whose −Infinity (a mask some exports add) the loss zeroes (IntermediateTerm.scores). */
  scores?: boolean;
}

/** Loss terms and teacher requests for `matches` between two discovered models (`teacherStructure`: the teacher's findBert, where the caller has it). */
export function intermediatePlan(
  matches: readonly IntermediateMatch[],
  teacher: Model,
  student: Model,
  teacherStructure?: BertStructure,
): { terms: IntermediateTerm[]; requests: FeatureRequest[] } {
  const ts = teacherStructure ?? findBert(teacher, { label: 'teacher' });
  const ss = findBert(student, { label: 'student' });
  const ids = student.graph.inputs.find((i) => i.name === 'input_ids')?.shape ?? ['batch_size', 'sequence_length'];
  const [batch, seq] = [ids[0] ?? 'batch_size', ids[1] ?? 'sequence_length'];
  const terms: IntermediateTerm[] = [];
  const requests: FeatureRequest[] = [];
  const byValue = new Map<string, string>();
  matches.forEach((m, i) => {
    checkMatch(m, i, ts.numLayers, ss.numLayers);
    const t = featureValue(ts, teacher.graph, m.feature, m.teacherLayer, 'the teacher');
    const s = featureValue(ss, student.graph, m.feature, m.studentLayer, 'the student');
    const attention = m.feature === 'attention' || m.feature === 'attention-scores';
    const scores = m.feature === 'attention-scores';
    let input = byValue.get(t.value);
    if (!input) {
      input = `target.teacher.${m.feature}.${m.teacherLayer}`;
      byValue.set(t.value, input);
      requests.push({ value: t.value, input, ...(attention ? { attention } : {}), ...(scores ? { scores } : {}) });
    } else if (scores) requests.find((r) => r.input === input)!.scores = true;
    if (m.loss === 'pkd' || m.loss === 'mse' || m.loss === 'cosine') {
      if (attention) throw new SettingsError(`intermediate match ${i + 1}: ${m.loss} compares hidden states`);
    }
    terms.push({
      kind: m.loss,
      weight: m.weight,
      student: s.value,
      teacher: input,
      teacherDims: attention ? [batch, t.heads!, seq, seq] : [batch, seq, t.width],
      studentWidth: s.width,
      teacherWidth: t.width,
      scores,
      // (cosine and attention-kl average over the tokens, padding left out, as DistilBERT's and MiniLM's losses)
      ...((m.loss === 'cosine' || m.loss === 'attention-kl') && ss.inputs.attentionMask ? { mask: ss.inputs.attentionMask } : {}),
      label: `${i}.t${m.teacherLayer}s${m.studentLayer}.${m.feature}`,
    });
  });
  return { terms, requests };
}

/** Where teacher features are cached on disk, and how much room they may take. */
export interface FeatureCacheOptions {
  dir: string;
  /** Bytes the cache folder may hold; batches past it are computed and not stored. */
  budgetBytes: number;
  /** Told when a cache file is unreadable (truncated, garbled) and the batch is recomputed. */
  log?: (line: string) => void;
}
/** File magic; version 2 added the payload's SHA-256 to the header. */
const FEATURE_CACHE_MAGIC = 'BCTFEAT2';

/**
 * The teacher run on training batches, returning the requested features as training-graph feeds. With a cache,
 * each batch's features are stored under a SHA-256 of the teacher's bytes, the requested values and the batch's
 * ids, mask and token types, while the folder stays under its budget; a later run of the same batch (a resumed
 * run, or another student trained on the same data in the same order) reads them instead of running the teacher.
 */
export class TeacherFeatures {
  /** Batches served from the cache, and run through the teacher. */
  readonly stats = { hits: 0, runs: 0 };
  private cacheBytes = 0;

  private constructor(
    private readonly session: Session,
    private readonly inputs: ModelInput[],
    /** The features it computes, and the training-graph inputs they feed. */
    readonly requests: readonly FeatureRequest[],
    private readonly cache?: FeatureCacheOptions & { teacherKey: string },
    /** The sequence length the teacher's graph fixes (keras exports): batches are padded to it, features cut back. */
    private readonly fixedSeq?: number,
    /** The batch size the teacher's graph fixes (a static-shape export): batches are run in chunks of it. */
    private readonly fixedRows?: number,
    /** Its token inputs as the graph takes them (a multiple-choice export's: one choice to an example, oneChoiceEach). */
    private readonly fed: (inputs: IdInput[]) => IdInput[] = (inputs) => inputs,
  ) {
    if (cache) {
      // (once per run: what runs killed while storing a batch left, which would count against the budget for good)
      removeStaleTemporariesIn(cache.dir);
      this.cacheBytes = folderBytes(cache.dir);
    }
  }

  /** The features `requests` names of `teacher` (`structure`: its findBert, where the caller has it). */
  static async open(
    teacher: Model,
    requests: readonly FeatureRequest[],
    threads?: number,
    cache?: FeatureCacheOptions,
    structure: BertStructure = findBert(teacher, { label: 'teacher' }),
  ): Promise<TeacherFeatures> {
    // (before the session opens: a multiple-choice teacher of fixed choices is refused)
    const fed = oneChoiceEach(teacher, structure, 'a training example', 'the teacher');
    const m = cloneModel(teacher);
    m.graph.outputs = requests.map((r) => ({ name: r.value }));
    let teacherKey = '';
    // Its runs take turns with the training graph's, one each step: threads that spin-wait after a run (onnxruntime's
    // default, ~20–35 ms of a core) would take a core from the training graph's threads as it starts.
    const session = await openModelSession(m, { threads, spinning: false, onSerialized: (parts) => (teacherKey = cache ? sha256Bytes(parts) : '') });
    const fixedSeq = fixedSequenceLength(teacher, structure);
    const fixedRows = fixedBatchSize(teacher, structure);
    return new TeacherFeatures(session, modelInputs(teacher, structure), requests, cache ? { ...cache, teacherKey } : undefined, fixedSeq, fixedRows, fed);
  }

  /**
   * The features of `batch` (the examples of training step `step`), keyed by training-graph input name. Features
   * holding NaN or Infinity are refused, naming the teacher's value, before anything is stored: the loss they feed
   * would not be finite, and it is the teacher's fault (neither the loss settings' nor the learning rate's).
   */
  async run(batch: Batch, step?: number): Promise<Feeds> {
    const file = this.cache ? join(this.cache.dir, `features-${this.batchKey(batch)}.bin`) : undefined;
    if (file && existsSync(file)) {
      const read = readFeatures(file, this.requests);
      if (typeof read !== 'string') {
        // (a file stored before such features were refused)
        this.requireFinite(read, step);
        this.stats.hits++;
        return read;
      }
      this.cache!.log?.(`teacher features cache ${file}: ${read}; recomputing`);
    }
    const fixed = this.fixedSeq !== undefined && this.fixedSeq !== batch.seq ? this.fixedSeq : undefined;
    if (fixed !== undefined && batch.seq > fixed) throw new SettingsError(`a batch of ${batch.seq} tokens is longer than the teacher's fixed ${fixed}`);
    const tokens = fixed === undefined ? { ...batch, batch: batch.size } : padBatch(batch, fixed);
    const out = await this.runRows(tokens);
    this.stats.runs++;
    const result: Feeds = {};
    for (const r of this.requests) {
      const t = out[r.value]!;
      result[r.input] = fixed === undefined ? t : cropFeature(t, batch.seq, r.attention === true);
    }
    this.requireFinite(result, step);
    if (file) this.store(file, result);
    return result;
  }

  private requireFinite(features: Feeds, step: number | undefined): void {
    const bad = nonFiniteFeature(features, this.requests);
    if (!bad) return;
    const where = step === undefined ? 'a batch' : `step ${step}`;
    throw new NonFiniteInputError(
      `the teacher computes ${nonFiniteText(bad)} at ${quotedText(bad.feature)} (the feature an intermediate-layer match reads) on the examples of ${where}: fix or retrain it before distilling from it`,
    );
  }

  /**
   * The requested features of `tokens`, as float32: one run, or, for a teacher that fixes the batch size, one run per
   * chunk of that many rows (the last filled with copies of its first row, whose features are dropped), joined.
   */
  private async runRows(tokens: TokenBatch): Promise<Record<string, Tensor>> {
    const rows = this.fixedRows;
    const features = async (t: TokenBatch) => {
      let out: Record<string, Tensor>;
      try {
        out = await this.session.run(idFeeds(this.fed(tokenInputs(this.inputs, t))));
      } catch (e) {
        throw new UserError(`teacher: onnxruntime cannot run the model on a batch of [${t.batch}, ${t.seq}] tokens: ${ortErrorLine(e)}`, { cause: e });
      }
      return Object.fromEntries(this.requests.map((r) => [r.value, float32Feature(out[r.value]!)]));
    };
    if (rows === undefined || rows === tokens.batch) return features(tokens);
    const chunks: Array<{ count: number; out: Record<string, Tensor> }> = [];
    for (let start = 0; start < tokens.batch; start += rows) {
      const count = Math.min(rows, tokens.batch - start);
      chunks.push({ count, out: await features(chunkRows(tokens, start, count, rows)) });
    }
    return Object.fromEntries(this.requests.map((r) => [r.value, joinRows(chunks.map((c) => ({ count: c.count, t: c.out[r.value]! })))]));
  }

  private batchKey(batch: Batch): string {
    const h = createHash('sha256');
    h.update(
      JSON.stringify({
        format: FEATURE_CACHE_MAGIC,
        teacher: this.cache!.teacherKey,
        values: this.requests.map((r) => r.value),
        size: batch.size,
        seq: batch.seq,
      }),
    );
    for (const a of [batch.inputIds, batch.attentionMask, batch.tokenTypeIds]) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    return h.digest('hex');
  }

  private store(file: string, features: Feeds): void {
    const parts = this.requests.map((r) => features[r.input]);
    const payload = parts.map((t) => {
      const d = t.data as Float32Array;
      return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
    });
    const header = Buffer.from(
      JSON.stringify({
        parts: parts.map((t, i) => ({ input: this.requests[i].input, dims: [...t.dims] })),
        payloadSha256: sha256Bytes(payload),
      }),
    );
    const size = 12 + header.length + payload.reduce((n, p) => n + p.length, 0);
    if (this.cacheBytes + size > this.cache!.budgetBytes) return;
    const len = Buffer.alloc(4);
    len.writeUInt32LE(header.length);
    writeFileAtomic(file, Buffer.concat([Buffer.from(FEATURE_CACHE_MAGIC), len, header, ...payload]));
    this.cacheBytes += size;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/**
 * The features in a cache file, or why it is not a whole one for these requests (another format or requests,
 * truncated, or bytes changed since it was written: the payload checksum).
 */
function readFeatures(file: string, requests: readonly FeatureRequest[]): Feeds | string {
  try {
    const buf = readFileSync(file);
    if (buf.subarray(0, 8).toString() !== FEATURE_CACHE_MAGIC) return 'not a teacher features file of this version';
    const n = buf.readUInt32LE(8);
    const header = JSON.parse(buf.subarray(12, 12 + n).toString()) as { parts: Array<{ input: string; dims: number[] }>; payloadSha256: string };
    const parts = header.parts;
    if (parts.length !== requests.length || parts.some((h, i) => h.input !== requests[i].input)) return 'written for other features';
    const size = parts.reduce((a, h) => a + 4 * h.dims.reduce((x, y) => x * y, 1), 0);
    if (buf.length - 12 - n !== size) return `truncated or padded payload (${buf.length - 12 - n} bytes, expected ${size})`;
    if (sha256Bytes([buf.subarray(12 + n)]) !== header.payloadSha256) return 'payload checksum mismatch';
    let at = 12 + n;
    const out: Feeds = {};
    for (const h of parts) {
      const count = h.dims.reduce((a, b) => a * b, 1);
      const bytes = buf.subarray(at, at + 4 * count);
      out[h.input] = new Tensor('float32', new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), h.dims);
      at += 4 * count;
    }
    return out;
  } catch (e) {
    return `unreadable (${(e as Error).message})`;
  }
}

/**
 * The first of `features` (TeacherFeatures.run's) holding NaN or Infinity, named by its value in the teacher's graph:
 * how many, the first. Attention scores' −Infinity (a mask some exports add) is no such value: the loss zeroes the
 * masked entries (IntermediateTerm.scores).
 */
function nonFiniteFeature(features: Feeds, requests: readonly FeatureRequest[]): { feature: string; count: number; value: number } | undefined {
  for (const r of requests) {
    const data = features[r.input]?.data as Float32Array | undefined;
    // (all finite, or attention scores' −Infinity, as a model's features are but for a broken one: told at once, each
    // value read below where not)
    if (!data || float32AllFinite(data, r.scores === true)) continue;
    let count = 0;
    let first = 0;
    // (an indexed loop: run on every batch, where an iterator's is several times slower)
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (!Number.isFinite(v) && !(v === -Infinity && r.scores) && count++ === 0) first = v;
    }
    if (count > 0) return { feature: r.value, count, value: first };
  }
  return undefined;
}

/** A teacher feature as the float32 tensor the training graph takes (a float16 teacher's decoded). */
function float32Feature(t: Tensor): Tensor {
  return t.type === 'float32' ? t : new Tensor('float32', floatValues(t), t.dims);
}

/** `batch`'s rows padded to `seq` tokens (ids, mask and token types 0 past each row's end). */
function padBatch(batch: Batch, seq: number): TokenBatch {
  const pad = (a: BigInt64Array) => {
    const out = new BigInt64Array(batch.size * seq);
    for (let b = 0; b < batch.size; b++) out.set(a.subarray(b * batch.seq, (b + 1) * batch.seq), b * seq);
    return out;
  };
  return { batch: batch.size, seq, inputIds: pad(batch.inputIds), attentionMask: pad(batch.attentionMask), tokenTypeIds: pad(batch.tokenTypeIds) };
}

/** Rows [start, start + count) of `tokens` as a batch of `rows` rows, the missing ones copies of row `start` (filledRows). */
function chunkRows(tokens: TokenBatch, start: number, count: number, rows: number): TokenBatch {
  const seq = tokens.seq;
  const picks = filledRows(
    Array.from({ length: count }, (_, r) => start + r),
    rows,
  );
  const take = (a: BigInt64Array) => {
    const out = new BigInt64Array(rows * seq);
    picks.forEach((from, r) => out.set(a.subarray(from * seq, (from + 1) * seq), r * seq));
    return out;
  };
  return { batch: rows, seq, inputIds: take(tokens.inputIds), attentionMask: take(tokens.attentionMask), tokenTypeIds: take(tokens.tokenTypeIds) };
}

/** The first `count` rows (axis 0) of each part, joined in order. */
function joinRows(parts: ReadonlyArray<{ count: number; t: Tensor }>): Tensor {
  const dims = parts[0]!.t.dims.map(Number);
  const perRow = dims.slice(1).reduce((a, b) => a * b, 1);
  const total = parts.reduce((n, p) => n + p.count, 0);
  const out = new Float32Array(total * perRow);
  let at = 0;
  for (const p of parts) {
    out.set((p.t.data as Float32Array).subarray(0, p.count * perRow), at);
    at += p.count * perRow;
  }
  return new Tensor('float32', out, [total, ...dims.slice(1)]);
}

/**
 * A teacher feature computed at a longer padded length cut back to the batch's `seq` tokens: a hidden state
 * [batch, fixed, width] to its first `seq` positions, attention [batch, heads, fixed, fixed] to its first `seq` queries
 * and keys (the positions past `seq` are masked padding, so the others are what a run at `seq` computes).
 */
function cropFeature(t: Tensor, seq: number, attention: boolean): Tensor {
  const dims = t.dims.map(Number);
  const data = t.data as Float32Array;
  if (!attention) {
    if (dims.length !== 3) throw new SettingsError(`teacher hidden state of dims [${dims.join(', ')}]: expected [batch, sequence, width]`);
    const [b, fixed, w] = dims as [number, number, number];
    const out = new Float32Array(b * seq * w);
    for (let i = 0; i < b; i++) out.set(data.subarray(i * fixed * w, (i * fixed + seq) * w), i * seq * w);
    return new Tensor('float32', out, [b, seq, w]);
  }
  if (dims.length !== 4) throw new SettingsError(`teacher attention of dims [${dims.join(', ')}]: expected [batch, heads, sequence, sequence]`);
  const [b, h, fixed] = dims as [number, number, number];
  const out = new Float32Array(b * h * seq * seq);
  for (let m = 0; m < b * h; m++) {
    for (let q = 0; q < seq; q++) out.set(data.subarray((m * fixed + q) * fixed, (m * fixed + q) * fixed + seq), (m * seq + q) * seq);
  }
  return new Tensor('float32', out, [b, h, seq, seq]);
}

/**
 * The bytes of the files in `dir`. A file listed and gone when it is measured counts nothing: the temporary of a batch
 * another run (a sweep's other worker on the same teacher) renamed into place meanwhile, its bytes then counted under
 * the name it took, where it was listed already or not.
 */
function folderBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).reduce((n, f) => {
    try {
      return n + statSync(join(dir, f)).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return n;
      throw e;
    }
  }, 0);
}
