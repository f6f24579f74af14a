/**
 * Exporting a Hugging Face folder (config.json + model.safetensors + tokenizer files) to an ONNX model folder
 * without Python: the graph torch's exporter would write for the model_type's ForSequenceClassification (BERT,
 * DistilBERT, RoBERTa / XLM-R, ELECTRA, ALBERT), checked by onnxruntime, written atomically with the tokenizer and
 * config beside it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { buildFromHuggingFaceFolder, checkPyTorchFormat, checkpointWeightFiles, sinusoidalPositions, tiedWordTable } from '../bert/build-hf.ts';
import { FAMILY_PREFIX, bertParameters, canonicalParamName, embeddingParamNames, headParamNames } from '../bert/build-weights.ts';
import { type BertFamily, type ExtendedBertConfig, configFromHuggingFace, configJsonKey, familyOf } from '../bert/config.ts';
import { findBert } from '../bert/discover.ts';
import { readSafetensorsHeader } from '../bert/safetensors.ts';
import type { SavedFiles } from '../onnx/save.ts';
import { modelSize, type ModelSize } from '../onnx/size.ts';
import { DataError, counted, isAre, plural, quotedText } from '../errors.ts';
import { removeStaleTemporariesIn, utf8Json, writeFileAtomic } from '../files.ts';
import { copyModelSideFiles, saveRunnable } from './compress.ts';
import { checkSideFiles, realPathOf, removeSideFiles } from './destination.ts';
import { MODEL_SIDE_FILES, parseModelConfig, readJsonObject } from '../eval/model-files.ts';
import { scoresOutput } from '../eval/graph-checks.ts';
import { headConfigFields, modelDtypeFields } from '../eval/output-config.ts';
import type { BertStructure } from '../bert/structure.ts';
import type { Model } from '../onnx/graph.ts';
import { checkStringOption } from '../library-args.ts';
import { someNames } from '../some-names.ts';

export interface ExportResult {
  saved: SavedFiles;
  size: ModelSize;
  copied: string[];
  /**
   * Whether config.json was written naming the seeded head or the graph's dtype (a float16 checkpoint's torch_dtype:
   * float32), not copied from the checkpoint.
   */
  wroteConfig: boolean;
  numLayers: number;
  hiddenSize: number;
  /** The head parameters the checkpoint lacked when the head was all it lacked (seeded); empty otherwise. */
  seeded: string[];
}

/** The seed of the head parameters a base or pretraining checkpoint lacks. */
export const HEAD_SEED = 0;

/** transformers' sequence-classification class of each model_type the export reads. */
export { CLASSIFIER_ARCHITECTURES } from '../eval/output-config.ts';

export interface ExportOptions {
  /** Seed every parameter the checkpoint lacks with this seed. Absent: only a missing head is seeded (HEAD_SEED). */
  seedMissing?: number;
  /** Where the "newly initialized" notice goes, and the name it gives the checkpoint. */
  log?: (line: string) => void;
  label?: string;
  /** Write over another model's config.json and tokenizer files in the output's folder (exportHuggingFaceFolder; refused otherwise). */
  force?: boolean;
}

/** What a checkpoint lacks of its config's parameters (see checkpointCoverage). */
interface Coverage {
  /** Every parameter of config.json's model the checkpoint lacks, in state-dict order. */
  missing: string[];
  /** The missing head parameters (pooler / classifier), when they are all it lacks; empty otherwise. */
  head: string[];
  /** What the checkpoint lacks when `head` is set, for the notice (default: 'no classification head'). */
  lacks?: string;
  /** The checkpoint has none of the embeddings' and encoder's parameters: another family's tensors (checkpointSeeding refuses it). */
  foreign?: { modelType?: string; needs: string; has: string[]; prefix?: { part: string; key: string } };
  /** The checkpoint's encoder layers past config.json's layer count (its `key`: num_hidden_layers, DistilBERT's n_layers, ALBERT's num_hidden_groups and inner_group_num; their tensors not used), ascending; absent for none. */
  pastLayers?: PastLayers[];
}

/**
 * What the checkpoint in `dir` lacks: its missing parameters, and whether they are only the head (a base or
 * pretraining checkpoint: BertModel, ElectraForPreTraining, …). Undefined when the files cannot be read (the build
 * reads them again and reports what is wrong). Reads only config.json and the safetensors headers.
 */
