/**
 * What a model file is: its sha256, and the external data files its tensors live in. An .onnx whose weights are
 * external holds the graph and the files' offsets only, so the same .onnx with other weights is another model: its
 * identity hashes those files too.
 */
import { readFileSync } from 'node:fs';
import { dirname, normalize, resolve } from 'node:path';
import { ModelLoadError, quotedText } from '../errors.ts';
import { fileStamps, sha256Bytes, sha256File, sha256FileSync, type FileStamp } from '../files.ts';
import { type IModelProto, onnx } from './proto.ts';
import { messageType, type IGraphProto, type INodeProto, type ISparseTensorProto, type ITensorProto } from './schema.ts';
import { withFileFields } from './file-fields.ts';
import { externalLocationProblem } from './load.ts';

/** The field number of `message`'s field `name` (onnx-ml.proto). */
const field = (message: string, name: string): number => messageType(message).fields[name]!.id;
const MODEL_GRAPH = field('ModelProto', 'graph');
const MODEL_FUNCTIONS = field('ModelProto', 'functions');
const FUNCTION_NODE = field('FunctionProto', 'node');
const GRAPH_NODE = field('GraphProto', 'node');
const GRAPH_INITIALIZER = field('GraphProto', 'initializer');
const GRAPH_SPARSE_INITIALIZER = field('GraphProto', 'sparseInitializer');
const NODE_ATTRIBUTE = field('NodeProto', 'attribute');
const ATTRIBUTE_TENSOR = field('AttributeProto', 't');
const ATTRIBUTE_GRAPH = field('AttributeProto', 'g');
const ATTRIBUTE_TENSORS = field('AttributeProto', 'tensors');
const ATTRIBUTE_GRAPHS = field('AttributeProto', 'graphs');
const ATTRIBUTE_SPARSE_TENSOR = field('AttributeProto', 'sparseTensor');
const ATTRIBUTE_SPARSE_TENSORS = field('AttributeProto', 'sparseTensors');
const SPARSE_VALUES = field('SparseTensorProto', 'values');
const SPARSE_INDICES = field('SparseTensorProto', 'indices');
const TENSOR_EXTERNAL_DATA = field('TensorProto', 'externalData');

/**
 * Whether the model file at `path` may name external data: false only when no tensor of it has an external_data entry
 * (its graph's initializers, sparse or not, and the tensors of its nodes' attributes, a Constant's value among them,
 * in subgraphs and functions too: every tensor onnxruntime and loadModel read), as a walk of the wire format with
 * positional reads finds (FileFields: every other field skipped by its length, no value decoded, no tensor payload
 * read, an inline model's weights not read); true when one has, and when the walk is unsure (a field of those numbers
 * with another wire type, a field running past its message, a file that cannot be read), for the decode to settle.
 */
function mayNameExternalData(path: string): boolean {
  try {
    return withFileFields(path, (file) => {
      /** Whether a field of `ids` in [start, end) holds something `inside` (by its id) says may be there. */
      const within = (start: number, end: number, inside: Record<number, (start: number, end: number) => boolean>): boolean => {
        for (const f of file.fields(start, end)) {
          const look = inside[f.field];
          if (look && (f.length === undefined || look(f.at, f.at + f.length))) return true;
        }
        return false;
      };
      const tensor = (s: number, e: number) => within(s, e, { [TENSOR_EXTERNAL_DATA]: () => true });
      const sparse = (s: number, e: number) => within(s, e, { [SPARSE_VALUES]: tensor, [SPARSE_INDICES]: tensor });
      const attribute = (s: number, e: number): boolean =>
        within(s, e, {
          [ATTRIBUTE_TENSOR]: tensor,
          [ATTRIBUTE_TENSORS]: tensor,
          [ATTRIBUTE_SPARSE_TENSOR]: sparse,
          [ATTRIBUTE_SPARSE_TENSORS]: sparse,
          [ATTRIBUTE_GRAPH]: graph,
          [ATTRIBUTE_GRAPHS]: graph,
        });
      const node = (s: number, e: number) => within(s, e, { [NODE_ATTRIBUTE]: attribute });
      const graph = (s: number, e: number): boolean => within(s, e, { [GRAPH_INITIALIZER]: tensor, [GRAPH_SPARSE_INITIALIZER]: sparse, [GRAPH_NODE]: node });
      return within(0, file.size, { [MODEL_GRAPH]: graph, [MODEL_FUNCTIONS]: (s, e) => within(s, e, { [FUNCTION_NODE]: node }) });
    });
  } catch {
    return true;
  }
}

/** Every tensor of a decoded model that may name external data (the tensors mayNameExternalData walks to). */
function* modelTensors(model: IModelProto): Generator<ITensorProto> {
  const sparse = function* (s: ISparseTensorProto): Generator<ITensorProto> {
    if (s.values) yield s.values;
    if (s.indices) yield s.indices;
  };
  const nodes = function* (list: readonly INodeProto[] | null | undefined): Generator<ITensorProto> {
    for (const n of list ?? []) {
      for (const a of n.attribute ?? []) {
        if (a.t) yield a.t;
        yield* a.tensors ?? [];
        if (a.sparseTensor) yield* sparse(a.sparseTensor);
        for (const s of a.sparseTensors ?? []) yield* sparse(s);
        if (a.g) yield* graph(a.g);
        for (const g of a.graphs ?? []) yield* graph(g);
      }
    }
  };
  const graph = function* (g: IGraphProto): Generator<ITensorProto> {
    yield* g.initializer ?? [];
    for (const s of g.sparseInitializer ?? []) yield* sparse(s);
    yield* nodes(g.node);
  };
  if (model.graph) yield* graph(model.graph);
  for (const f of model.functions ?? []) yield* nodes(f.node);
}

