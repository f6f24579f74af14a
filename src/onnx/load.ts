/**
 * Reading ONNX models: a file (with external data beside it, as Optimum writes `.onnx` + `.onnx.data`) or bytes.
 * Every failure is a ModelLoadError whose one-line message names the file and the problem, including a field the
 * vendored schema does not know (saving would drop it) and an IR version newer than the schema's.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, normalize, resolve, sep } from 'node:path';
import { ModelLoadError, errorLine } from '../errors.ts';
import { LFS_POINTER_MAX_BYTES, lfsPointerProblem } from '../files.ts';
import type { Model, ValueInfo } from './graph.ts';
import { onnx, modelFromProto, valueInfoFromProto, type ExternalReader, type ExternalRef } from './proto.ts';
import { SCHEMA_IR_VERSION, SCHEMA_ONNX_RELEASE, messageType } from './schema.ts';
import { unknownFieldProblem } from './fidelity.ts';
import { unreachableReason } from './locate.ts';
import { checkOpsets, cycleProblem, definitionProblems } from './validate.ts';
import { ensureUniqueNodeNames, topoSort } from './analysis.ts';
import { checkStringOption } from '../library-args.ts';
import { withFileFields } from './file-fields.ts';

export interface LoadOptions {
  /** Folder that external-data locations are relative to (default: the model file's folder). */
  baseDir?: string;
  /** Called with the real path of each external data file the model reads, once per file. */
  onExternalFile?: (realPath: string) => void;
}

/**
 * True when `real` is a file of the Hugging Face hub cache repo that the snapshot folder `realBase` lies in
 * (`…/models--org--name/snapshots/REV/…` → `…/models--org--name/blobs/…`), where huggingface_hub and our own hub
 * cache link every snapshot file: a model downloaded so reads its external data through those links.
 */
function inHubCacheBlobs(realBase: string, real: string): boolean {
  const parts = realBase.split(sep);
  const i = parts.lastIndexOf('snapshots');
  if (i < 1 || i + 1 >= parts.length || !/^(models|datasets|spaces)--./.test(parts[i - 1]!)) return false;
  const blobs = [...parts.slice(0, i), 'blobs'].join(sep);
  return dirname(real) === blobs;
}

/**
 * Bytes of external tensor data, read on demand from files in `baseDir`. A location must stay inside that folder
 * by its real path too: a symlinked folder or file that leads elsewhere (`etc → /etc`) is refused, except a file of
 * the hub cache's blobs that a snapshot folder links to (inHubCacheBlobs).
 */
function externalReader(baseDir: string, onFile?: (realPath: string) => void): { read: ExternalReader; close(): void } {
  const fds = new Map<string, { fd: number; size: number }>();
  let realBase: string | undefined;
  const read: ExternalReader = (ref: ExternalRef, tensorName: string) => {
    const rel = normalize(ref.location);
    if (isAbsolute(rel) || rel.startsWith('..' + sep) || rel === '..') {
      throw new Error(`tensor '${tensorName}': external data location '${ref.location}' leaves the model's folder`);
    }
    const path = resolve(baseDir, rel);
    let f = fds.get(path);
    if (!f) {
      if (!existsSync(path)) throw new Error(`tensor '${tensorName}': external data file '${ref.location}' is missing`);
      realBase ??= realpathSync(baseDir);
      const real = realpathSync(path);
      if (!real.startsWith(realBase + sep) && !inHubCacheBlobs(realBase, real)) {
        throw new Error(
          `tensor '${tensorName}': external data location '${ref.location}' leads outside the model's folder (to ${real}) through a symbolic link`,
        );
      }
      if (!statSync(real).isFile()) throw new Error(`tensor '${tensorName}': external data location '${ref.location}' is not a regular file`);
      const fd = openSync(real, 'r');
      f = { fd, size: fstatSync(fd).size };
      fds.set(path, f);
      if (f.size <= LFS_POINTER_MAX_BYTES) {
        const head = Buffer.alloc(f.size);
        readSync(fd, head, 0, f.size, 0);
        const pointer = lfsPointerProblem(head);
        if (pointer) throw new Error(`tensor '${tensorName}': external data file '${ref.location}' is ${pointer}`);
      }
      onFile?.(real);
    }
    if (ref.offset < 0 || ref.length < 0 || ref.offset + ref.length > f.size) {
      throw new Error(`tensor '${tensorName}': external data [${ref.offset}, +${ref.length}) is outside '${ref.location}' (${f.size} bytes)`);
    }
    const buf = Buffer.allocUnsafe(ref.length);
    let done = 0;
    while (done < ref.length) {
      const n = readSync(f.fd, buf, done, ref.length - done, ref.offset + done);
      if (n <= 0) throw new Error(`tensor '${tensorName}': short read of '${ref.location}'`);
      done += n;
    }
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  };
  return { read, close: () => fds.forEach((f) => closeSync(f.fd)) };
}

