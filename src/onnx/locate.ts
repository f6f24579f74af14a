/**
 * Finding a model's .onnx file. MODEL is an .onnx file or a Hugging Face model folder holding `model.onnx` (or
 * `onnx/model.onnx`, or a single .onnx file). The folder (or, when it has no config.json nor tokenizer files and the
 * `onnx/` its model lies in has them, that `onnx/`; for a file, the file's folder, or the folder above an `onnx/`
 * folder that has no config.json or tokenizer files of its own) is where config.json and the tokenizer are looked for
 * unless given explicitly. Every layer may resolve a model path here.
 */
import { existsSync, lstatSync, readdirSync, readlinkSync, type Stats, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fsReason, ModelLoadError } from '../errors.ts';
import { checkStringOption } from '../library-args.ts';
import { shellWord } from '../shell-word.ts';
import { someNames } from '../some-names.ts';

/**
 * The SentencePiece models a Hugging Face repo may hold beside (or instead of) its tokenizer.json (XLM-R's and
 * CamemBERT's, ALBERT's): read where a folder has no tokenizer.json (src/eval/sentencepiece-vocab.ts).
 */
export const SENTENCEPIECE_FILES: readonly string[] = ['sentencepiece.bpe.model', 'spiece.model'];

/** The tokenizer files of a Hugging Face model folder (a SentencePiece model among them). */
export const TOKENIZER_FILES: readonly string[] = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.txt',
  'vocab.json',
  'merges.txt',
  'added_tokens.json',
  ...SENTENCEPIECE_FILES,
];

/** The files of a model folder that describe labels and tokenization: config.json and the tokenizer files. */
export const MODEL_SIDE_FILES: readonly string[] = ['config.json', ...TOKENIZER_FILES];

/**
 * The side files (MODEL_SIDE_FILES) whose bytes a folder's reading depends on, given which of them it holds (`holds`):
 * all but its SentencePiece models where a tokenizer.json, vocab.txt or vocab.json with merges.txt is read before them
 * (src/eval/tokenizer.ts); what a sweep point's key, its data-change check and its tokenizer reading hash, while
 * outputs copy every side file (save_pretrained writes a SentencePiece model beside XLM-R's and ALBERT's tokenizer.json).
 */
export function sideFilesRead(holds: (name: string) => boolean): readonly string[] {
  const vocabulary = holds('tokenizer.json') || holds('vocab.txt') || (holds('vocab.json') && holds('merges.txt'));
  return vocabulary ? MODEL_SIDE_FILES.filter((name) => !SENTENCEPIECE_FILES.includes(name)) : MODEL_SIDE_FILES;
}

/** Weight files bert-compress cannot read (pickled, TensorFlow, Flax) and their shards' indexes, as Hugging Face names them. */
export const UNREADABLE_WEIGHT_FILES: readonly string[] = [
  'pytorch_model.bin',
  'pytorch_model.bin.index.json',
  'tf_model.h5',
  'tf_model.h5.index.json',
  'flax_model.msgpack',
  'flax_model.msgpack.index.json',
];

/** A shard of a checkpoint of UNREADABLE_WEIGHT_FILES, as transformers names them: pytorch_model-00001-of-00002.bin. */
const UNREADABLE_SHARD = /^(pytorch_model-\d+-of-\d+\.bin|tf_model-\d+-of-\d+\.h5|flax_model-\d+-of-\d+\.msgpack)$/;

/**
 * The names among `names` (a folder's or a repo's files) of weights bert-compress cannot read: UNREADABLE_WEIGHT_FILES
 * (whole files and shard indexes, in that list's order) then their shards (UNREADABLE_SHARD, in the order given), as
 * every refusal of a model lacking readable weights lists them.
 */
export function unreadableWeightFiles(names: readonly string[]): string[] {
  return [...UNREADABLE_WEIGHT_FILES.filter((name) => names.includes(name)), ...names.filter((name) => UNREADABLE_SHARD.test(name))];
}

export interface ModelLocation {
  /** Path of the .onnx file. */
  readonly onnx: string;
  /** The folder config.json and the tokenizer default to. */
  readonly dir: string;
}