/**
 * The external data files an ONNX model names (its tensors' `location`s, resolved from its folder: `w.bin` and
 * `./w.bin` are one file), sorted. Only a model whose tensors may have external data entries (mayNameExternalData) is
 * read and decoded: an inline model's file is walked, not read whole. A file that is not a model (does not decode)
 * names none: loading it says why, in one line, where it is run. A location the loader refuses (leaving the model's
 * folder: load.ts externalLocationProblem) throws the loader's ModelLoadError, so that no file outside the folder is
 * hashed, stamped, counted or shipped for a model that cannot be run.
 */
export function externalDataFiles(onnxPath: string): string[] {
  const dir = dirname(onnxPath);
  const files = new Set<string>();
  for (const { location, tensor } of externalDataEntries(onnxPath)) {
    const problem = externalLocationProblem(dir, location);
    if (problem) throw new ModelLoadError(`${onnxPath}: tensor ${quotedText(tensor)}: ${problem}`);
    files.add(resolve(dir, location));
  }
  return [...files].sort();
}

/** The `location`s of externalDataFiles as the model names them (relative to its folder), normalized ('./w.bin': 'w.bin'), sorted. */
export function externalDataLocations(onnxPath: string): string[] {
  return [...new Set(externalDataEntries(onnxPath).map((e) => normalize(e.location)))].sort();
}

/** Each external data `location` a model names, as written, with the first tensor that names it. */
function externalDataEntries(onnxPath: string): Array<{ location: string; tensor: string }> {
  if (!mayNameExternalData(onnxPath)) return [];
  const bytes = readFileSync(onnxPath);
  let model: IModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch {
    return [];
  }
  const locations = new Map<string, string>();
  for (const t of modelTensors(model)) {
    for (const e of t.externalData ?? []) if (e.key === 'location' && e.value && !locations.has(e.value)) locations.set(e.value, t.name ?? '');
  }
  return [...locations].map(([location, tensor]) => ({ location, tensor }));
}

/**
 * A model's identity: the sha256 of its .onnx file when the weights are inside it (so the file's hash, as before
 * external data counted); otherwise the sha256 of the JSON list of the .onnx's and its external data files' sha256s.
 * `hashFile` may be a memoized sha256File.
 */
export async function modelSha256(onnxPath: string, hashFile: (file: string) => Promise<string> = sha256File): Promise<string> {
  const own = await hashFile(onnxPath);
  const data = externalDataFiles(onnxPath);
  if (data.length === 0) return own;
  return joinedSha256([own, ...(await Promise.all(data.map(hashFile)))]);
}

/** modelSha256 for a synchronous caller (`compress report`); throws what reading a file throws. */
export function modelSha256Sync(onnxPath: string, hashFile: (file: string) => string = sha256FileSync): string {
  const own = hashFile(onnxPath);
  const data = externalDataFiles(onnxPath);
  return data.length === 0 ? own : joinedSha256([own, ...data.map(hashFile)]);
}

/** A model with external data's identity from its files' sha256s, the .onnx's first. */
const joinedSha256 = (shas: string[]): string => sha256Bytes([new TextEncoder().encode(JSON.stringify(shas))]);

/**
 * The stamps (files.ts `fileStamps`) of a model's files, its .onnx and its external data files, taken before it is
 * hashed (modelSha256), so that `compress report` hashes it again only where one of them may have changed since.
 */
export function modelStamps(onnxPath: string): FileStamp[] | undefined {
  try {
    return fileStamps([onnxPath, ...externalDataFiles(onnxPath)]);
  } catch {
    return undefined; // (gone, unreadable: hashing it says why where it is read)
  }
}

/**
 * modelSha256 and modelStamps of one model (as a sweep's plan holds them), its .onnx walked for its external data files
 * once: the stamps taken first, then the hashes; rejects with what modelSha256 throws.
 */
export async function modelSha256AndStamps(
  onnxPath: string,
  hashFile: (file: string) => Promise<string> = sha256File,
): Promise<{ sha256: string; stamps: FileStamp[] | undefined }> {
  let data: string[] | undefined;
  let refused: unknown;
  try {
    data = externalDataFiles(onnxPath);
  } catch (e) {
    refused = e; // (no stamps; thrown once the .onnx is hashed, as modelSha256 throws it)
  }
  const stamps = data && fileStamps([onnxPath, ...data]);
  const own = await hashFile(onnxPath);
  if (data === undefined) throw refused;
  const sha256 = data.length === 0 ? own : joinedSha256([own, ...(await Promise.all(data.map(hashFile)))]);
  return { sha256, stamps };
}
