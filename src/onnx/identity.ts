/**
 * What a model file is: its sha256, and the external data files its initializers live in. An .onnx whose weights are
 * external holds the graph and the files' offsets only, so the same .onnx with other weights is another model: its
 * identity hashes those files too.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileStamps, sha256Bytes, sha256File, sha256FileSync, type FileStamp } from '../files.ts';
import { type IModelProto, onnx } from './proto.ts';
import { withFileFields } from './file-fields.ts';

/** Field numbers on the way to an initializer's external data entries: ModelProto.graph, GraphProto.initializer, TensorProto.external_data. */
const GRAPH = 7;
const INITIALIZER = 5;
const EXTERNAL_DATA = 13;

/**
 * Whether the model file at `path` may name external data: false only when no initializer of its graph has an
 * external_data entry, as a walk of the wire format with positional reads finds (FileFields: every other field skipped
 * by its length, no value decoded, no tensor payload read, an inline model's weights not read); true when one has, and
 * when the walk is unsure (a field of those numbers with another wire type, a field running past its message, a file
 * that cannot be read), for the decode to settle.
 */
function mayNameExternalData(path: string): boolean {
  try {
    return withFileFields(path, (file) => {
      /** Whether a field `id` in [start, end) holds something `inside` says may be there. */
      const within = (start: number, end: number, id: number, inside: (start: number, end: number) => boolean): boolean => {
        for (const f of file.fields(start, end)) {
          if (f.field !== id) continue;
          if (f.length === undefined || inside(f.at, f.at + f.length)) return true;
        }
        return false;
      };
      return within(0, file.size, GRAPH, (g, gEnd) => within(g, gEnd, INITIALIZER, (t, tEnd) => within(t, tEnd, EXTERNAL_DATA, () => true)));
    });
  } catch {
    return true;
  }
}

/**
 * The external data files an ONNX model names (its initializers' `location`s, resolved from its folder), sorted.
 * Only a model whose initializers may have external data entries (mayNameExternalData) is read and decoded: an inline
 * model's file is walked, not read whole. A file that is not a model (does not decode) names none: loading it says
 * why, in one line, where it is run.
 */
export function externalDataFiles(onnxPath: string): string[] {
  if (!mayNameExternalData(onnxPath)) return [];
  const bytes = readFileSync(onnxPath);
  let model: IModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch {
    return [];
  }
  const locations = new Set<string>();
  for (const t of model.graph?.initializer ?? []) {
    for (const e of t.externalData ?? []) if (e.key === 'location' && e.value) locations.add(e.value);
  }
  return [...locations].sort().map((l) => resolve(dirname(onnxPath), l));
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
