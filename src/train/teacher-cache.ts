/**
 * Teacher outputs for distillation, computed once with onnxruntime and cached on disk. The teacher does not change
 * during training, so its logits on every training example are a function of the teacher's bytes and the
 * tokenized examples only: they are stored under a SHA-256 of the teacher's files (the .onnx and any external data
 * files), the training set's `sha256` and the maximum length. A later call with the same key reads the file and
 * runs nothing; a file that is truncated, altered or written for another key is recomputed.
 *
 * The file holds the teacher's raw output rows; they are put in the student's output order (config.json id2label
 * of each) after reading, so a teacher with another class order distils correctly.
 *
 * Layout (little-endian): 8 bytes "BCTLOGIT", u32 header length H, H bytes of JSON
 * `{format, key, count, width, payloadSha256}`, zero padding to a multiple of 4, then count × width float32.
 */
import { inlineLocalFunctions } from '../onnx/inline.ts';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { basename, join } from 'node:path';
import { NonFiniteInputError, SettingsError, nonFiniteText, counted } from '../errors.ts';
import { DEFAULT_BATCH_SIZE } from '../eval/evaluate.ts';
import { mapModelLabels } from '../eval/labels.ts';
import { readModelConfig } from '../eval/model-files.ts';
import { locateModel } from '../onnx/locate.ts';
import { predictRows } from '../eval/predict.ts';
import { graphFacts, interfaceFacts } from '../eval/graph-checks.ts';
import { externalDataFiles } from '../onnx/identity.ts';
import { removeStaleTemporariesIn, sha256Bytes, sha256File, writeFileAtomic } from '../files.ts';
import { openSession } from '../runtime/session.ts';
import { graphInterface, loadModel } from '../onnx/load.ts';
import { nonFiniteValues } from '../onnx/tensor.ts';
import type { Model } from '../onnx/graph.ts';
import { fedByNames, sessionInputs } from '../bert/model-inputs.ts';
import { taskOf, textEncodings, type TrainingSet } from './data.ts';

const MAGIC = 'BCTLOGIT';
const FORMAT = 'teacher-logits/1';

export interface TeacherLogitsOptions {
  /** The teacher: an .onnx file or a model folder. Its folder's config.json (if any) names its output order. */
  teacherPath: string;
  set: TrainingSet;
  /** Default 32. */
  batchSize?: number;
  /** Folder of the cache files (created when needed). */
  cacheDir: string;
  /** onnxruntime intra-op threads; default one per physical core. */
  threads?: number;
  /** Called after each batch the teacher runs (never on a cache hit). */
  onBatch?: (done: number, total: number) => void;
  /** Notes: read from the cache, or computing (a miss, or a bad cache file) and then cached. */
  log?: (line: string) => void;
  /**
   * The sha256 of a file, for the cache key (default sha256File): a memoized one the caller hashes the teacher with
   * too (training's lineage and checkpoints), so that its files are read and hashed once.
   */
  hashFile?: (file: string) => Promise<string>;
}

/**
 * The teacher's logits on every example of the set, row-major [examples × set.numLabels], in the set's output order.
 * Read from the cache when present and intact; otherwise computed and stored atomically.
 */
