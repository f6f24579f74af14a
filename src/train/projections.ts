/**
 * The projections of intermediate-layer distillation (a hidden feature's student width → the teacher's, TinyBERT's
 * W_h) kept beside the student a run writes, `OUT.projections.safetensors`, so that a run from that student (the
 * task stage after the general stage) starts from them: TinyBERT's task_distill.py loads the general stage's
 * `fit_dense` with the student's weights (TinyBertForSequenceClassification.from_pretrained reads the whole
 * state_dict general_distill.py saved). Each projection is stored by the layers and loss of its match
 * (`t2s1.mse`: teacher layer 2, student layer 1, 0 the embeddings), with the identities of the teacher it was learned
 * against and of the student model written with it. A run from that model starts each match of the same layers,
 * loss and widths from it, whichever its teacher: TinyBERT's general stage learns fit_dense against BERT-base and its
 * task stage loads it to learn against a fine-tuned teacher (a run against another teacher than the one they were
 * learned against says so, in its log and lineage); beside another model (the file written over since) none is
 * carried, and the run says so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { lineagePath } from '../destination.ts';
import { DataError, quotedText, valueText } from '../errors.ts';
import { readSafetensors, writeSafetensors } from '../bert/safetensors.ts';
import { sha256Bytes } from '../files.ts';
import { projectionName, projects, type IntermediateTerm } from '../gradients/index.ts';
import { modelSha256 } from '../onnx/identity.ts';
import type { IntermediateMatch } from './intermediate.ts';

const FORMAT = 'bert-compress-projections/1';

/** The projections file beside the model at `modelPath`. */
export function projectionsPath(modelPath: string): string {
  return `${modelPath}.projections.safetensors`;
}

/** How a projection is stored: by its match's layers and loss ('t2s1.mse'); layer 0 is the embeddings either way. */
export function projectionKey(m: Pick<IntermediateMatch, 'teacherLayer' | 'studentLayer' | 'loss'>): string {
  return `t${m.teacherLayer}s${m.studentLayer}.${m.loss}`;
}

/** One projection: [student width, teacher width], row-major. */
export interface StoredProjection {
  dims: [number, number];
  data: Float32Array;
}

/** A projections file: what it was learned against and beside (identities: modelSha256), and its projections by key. */
export interface ProjectionsFile {
  /** The teacher's identity. */
  teacher: string;
  /** The identity of the student model written with it. */
  student: string;
  projections: Map<string, StoredProjection>;
}

/** SHA-256 of the projections' keys, dims and bytes, by key: stored with them and checked on reading. */
function checksum(projections: ReadonlyMap<string, StoredProjection>): string {
  const sorted = [...projections].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sha256Bytes(
    sorted.flatMap(([key, p]) => [Buffer.from(`${key}\0${p.dims.join('x')}\0`), new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength)]),
  );
}

/** Writes `file` at `path` (atomically: a temporary name, then renamed). */
export function writeProjections(path: string, file: ProjectionsFile): void {
  const tensors = new Map([...file.projections].map(([key, p]) => [key, { dims: p.dims, data: p.data }]));
  writeSafetensors(path, tensors, { format: FORMAT, teacher: file.teacher, student: file.student, sha256: checksum(file.projections) });
}

/** The projections file at `path`; a one-line DataError naming it when it is not one, or not whole. */
export function readProjections(path: string): ProjectionsFile {
  const hint = 'remove it to start new projections';
  let file: ReturnType<typeof readSafetensors>;
  try {
    file = readSafetensors(path);
  } catch (e) {
    // (truncated, not safetensors, unreadable: readSafetensors's one line, naming the file, with the same advice)
    if (e instanceof DataError) throw new DataError(`${e.message}; ${hint}`, { cause: e });
    throw e;
  }
  const fail = (why: string): never => {
    throw new DataError(`${path}: ${why}; ${hint}`);
  };
  const { format, teacher, student, sha256 } = file.metadata;
  if (format !== FORMAT) fail(`not a projections file of bert-compress (format ${valueText(format)})`);
  if (!teacher || !student) fail('its metadata names no teacher or student');
  const projections = new Map<string, StoredProjection>();
  for (const [key, t] of file.tensors) {
    if (t.dtype !== 'F32' || t.dims.length !== 2) fail(`${quotedText(key)} is not a float32 matrix`);
    projections.set(key, { dims: [t.dims[0]!, t.dims[1]!], data: t.data });
  }
  if (checksum(projections) !== sha256) fail('checksum mismatch (bytes changed since it was written)');
  return { teacher: teacher!, student: student!, projections };
}

