/**
 * A model folder's side files: config.json (labels, max length) and the tokenizer files, found in the folder
 * `locateModel` (src/onnx/locate.ts) gives for MODEL unless given explicitly.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { configLabels, problemTypeProblem } from '../bert/config.ts';
import { choiceRefusal, DataError, fsReason, integerProblem, SettingsError, valueAndKind, UsageError } from '../errors.ts';
import { fileStamps, utf8Json, writeFileAtomic } from '../files.ts';
import { folderSideFilesDir, locateModel, MODEL_SIDE_FILES, type ModelLocation } from '../onnx/locate.ts';

/** What evaluation reads from config.json; every field is optional there. */
export interface ModelConfig {
  /** Path of the config.json read, or null when there was none. */
  readonly file: string | null;
  /** Model output index → label name (`id2label`), or null when absent. */
  readonly id2label: ReadonlyMap<number, string> | null;
  /** The size of id2label (a `num_labels` that disagrees is overwritten, as transformers does), or `num_labels`, or null. */
  readonly numLabels: number | null;
  /**
   * `max_length`: the sequence length the model was trained and evaluated with. Null when absent, and when it is
   * transformers' generation default (20) in a config.json written with all of transformers' generation settings.
   */
  readonly maxLength: number | null;
  /** `problem_type` ("regression", "single_label_classification"…), or null. */
  readonly problemType: string | null;
  /**
   * `finetuning_task`: the task the model was fine-tuned on, as transformers' run_glue and compress train write it
   * ('sst2', 'sst-2', 'mnli'); null or absent when config.json has none.
   */
  readonly finetuningTask?: string | null;
  /** `architectures`: the transformers classes it names (the strings of the list); absent or empty when it names none. */
  readonly architectures?: readonly string[];
}

export { MODEL_SIDE_FILES, TOKENIZER_FILES, sideFilesRead } from '../onnx/locate.ts';

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
 * The bytes of those of `files` that exist in `fromDir`, each read now: a command reads them before it writes
 * anything, so that one it cannot read (permission denied) is a one-line DataError, not an output with half its
 * side files.
 */
export function readModelFiles(fromDir: string, files: readonly string[]): Array<readonly [string, Buffer]> {
  return files.filter((f) => existsSync(join(fromDir, f))).map((f) => [f, readModelFile(join(fromDir, f))] as const);
}

/**
 * Copies those of `files` that exist in `fromDir` to `toDir` (only where `toDir` lacks them with `onlyMissing`);
 * returns the names copied. Nothing is copied onto itself. The copies are new files of the user's (a read-only
 * source, such as a shared or cached model folder, does not make the output folder's files read-only), each written
 * whole or not at all, and all of them are read before the first is written.
 */
export function copyModelFiles(fromDir: string, toDir: string, files: readonly string[], opts: { onlyMissing?: boolean } = {}): string[] {
  if (resolve(fromDir) === resolve(toDir)) return [];
  return readModelFiles(fromDir, files)
    .filter(([f, bytes]) => {
      if (opts.onlyMissing && existsSync(join(toDir, f))) return false;
      writeFileAtomic(join(toDir, f), bytes);
      return true;
    })
    .map(([f]) => f);
}

/**
 * A stamp of the side files (MODEL_SIDE_FILES) `dir` holds: which they are, each with its size, times and inode
 * (fileStamps). An equal stamp later says none of them was written, replaced, added or removed since. Undefined where
 * one changed within the last 2 s or is not a file (fileStamps gives none): then only reading them again tells.
 */
export function sideFilesStamp(dir: string): string | undefined {
  const stamps = fileStamps(MODEL_SIDE_FILES.map((name) => join(dir, name)).filter((file) => existsSync(file)));
  return stamps && JSON.stringify(stamps);
}

/**
 * A keeper of what is read from folders' side files: `keep(dir, read)` gives what `read` gave for `dir` while the
 * folder's side files' stamp holds (sideFilesStamp: read again once one of them changed, or where they have no stamp),
 * for the last `size` folders (oldest pushed out first); what `read` throws is thrown each time, not kept.
 */
