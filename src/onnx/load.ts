/**
 * Reading ONNX models: a file (with external data beside it, as Optimum writes `.onnx` + `.onnx.data`) or bytes.
 * Every failure is a ModelLoadError whose one-line message names the file and the problem, including a field the
 * vendored schema does not know (saving would drop it) and an IR version newer than the schema's.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, normalize, resolve, sep } from 'node:path';
import { ModelLoadError, SettingsError, errorLine, quotedText, valueAndKind } from '../errors.ts';
import { someNames } from '../some-names.ts';
import { LFS_POINTER_MAX_BYTES, lfsPointerProblem } from '../files.ts';
import type { Model, Tensor, ValueInfo } from './graph.ts';
import { onnx, modelFromProto, tensorFromProto, valueInfoFromProto, type ExternalReader, type ExternalRef, type ITensorProto } from './proto.ts';
import { SCHEMA_IR_VERSION, SCHEMA_ONNX_RELEASE, messageType } from './schema.ts';
import { DataType } from './dtype.ts';
import { unknownFieldProblem } from './fidelity.ts';
import { unreachableReason } from './locate.ts';
import { checkOpsets, cycleProblem, definitionProblems } from './validate.ts';
import { ensureUniqueNodeNames, topoSort } from './analysis.ts';
import { checkOptionKinds, checkOptions, checkStringOption, type OptionKind } from '../library-args.ts';
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
 * Why a model in `baseDir` may not read its external data from `location`, in words, or undefined: a location that
 * leaves the folder (absolute, or through '..'), or a file there whose real path lies elsewhere (a symlinked folder
 * or file: `etc → /etc`), except a file of the hub cache's blobs that a snapshot folder links to (inHubCacheBlobs).
 * A missing file is not checked further. The loader refuses such a model; so does every reader of its files
 * (identity.ts externalDataFiles: its identity, stamps, sizes, a queue's manifest).
 */
export function externalLocationProblem(baseDir: string, location: string): string | undefined {
  const rel = normalize(location);
  if (isAbsolute(rel) || rel.startsWith('..' + sep) || rel === '..') return `external data location ${quotedText(location)} leaves the model's folder`;
  const path = resolve(baseDir, rel);
  if (!existsSync(path)) return undefined;
  const realBase = realpathSync(baseDir);
  const real = realpathSync(path);
  if (!real.startsWith(realBase + sep) && !inHubCacheBlobs(realBase, real))
    return `external data location ${quotedText(location)} leads outside the model's folder (to ${real}) through a symbolic link`;
  return undefined;
}

/**
 * Bytes of external tensor data, read on demand from files in `baseDir`, at locations externalLocationProblem
 * allows.
 */
function externalReader(baseDir: string, onFile?: (realPath: string) => void): { read: ExternalReader; close(): void } {
  const fds = new Map<string, { fd: number; size: number }>();
  const read: ExternalReader = (ref: ExternalRef, tensorName: string) => {
    const path = resolve(baseDir, normalize(ref.location));
    let f = fds.get(path);
    if (!f) {
      const problem = externalLocationProblem(baseDir, ref.location);
      if (problem) throw new Error(`tensor ${quotedText(tensorName)}: ${problem}`);
      if (!existsSync(path)) throw new Error(`tensor ${quotedText(tensorName)}: external data file ${quotedText(ref.location)} is missing`);
      const real = realpathSync(path);
      if (!statSync(real).isFile())
        throw new Error(`tensor ${quotedText(tensorName)}: external data location ${quotedText(ref.location)} is not a regular file`);
      const fd = openSync(real, 'r');
      f = { fd, size: fstatSync(fd).size };
      fds.set(path, f);
      if (f.size <= LFS_POINTER_MAX_BYTES) {
        const head = Buffer.alloc(f.size);
        readSync(fd, head, 0, f.size, 0);
        const pointer = lfsPointerProblem(head);
        if (pointer) throw new Error(`tensor ${quotedText(tensorName)}: external data file ${quotedText(ref.location)} is ${pointer}`);
      }
      onFile?.(real);
    }
    if (ref.offset < 0 || ref.length < 0 || ref.offset + ref.length > f.size) {
      throw new Error(
        `tensor ${quotedText(tensorName)}: external data [${ref.offset}, +${ref.length}) is outside ${quotedText(ref.location)} (${f.size} bytes)`,
      );
    }
    const buf = Buffer.allocUnsafe(ref.length);
    let done = 0;
    while (done < ref.length) {
      const n = readSync(f.fd, buf, done, ref.length - done, ref.offset + done);
      if (n <= 0) throw new Error(`tensor ${quotedText(tensorName)}: short read of ${quotedText(ref.location)}`);
      done += n;
    }
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  };
  return { read, close: () => fds.forEach((f) => closeSync(f.fd)) };
}