function checkpointCoverage(dir: string): Coverage | undefined {
  let config: ReturnType<typeof configFromHuggingFace>;
  let json: Record<string, unknown>;
  let names: Set<string>;
  let keys: string[];
  try {
    const read = utf8Json(readFileSync(join(dir, 'config.json')), join(dir, 'config.json')); // (not UTF-8, not JSON: the build's refusal)
    const text = read.text;
    json = read.json as Record<string, unknown>;
    config = configFromHuggingFace(json, join(dir, 'config.json'), text);
    // the files the build reads (not every .safetensors of the folder: an adapter's would hide a missing head)
    const files = checkpointWeightFiles(dir);
    for (const f of files) checkPyTorchFormat(f); // the build refuses another framework's files
    keys = files.flatMap((f) => readSafetensorsHeader(f).map((t) => t.name));
    names = new Set(keys.map((k) => canonicalParamName(k, familyOf(config))));
    if (tiedWordTable(keys, familyOf(config))) names.add(embeddingParamNames(familyOf(config)).word); // read as the word table
    const sinusoids = sinusoidalPositions(json, config, keys); // computed as transformers computes it, not seeded
    if (sinusoids) names.add(sinusoids);
  } catch {
    return undefined;
  }
  const head = headParamNames(familyOf(config));
  const params = bertParameters(config).map((p) => p.name);
  const missing = params.filter((n) => !names.has(n));
  const isHead = (n: string) => [head.first, head.last].some((h) => n.startsWith(`${h}.`));
  const coverage: Coverage = { missing, head: missing.length && missing.every(isHead) ? missing : [] };
  // a token-classification or question-answering checkpoint's classifier comes without BERT's pooler
  if (coverage.head.length && !missing.some((n) => n.startsWith(`${head.last}.`))) coverage.lacks = `no ${head.first} before its classifier`;
  const past = pastLayerTensors(names, params, config);
  if (past.length) coverage.pastLayers = past;
  const body = params.filter((n) => !isHead(n));
  if (names.size && body.every((n) => !names.has(n))) {
    const has = [...new Set([...names].map((n) => n.split('.')[0]))].slice(0, 3);
    coverage.foreign = { modelType: typeof json.model_type === 'string' ? json.model_type : undefined, needs: body[0], has };
    const prefix = wrapperPrefix(keys, familyOf(config), new Set(body));
    if (prefix !== undefined) coverage.foreign.prefix = prefix;
  }
  return coverage;
}

/**
 * The checkpoint's encoder layers (an ALBERT checkpoint's layer groups, or inner layers of a group) numbered past
 * config.json's count of them (`count`, read from its `key`: num_hidden_layers, DistilBERT's n_layers, ALBERT's
 * num_hidden_groups or inner_group_num), and how many tensors they hold; `what` they are, in words; `groups`: the layer
 * groups that hold such inner layers.
 */
interface PastLayers {
  layers: number[];
  tensors: number;
  count: number;
  key: string;
  what: 'layer' | 'layer group' | 'inner layer';
  groups?: number[];
}

/**
 * The encoder layers of `config` (PastLayers) that the (canonical) tensor names that are no parameter hold
 * (`bert.encoder.layer.6.…` of a 6-layer config.json, `albert.encoder.albert_layer_groups.1.…` of one group,
 * `albert.encoder.albert_layer_groups.0.albert_layers.1.…` of inner_group_num 1), and how many such tensors: the build
 * leaves them unread, as transformers does ("Some weights … were not used"). Only the kinds that some tensor holds.
 */
function pastLayerTensors(names: ReadonlySet<string>, params: readonly string[], config: ExtendedBertConfig): PastLayers[] {
  const family = familyOf(config);
  const known = new Set(params);
  const unknown = [...names].filter((n) => !known.has(n));
  const past = (what: PastLayers['what'], key: string, count: number, numbered: RegExp, groupsBelow?: number): PastLayers => {
    const layers = new Set<number>();
    const groups = new Set<number>();
    let tensors = 0;
    for (const n of unknown) {
      const m = numbered.exec(n);
      const i = Number(m?.[groupsBelow === undefined ? 1 : 2] ?? Number.NaN);
      if (!(i >= count) || (groupsBelow !== undefined && !(Number(m?.[1]) < groupsBelow))) continue;
      layers.add(i);
      if (groupsBelow !== undefined) groups.add(Number(m?.[1]));
      tensors++;
    }
    const ascending = (s: Set<number>) => [...s].sort((a, b) => a - b);
    return { layers: ascending(layers), tensors, count, key, what, ...(groupsBelow === undefined ? {} : { groups: ascending(groups) }) };
  };
  if (family !== 'albert')
    return [past('layer', configJsonKey(family, 'numLayers'), config.numLayers, /^[a-z_]+\.(?:encoder|transformer)\.layer\.(\d+)\./)].filter((p) => p.tensors);
  // (an ALBERT of no layers: transformers builds its groups all the same, and loads their tensors)
  const groupCount = config.layerGroups ? Math.max(...config.layerGroups) + 1 : Number.POSITIVE_INFINITY;
  return [
    past('layer group', 'num_hidden_groups', groupCount, /^albert\.encoder\.albert_layer_groups\.(\d+)\./),
    // (inner_group_num is 1: albertConfigFromHuggingFace refuses any other; an inner layer of a group past the groups is counted with its group)
    past('inner layer', 'inner_group_num', 1, /^albert\.encoder\.albert_layer_groups\.(\d+)\.albert_layers\.(\d+)\./, groupCount),
  ].filter((p) => p.tensors);
}

