/**
 * What a model file is: its sha256, and the external data files its initializers live in. An .onnx whose weights are
 * external holds the graph and the files' offsets only, so the same .onnx with other weights is another model: its
 * identity hashes those files too.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { sha256Bytes, sha256File } from '../files.ts';
import { type IModelProto, onnx } from './proto.ts';

/**
 * The external data files an ONNX model names (its initializers' `location`s, resolved from its folder), sorted.
 * Decoding the protobuf is cheap next to reading the file (initializer bytes are not copied). A file that is not a
 * model (does not decode) names none: loading it says why, in one line, where it is run.
 */
export function externalDataFiles(onnxPath: string, bytes: Uint8Array = readFileSync(onnxPath)): string[] {
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
  const shas = await Promise.all(data.map(hashFile));
  return sha256Bytes([new TextEncoder().encode(JSON.stringify([own, ...shas]))]);
}