export async function teacherLogits(o: TeacherLogitsOptions): Promise<Float32Array> {
  const where = locateModel(o.teacherPath);
  const teacherConfig = readModelConfig(where.dir);
  // A teacher whose config.json says it cannot score this task fails before it runs over the whole set.
  if (teacherConfig.numLabels !== null) teacherColumns(teacherConfig.id2label, taskOf(o.set, 'teacher logits').regression ? 1 : teacherConfig.numLabels, o.set);
  const key = await teacherCacheKey(where.onnx, o.set, o.hashFile);
  const file = teacherCacheFile(o.cacheDir, key);
  const count = o.set.examples.length;
  // (once per call: what runs killed while writing any cache file here left, a file of another teacher or data, or one
  // another run wrote meanwhile, which this run then reads and never writes)
  removeStaleTemporariesIn(o.cacheDir);
  let rows: { values: Float32Array; width: number } | undefined;
  if (existsSync(file)) {
    const read = readCache(file, key, count);
    if (typeof read === 'string') o.log?.(`${file}: ${read}; recomputing`);
    else {
      o.log?.(`teacher outputs on ${counted(count, 'example')} (cached): read from ${file}`);
      rows = read;
    }
  }
  const computed = !rows;
  if (!rows) {
    o.log?.(`teacher outputs on ${counted(count, 'example')}: computing (not in the cache)`);
    rows = await runTeacher(where.onnx, o);
  }
  const logits = reorder(rows.values, rows.width, teacherColumns(teacherConfig.id2label, rows.width, o.set), o.set.numLabels);
  // (refused before it is cached: scores the student cannot learn from are not kept)
  requireFiniteLogits(logits, o.set.numLabels, o.teacherPath);
  if (computed) {
    writeFileAtomic(file, encodeCache(key, count, rows.width, rows.values));
    o.log?.(`teacher outputs computed and cached in ${file}`);
  }
  return logits;
}

/**
 * Refuses, in one line naming the teacher `label`, teacher logits (rows of `width`: the ones the student learns from)
 * holding NaN or Infinity: every step of a batch holding one of their examples has a loss that is not finite.
 */
function requireFiniteLogits(logits: Float32Array, width: number, label: string): void {
  const bad = nonFiniteValues(logits);
  if (!bad) return;
  const rows = logits.length / width;
  let examples = 0;
  for (let i = 0; i < rows; i++) if (nonFiniteValues(logits.subarray(i * width, (i + 1) * width))) examples++;
  throw new NonFiniteInputError(
    `${label}: the teacher computes ${nonFiniteText({ count: bad.count, value: logits[bad.first]! })} in its scores on ${examples} of ${counted(rows, 'training example')}: fix or retrain it before distilling from it`,
  );
}

/**
 * The cache key: SHA-256 of the teacher's files (by `hashFile`, default sha256File), the set's hash and the maximum
 * length.
 */
export async function teacherCacheKey(onnxPath: string, set: TrainingSet, hashFile: (file: string) => Promise<string> = sha256File): Promise<string> {
  const teacher = await Promise.all([onnxPath, ...externalDataFiles(onnxPath)].map(hashFile));
  return createHash('sha256')
    .update(JSON.stringify({ format: FORMAT, teacher, data: set.sha256, maxLength: set.maxLength }))
    .digest('hex');
}

/** The cache file of a key. */
export function teacherCacheFile(cacheDir: string, key: string): string {
  return join(cacheDir, `teacher-logits-${key}.bin`);
}

/** Runs the teacher over the set (length-bucketed batches, fed through evaluation's `predictRows`). */
async function runTeacher(onnxPath: string, o: TeacherLogitsOptions): Promise<{ values: Float32Array; width: number }> {
  const session = await openSession(onnxPath, o.threads !== undefined ? { threads: o.threads } : {});
  try {
    // A teacher whose inputs fix the sequence length or batch size (a static-shape export) is fed batches of that
    // shape. A teacher fed by its input names (what exporters name them) needs no more of its graph than the inputs
    // and outputs it declares, read without its weights; one whose input roles only discovery tells apart is read whole,
    // and so is one whose scores output only discovery finds (several outputs, none declaring a [batch, labels] shape:
    // [output_0: hidden states, output_1: logits]), as evaluation finds it.
    const io = fedByNames(session) ? graphInterface(onnxPath) : undefined;
    const declared = io && interfaceFacts(io);
    const interfaceOnly = declared && (io!.outputs.length === 1 || declared.scoresName === 'logits' || declared.scoreWidth !== null) ? declared : undefined;
    let graph: Model | undefined = interfaceOnly ? undefined : inlineLocalFunctions(loadModel(onnxPath));
    const facts = interfaceOnly ?? graphFacts(graph!);
    const padTo = facts.fixedSequence ?? undefined;
    const batchRows = facts.fixedBatch ?? undefined;
    const inputs = sessionInputs(session, graph ? () => graph! : undefined, facts.structure);
    graph = undefined; // the weights are in the session now
    const rows = await predictRows(session, textEncodings(o.set.examples), {
      inputs,
      batchSize: batchRows ?? o.batchSize ?? DEFAULT_BATCH_SIZE,
      padId: o.set.padId,
      ...(padTo !== undefined ? { padTo } : {}),
      ...(batchRows !== undefined ? { batchRows } : {}),
      ...(facts.scoresName ? { output: facts.scoresName } : {}),
      ...(o.onBatch ? { onBatch: o.onBatch } : {}),
    });
    return { values: rows.values, width: rows.width };
  } finally {
    await session.release();
  }
}