/** Decodes serialized ModelProto bytes. `label` names the source in error messages. */
export function decodeModel(bytes: Uint8Array, opts: LoadOptions & { label?: string } = {}): Model {
  const label = opts.label ?? 'model bytes';
  if (bytes.byteLength === 0) throw new ModelLoadError(`${label}: empty file, not an ONNX model`);
  const pointer = lfsPointerProblem(bytes);
  if (pointer) throw new ModelLoadError(`${label}: ${pointer}`);
  let proto;
  let unknown: string | undefined;
  try {
    proto = onnx.ModelProto.decode(bytes);
    unknown = unknownFieldProblem(bytes);
  } catch (e) {
    throw new ModelLoadError(`${label}: not an ONNX model (protobuf decoding failed: ${errorLine(e)})`, { cause: e });
  }
  if (!proto.graph) throw new ModelLoadError(`${label}: not an ONNX model (no graph)`);
  if (unknown) throw new ModelLoadError(`${label}: ${unknown}`);
  const ext = opts.baseDir !== undefined ? externalReader(opts.baseDir, opts.onExternalFile) : undefined;
  let model: Model;
  try {
    model = modelFromProto(proto, ext?.read);
  } catch (e) {
    throw new ModelLoadError(`${label}: ${errorLine(e)}`, { cause: e });
  } finally {
    ext?.close();
  }
  if (model.irVersion <= 0) throw new ModelLoadError(`${label}: not an ONNX model (IR version ${model.irVersion})`);
  if (model.irVersion > SCHEMA_IR_VERSION) {
    throw new ModelLoadError(
      `${label}: IR version ${model.irVersion} is newer than the ONNX ${SCHEMA_ONNX_RELEASE} schema this reader knows (IR ${SCHEMA_IR_VERSION})`,
    );
  }
  const opsetProblem = checkOpsets(model);
  if (opsetProblem) throw new ModelLoadError(`${label}: ${opsetProblem}`);
  ensureUniqueNodeNames(model.graph);
  // ONNX requires topological order; an unsorted but acyclic graph is put in order rather than refused.
  const sorted = topoSort(model.graph);
  if (!sorted.ok) throw new ModelLoadError(`${label}: invalid graph: ${cycleProblem(sorted.cycleAt)}`);
  model.graph.nodes = sorted.nodes;
  const problems = definitionProblems(model.graph);
  if (problems.length) throw new ModelLoadError(`${label}: invalid graph: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`);
  return model;
}

/** Reads an ONNX model file; external data is resolved relative to the file's folder. */
export function loadModel(path: string, opts: LoadOptions = {}): Model {
  checkStringOption('loadModel', 'path', path, 'the path of an .onnx file');
  let bytes: Buffer;
  try {
    if (statSync(path).isDirectory()) throw new ModelLoadError(`${path}: is a folder, not an ONNX file`);
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof ModelLoadError) throw e;
    throw new ModelLoadError(`${path}: ${unreachableReason(path, e, 'no such file')}`, { cause: e });
  }
  return decodeModel(bytes, { ...opts, baseDir: opts.baseDir ?? dirname(resolve(path)), label: path });
}

/**
 * The fields of the main graph of the model file at `path` named `names` (GraphProto's), in file order, each given
 * to `visit` as its bytes: the file is walked field by field in protobuf's wire format with positional reads
 * (FileFields), so the graph's other fields, its weights among them, are skipped unread and neither the time nor the
 * memory grows with them. A file this project wrote or onnxruntime opened: read without loadModel's checks.
 */
function forGraphFields(path: string, names: readonly string[], visit: (name: string, bytes: Uint8Array) => void): void {
  const graphField = messageType('ModelProto').fields.graph!.id;
  const fields = messageType('GraphProto').fields;
  const byId = new Map(names.map((name) => [fields[name]!.id, name]));
  withFileFields(path, (file) => {
    for (const graph of file.fields(0, file.size)) {
      if (graph.field !== graphField || graph.length === undefined) continue;
      for (const f of file.fields(graph.at, graph.at + graph.length)) {
        const name = byId.get(f.field);
        if (name !== undefined && f.length !== undefined) visit(name, file.bytes(f.at, f.length));
      }
    }
  });
}

/**
 * The operator types of the main graph of the model file at `path`, read from its nodes alone (forGraphFields: not its
 * weights, inline or external, which may be past 2 GiB).
 */
export function graphOpTypes(path: string): Set<string> {
  const types = new Set<string>();
  forGraphFields(path, ['node'], (_, bytes) => types.add(onnx.NodeProto.decode(bytes).opType ?? ''));
  return types;
}

/** The graph inputs and outputs a model declares (GraphProto's `input` and `output`). */
export interface GraphInterface {
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

/**
 * The inputs and outputs the main graph of the model file at `path` declares, read from those fields alone
 * (forGraphFields: not its nodes or weights; a teacher's fixed shapes and scores output, read before onnxruntime opens
 * the file).
 */
export function graphInterface(path: string): GraphInterface {
  const found: GraphInterface = { inputs: [], outputs: [] };
  forGraphFields(path, ['input', 'output'], (name, bytes) =>
    (name === 'input' ? found.inputs : found.outputs).push(valueInfoFromProto(onnx.ValueInfoProto.decode(bytes))),
  );
  return found;
}
