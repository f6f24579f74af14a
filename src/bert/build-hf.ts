/**
 * Hugging Face model folders: `config.json` plus `model.safetensors` (or sharded `model-0000N-of-0000M.safetensors`
 * with `model.safetensors.index.json`), read into a BertConfig and weights by parameter name, and built into the
 * torch-exporter graph. Pickled checkpoints (`pytorch_model.bin`) cannot be read without Python and are refused
 * with a message that says so.
 */
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, type Stats, statSync } from 'node:fs';
import { join, normalize, isAbsolute, sep } from 'node:path';
import { DataError, fsReason, counted, groupedDigits, quotedText, valueText } from '../errors.ts';
import type { OptionKind } from '../library-args.ts';
import { someNames } from '../some-names.ts';
import type { Model } from '../onnx/index.ts';
import { unreadableWeightFiles } from '../onnx/locate.ts';
import { nonFiniteValues } from '../onnx/tensor.ts';
import { utf8Json, writeFileAtomic } from '../files.ts';
import { type BertConfig, type BertFamily, configFromHuggingFace, configToHuggingFace, type ExtendedBertConfig, familyOf } from './config.ts';
import { BUILD_OPTION_KINDS, buildBert, checkBuildOptions, type BuildOptions } from './build.ts';
import { otherHeadClass } from './classifier.ts';
import { bertParameters, canonicalParamName, embeddingParamNames, headParamNames, type RandomInit, sinusoidalPositionTable } from './build-weights.ts';
import { readSafetensors, readSafetensorsMetadata, writeSafetensors, type SafetensorsTensor } from './safetensors.ts';
import { ensureFolder } from '../folders.ts';

export interface HuggingFaceFolder {
  /** The config of the folder's model_type (BERT, DistilBERT, RoBERTa / XLM-R, ELECTRA, ALBERT: see configFromHuggingFace). */
  config: ExtendedBertConfig;
  /**
   * Every tensor of the checkpoint by its name, as float32 (shape and stored dtype kept); a tied MLM decoder saved in
   * place of the word table also under the word table's name; a DistilBERT's sinusoidal position table the checkpoint
   * lacks, computed (sinusoidalPositions).
   */
  weights: Map<string, SafetensorsTensor>;
  /** The safetensors files read. */
  files: string[];
}

function readJson(path: string): unknown {
  return readJsonAndText(path).json;
}

/**
 * readJson's JSON and the file's text (configFromHuggingFace reads pruned_heads' keys in the text's order), named
 * `label` in its refusals: one that cannot be read `LABEL: cannot read it: WHY` (fsReason), as the folder and its
 * safetensors files are; bytes that are not UTF-8 a one-line NotUtf8Error naming the byte offset (utf8Text), as
 * transformers fails to read such a config.json or index (json.load: UnicodeDecodeError) and a model folder's
 * config.json is refused (readJsonObject), where they were read as U+FFFD (an id2label name in Latin-1 exported as
 * 'caf\ufffd'); text that is not JSON `LABEL: not valid JSON (…)` (utf8Json, as every Hugging Face JSON file is read).
 */
function readJsonAndText(path: string, label = path): { json: unknown; text: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new DataError(`${label}: cannot read it: ${fsReason(e)}`, { cause: e });
  }
  return utf8Json(bytes, label);
}

/**
 * The config of a Hugging Face config.json (SettingsError when bert-compress cannot build it, DataError when it cannot
 * be read or is not JSON, NotUtf8Error when it is not UTF-8 text: readJsonAndText), checked as loadHuggingFaceFolder
 * checks it; `label` names it in errors.
 */
export function readHuggingFaceConfig(path: string, label = path): ExtendedBertConfig {
  const { json, text } = readJsonAndText(path, label);
  return configFromHuggingFace(json, label, text);
}

/**
 * The safetensors files of a folder's checkpoint: the single file, or the shards its index names (other
 * `.safetensors` files in the folder, an adapter's or a training state's, are not the checkpoint's). A DataError when
 * there are none (naming a pickled checkpoint when the folder has one).
 */
export function checkpointWeightFiles(dir: string): string[] {
  return checkpointShards(dir).files;
}