/**
 * The leading name parts that every key carries (`model.` of a wrapper module's state dict: `model.bert.embeddings.…`;
 * two wrappers' `module._orig_mod.`, DDP around torch.compile; a wrapper's attribute named as a family, `bert.` of a
 * Lightning module's `self.bert`: `bert.bert.embeddings.…`) and a key that is a parameter of `body` without them;
 * undefined when there are no such parts. A family's own prefix is a wrapper's only where the family's own prefix
 * follows it: `roberta.embeddings.…` under model_type bert is another family's checkpoint (checkpointSeeding says so),
 * not a bare BertModel's keys under a wrapper.
 */
function wrapperPrefix(keys: readonly string[], family: BertFamily, body: ReadonlySet<string>): { part: string; key: string } | undefined {
  const parts = keys[0]?.split('.') ?? [];
  const own = `${FAMILY_PREFIX[family]}.`;
  for (let n = 1; n < parts.length; n++) {
    const part = parts.slice(0, n).join('.');
    if (!keys.every((k) => k.startsWith(`${part}.`))) return undefined;
    const familyNamed = Object.values(FAMILY_PREFIX).includes(parts[n - 1]!);
    const key = keys.find((k) => {
      const inner = k.slice(part.length + 1);
      return (!familyNamed || inner.startsWith(own)) && body.has(canonicalParamName(inner, family));
    });
    if (key !== undefined) return { part, key };
    if (familyNamed) return undefined;
  }
  return undefined;
}

/**
 * How to build the checkpoint in `dir`: every missing parameter seeded with `seedMissing` when given; else a missing
 * head seeded with HEAD_SEED, as transformers does ("newly initialized"). `seeded`: the missing head parameters (when
 * the head is all that is missing); `notice`: the line to log once the export is written (not before a refusal),
 * naming what was seeded and the seed, whichever seeded it (with `seedMissing` and nothing missing, that nothing was). A checkpoint with none of the embeddings' and encoder's
 * parameters (another family's, config.json's model_type wrong or absent) is refused in one line, --seed-missing or
 * not: seeding would make a random model.
 */
export function checkpointSeeding(dir: string, opts: ExportOptions = {}): { fillMissing?: { seed: number }; seeded: string[]; notice?: string } {
  const coverage = checkpointCoverage(dir);
  const label = opts.label ?? dir;
  if (coverage?.foreign) {
    const { modelType, needs, has, prefix } = coverage.foreign;
    if (prefix !== undefined) {
      throw new DataError(
        `${label}: every tensor name of the checkpoint starts with ${quotedText(`${prefix.part}.`)} before the model's own (${prefix.key}, …): saved from a wrapper module? save the inner model with save_pretrained, or rename its tensors without the prefix`,
      );
    }
    const type = modelType ? quotedText(modelType) : "'bert' (config.json names none)";
    throw new DataError(
      `${label}: the checkpoint's tensors (${has.map((p) => `${p}.…`).join(', ')}) have none of the embeddings and encoder parameters of config.json's model_type ${type} (${needs}, …): is model_type right?`,
    );
  }
  for (const { layers, tensors, count, key, what, groups } of coverage?.pastLayers ?? []) {
    // (transformers loads such a checkpoint saying "Some weights of the model checkpoint … were not used")
    const of = groups ? ` of ${plural(groups.length, 'layer group')} ${someNames(groups.map(String), 4)}` : '';
    opts.log?.(
      `warning: ${label}: the checkpoint's encoder ${plural(layers.length, what)} ${someNames(layers.map(String), 4)}${of} (${counted(tensors, 'tensor')}) ${isAre(layers.length)} past config.json's ${key} ${count}: not used`,
    );
  }
  const seeded = coverage?.head ?? [];
  const seed = opts.seedMissing ?? HEAD_SEED;
  const missing = coverage?.missing ?? [];
  // (prefixed as the library's other lines to a log: a warning where weights were made up or a file misdescribes the
  // model, a note where nothing was; transformers warns of newly initialized weights likewise)
  const notice = seeded.length
    ? `warning: ${label}: the checkpoint has ${coverage?.lacks ?? 'no classification head'}: ${seeded.join(', ')} newly initialized (seed ${seed}); train or distil it before trusting its predictions`
    : opts.seedMissing !== undefined && missing.length
      ? `warning: ${label}: the checkpoint lacks ${counted(missing.length, 'parameter')}: ${someNames(missing, 4)} newly initialized (seed ${seed}); train or distil it before trusting its predictions`
      : opts.seedMissing !== undefined
        ? `note: ${label}: no parameter missing; nothing seeded`
        : undefined;
  if (opts.seedMissing !== undefined) return { fillMissing: { seed }, seeded, notice };
  if (!seeded.length) return { seeded };
  return { fillMissing: { seed }, seeded, notice };
}