export function sideFilesKeeper<T>(size: number): (dir: string, read: () => T) => T {
  const kept = new Map<string, { stamp: string; value: T }>();
  return (dir, read) => {
    const stamp = sideFilesStamp(dir);
    const held = kept.get(dir);
    kept.delete(dir);
    if (stamp !== undefined && held?.stamp === stamp) {
      kept.set(dir, held);
      return held.value;
    }
    const value = read();
    if (stamp !== undefined) {
      kept.set(dir, { stamp, value });
      if (kept.size > size) kept.delete(kept.keys().next().value!);
    }
    return value;
  };
}

export const EMPTY_MODEL_CONFIG: ModelConfig = { file: null, id2label: null, numLabels: null, maxLength: null, problemType: null };

/** Reads config.json from a folder (or a config.json path); an absent file gives EMPTY_MODEL_CONFIG. */
export function readModelConfig(path: string): ModelConfig {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'config.json') : path;
  if (!existsSync(file)) return EMPTY_MODEL_CONFIG;
  return parseModelConfig(readJsonObject(file), file);
}

/**
 * The bytes of a model folder's file (config.json, a tokenizer file); a one-line DataError naming the file when it
 * cannot be read (permission denied, a folder by that name), not a JSON complaint or a 'cannot write' about it.
 */
export function readModelFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new DataError(`${file}: cannot read it: ${fsReason(e)}`, { cause: e });
  }
}

/**
 * A JSON file holding an object (config.json, tokenizer files); a one-line DataError otherwise. A UTF-8 byte-order
 * mark before the JSON (as some Windows editors save it) is skipped, not reported as an invisible unexpected token.
 */
export function readJsonObject(file: string): Record<string, unknown> {
  return jsonObjectOf(readModelFile(file), file);
}

/**
 * The JSON object of `bytes`, the bytes of `file` as read (readJsonObject, where the bytes themselves are kept), read as
 * every Hugging Face JSON file is (utf8Json): bytes that are not UTF-8 are a one-line NotUtf8Error naming the byte offset
 * (transformers and tokenizers fail to read such a file), where they were read as U+FFFD; text that is not JSON `FILE:
 * not valid JSON (REASON)`, as the checkpoint build refuses it.
 */
export function jsonObjectOf(bytes: Buffer, file: string): Record<string, unknown> {
  const value = utf8Json(bytes, file).json;
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new DataError(`${file}: expected a JSON object`);
  return value as Record<string, unknown>;
}

/** Validates the config.json fields evaluation uses. */
export function parseModelConfig(json: Record<string, unknown>, file: string): ModelConfig {
  const { id2label, numLabels } = configLabels(json, file, (msg) => {
    throw new DataError(`${file}: ${msg}`);
  });
  const maxLength = isGenerationDefaultMaxLength(json) ? null : configMaxLength(json, file);
  const problem = problemTypeProblem(json.problem_type);
  if (problem !== undefined) throw new DataError(`${file}: ${problem}`);
  const problemType = typeof json.problem_type === 'string' ? json.problem_type : null;
  const finetuningTask = typeof json.finetuning_task === 'string' && json.finetuning_task.trim() !== '' ? json.finetuning_task.trim() : null;
  const architectures = Array.isArray(json.architectures) ? json.architectures.filter((a): a is string => typeof a === 'string') : [];
  return { file, id2label, numLabels, maxLength, problemType, finetuningTask, architectures };
}

/**
 * True when config.json's `max_length` is transformers' generation setting at its default (20, the most tokens to
 * generate), not a sequence length: a config written whole (`config.to_dict()`) holds it beside the other generation
 * settings (num_beams, min_length, do_sample…). Read as the length to evaluate at, it would cut every example to 20
 * tokens.
 */
function isGenerationDefaultMaxLength(json: Record<string, unknown>): boolean {
  return json.max_length === 20 && ['num_beams', 'min_length', 'do_sample'].some((k) => k in json);
}

/**
 * config.json's `max_length` (null when absent), the sequence length to evaluate at: 2 at least, as --max-length (one
 * token of text between [CLS] and [SEP]); a DataError in integerProblem's words otherwise, the value as the file holds it.
 */
function configMaxLength(json: Record<string, unknown>, file: string): number | null {
  const v = json.max_length;
  if (v === undefined || v === null) return null;
  const problem = integerProblem(v, 2);
  if (problem !== undefined) throw new DataError(`${file}: max_length: ${problem}, got ${valueAndKind(v, 'file')}`);
  return v as number;
}