/** Resolves MODEL (file or folder) to its .onnx file and folder; a ModelLoadError if there is no model. */
export function locateModel(model: string): ModelLocation {
  checkStringOption('locateModel', 'model', model, 'an .onnx file or a model folder');
  let stat: Stats;
  try {
    stat = statSync(model);
  } catch (e) {
    throw new ModelLoadError(`${model}: ${unreachableReason(model, e, 'no such file or folder')}`, { cause: e });
  }
  if (stat.isFile()) {
    const other = otherModelFile(model);
    if (other !== undefined) throw new ModelLoadError(`${model}: ${other}`);
    return { onnx: model, dir: sideFilesDir(model) };
  }
  if (!stat.isDirectory()) throw new ModelLoadError(`${model}: not a model file or folder (a device, pipe or socket)`);
  for (const candidate of [join(model, 'model.onnx'), join(model, 'onnx', 'model.onnx')]) {
    if (existsSync(candidate)) return { onnx: candidate, dir: folderSideFilesDir(model, candidate) };
  }
  const files = readdirSync(model);
  const onnxFiles = files.filter((f) => f.endsWith('.onnx'));
  if (onnxFiles.length === 1) return { onnx: join(model, onnxFiles[0]), dir: model };
  const checkpoint = files.some((f) => f.endsWith('.safetensors') || f === 'model.safetensors.index.json');
  const unreadable = unreadableWeightFiles(files.sort());
  const inOnnx = onnxFolderModels(model);
  const held =
    inOnnx.length === 1
      ? `; onnx/ holds ${inOnnx[0]}: give that file (${join(model, 'onnx', inOnnx[0]!)})`
      : inOnnx.length > 1
        ? `; onnx/ holds ${inOnnx.join(', ')}: give one of those files`
        : '';
  throw new ModelLoadError(
    onnxFiles.length
      ? `${model}: folder has no model.onnx and several .onnx files (${onnxFiles.join(', ')}): name one`
      : `${model}: folder has no model.onnx (nor onnx/model.onnx)${held}${
          checkpoint
            ? `; it holds a safetensors checkpoint: export it to ONNX first (compress export ${shellWord(model)} -o OUT/model.onnx)`
            : unreadable.length
              ? `; it holds ${someNames(unreadable, 4)}, which bert-compress cannot read: save the model as safetensors (or ONNX) first`
              : ''
        }`,
  );
}

/**
 * What the file `path` given as MODEL is where its name says it is a model folder's other file than its graph (a
 * tokenizer or config file, a checkpoint's weights, an .onnx file's external data or lineage record), not an ONNX model, and what to give
 * instead, for locateModel's refusal; undefined for any other name.
 */
function otherModelFile(path: string): string | undefined {
  const name = basename(path);
  const dir = dirname(path);
  const notModel = "not an ONNX model: give the model's .onnx file or its folder";
  if (name === 'config.json') return `a model folder's config.json, ${notModel} (${dir})`;
  if (TOKENIZER_FILES.includes(name)) return `a tokenizer file, ${notModel} (${dir})`;
  if (name.endsWith('.safetensors') || name === 'model.safetensors.index.json')
    return `a safetensors checkpoint, not an ONNX model: export it to ONNX first (compress export ${shellWord(dir)} -o OUT/model.onnx)`;
  if (unreadableWeightFiles([name]).length) return 'a checkpoint bert-compress cannot read, not an ONNX model: save the model as safetensors (or ONNX) first';
  // (the lineage record compress writes beside each model it writes, model.onnx.json: destination.ts's lineagePath)
  const recorded = /^(.+\.onnx)\.json$/.exec(name)?.[1];
  if (recorded !== undefined) return `the lineage record of ${recorded} (what compress wrote it from), not an ONNX model: give ${join(dir, recorded)}`;
  // (onnxruntime's and onnx's external data names: model.onnx.data, model.onnx_data)
  const graph = /^(.+\.onnx)(\.data|_data)$/.exec(name)?.[1];
  return graph === undefined ? undefined : `the external data of ${graph}, not an ONNX model: give ${join(dir, graph)}`;
}

/**
 * Why `path` cannot be read, from the error of a stat or read (fsReason, which names a symbolic link loop): a link
 * whose target is missing is said as such, not as 'no such file' (`missing`: the words for a path that is not there).
 */
export function unreachableReason(path: string, e: unknown, missing: string): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') {
    try {
      if (lstatSync(path).isSymbolicLink()) return `a symbolic link to ${readlinkSync(path)}, which does not exist`;
    } catch {
      // not there at all
    }
    return missing;
  }
  return fsReason(e);
}

/** The .onnx files of a folder's `onnx/` (as Optimum and transformers.js lay out other dtypes: model_quantized.onnx…). */
function onnxFolderModels(model: string): string[] {
  const dir = join(model, 'onnx');
  try {
    return statSync(dir).isDirectory()
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.onnx'))
          .sort()
      : [];
  } catch {
    return [];
  }
}

/**
 * The folder of config.json and the tokenizer for `file`, the model a folder given as MODEL holds: the folder, or
 * when it has none of them and `file` lies in its `onnx/` that has them (`compress export … -o DIR/onnx/model.onnx`
 * writes them beside the model), that `onnx/` folder.
 */
export function folderSideFilesDir(folder: string, file: string): string {
  const has = (d: string): boolean => MODEL_SIDE_FILES.some((f) => existsSync(join(d, f)));
  const own = dirname(file);
  return resolve(own) !== resolve(folder) && !has(folder) && has(own) ? own : folder;
}

/**
 * The folder of a model file's config.json and tokenizer: its own, or for a file in an `onnx/` folder that has none
 * of them (Optimum's and transformers.js's layout: DIR/onnx/model.onnx, DIR/onnx/model_quantized.onnx), the folder
 * above it when that has them, as for the folder given as MODEL.
 */
function sideFilesDir(file: string): string {
  const dir = dirname(file);
  const has = (d: string): boolean => MODEL_SIDE_FILES.some((f) => existsSync(join(d, f)));
  if (basename(resolve(dir)) !== 'onnx' || has(dir)) return dir;
  const parent = dirname(dir);
  return has(parent) ? parent : dir;
}