/**
 * The files an export reads from the checkpoint folder, which its output must not overwrite: config.json, the
 * safetensors index and weight files, and the tokenizer files. An earlier export's model.onnx in the folder is not
 * one of them: exporting again with the same -o replaces it.
 */
function checkpointInputs(dir: string): string[] {
  const named = [...MODEL_SIDE_FILES, 'model.safetensors.index.json'].map((f) => join(dir, f)).filter((f) => existsSync(f));
  return [...named, ...checkpointWeightFiles(dir)];
}

export async function exportHuggingFaceFolder(dir: string, output: string, opts: ExportOptions = {}): Promise<ExportResult> {
  checkStringOption('exportHuggingFaceFolder', 'dir', dir, 'a Hugging Face model folder');
  checkStringOption('exportHuggingFaceFolder', 'output', output, 'the .onnx file to write');
  const label = `-o ${output}`;
  const { fillMissing, seeded, notice } = checkpointSeeding(dir, opts);
  const model = buildFromHuggingFaceFolder(dir, fillMissing ? { fillMissing } : {});
  // (a graph discovery refuses, one of no encoder layers (num_hidden_layers 0), is named by the checkpoint)
  const s = findBert(model, { label: opts.label ?? dir });
  const outDir = dirname(resolve(output));
  const inPlace = realPathOf(resolve(dir)) === realPathOf(outDir);
  const config = writtenConfig(dir, model, s, seeded.length > 0, opts.label ?? dir);
  // another model's config.json or tokenizer files in the output's folder would describe the export (they are
  // copied only where missing): refused before anything is written, as compress refuses them; --force removes them
  // once the export is written, and the checkpoint's are copied in their place
  const foreign = checkSideFiles(resolve(dir), outDir, label, opts.force, config);
  const saved = await saveRunnable(model, s, output, checkpointInputs(dir));
  removeSideFiles(dirname(output), foreign, label);
  // config.json is copied as it is (the side files an output shares with its input are the input's, byte for byte),
  // unless the head was seeded: then it names the classifier and its labels as transformers saves the model (and as
  // the transformers.js folder does), not the checkpoint's base class; or unless its torch_dtype (dtype) is not the
  // graph's: a float16 checkpoint is exported in float32, which it then names
  const wroteConfig = Boolean(config && !inPlace);
  if (config && !inPlace) writeFileAtomic(join(outDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  const copied = copyModelSideFiles(dir, dirname(output));
  // what a run killed while writing config.json or a tokenizer file left beside them, as compress removes them (the
  // model's own is written in the staging folder, which openStaging's removeStaleStaging clears)
  removeStaleTemporariesIn(dirname(output), MODEL_SIDE_FILES);
  if (notice) opts.log?.(notice);
  if (config && inPlace) {
    const head = seeded.length ? Object.keys(config).filter((k) => HEAD_FIELDS.includes(k)) : [];
    const dtype = Object.entries(modelDtypeFields(readJsonObject(join(dir, 'config.json')), model)).map(([k, v]) => `${k} ${v}`);
    const says = [
      ...(head.length ? [`name the seeded classifier (${head.join(', ')})`] : []),
      ...(dtype.length ? [`give the graph's dtype (${dtype.join(', ')})`] : []),
    ];
    opts.log?.(`warning: ${label}: config.json beside it is the checkpoint's and does not ${says.join(' or ')}; export to another folder for one that does`);
  }
  return { saved, size: modelSize(model), copied, wroteConfig, numLayers: s.numLayers, hiddenSize: s.hiddenSize, seeded };
}

/** The config.json fields headConfigFields may set. */
const HEAD_FIELDS = ['architectures', 'id2label', 'label2id'];

/**
 * The config.json the export writes in place of the checkpoint's, or undefined where the checkpoint's describes it:
 * the head it seeded named (headConfigFields: its class and labels, as transformers saves a sequence classifier made
 * from a base checkpoint), and the dtype the graph holds its weights in (a float16 checkpoint is exported in float32:
 * its torch_dtype would have a loader read the graph as float16).
 */
function writtenConfig(dir: string, model: Model, s: BertStructure, seeded: boolean, name: string): Record<string, unknown> | undefined {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) return undefined;
  const json = readJsonObject(file);
  const head = seeded
    ? { ...json, ...headConfigFields(json, s.family, s.head?.kind, scoresOutput(model).width ?? parseModelConfig(json, file).numLabels, name) }
    : json;
  const config = { ...head, ...modelDtypeFields(head, model) };
  return isDeepStrictEqual(config, json) ? undefined : config;
}