/**
 * The file name suffix transformers.js gives each dtype (`onnx/model${suffix}.onnx`): its
 * `DEFAULT_DTYPE_SUFFIX_MAPPING` (transformers.js 4.3, src/utils/dtypes.js).
 */
export const TRANSFORMERS_JS_DTYPE_SUFFIXES: Readonly<Record<string, string>> = {
  fp32: '',
  fp16: '_fp16',
  int8: '_int8',
  uint8: '_uint8',
  q8: '_quantized',
  q4: '_q4',
  q2: '_q2',
  q1: '_q1',
  q4f16: '_q4f16',
  q2f16: '_q2f16',
  q1f16: '_q1f16',
  bnb4: '_bnb4',
};

/**
 * The dtype that asks transformers.js for its default: config.json's `transformers.js_config` dtype (its
 * `device_config` for the device first), else the device's default, fp32 on Node's cpu device (transformers.js 4.3,
 * src/utils/dtypes.js `selectDtype`, `DEFAULT_DEVICE_DTYPE`; src/utils/devices.js: Node's default device is cpu), the
 * file locateRunModel picks when no dtype is given.
 */
const AUTO_DTYPE = 'auto';

/**
 * Refuses a dtype transformers.js does not know (fp32, q8, q4…, or auto), named by `flag`, as a usage mistake (a
 * UsageError, exit 2) in the words of every choice (choiceRefusal: the value as a shell takes it, `--dtype 'q 8'`):
 * what locateRunModel checks first, and the CLI before it downloads an hf: model.
 */
export function checkDtypeName(dtype: string | undefined, flag = '--dtype'): void {
  if (dtype !== undefined && dtype !== AUTO_DTYPE && !Object.hasOwn(TRANSFORMERS_JS_DTYPE_SUFFIXES, dtype)) {
    throw new UsageError(choiceRefusal(flag, dtype, [...Object.keys(TRANSFORMERS_JS_DTYPE_SUFFIXES), AUTO_DTYPE], { note: '(the dtypes of transformers.js)' }));
  }
}

/** A model file to run, and for a transformers.js folder the dtype that picked it and where that came from. */
export interface RunModelLocation extends ModelLocation {
  transformersJs?: { dtype: string; from: 'flag' | 'config.json' | 'default' };
}

/** True for a folder laid out as transformers.js reads it: `onnx/model*.onnx` and no `model.onnx` above. */
function isTransformersJsFolder(dir: string): boolean {
  const onnxDir = join(dir, 'onnx');
  if (!existsSync(onnxDir) || !statSync(onnxDir).isDirectory()) return false;
  return readdirSync(onnxDir).some((f) => /^model(_[A-Za-z0-9]+)?\.onnx$/.test(f));
}

/**
 * The dtype transformers.js loads a folder's `model` in on the CPU (Node) when none is asked: config.json's
 * `transformers.js_config.dtype` (its `device_config.cpu` first), a string or an object by file name; 'auto', an
 * unknown name or none is fp32, as transformers.js's `selectDtype` falls back.
 */
function configDtype(dir: string): string | undefined {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) return undefined;
  const section = readJsonObject(file)['transformers.js_config'];
  if (!section || typeof section !== 'object') return undefined;
  const custom = section as Record<string, unknown>;
  const cpu = (custom.device_config as Record<string, Record<string, unknown>> | undefined)?.cpu;
  const dtype = cpu && typeof cpu === 'object' && cpu.dtype !== undefined ? cpu.dtype : custom.dtype;
  const picked = dtype && typeof dtype === 'object' ? (dtype as Record<string, unknown>).model : dtype;
  return typeof picked === 'string' && Object.hasOwn(TRANSFORMERS_JS_DTYPE_SUFFIXES, picked) ? picked : undefined;
}