/**
 * What a run from a student model finds beside it: the projections it starts from, with the teacher they were learned
 * against (`teacher`: its identity; `teacherPath`: where the run that wrote them read another teacher than this run's, when its lineage says;
 * `otherTeacher`: not this run's), or why it starts new ones.
 */
export type CarriedProjections =
  | { file: string; projections: Map<string, StoredProjection>; teacher: string; teacherPath?: string; otherTeacher: boolean }
  | { file: string; notCarried: string };

/**
 * The projections beside the student model `studentOnnx`, when they were written with it (by modelSha256, `hash`
 * hashing each file), learned against the teacher `teacherOnnx` or another; undefined when there is no such file.
 */
export async function carriedProjections(
  studentOnnx: string,
  teacherOnnx: string,
  hash: (file: string) => Promise<string>,
): Promise<CarriedProjections | undefined> {
  const file = projectionsPath(studentOnnx);
  if (!existsSync(file)) return undefined;
  const read = readProjections(file);
  if (read.student !== (await modelSha256(studentOnnx, hash))) return { file, notCarried: `it was written with another model than ${studentOnnx}` };
  const otherTeacher = read.teacher !== (await modelSha256(teacherOnnx, hash));
  const teacherPath = otherTeacher ? await writersTeacher(studentOnnx, read.teacher, hash) : undefined;
  return { file, projections: read.projections, teacher: read.teacher, ...(teacherPath ? { teacherPath } : {}), otherTeacher };
}

/**
 * The teacher path the lineage beside `studentOnnx` names (OUT.json of the run that wrote it), when that lineage is
 * of this model and names the teacher whose identity is `teacher`; undefined otherwise (no lineage, another run's).
 */
async function writersTeacher(studentOnnx: string, teacher: string, hash: (file: string) => Promise<string>): Promise<string | undefined> {
  let lineage: { output?: { sha256?: unknown }; teacher?: { path?: unknown; sha256?: unknown } };
  try {
    lineage = JSON.parse(readFileSync(lineagePath(studentOnnx), 'utf8'));
  } catch {
    return undefined; // (none, or not JSON: the identity alone says which teacher)
  }
  const path = lineage?.teacher?.path;
  if (typeof path !== 'string' || lineage.output?.sha256 !== (await hash(studentOnnx))) return undefined;
  // (the sha256 of the teacher's .onnx file: its identity, unless its weights are external data, when no path is named)
  return lineage.teacher?.sha256 === teacher ? path : undefined;
}

/**
 * `terms` (of `matches`, in their order) with the projection of each that learns one starting from the stored
 * projection of its match's layers and loss, where one of its widths is there; `carried` and `fresh` name the
 * matches (by key) that start from a stored projection and those that start new ones.
 */
export function withCarried(
  terms: readonly IntermediateTerm[],
  matches: readonly IntermediateMatch[],
  stored: ReadonlyMap<string, StoredProjection>,
): { terms: IntermediateTerm[]; carried: string[]; fresh: string[] } {
  const carried: string[] = [];
  const fresh: string[] = [];
  const out = terms.map((t, i) => {
    if (!projects(t)) return t;
    const key = projectionKey(matches[i]!);
    const p = stored.get(key);
    if (!p || p.dims[0] !== t.studentWidth || p.dims[1] !== t.teacherWidth) {
      fresh.push(key);
      return t;
    }
    carried.push(key);
    return { ...t, projection: p.data };
  });
  return { terms: out, carried, fresh };
}

/**
 * The projections a phase learned (`learned`: TrainResult.projections, by parameter name), by the key of each
 * term's match; the first of two terms of one key (an `embeddings` and a `hidden` match of layer 0) is kept.
 */
export function learnedProjections(
  terms: readonly IntermediateTerm[],
  matches: readonly IntermediateMatch[],
  learned: ReadonlyMap<string, Float32Array>,
): Map<string, StoredProjection> {
  const out = new Map<string, StoredProjection>();
  terms.forEach((t, i) => {
    const key = projectionKey(matches[i]!);
    const data = learned.get(projectionName(t.label));
    if (projects(t) && data && !out.has(key)) out.set(key, { dims: [t.studentWidth, t.teacherWidth], data });
  });
  return out;
}