/** Decodes serialized ModelProto bytes. `label` names the source in error messages. */
export function decodeModel(bytes: Uint8Array, opts: LoadOptions & { label?: string } = {}): Model {
  if (!(bytes instanceof Uint8Array))
    throw new SettingsError(`decodeModel: bytes: expected the bytes of an ONNX model (a Uint8Array), got ${valueAndKind(bytes)}`);
  checkOptionKinds('decodeModel', checkOptions('decodeModel', opts, '{baseDir, onExternalFile, label}'), DECODE_OPTION_KINDS);
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
  return checkedModel(model, label);
}

/** `model` as read, after loadModel's checks of its IR version, opsets and graph (put in topological order). */
function checkedModel(model: Model, label: string): Model {
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
  // (the first problem, and how many more: one problem is a sentence, with commas of its own)
  if (problems.length) throw new ModelLoadError(`${label}: invalid graph: ${someNames(problems, 1, '; ')}`);
  return model;
}

/** Reads an ONNX model file; external data is resolved relative to the file's folder. */
/**
 * loadModel's options by their kinds (checkOptionKinds), before the file is read: a JavaScript caller's baseDir 3
 * failed with a TypeError, onExternalFile 'x' once an external data file was read, a misspelt option was read as nothing.
 */
const LOAD_OPTION_KINDS = { baseDir: 'string', onExternalFile: 'function' } as const satisfies Record<keyof LoadOptions, OptionKind>;
/** decodeModel's options' kinds: loadModel's and the label its refusals name the bytes by. */
const DECODE_OPTION_KINDS = { ...LOAD_OPTION_KINDS, label: 'string' } as const satisfies Record<keyof LoadOptions | 'label', OptionKind>;