/** For each output of the set's model, the teacher output scoring the same task label. */
function teacherColumns(teacherId2label: ReadonlyMap<number, string> | null, width: number, set: TrainingSet): number[] {
  let teacherToLabel: readonly number[];
  try {
    teacherToLabel = mapModelLabels(taskOf(set, 'teacher logits'), teacherId2label, width).outputToLabel;
  } catch (e) {
    throw new SettingsError(`teacher: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return set.labelMapping.outputToLabel.map((label) => teacherToLabel.indexOf(label));
}

/** Rows of `width` values with their columns picked by `columns` (the rows themselves when it is the identity). */
function reorder(values: Float32Array, width: number, columns: readonly number[], numLabels: number): Float32Array {
  if (columns.length === width && columns.every((c, j) => c === j)) return values;
  const n = values.length / width;
  const out = new Float32Array(n * numLabels);
  for (let i = 0; i < n; i++) for (let j = 0; j < numLabels; j++) out[i * numLabels + j] = values[i * width + columns[j]];
  return out;
}

function checkLittleEndian(): void {
  if (endianness() !== 'LE') throw new Error('the teacher-logits cache needs a little-endian machine');
}

/** The cache file's bytes. */
function encodeCache(key: string, count: number, width: number, values: Float32Array): Uint8Array[] {
  checkLittleEndian();
  const payload = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const header = new TextEncoder().encode(JSON.stringify({ format: FORMAT, key, count, width, payloadSha256: sha256Bytes([payload]) }));
  const prefix = new Uint8Array(Math.ceil((12 + header.byteLength) / 4) * 4);
  prefix.set(new TextEncoder().encode(MAGIC));
  new DataView(prefix.buffer).setUint32(8, header.byteLength, true);
  prefix.set(header, 12);
  return [prefix, payload];
}

/** The rows of a cache file, or why it cannot be used. */
function readCache(file: string, key: string, count: number): { values: Float32Array; width: number } | string {
  checkLittleEndian();
  const bytes = readFileSync(file);
  if (bytes.byteLength < 12 || bytes.subarray(0, 8).toString('latin1') !== MAGIC) return 'not a teacher-logits cache file';
  const headerLength = bytes.readUInt32LE(8);
  if (12 + headerLength > bytes.byteLength) return 'truncated header';
  let header: { format?: unknown; key?: unknown; count?: unknown; width?: unknown; payloadSha256?: unknown };
  try {
    header = JSON.parse(bytes.subarray(12, 12 + headerLength).toString('utf8'));
  } catch {
    return 'unreadable header';
  }
  if (header.format !== FORMAT || header.key !== key) return `written for another key (${basename(file)})`;
  if (header.count !== count) return `holds ${String(header.count)} rows, the set has ${count}`;
  const width = header.width;
  if (!(typeof width === 'number' && Number.isInteger(width) && width > 0)) return 'bad width';
  const start = Math.ceil((12 + headerLength) / 4) * 4;
  if (bytes.byteLength - start !== count * width * 4) return `truncated or padded payload (${bytes.byteLength - start} bytes, expected ${count * width * 4})`;
  const payload = bytes.subarray(start);
  if (sha256Bytes([payload]) !== header.payloadSha256) return 'payload checksum mismatch';
  const values = new Float32Array(count * width);
  new Uint8Array(values.buffer).set(payload);
  return { values, width };
}