/**
 * The .onnx file `compress eval` and `compress bench` run for MODEL: in a transformers.js folder (`onnx/model*.onnx`
 * and no `model.onnx` above it, or any folder with `onnx/` when `dtype` is given), the file of `dtype`, else (none, or
 * auto) of the dtype config.json names, else fp32 (`onnx/model.onnx`), as transformers.js picks it; any other model as
 * locateModel finds it (a model that is not there is refused as without `dtype`). A one-line error for a dtype
 * transformers.js does not know or one asked of a model that is not a transformers.js folder (a UsageError: the
 * command line's mistake, exit 2; checkDtypeName), or a dtype whose file the folder lacks (a SettingsError: what the
 * folder holds, exit 1). `flag` names the option in messages.
 */
export function locateRunModel(model: string, dtype?: string, flag = '--dtype'): RunModelLocation {
  checkDtypeName(dtype, flag);
  const isDir = existsSync(model) && statSync(model).isDirectory();
  const folder = isDir && isTransformersJsFolder(model) && (dtype !== undefined || !existsSync(join(model, 'model.onnx')));
  if (!folder) {
    if (dtype !== undefined && existsSync(model)) {
      throw new UsageError(`${flag} ${dtype}: picks a model file of a transformers.js folder (onnx/model*.onnx); ${model} is not one`);
    }
    return locateModel(model);
  }
  const asked = dtype === AUTO_DTYPE ? undefined : dtype; // (auto: the file none asked picks)
  const fromConfig = asked === undefined ? configDtype(model) : undefined;
  const chosen = asked ?? fromConfig ?? 'fp32';
  const from = asked !== undefined ? 'flag' : fromConfig !== undefined ? 'config.json' : 'default';
  const file = `onnx/model${TRANSFORMERS_JS_DTYPE_SUFFIXES[chosen]}.onnx`;
  if (!existsSync(join(model, file))) {
    // (each file the folder has with the dtype that picks it, so the way out is a flag to copy)
    const dtypeOf = (f: string) => Object.keys(TRANSFORMERS_JS_DTYPE_SUFFIXES).find((d) => `model${TRANSFORMERS_JS_DTYPE_SUFFIXES[d]}.onnx` === f);
    const present = readdirSync(join(model, 'onnx'))
      .filter((f) => f.endsWith('.onnx'))
      .map((f) => `onnx/${f}${dtypeOf(f) ? ` (${flag} ${dtypeOf(f)})` : ''}`);
    const picked = from === 'config.json' ? `config.json's transformers.js_config dtype ${chosen}` : 'the default dtype fp32';
    const why = from === 'flag' ? `${flag} ${chosen}` : dtype === AUTO_DTYPE ? `${flag} ${AUTO_DTYPE} (${picked})` : picked;
    throw new SettingsError(`${model}: ${why} is ${file}, which the folder lacks (it has ${present.join(', ')}); pick one with ${flag}`);
  }
  return { onnx: join(model, file), dir: folderSideFilesDir(model, join(model, file)), transformersJs: { dtype: chosen, from } };
}

/**
 * For MODEL a transformers.js folder (see locateRunModel) whose float `onnx/model.onnx` a command that compresses it
 * reads (`onnx`, as locateModel finds it), how that file is named beside it: `(dtype fp32, the folder's float model;
 * config.json's transformers.js_config dtype q8 is onnx/model_quantized.onnx, which eval, bench and transformers.js
 * run)`; undefined for any other model.
 */
export function floatFolderFile(model: string, onnx: string): string | undefined {
  const isDir = existsSync(model) && statSync(model).isDirectory();
  if (!isDir || !isTransformersJsFolder(model) || existsSync(join(model, 'model.onnx'))) return undefined;
  if (resolve(onnx) !== resolve(model, 'onnx', 'model.onnx')) return undefined;
  const configured = configDtype(model);
  const other =
    configured !== undefined && configured !== 'fp32'
      ? `; config.json's transformers.js_config dtype ${configured} is onnx/model${TRANSFORMERS_JS_DTYPE_SUFFIXES[configured]}.onnx, which eval, bench and transformers.js run`
      : '';
  return `(dtype fp32, the folder's float model${other})`;
}

/** How a run names the file of a transformers.js folder it picked: `(dtype q8, from config.json)`. */
export function describeDtype(location: Pick<RunModelLocation, 'transformersJs'>): string {
  const t = location.transformersJs;
  if (!t) return '';
  return ` (dtype ${t.dtype}${t.from === 'flag' ? '' : t.from === 'config.json' ? ", config.json's transformers.js_config" : ', the default'})`;
}