/** checkpointWeightFiles' files, and the index's weight_map when the checkpoint is sharded (read once). */
function checkpointShards(dir: string): { files: string[]; weightMap?: Record<string, string> } {
  const single = join(dir, 'model.safetensors');
  if (existsSync(single)) return { files: [single] };
  const indexPath = join(dir, 'model.safetensors.index.json');
  for (const path of [single, indexPath]) {
    // a link to nothing (a hub cache snapshot whose blobs were removed): named, not taken for an absent file
    if (!existsSync(path) && isLink(path)) {
      throw new DataError(`${path}: a link to ${readlinkSync(path)}, which does not exist (a hub cache snapshot whose blobs were removed?)`);
    }
  }
  if (existsSync(indexPath)) {
    const weightMap = readWeightMap(indexPath);
    return { files: [...new Set(Object.values(weightMap))].map((s) => join(dir, s)), weightMap };
  }
  // (shards saved without their index, or the index not copied: which tensor is in which shard is the index's to say)
  const shards = listedFiles(dir).filter((f) => SHARD_NAME.test(f));
  if (shards.length) {
    throw new DataError(
      `${dir}: has the shards ${someNames(shards, 4)} but not their index model.safetensors.index.json (nor model.safetensors): copy the index beside them`,
    );
  }
  const pickled = unreadableWeightFiles(listedFiles(dir));
  if (pickled.length) {
    throw new DataError(
      `${dir}: has ${someNames(pickled, 4)} but no model.safetensors; bert-compress reads only safetensors (convert the checkpoint to safetensors first)`,
    );
  }
  const onnx = ['model.onnx', join('onnx', 'model.onnx')].find((f) => existsSync(join(dir, f)));
  throw new DataError(
    `${dir}: no model.safetensors (nor model.safetensors.index.json)${onnx ? `; it holds an ONNX model (${onnx}): give the folder to compress, eval or inspect as it is` : ''}`,
  );
}

/** The name transformers' save_pretrained gives a safetensors shard (model-00001-of-00002.safetensors). */
const SHARD_NAME = /^model-\d+-of-\d+\.safetensors$/;

