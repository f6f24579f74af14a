/**
 * Which files of a repo bert-compress needs: `config.json`, the tokenizer files the repo has, and the weights:
 * `onnx/model.onnx` (with `onnx/model.onnx_data` when listed, and the snapshot adds the data files the .onnx names) when the repo has it, else `model.safetensors`,
 * else `model.safetensors.index.json` (its shards are added once it is read). A repo with only pickled or other
 * framework weights is refused.
 */
import { TOKENIZER_FILES, unreadableWeightFiles } from '../onnx/locate.ts';
import { someNames } from '../some-names.ts';
import { valueText } from '../errors.ts';
import { HubError } from './errors.ts';

/** The tokenizer files downloaded: a model folder's (its SentencePiece model among them). */
export { TOKENIZER_FILES };

export const CONFIG_FILE = 'config.json';
export const ONNX_FILE = 'onnx/model.onnx';
export const SAFETENSORS_FILE = 'model.safetensors';
export const SAFETENSORS_INDEX = 'model.safetensors.index.json';
/** The weight files a repo is read through (selectFiles), in the order it prefers them with an ONNX export first. */
export const WEIGHT_FILES: readonly string[] = [ONNX_FILE, SAFETENSORS_FILE, SAFETENSORS_INDEX];

/** The weights a repo is used through. */
export type WeightsKind = 'onnx' | 'safetensors' | 'sharded';

export interface FileSelection {
  /** Paths in the repo, config and tokenizer first. */
  files: string[];
  weights: WeightsKind;
}

/**
 * Picks the files to download from a repo's file list; `label` names the repo in errors. `prefer: 'safetensors'`
 * takes the checkpoint even where the repo has an ONNX export, and refuses a repo with only an ONNX export (for
 * `compress export`, which reads the checkpoint: nothing is downloaded to fail on afterwards).
 */
export function selectFiles(available: readonly string[], label: string, prefer: 'onnx' | 'safetensors' = 'onnx'): FileSelection {
  const has = new Set(available);
  if (!has.has(CONFIG_FILE)) throw new HubError(`${label}: the repo has no ${CONFIG_FILE}`);
  const files = [CONFIG_FILE, ...TOKENIZER_FILES.filter((f) => has.has(f))];
  const hasCheckpoint = has.has(SAFETENSORS_FILE) || has.has(SAFETENSORS_INDEX);
  if (has.has(ONNX_FILE) && prefer === 'safetensors' && !hasCheckpoint) {
    throw new HubError(
      `${label}: the repo has ${ONNX_FILE} but no ${SAFETENSORS_FILE} (nor ${SAFETENSORS_INDEX}) to export; it is ONNX already: give the reference to compress, eval or inspect as it is`,
    );
  }
  if (has.has(ONNX_FILE) && !(prefer === 'safetensors' && hasCheckpoint)) {
    files.push(ONNX_FILE);
    if (has.has(`${ONNX_FILE}_data`)) files.push(`${ONNX_FILE}_data`);
    return { files, weights: 'onnx' };
  }
  if (has.has(SAFETENSORS_FILE)) return { files: [...files, SAFETENSORS_FILE], weights: 'safetensors' };
  if (has.has(SAFETENSORS_INDEX)) return { files: [...files, SAFETENSORS_INDEX], weights: 'sharded' };
  const other = unreadableWeightFiles(available);
  throw new HubError(
    other.length
      ? `${label}: the repo has ${someNames(other, 4)} but no model.safetensors (nor onnx/model.onnx); bert-compress reads only safetensors or ONNX weights`
      : `${label}: the repo has no model.safetensors, model.safetensors.index.json nor onnx/model.onnx`,
  );
}

/** The shard file names a safetensors index names (its weight_map values), checked to be plain relative paths. */
export function shardsOfIndex(json: unknown, label: string): string[] {
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new HubError(`${label}: ${SAFETENSORS_INDEX} has no weight_map object`);
  const shards = [...new Set(Object.values(map as Record<string, unknown>))];
  for (const s of shards) {
    if (typeof s !== 'string' || !isSafeRepoPath(s)) throw new HubError(`${label}: ${SAFETENSORS_INDEX} names an invalid shard ${valueText(s)}`);
  }
  return shards as string[];
}

/** A relative path inside a repo: no absolute path, no `..`, no empty or `.` segment, no backslash. */
export function isSafeRepoPath(p: string): boolean {
  return p.length > 0 && !p.startsWith('/') && !p.includes('\\') && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}
