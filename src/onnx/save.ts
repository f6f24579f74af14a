/**
 * Writing ONNX models. Files are written to a temporary name and renamed, so a crash never leaves a half-written
 * model. Large models (or on request) keep their initializers in an external data file beside the `.onnx`, as
 * onnx's `save_as_external_data` and Optimum do: the only way past protobuf's 2 GB message limit.
 */
import { existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { removeStaleTemporaries, writeFileAtomic } from '../files.ts';
import type { Model, Tensor } from './graph.ts';
import { onnx, modelToProto, type ExternalRef } from './proto.ts';
import { tensorBytes } from './tensor.ts';
import { checkModelArg, checkOptionKinds, checkOptions, checkStringOption, type OptionKind } from '../library-args.ts';

/** Protobuf cannot serialize messages of 2 GiB or more; past this many initializer bytes we go external. */
export const EXTERNAL_DATA_AUTO_THRESHOLD = 1.8 * 1024 ** 3;

export interface SaveOptions {
  /**
   * Store initializers in a separate file (`dataFile`): `true`, or 'auto' (default: only when the model would not fit
   * in one protobuf message).
   */
  externalData?: boolean | 'auto';
  /** Initializers smaller than this stay inside the .onnx when external data is used (default 1024 bytes). */
  externalSizeThreshold?: number;
  /** With 'auto': go external past this many initializer bytes (default EXTERNAL_DATA_AUTO_THRESHOLD, 1.8 GiB). */
  autoThreshold?: number;
  /** The external data file's name (or path) relative to the model's folder (default `<model>.data`). */
  dataFile?: string;
}

export interface SavedFiles {
  model: string;
  data?: string;
  bytes: number;
}

/**
 * Serialized ModelProto bytes with every tensor inline. Past 2 GiB these are no valid protobuf message (onnxruntime
 * refuses them): save with external data (saveModel), or open a session through openModelSession.
 */
export function encodeModel(model: Model): Uint8Array {
  return onnx.ModelProto.encode(modelToProto(model)).finish();
}

export function totalInitializerBytes(model: Model): number {
  let n = 0;
  for (const t of model.graph.initializers.values()) n += tensorBytes(t);
  return n;
}

/** The external data file `saveModel` writes beside a model unless given a name: `<model>.data`. */
export function dataPathFor(modelPath: string): string {
  return join(dirname(modelPath), `${basename(modelPath)}.data`);
}

/**
 * The data file `<model>.data` beside `path` when the model now at `path` keeps its weights there: replacing that
 * model by one that does not read it leaves it stale, so the writer removes it. Undefined otherwise (no such file, or
 * a file the model there does not name, which is someone else's).
 */
export function ownDataFile(path: string): string | undefined {
  const data = dataPathFor(path);
  if (!existsSync(path) || !existsSync(data)) return undefined;
  let locations: string[];
  try {
    locations = (onnx.ModelProto.decode(readFileSync(path)).graph?.initializer ?? []).flatMap((t) =>
      (t.externalData ?? []).filter((e) => e.key === 'location' && e.value).map((e) => e.value as string),
    );
  } catch {
    return undefined; // not a model: nothing of it is ours to remove
  }
  return locations.some((l) => join(dirname(path), l) === data) ? data : undefined;
}

/**
 * The model saved at `from` with its weights in one external data file, moved to `to` with that file renamed
 * `dataFile` beside it: the same files saveModel writes for it there, without serializing its weights again (only the
 * ModelProto, which names the data file, is written anew).
 */
export function moveExternalModel(from: string, to: string, dataFile: string): SavedFiles {
  const proto = onnx.ModelProto.decode(readFileSync(from));
  const locations = new Set<string>();
  for (const t of proto.graph?.initializer ?? []) {
    for (const e of t.externalData ?? []) {
      if (e.key !== 'location' || !e.value) continue;
      locations.add(e.value);
      e.value = dataFile;
    }
  }
  if (locations.size !== 1) throw new Error(`${from}: ${locations.size} external data files where one was expected`);
  const dataPath = join(dirname(to), dataFile);
  renameSync(join(dirname(from), [...locations][0]!), dataPath);
  const bytes = onnx.ModelProto.encode(proto).finish();
  writeFileAtomic(to, bytes);
  if (from !== to) rmSync(from, { force: true });
  return { model: to, data: dataPath, bytes: bytes.byteLength + statSync(dataPath).size };
}

/** A model serialized with its initializers of `threshold` bytes or more (default 1024) in the external data file `location`. */
export interface ExternalSerialization {
  /** The ModelProto, naming `location` and each tensor's offset and length there. */
  model: Uint8Array;
  /** The data file's contents, in order: the tensors' own bytes (not copied) and the padding that aligns each to 64. */
  data: Uint8Array[];
  dataBytes: number;
}

export function serializeExternal(model: Model, location: string, threshold = 1024): ExternalSerialization {
  const placement = new Map<Tensor, ExternalRef>();
  const data: Uint8Array[] = [];
  let offset = 0;
  const ALIGN = 64;
  for (const t of model.graph.initializers.values()) {
    const len = tensorBytes(t);
    if (len < threshold || t.strings) continue;
    const pad = (ALIGN - (offset % ALIGN)) % ALIGN;
    if (pad) data.push(new Uint8Array(pad));
    offset += pad;
    placement.set(t, { location, offset, length: len });
    data.push(t.data);
    offset += len;
  }
  return { model: onnx.ModelProto.encode(modelToProto(model, (t) => placement.get(t))).finish(), data, dataBytes: offset };
}

/** A model serialized for onnxruntime with each large initializer in an external data "file" of its own, held in memory. */
export interface InMemorySerialization {
  /** The ModelProto, each large tensor naming its file (offset 0, its whole length). */
  model: Uint8Array;
  /** The files, by the name the model gives each: the tensors' own bytes (not copied). */
  files: Array<{ path: string; data: Uint8Array }>;
}

/**
 * `model` serialized without a copy of its weights: every initializer of `threshold` bytes or more (default 1024) is
 * external data in a file of its own, the tensor's own bytes, for onnxruntime's in-memory external data
 * (`openSession`'s `externalData`); the ModelProto holds the rest.
 */
export function serializeInMemory(model: Model, threshold = 1024): InMemorySerialization {
  const placement = new Map<Tensor, ExternalRef>();
  const files: InMemorySerialization['files'] = [];
  for (const t of model.graph.initializers.values()) {
    const length = tensorBytes(t);
    if (length < threshold || t.strings || placement.has(t)) continue;
    const path = `initializer-${files.length}.bin`;
    placement.set(t, { location: path, offset: 0, length });
    files.push({ path, data: t.data });
  }
  return { model: onnx.ModelProto.encode(modelToProto(model, (t) => placement.get(t))).finish(), files };
}

/** Saves a model to `path` (and its external data file when used), removing the data file of the model it replaces. */
/** A count of bytes, as a threshold of SaveOptions: a number 0 or greater. */
const BYTES = { is: (v: unknown) => typeof v === 'number' && v >= 0, expected: 'a number of bytes 0 or greater' } as const;

/**
 * saveModel's options by their kinds (checkOptionKinds), before anything is written: a JavaScript caller's
 * externalData 'no' was read as true (the weights written to a data file), autoThreshold 'x' as no threshold, a
 * misspelt option as nothing.
 */
const SAVE_OPTION_KINDS = {
  externalData: { is: (v: unknown) => v === true || v === false || v === 'auto', expected: "true, false or 'auto'" },
  externalSizeThreshold: BYTES,
  autoThreshold: BYTES,
  dataFile: 'string',
} as const satisfies Record<keyof SaveOptions, OptionKind>;

export function saveModel(model: Model, path: string, opts: SaveOptions = {}): SavedFiles {
  checkModelArg('saveModel', model);
  checkStringOption('saveModel', 'path', path, 'the path of the .onnx file to write');
  checkOptionKinds('saveModel', checkOptions('saveModel', opts, '{externalData, dataFile, …}'), SAVE_OPTION_KINDS);
  const mode = opts.externalData ?? 'auto';
  const external = mode === 'auto' ? totalInitializerBytes(model) > (opts.autoThreshold ?? EXTERNAL_DATA_AUTO_THRESHOLD) : mode !== false;
  const replaced = ownDataFile(path);
  if (!external) {
    const bytes = encodeModel(model);
    writeFileAtomic(path, bytes);
    removeStaleTemporaries(path);
    if (replaced) rmSync(replaced, { force: true });
    return { model: path, bytes: bytes.byteLength };
  }
  const location = opts.dataFile ?? basename(dataPathFor(path));
  const serialized = serializeExternal(model, location, opts.externalSizeThreshold);
  const dataPath = path.slice(0, path.length - basename(path).length) + location;
  writeFileAtomic(dataPath, serialized.data);
  writeFileAtomic(path, serialized.model);
  for (const f of [dataPath, path]) removeStaleTemporaries(f); // a killed earlier run's, left beside the output
  if (replaced && replaced !== dataPath) rmSync(replaced, { force: true });
  return { model: path, data: dataPath, bytes: serialized.model.byteLength + serialized.dataBytes };
}