export function loadModel(path: string, opts: LoadOptions = {}): Model {
  checkStringOption('loadModel', 'path', path, 'the path of an .onnx file');
  checkOptionKinds('loadModel', checkOptions('loadModel', opts, '{baseDir, onExternalFile}'), LOAD_OPTION_KINDS);
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

/** Initializers of at most this many bytes (in the file) are read with the graph; larger ones when their data is. */
const LAZY_TENSOR_BYTES = 64 * 1024;

/**
 * The model file at `path` with its weights read only where their values are: the file is walked with positional
 * reads (FileFields), each initializer larger than LAZY_TENSOR_BYTES decoded without its data (name, type, dims), and
 * its `data` read from the file (or its external data) the first time it is asked for. What reads a model's structure
 * (discovery: the weights' dims and a few small constants' values) reads it so without reading its weights. The
 * model is checked as loadModel checks it, but for the fields the schema does not know; not for saving.
 */
export function loadModelShapes(path: string): Model {
  checkStringOption('loadModelShapes', 'path', path, 'the path of an .onnx file');
  const baseDir = dirname(resolve(path));
  const graphField = messageType('ModelProto').fields.graph!.id;
  const initializerField = messageType('GraphProto').fields.initializer!.id;
  const dataFields = new Set(
    ['rawData', 'floatData', 'int32Data', 'stringData', 'int64Data', 'doubleData', 'uint64Data', 'dataLocation', 'externalData'].map(
      (name) => messageType('TensorProto').fields[name]!.id,
    ),
  );
  let model: Model;
  try {
    model = withFileFields(path, (file) => {
      // (the fields of the message at [at, at + length) that `keep` keeps, as bytes that decode as the message without
      // the others)
      const kept = (at: number, length: number, keep: (field: number) => boolean): Uint8Array => {
        const parts: Uint8Array[] = [];
        for (const f of file.fields(at, at + length)) if (keep(f.field)) parts.push(Uint8Array.from(file.bytes(f.from, f.to - f.from)));
        return Buffer.concat(parts);
      };
      const proto = onnx.ModelProto.decode(kept(0, file.size, (f) => f !== graphField));
      // (every initializer in file order: a small one's name (decoded with the graph), a large one as a tensor whose data is read when asked for)
      const initializers: Array<string | Tensor> = [];
      for (const g of file.fields(0, file.size)) {
        if (g.field !== graphField || g.length === undefined) continue;
        const graph = onnx.GraphProto.decode(kept(g.at, g.length, (f) => f !== initializerField));
        graph.initializer = [];
        initializers.length = 0;
        for (const f of file.fields(g.at, g.at + g.length)) {
          if (f.field !== initializerField || f.length === undefined) continue;
          // (a large one, or one whose data lies in another file: left where it is, but for a STRING tensor's)
          const small = f.length <= LAZY_TENSOR_BYTES;
          const head = onnx.TensorProto.decode(small ? file.bytes(f.at, f.length) : kept(f.at, f.length, (k) => !dataFields.has(k)));
          if (head.dataType !== DataType.STRING && (!small || head.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL))
            initializers.push(lazyTensor(path, baseDir, f.at, f.length, head));
          else {
            const t = small ? head : onnx.TensorProto.decode(file.bytes(f.at, f.length));
            graph.initializer.push(t);
            initializers.push(t.name ?? '');
          }
        }
        proto.graph = graph;
      }
      if (!proto.graph) throw new ModelLoadError(`${path}: not an ONNX model (no graph)`);
      // (a node's tensors, a Constant's value or a subgraph's initializers, read now: from external data too, as loadModel reads them)
      const ext = externalReader(baseDir);
      let m: Model;
      try {
        m = modelFromProto(proto, ext.read);
      } finally {
        ext.close();
      }
      const read = m.graph.initializers;
      m.graph.initializers = new Map(initializers.map((t) => (typeof t === 'string' ? [t, read.get(t)!] : [t.name, t])));
      return m;
    });
  } catch (e) {
    if (e instanceof ModelLoadError) throw e;
    throw new ModelLoadError(`${path}: not an ONNX model (${errorLine(e)})`, { cause: e });
  }
  return checkedModel(model, path);
}

/**
 * The tensor whose TensorProto lies at [at, at + length) of the file at `path`, from `head` (that TensorProto without its
 * data): its name, type and dims, and its `data` read from the file (or its external data, in `baseDir`) the first
 * time it is asked for, checked as loadModel checks it.
 */
function lazyTensor(path: string, baseDir: string, at: number, length: number, head: ITensorProto): Tensor {
  const tensor = { name: head.name ?? '', dataType: head.dataType ?? 0, dims: (head.dims ?? []).map((d) => Number(String(d))) } as Tensor;
  let data: Uint8Array | undefined;
  Object.defineProperty(tensor, 'data', {
    enumerable: true,
    configurable: true,
    get: () => {
      data ??= withFileFields(path, (file) => {
        const ext = externalReader(baseDir);
        try {
          return tensorFromProto(onnx.TensorProto.decode(Uint8Array.from(file.bytes(at, length))), ext.read).data;
        } catch (e) {
          throw new ModelLoadError(`${path}: ${errorLine(e)}`, { cause: e });
        } finally {
          ext.close();
        }
      });
      return data;
    },
    set: (value: Uint8Array) => {
      data = value;
    },
  });
  return tensor;
}