/** The names in folder `dir`, sorted; none where it cannot be listed (the caller's refusal says what is missing). */
function listedFiles(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** The weight_map of a safetensors index (tensor name → shard file), its shards checked to be paths inside the folder. */
function readWeightMap(indexPath: string): Record<string, string> {
  const index = readJson(indexPath) as { weight_map?: unknown };
  const map = index?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new DataError(`${indexPath}: no weight_map object`);
  for (const s of new Set(Object.values(map as Record<string, unknown>))) {
    const rel = typeof s === 'string' ? normalize(s) : '';
    if (!rel || isAbsolute(rel) || rel.startsWith('..' + sep) || rel === '..') {
      throw new DataError(`${indexPath}: weight_map names an invalid shard ${valueText(s)}`);
    }
  }
  return map as Record<string, string>;
}

/**
 * Refuses a sharded checkpoint whose index names a tensor that none of its shards holds (a shard of another save, or
 * one cut short): the tensor would be taken for one the checkpoint lacks, and a missing head seeded as if the
 * checkpoint had none. A tensor found in another shard than the index says is read as it is, as transformers reads
 * every tensor of each shard.
 */
function checkIndexedTensors(dir: string, weightMap: Readonly<Record<string, string>>, read: ReadonlySet<string>): void {
  const indexPath = join(dir, 'model.safetensors.index.json');
  const lost = Object.entries(weightMap).filter(([name]) => !read.has(name));
  if (!lost.length) return;
  const [name, shard] = lost[0]!;
  const named = someNames(
    lost.map(([n, s]) => `${quotedText(n)} in ${s}`),
    4,
  );
  throw new DataError(
    lost.length === 1
      ? `${indexPath}: names tensor ${quotedText(name)} in ${shard}, which holds no such tensor, nor does any other shard: is a shard from another save of the model?`
      : `${indexPath}: names ${lost.length} tensors that no shard holds: ${named}: is a shard from another save of the model?`,
  );
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The frameworks whose safetensors files name and lay out tensors otherwise than PyTorch's state dict. */
const OTHER_FORMATS: Record<string, string> = { tf: 'TensorFlow', flax: 'Flax', mlx: 'MLX' };

/**
 * Refuses a safetensors file saved by TensorFlow or Flax (`__metadata__` format 'tf' / 'flax'): its tensors have
 * Keras or Flax names and layouts (kernels [in, out]), not the PyTorch state dict the build reads. A file without a
 * format is taken as PyTorch's.
 */
export function checkPyTorchFormat(file: string, metadata: Readonly<Record<string, string>> = readSafetensorsMetadata(file)): void {
  const format = metadata.format ?? 'pt';
  const other = Object.hasOwn(OTHER_FORMATS, format) ? OTHER_FORMATS[format] : undefined;
  if (other) {
    throw new DataError(
      `${file}: saved by ${other} (__metadata__ format ${quotedText(metadata.format)}); bert-compress reads PyTorch safetensors (format 'pt'): load it in transformers' PyTorch class and save_pretrained it again`,
    );
  }
}

/** A path's stat, undefined when it does not exist; a one-line DataError when it cannot be looked at (permission denied). */
function statOrAbsent(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new DataError(`${path}: cannot read it: ${fsReason(e)}`, { cause: e });
  }
}

/**
 * Reads a Hugging Face folder of a BERT-family model: its config (SettingsError when bert-compress cannot build it) and the tensors
 * of its safetensors file(s) (DataError when missing or malformed).
 */
export function loadHuggingFaceFolder(dir: string): HuggingFaceFolder {
  const stat = statOrAbsent(dir);
  if (!stat) throw new DataError(`${dir}: no such folder`);
  if (!stat.isDirectory()) throw new DataError(`${dir}: not a folder (a Hugging Face model folder holds config.json and model.safetensors)`);
  const configPath = join(dir, 'config.json');
  if (!statOrAbsent(configPath)) throw new DataError(`${dir}: no config.json`);
  const { json, text } = readJsonAndText(configPath);
  const config = configFromHuggingFace(json, configPath, text);
  const { files, weightMap } = checkpointShards(dir);
  const weights = new Map<string, SafetensorsTensor>();
  const params = new Set(bertParameters(config).map((p) => p.name));
  let decoderFile = '';
  for (const f of files) {
    const read = readSafetensors(f);
    checkPyTorchFormat(f, read.metadata);
    for (const [name, t] of read.tensors) {
      if (weights.has(name)) throw new DataError(`${f}: tensor ${quotedText(name)} is also in another shard`);
      if (params.has(canonicalParamName(name, familyOf(config)))) checkParameter(f, name, t);
      if (name === TIED_DECODERS[familyOf(config)]) decoderFile = f;
      weights.set(name, t);
    }
  }
  if (weightMap) checkIndexedTensors(dir, weightMap, new Set(weights.keys()));
  checkLabelCount(dir, config, weights, otherHeadClass((json as Record<string, unknown>).architectures));
  const tied = tiedWordTable(weights.keys(), familyOf(config));
  if (tied && (json as Record<string, unknown>).tie_word_embeddings === false) {
    // (untied, the decoder is its own matrix: safetensors keeps both, so the word table is missing, not saved under the decoder's name)
    throw new DataError(
      `${dir}: the checkpoint has no word table (${embeddingParamNames(familyOf(config)).word}), only the masked-LM decoder ${quotedText(tied)}, which config.json's tie_word_embeddings false says is not the word table: is a tensor missing?`,
    );
  }
  if (tied) {
    checkParameter(decoderFile, tied, weights.get(tied)!);
    weights.set(embeddingParamNames(familyOf(config)).word, weights.get(tied)!);
  }
  const sinusoids = sinusoidalPositions(json as Record<string, unknown>, config, weights.keys());
  if (sinusoids) {
    const dims = [config.maxPositions, config.hiddenSize];
    weights.set(sinusoids, { dtype: 'F32', dims, data: sinusoidalPositionTable(config.maxPositions, config.hiddenSize) });
  }
  return { config, weights, files };
}

/**
 * The name of the position table a DistilBERT checkpoint (`keys`: its tensor names) lacks where config.json (`json`,
 * read into `config`) says `sinusoidal_pos_embds: true`: transformers fills it with fixed sinusoids
 * (create_sinusoidal_embeddings: sinusoidalPositionTable) whatever the seed, so the build computes it too rather than
 * refusing or seeding it. Undefined otherwise: a table the checkpoint holds is read as saved, as transformers loads it.
 */
export function sinusoidalPositions(json: Record<string, unknown>, config: ExtendedBertConfig, keys: Iterable<string>): string | undefined {
  const family = familyOf(config);
  if (family !== 'distilbert' || json.sinusoidal_pos_embds !== true) return undefined;
  const name = embeddingParamNames(family).position;
  for (const k of keys) if (canonicalParamName(k, family) === name) return undefined;
  return name;
}

/** The masked-LM decoder each family ties to its word table (transformers' _tied_weights_keys). */
const TIED_DECODERS: Readonly<Record<BertFamily, string>> = {
  bert: 'cls.predictions.decoder.weight',
  distilbert: 'vocab_projector.weight',
  roberta: 'lm_head.decoder.weight',
  electra: 'generator_lm_head.weight',
  albert: 'predictions.decoder.weight',
};

/**
 * The key of a masked-LM decoder saved in place of the word table it is tied to (safetensors keeps one name of
 * tensors that share memory: `safetensors.torch.save_model` keeps the first in sorted order, `lm_head.decoder.weight`
 * before `roberta.embeddings.…`), when the checkpoint has no word table; undefined otherwise. Its values are the
 * word table's.
 */
export function tiedWordTable(keys: Iterable<string>, family: BertFamily): string | undefined {
  const names = [...keys];
  const word = embeddingParamNames(family).word;
  if (names.some((k) => canonicalParamName(k, family) === word)) return undefined;
  return names.find((k) => k === TIED_DECODERS[family]);
}

/**
 * Refuses a classifier whose outputs are not config.json's label count, in config.json's terms (the shape check of
 * the build would name only the tensor's shape): the config's labels would be another model's. Where config.json's
 * `architectures` names another head (`other`: a BertForMultipleChoice's classifier scores one choice), a classifier
 * is refused saying so (a multiple-choice one whatever its outputs), not that config.json should give the
 * classifier's labels.
 */
function checkLabelCount(
  dir: string,
  config: ExtendedBertConfig,
  weights: ReadonlyMap<string, SafetensorsTensor>,
  other?: { name: string; head: string },
): void {
  const family = familyOf(config);
  const classifier = `${headParamNames(family).last}.weight`;
  for (const [name, t] of weights) {
    if (canonicalParamName(name, family) !== classifier || t.dims.length !== 2) continue;
    const [rows] = t.dims;
    // (a multiple-choice classifier whether or not its outputs are config.json's labels: its one score per choice reads as a
    // regression head's where config.json says num_labels 1, with nothing seeded to say so; a token classifier, which
    // transformers' AutoModelForSequenceClassification loads so too, has no pooler, which is seeded and said)
    if (other && (rows !== config.numLabels || other.name.endsWith('ForMultipleChoice'))) {
      const labels = rows === config.numLabels ? '' : `, not config.json's ${counted(config.numLabels, 'label')}`;
      throw new DataError(
        `${dir}: config.json's architectures names ${other.name}, ${other.head}, not a sequence classifier: its classifier ${quotedText(name)} has ${counted(rows, 'output')}${labels}`,
      );
    }
    if (rows === config.numLabels) continue;
    throw new DataError(
      `${dir}: the checkpoint's classifier ${quotedText(name)} has ${counted(rows, 'output')} but config.json gives ${counted(config.numLabels, 'label')} (the size of id2label, else num_labels, else 2); give config.json the classifier's ${counted(rows, 'label')} (num_labels and id2label)`,
    );
  }
}

/** Refuses a parameter stored as integers (quantized) or holding NaN or infinite values (the logits would be NaN). */
function checkParameter(file: string, name: string, t: SafetensorsTensor): void {
  if (t.dtype.startsWith('F8_')) {
    // (transformers reads such a weight with its scales, under config.json's quantization_config; unscaled, its values are not the weight's)
    throw new DataError(
      `${file}: tensor ${quotedText(name)} is stored as ${t.dtype}, an 8-bit float (an FP8-quantized checkpoint, whose weights are read with their scales?); bert-compress reads float weights (${[...FLOAT_DTYPES].join(', ')}): save the model unquantized`,
    );
  }
  if (!FLOAT_DTYPES.has(t.dtype)) {
    throw new DataError(
      `${file}: tensor ${quotedText(name)} is stored as ${t.dtype}, not as floats (a quantized checkpoint, such as bitsandbytes' 8-bit?); bert-compress reads float weights (${[...FLOAT_DTYPES].join(', ')}): save the model unquantized`,
    );
  }
  const bad = nonFiniteValues(t.data);
  if (!bad) return;
  // (an F64 value past float32's range is infinite only as read: the file holds it finite)
  if (t.pastFloat32 !== undefined && t.pastFloat32.count === bad.count)
    throw new DataError(
      `${file}: tensor ${quotedText(name)} holds ${counted(t.pastFloat32.count, 'F64 value', { grouped: true })} past float32's range (of ${groupedDigits(t.data.length)}; the first ${t.pastFloat32.first}, where float32 ends at ±3.4028235e+38): bert-compress builds float32 graphs, in which ${t.pastFloat32.count === 1 ? 'it' : 'they'} would be infinite; save the weights in float32's range`,
    );
  const hint = bad.infinite && t.dtype === 'F16' ? " (values past F16's range when it was saved?)" : '';
  throw new DataError(
    `${file}: tensor ${quotedText(name)} holds ${counted(bad.count, 'NaN or infinite value', { grouped: true })} (of ${groupedDigits(t.data.length)}): the checkpoint is broken${hint}`,
  );
}

/** The stored types of model parameters (integer tensors are quantized weights, or ids such as position_ids). */
const FLOAT_DTYPES: ReadonlySet<string> = new Set(['F64', 'F32', 'F16', 'BF16']);

export interface FolderBuildOptions extends BuildOptions {
  /** Seed the parameters the checkpoint lacks (e.g. the classifier of a bare BertModel), as transformers does. */
  fillMissing?: RandomInit;
}

/** Builds the family's ForSequenceClassification graph of a Hugging Face folder (see loadHuggingFaceFolder). */
export function buildFromHuggingFaceFolder(dir: string, opts: FolderBuildOptions = {}): Model {
  checkBuildOptions('buildFromHuggingFaceFolder', opts, {
    ...BUILD_OPTION_KINDS,
    fillMissing: {
      is: (v: unknown) => typeof v === 'object' && v !== null && Number.isSafeInteger((v as RandomInit).seed),
      expected: 'a random init ({seed, std?})',
    },
  } satisfies Record<keyof FolderBuildOptions, OptionKind>);
  const { config, weights } = loadHuggingFaceFolder(dir);
  const { fillMissing, ...buildOpts } = opts;
  return buildBert(config, { kind: 'given', tensors: weights, fillMissing, label: dir, configFile: 'config.json' }, buildOpts);
}

/**
 * Writes a Hugging Face folder (config.json and model.safetensors, float32) that transformers loads as a
 * BertForSequenceClassification. `weights` are by Hugging Face parameter name in torch layout (e.g.
 * randomBertWeights); each must be a parameter of `config`.
 */
export function writeHuggingFaceFolder(dir: string, config: BertConfig, weights: ReadonlyMap<string, Float32Array>): void {
  const dims = new Map(bertParameters(config).map((p) => [p.name, p.dims]));
  const tensors = new Map(
    [...weights].map(([name, data]) => {
      const d = dims.get(name);
      if (!d) throw new RangeError(`writeHuggingFaceFolder: ${quotedText(name)} is not a parameter of this BERT`);
      return [name, { dims: d, data }] as const;
    }),
  );
  ensureFolder(dir);
  writeFileAtomic(join(dir, 'config.json'), new TextEncoder().encode(JSON.stringify(configToHuggingFace(config), null, 2) + '\n'));
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
}
