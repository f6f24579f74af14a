/**
 * A model folder's side files: config.json (labels, max length) and the tokenizer files, found in the folder
 * `locateModel` (src/onnx/locate.ts) gives for MODEL unless given explicitly.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DataError, SettingsError } from '../errors.ts';
import { writeFileAtomic } from '../files.ts';

/** What evaluation reads from config.json; every field is optional there. */
export interface ModelConfig {
  /** Path of the config.json read, or null when there was none. */
  readonly file: string | null;
  /** Model output index → label name (`id2label`), or null when absent. */
  readonly id2label: ReadonlyMap<number, string> | null;
  /** `num_labels`, or the size of id2label, or null. */
  readonly numLabels: number | null;
  /** `max_length`: the sequence length the model was trained and evaluated with. */
  readonly maxLength: number | null;
  /** `problem_type` ("regression", "single_label_classification"…), or null. */
  readonly problemType: string | null;
}

/** The tokenizer files of a Hugging Face model folder. */
export const TOKENIZER_FILES: readonly string[] = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'];

/** The files of a model folder that describe labels and tokenization: config.json and the tokenizer files. */
export const MODEL_SIDE_FILES: readonly string[] = ['config.json', ...TOKENIZER_FILES];

/**
 * Refuses model files (`files`: each path with what it is, e.g. [OUT, 'the output'], [OUT.json, 'its lineage
 * file']) named like a side file: config.json and the tokenizer files are written beside the model and would
 * overwrite it, or another model's. `label` starts the one-line error (`-o OUT`).
 */
export function checkNotSideFileNames(files: ReadonlyArray<readonly [string, string]>, label: string): void {
  for (const [path, what] of files) {
    const name = basename(path);
    if (MODEL_SIDE_FILES.includes(name)) {
      throw new SettingsError(`${label}: ${what} would be named ${name}, a side file of the model folder (config or tokenizer); give another name`);
    }
  }
}

/**
 * Copies those of `files` that exist in `fromDir` to `toDir` (only where `toDir` lacks them with `onlyMissing`);
 * returns the names copied. Nothing is copied onto itself. The copies are new files of the user's (a read-only
 * source, such as a shared or cached model folder, does not make the output folder's files read-only), each written
 * whole or not at all.
 */
export function copyModelFiles(fromDir: string, toDir: string, files: readonly string[], opts: { onlyMissing?: boolean } = {}): string[] {
  if (resolve(fromDir) === resolve(toDir)) return [];
  return files.filter((f) => {
    if (!existsSync(join(fromDir, f)) || (opts.onlyMissing && existsSync(join(toDir, f)))) return false;
    writeFileAtomic(join(toDir, f), readFileSync(join(fromDir, f)));
    return true;
  });
}

export const EMPTY_MODEL_CONFIG: ModelConfig = { file: null, id2label: null, numLabels: null, maxLength: null, problemType: null };

/** Reads config.json from a folder (or a config.json path); an absent file gives EMPTY_MODEL_CONFIG. */
export function readModelConfig(path: string): ModelConfig {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'config.json') : path;
  if (!existsSync(file)) return EMPTY_MODEL_CONFIG;
  return parseModelConfig(readJsonObject(file), file);
}

/** A JSON file holding an object (config.json, tokenizer files); a one-line DataError otherwise. */
export function readJsonObject(file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DataError(`${file}: not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new DataError(`${file}: expected a JSON object`);
  return value as Record<string, unknown>;
}

/** Validates the config.json fields evaluation uses. */
export function parseModelConfig(json: Record<string, unknown>, file: string): ModelConfig {
  let id2label: Map<number, string> | null = null;
  if (json.id2label !== undefined) {
    if (!json.id2label || typeof json.id2label !== 'object' || Array.isArray(json.id2label)) {
      throw new DataError(`${file}: 'id2label' must be an object mapping ids to label names`);
    }
    id2label = new Map();
    for (const [k, v] of Object.entries(json.id2label as Record<string, unknown>)) {
      const id = Number(k);
      if (!Number.isInteger(id) || id < 0 || typeof v !== 'string') {
        throw new DataError(`${file}: 'id2label' entry ${JSON.stringify(k)}: ${JSON.stringify(v)} is not id → name`);
      }
      id2label.set(id, v);
    }
  }
  const numLabels = optionalPositiveInt(json, 'num_labels', file) ?? (id2label ? id2label.size : null);
  const maxLength = optionalPositiveInt(json, 'max_length', file);
  const problemType = typeof json.problem_type === 'string' ? json.problem_type : null;
  return { file, id2label, numLabels, maxLength, problemType };
}

function optionalPositiveInt(json: Record<string, unknown>, key: string, file: string): number | null {
  const v = json[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new DataError(`${file}: '${key}' must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}
